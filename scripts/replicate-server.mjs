#!/usr/bin/env node
// A Replicate-compatible HTTP API server over the public model snapshot
// (npm package `all-the-public-replicate-models`, models.json: full model objects).
//
// Used by the local run command (so the classifier works offline) and by the end-to-end tests.
// It speaks the part of Replicate's real contract the classifier uses:
//
//   GET /v1/models/{owner}/{name}            the model object exactly as in the snapshot
//   GET /v1/models/{owner}/{name}/examples   {"next":null,"previous":null,"results":[default_example]}
//                                             (empty results when the model has none)
//   GET /v1/models/{owner}/{name}/versions   {"next":null,"previous":null,"results":[latest_version]}
//   GET /v1/models/{owner}/{name}/versions/{id}
//   GET /v1/models[?cursor=...]              pages {next, previous, results} of full model objects,
//                                             run_count descending, 100 a page; `next`/`previous`
//                                             are full URLs with an opaque cursor
//   GET /v1/models?sort_by=F[&sort_direction=D]
//                                             the same, ordered as Replicate orders them: F is
//                                             `latest_version_created_at` or `model_created_at`,
//                                             D `desc` (default) or `asc`; ties by owner/name.
//                                             The order is kept in the cursor. Other values -> 400.
//                                             (Replicate's own default is latest_version_created_at
//                                             desc; without sort_by this server keeps run_count.)
//                                             Listings include `faults.models` (see below).
//
// Owner/name lookup is case-insensitive (as Replicate's). Errors are problem-details JSON:
// unknown model or route -> 404 {"detail":"Not found.","status":404}; with `token` set, a
// missing or wrong `Authorization: Bearer <token>` -> 401 {"title":"Unauthenticated",
// "detail":"You did not pass a valid authentication token","status":401}; any method but
// GET/HEAD -> 405. Every response is `application/json`.
//
// Programmatic use:
//   const server = await startReplicateServer({ port: 0, token: "r8_test" });
//   server.url        // "http://127.0.0.1:PORT/v1"
//   server.requests   // every request: {method, path (with query), headers (lower-case names)}
//   await server.close();
//
// Fault injection (tests mutate `server.faults`):
//   faults.next   = [fault, ...]  consumed FIFO, one per request (a fault with `match` is used
//                                 only by the first request whose path matches it)
//   faults.always = fault | null  applied to every request (after `next`) until cleared
//   faults.models = {"owner/name": modelObject | null}
//                                 replaces (or, with null, hides) a model, or adds a fabricated
//                                 one; keys are case-insensitive. Its examples endpoint serves the
//                                 object's `default_example`, and GET /v1/models lists it (in
//                                 place of the snapshot's object; hidden models are not listed).
// A fault is an object with any of:
//   match:   string (substring of the path) or RegExp: which requests it applies to
//   delayMs: wait this long first; with nothing else, the request is then served normally
//   status:  answer this status (default 200 when `body` is given)
//   body:    string sent as is, or any other value sent as JSON
//            (with `status` and no `body`: {"detail": "...", "status": status})
//   headers: extra response headers, e.g. {"retry-after": "30"}
//   destroy: true -> drop the connection without answering (a network error)
// Requests are recorded before faults are applied, so tests see them all.
//
// CLI: node scripts/replicate-server.mjs [--port 8788] [--host 127.0.0.1] [--token T]
//                                        [--models path/to/models.json]
// prints its base URL and serves until SIGINT/SIGTERM.

import http from "node:http";
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const PAGE_SIZE = 100;
const JSON_TYPE = "application/json";

/** The snapshot's models.json: resolved like an import, else beside this repository. */
export function defaultModelsPath() {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve("all-the-public-replicate-models/package.json");
    return path.join(path.dirname(pkg), "models.json");
  } catch {
    const here = path.dirname(fileURLToPath(import.meta.url));
    return path.join(here, "..", "node_modules", "all-the-public-replicate-models", "models.json");
  }
}

// models.json is 62 MB: parse each file once per process, however many servers start.
const loaded = new Map();
function loadModels(file) {
  if (!loaded.has(file)) {
    const p = readFile(file, "utf8").then((text) => JSON.parse(text));
    p.catch(() => loaded.delete(file));
    loaded.set(file, p);
  }
  return loaded.get(file);
}

const idOf = (owner, name) => `${owner}/${name}`.toLowerCase();

// A cursor carries the offset and, when the listing is sorted, the sort (`s` field, `d` direction).
function encodeCursor(offset, sort) {
  const c = sort ? { o: offset, s: sort.by, d: sort.direction } : { o: offset };
  return Buffer.from(JSON.stringify(c)).toString("base64url");
}
function decodeCursor(cursor) {
  try {
    const { o, s, d } = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (!Number.isInteger(o) || o < 0) return null;
    if (s === undefined) return { offset: o, sort: null };
    if (!SORT_FIELDS[s] || !["asc", "desc"].includes(d)) return null;
    return { offset: o, sort: { by: s, direction: d } };
  } catch {
    return null;
  }
}

// GET /v1/models?sort_by=...: the timestamp each model is ordered by.
const SORT_FIELDS = {
  latest_version_created_at: (m) => m.latest_version?.created_at ?? "",
  model_created_at: (m) => m.created_at ?? "",
};

function matches(fault, pathname) {
  if (fault == null || fault.match == null) return true;
  if (fault.match instanceof RegExp) return fault.match.test(pathname);
  return pathname.includes(String(fault.match));
}

export async function startReplicateServer({
  port = 0,
  host = "127.0.0.1",
  models,
  modelsPath,
  token,
} = {}) {
  const list = models ?? (await loadModels(modelsPath ?? defaultModelsPath()));
  const byId = new Map();
  for (const m of list) byId.set(idOf(m.owner, m.name), m);
  const byRunCount = (a, b) =>
    (b.run_count ?? 0) - (a.run_count ?? 0) || idOf(a.owner, a.name).localeCompare(idOf(b.owner, b.name));
  const ranked = [...list].sort(byRunCount);

  const requests = [];
  const faults = { next: [], always: null, models: {} };
  const timers = new Set();
  const sleep = (ms) =>
    new Promise((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  function lookup(owner, name) {
    const id = idOf(owner, name);
    for (const [k, v] of Object.entries(faults.models ?? {})) {
      if (k.toLowerCase() === id) return v ?? undefined;
    }
    return byId.get(id);
  }

  // The models a listing shows: the snapshot with `faults.models` applied (replaced, hidden,
  // added), in run_count order or sorted as asked.
  function listing(sort) {
    const overrides = new Map();
    for (const [k, v] of Object.entries(faults.models ?? {})) overrides.set(k.toLowerCase(), v);
    let models = ranked;
    if (overrides.size) {
      models = [];
      for (const m of ranked) {
        const id = idOf(m.owner, m.name);
        if (!overrides.has(id)) models.push(m);
      }
      for (const v of overrides.values()) if (v && typeof v === "object" && v.owner && v.name) models.push(v);
      models.sort(byRunCount);
    }
    if (!sort) return models;
    const key = SORT_FIELDS[sort.by];
    const sign = sort.direction === "asc" ? 1 : -1;
    return [...models].sort(
      (a, b) => sign * key(a).localeCompare(key(b)) || idOf(a.owner, a.name).localeCompare(idOf(b.owner, b.name)),
    );
  }

  function send(res, status, body, headers = {}) {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    res.writeHead(status, { "content-type": JSON_TYPE, "content-length": Buffer.byteLength(text), ...headers });
    res.end(res.req.method === "HEAD" ? undefined : text);
  }
  const notFound = (res) => send(res, 404, { detail: "Not found.", status: 404 });

  function takeFault(pathname) {
    const queue = faults.next ?? [];
    const i = queue.findIndex((f) => matches(f, pathname));
    if (i >= 0) return queue.splice(i, 1)[0];
    if (faults.always && matches(faults.always, pathname)) return faults.always;
    return null;
  }

  async function handle(req, res) {
    const url = new URL(req.url, "http://localhost");
    requests.push({ method: req.method, path: url.pathname + url.search, headers: { ...req.headers } });

    const fault = takeFault(url.pathname);
    if (fault) {
      if (fault.delayMs) await sleep(fault.delayMs);
      if (res.destroyed) return;
      if (fault.destroy) {
        req.socket.destroy();
        return;
      }
      if (fault.status !== undefined || fault.body !== undefined) {
        const status = fault.status ?? 200;
        const body = fault.body !== undefined ? fault.body : { detail: http.STATUS_CODES[status] ?? "Error", status };
        send(res, status, body, fault.headers ?? {});
        return;
      }
    }

    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, { detail: `Method "${req.method}" not allowed.`, status: 405 }, { allow: "GET, HEAD" });
      return;
    }
    if (token != null && token !== "" && req.headers.authorization !== `Bearer ${token}`) {
      send(res, 401, {
        title: "Unauthenticated",
        detail: "You did not pass a valid authentication token",
        status: 401,
      });
      return;
    }

    let parts;
    try {
      parts = url.pathname.replace(/\/+$/, "").split("/").slice(1).map(decodeURIComponent);
    } catch {
      return notFound(res);
    }
    if (parts[0] !== "v1" || parts[1] !== "models") return notFound(res);
    const rest = parts.slice(2);

    if (rest.length === 0) {
      const cursor = url.searchParams.get("cursor");
      let offset = 0;
      let sort = null;
      if (cursor != null) {
        const c = decodeCursor(cursor);
        if (c == null) return send(res, 400, { detail: "Invalid cursor", status: 400 });
        ({ offset, sort } = c);
      } else if (url.searchParams.has("sort_by") || url.searchParams.has("sort_direction")) {
        const by = url.searchParams.get("sort_by") ?? "latest_version_created_at";
        const direction = url.searchParams.get("sort_direction") ?? "desc";
        if (!SORT_FIELDS[by]) {
          return send(res, 400, { detail: `sort_by must be one of: ${Object.keys(SORT_FIELDS).join(", ")}`, status: 400 });
        }
        if (!["asc", "desc"].includes(direction)) {
          return send(res, 400, { detail: "sort_direction must be one of: asc, desc", status: 400 });
        }
        sort = { by, direction };
      }
      const models = listing(sort);
      const base = `http://${req.headers.host ?? `${host}:${actualPort}`}/v1/models`;
      const results = models.slice(offset, offset + PAGE_SIZE);
      const next = offset + PAGE_SIZE < models.length ? `${base}?cursor=${encodeCursor(offset + PAGE_SIZE, sort)}` : null;
      const previous =
        offset === 0 ? null : `${base}?cursor=${encodeCursor(Math.max(0, offset - PAGE_SIZE), sort)}`;
      return send(res, 200, { next, previous, results });
    }

    if (rest.length < 2) return notFound(res);
    const model = lookup(rest[0], rest[1]);
    if (!model) return notFound(res);
    if (rest.length === 2) return send(res, 200, model);
    if (rest.length === 3 && rest[2] === "examples") {
      const results = model.default_example ? [model.default_example] : [];
      return send(res, 200, { next: null, previous: null, results });
    }
    if (rest[2] === "versions") {
      const v = model.latest_version;
      if (rest.length === 3) return send(res, 200, { next: null, previous: null, results: v ? [v] : [] });
      if (rest.length === 4 && v && v.id === rest[3]) return send(res, 200, v);
    }
    return notFound(res);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) send(res, 500, { detail: String(err?.message ?? err), status: 500 });
      else res.destroy();
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing;
  return {
    url: `http://${urlHost}:${actualPort}/v1`,
    port: actualPort,
    requests,
    faults,
    close() {
      closing ??= new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [k, inline] = a.startsWith("--") ? a.slice(2).split(/=(.*)/s) : [null];
    if (!k) throw new Error(`unexpected argument: ${a}`);
    const v = inline !== undefined ? inline : argv[++i];
    if (v === undefined) throw new Error(`--${k} needs a value`);
    out[k] = v;
  }
  return out;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
    for (const k of Object.keys(args)) {
      if (!["port", "host", "token", "models"].includes(k)) throw new Error(`unknown option --${k}`);
    }
  } catch (e) {
    console.error(`${e.message}\nusage: node scripts/replicate-server.mjs [--port 8788] [--host 127.0.0.1] [--token T] [--models models.json]`);
    process.exit(2);
  }
  const modelsPath = args.models ?? defaultModelsPath();
  if (!existsSync(modelsPath)) {
    console.error(`models file not found: ${modelsPath} (run npm ci)`);
    process.exit(1);
  }
  const server = await startReplicateServer({
    port: args.port ? Number(args.port) : 8788,
    host: args.host ?? "127.0.0.1",
    token: args.token,
    modelsPath,
  });
  console.log(server.url);
  const stop = async () => {
    await server.close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
