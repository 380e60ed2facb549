#!/usr/bin/env node
// PostGraphile v4 over the autopolicy tables: the peer that bench/api.py measures our API against
// (ENGINEERING P3). Production-like options, so the comparison is with PostGraphile as one would
// deploy it: no watch mode, no GraphiQL, no query log, no default mutations.
//
//   node server.js --dsn postgresql://postgres@127.0.0.1:5432/bench [--schema public] [--port 5055]
//                  [--host 127.0.0.1] [--pool 10] [--simplify]
//
// DSNs of both forms work: TCP (postgresql://user@host:port/db) and unix socket, as pgserver
// answers them (postgresql://user:@/db?host=/path/to/socket/dir).
// Prints one line `postgraphile listening on http://HOST:PORT/graphql` when it answers.
"use strict";

const http = require("http");
const { Pool } = require("pg");
const { postgraphile } = require("postgraphile");

function args(argv) {
  const out = {
    dsn: process.env.DATABASE_URL || "",
    schema: "public",
    port: 5055,
    host: "127.0.0.1",
    pool: 10,
    simplify: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--dsn") out.dsn = next();
    else if (a === "--schema") out.schema = next();
    else if (a === "--port") out.port = Number(next());
    else if (a === "--host") out.host = next();
    else if (a === "--pool") out.pool = Number(next());
    else if (a === "--simplify") out.simplify = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!out.dsn) throw new Error("--dsn (or DATABASE_URL) is required");
  return out;
}

function main() {
  let opts;
  try {
    opts = args(process.argv.slice(2));
  } catch (e) {
    console.error(`server.js: ${e.message}`);
    process.exit(2);
  }
  // Our API runs with a pool of 10 connections (settings.pool_max); the peer gets the same.
  const pool = new Pool({ connectionString: opts.dsn, max: opts.pool });
  pool.on("error", (e) => console.error(`server.js: idle client error: ${e.message}`));

  const appendPlugins = [];
  if (opts.simplify) appendPlugins.push(require("@graphile-contrib/pg-simplify-inflector"));

  const middleware = postgraphile(pool, opts.schema.split(","), {
    watchPg: false,
    graphiql: false,
    enhanceGraphiql: false,
    disableQueryLog: true,
    dynamicJson: true,                 // jsonb as JSON, not as a string to parse again
    setofFunctionsContainNulls: false,
    ignoreRBAC: false,                 // expose what the connecting role may see (superuser: all)
    ignoreIndexes: true,               // relations and conditions without a supporting index too
    simpleCollections: "both",         // `nodes` and plain lists beside connections
    disableDefaultMutations: true,
    legacyRelations: "omit",
    enableQueryBatching: false,
    allowExplain: false,
    showErrorStack: false,
    extendedErrors: [],
    retryOnInitFail: false,
    appendPlugins,
  });

  const server = http.createServer(middleware);
  server.keepAliveTimeout = 65000;
  server.listen(opts.port, opts.host, () => {
    console.log(`postgraphile listening on http://${opts.host}:${opts.port}/graphql`);
  });
  const stop = () => {
    server.close(() => pool.end().then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
