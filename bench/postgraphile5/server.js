#!/usr/bin/env node
// PostGraphile v5 (Grafast planning) over the autopolicy tables: the second peer bench/api.py
// measures our API against (issue 16), beside v4 in ../postgraphile. Built from the same options
// as the v4 server through v5's own V4 preset (postgraphile/presets/v4, which extends the Amber
// preset a new project starts from), so the schema keeps v4's names and both peers answer the
// same query text; the planning and execution underneath are v5's. Production-like: no watch
// mode, no GraphiQL (Ruru), no explain, no default mutations.
//
//   node server.js --dsn postgresql://postgres@127.0.0.1:5432/bench [--schema public] [--port 5056]
//                  [--host 127.0.0.1] [--pool 10]
//
// DSNs of both forms work: TCP (postgresql://user@host:port/db) and unix socket, as pgserver
// answers them (postgresql://user:@/db?host=/path/to/socket/dir).
// Prints one line `postgraphile5 listening on http://HOST:PORT/graphql` when it answers.
"use strict";

const http = require("http");
const { Pool } = require("pg");
const { postgraphile } = require("postgraphile");
const { makeV4Preset } = require("postgraphile/presets/v4");
const { makePgService } = require("postgraphile/adaptors/pg");
const { grafserv } = require("postgraphile/grafserv/node");
const { jsonPgSmartTags } = require("postgraphile/utils");

// v4 offered ordering by a range column (VALID_DESC: the version valid last first); v5 leaves
// ranges out of orderBy unless told. The bench queries take the current version valid last, so
// v5 gets the same enum value back through a smart tag (no change to the database).
const ValidOrderPlugin = jsonPgSmartTags(
  {
    version: 1,
    config: { class: { contract_versions: { attribute: { valid: { tags: { behavior: "+attribute:orderBy" } } } } } },
  },
  null,
  { name: "AutopolicyBenchValidOrderPlugin" },
);

function args(argv) {
  const out = {
    dsn: process.env.DATABASE_URL || "",
    schema: "public",
    port: 5056,
    host: "127.0.0.1",
    pool: 10,
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
    else throw new Error(`unknown argument ${a}`);
  }
  if (!out.dsn) throw new Error("--dsn (or DATABASE_URL) is required");
  return out;
}

async function main() {
  let opts;
  try {
    opts = args(process.argv.slice(2));
  } catch (e) {
    console.error(`server.js: ${e.message}`);
    process.exit(2);
  }
  // Our API and the v4 peer run with a pool of 10 connections; v5 gets the same.
  const pool = new Pool({ connectionString: opts.dsn, max: opts.pool });
  pool.on("error", (e) => console.error(`server.js: idle client error: ${e.message}`));

  const preset = {
    extends: [
      makeV4Preset({
        // the v4 server's options (../postgraphile/server.js), where v5 still has them
        watchPg: false,
        graphiql: false,
        dynamicJson: true,
        setofFunctionsContainNulls: false,
        ignoreRBAC: false,
        ignoreIndexes: true,
        simpleCollections: "both",
        disableDefaultMutations: true,
        allowExplain: false,
        showErrorStack: false,
        extendedErrors: [],
        appendPlugins: [ValidOrderPlugin],
      }),
    ],
    pgServices: [makePgService({ pool, schemas: opts.schema.split(",") })],
    grafserv: { port: opts.port, host: opts.host, graphiql: false, watch: false },
    grafast: { explain: false },
  };

  const pgl = postgraphile(preset);
  const serv = pgl.createServ(grafserv);
  const server = http.createServer();
  server.keepAliveTimeout = 65000;
  server.on("error", (e) => {
    console.error(`server.js: ${e.message}`);
    process.exit(1);
  });
  await serv.addTo(server);
  await pgl.getSchema(); // introspect and build before saying we listen
  server.listen(opts.port, opts.host, () => {
    console.log(`postgraphile5 listening on http://${opts.host}:${opts.port}/graphql`);
  });
  const stop = () => {
    server.close(() => pgl.release().then(() => pool.end()).then(() => process.exit(0)));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main().catch((e) => {
  console.error(`server.js: ${e.stack || e.message}`);
  process.exit(1);
});
