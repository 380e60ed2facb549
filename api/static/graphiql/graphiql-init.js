// Starts GraphiQL in #graphiql. A file rather than an inline script so the page's
// Content-Security-Policy can refuse inline scripts. Globals come from the vendored UMD bundles.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint") || "/graphql";

  var defaultQuery = [
    "# autopolicy GraphQL API",
    "#",
    "# Run: Ctrl-Enter or the \u25B6 button",
    "# Complete: Ctrl-Space",
    "#",
    "# To call as a user, paste a token",
    "# into the Headers tab below:",
    '# {"Authorization": "Bearer <token>"}',
    "# (`autopolicy token` prints one)",
    "",
    "{",
    "  system {",
    "    apiVersion",
    "    environment",
    "    serverTime",
    "  }",
    "}",
    "",
  ].join("\n");

  // createFetcher sends the headers typed into the Headers editor with every request, so a
  // pasted Authorization header reaches the API. Headers stay out of localStorage on purpose:
  // a bearer token left there outlives the session.
  //
  // Subscriptions go over a websocket to the same path (graphql-transport-ws). The toolkit sends
  // the Headers editor's content as the connection_init payload, which is where the API reads the
  // token of a websocket. The URL is built here from the page's own origin, so the page names no
  // host; the CSP's connect-src 'self' covers ws(s) to this origin.
  var wsUrl = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + endpoint;
  var fetcher = GraphiQL.createFetcher({ url: endpoint, subscriptionUrl: wsUrl });

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: "headers",
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    })
  );
})();
