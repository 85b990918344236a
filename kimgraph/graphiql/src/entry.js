// GraphiQL as KIMgraph serves it (kimgraph/graphiql/__init__.py; docs/http.md).
// Bundled by ../build.sh into ../static/: every file the page loads comes from
// the server that sent it, so the page works offline and under a CSP of 'self'.
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import { explorerPlugin } from "@graphiql/plugin-explorer";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { createClient } from "graphql-ws";
import { parse } from "graphql";
import "graphiql/style.css";
import "@graphiql/plugin-explorer/style.css";
import "./page.css";

const config = JSON.parse(
  document.getElementById("graphiql-config").textContent,
);
const httpUrl = new URL(config.endpoint, window.location.href);
const wsUrl = new URL(httpUrl);
wsUrl.protocol = httpUrl.protocol === "https:" ? "wss:" : "ws:";

const overHttp = createGraphiQLFetcher({ url: httpUrl.href });

function isSubscription(params) {
  try {
    const operations = parse(params.query).definitions.filter(
      (d) => d.kind === "OperationDefinition",
    );
    const chosen = params.operationName
      ? operations.find((o) => o.name && o.name.value === params.operationName)
      : operations[0];
    return chosen !== undefined && chosen.operation === "subscription";
  } catch {
    return false; // the server reports the syntax error
  }
}

// A subscription gets a socket of its own whose connection_init payload is the
// Headers tab, so `{"Authorization": "Bearer …"}` signs it in as it does a query.
async function* subscribe(params, headers) {
  const client = createClient({
    url: wsUrl.href,
    connectionParams: headers || {},
    lazy: true,
    retryAttempts: 0,
  });
  try {
    yield* client.iterate({
      query: params.query,
      variables: params.variables || undefined,
      operationName: params.operationName || undefined,
    });
  } finally {
    await client.dispose();
  }
}

function fetcher(params, options) {
  const headers = options && options.headers;
  if (isSubscription(params)) {
    return subscribe(params, headers);
  }
  return overHttp(params, { ...options, headers });
}

// Pasted bearer tokens stay in this tab's memory. shouldPersistHeaders (below)
// keeps them out of the tabs' state, but the history plugin stores each run's
// headers regardless: every "headers" field is dropped on the way to storage.
function withoutHeaders(value) {
  if (Array.isArray(value)) return value.map(withoutHeaders);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "headers")
      .map(([key, item]) => [key, withoutHeaders(item)]),
  );
}

function storable(key, value) {
  if (/headers/i.test(key)) return null;
  try {
    return JSON.stringify(withoutHeaders(JSON.parse(value)));
  } catch {
    return value; // not JSON: a query's text
  }
}

const storage = {
  getItem: (key) => (/headers/i.test(key) ? null : localStorage.getItem(key)),
  setItem: (key, value) => {
    const kept = storable(key, value);
    if (kept !== null) localStorage.setItem(key, kept);
  },
  removeItem: (key) => localStorage.removeItem(key),
  clear: () => localStorage.clear(),
  get length() {
    return localStorage.length;
  },
};

createRoot(document.getElementById("graphiql")).render(
  createElement(GraphiQL, {
    fetcher,
    storage,
    defaultQuery: config.defaultQuery,
    shouldPersistHeaders: false,
    plugins: [explorerPlugin()],
  }),
);
