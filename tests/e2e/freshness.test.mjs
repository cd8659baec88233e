// End-to-end: the hourly freshness cron (`[triggers] crons` in wrangler.toml; the Worker's
// scheduled handler runs `service::refresh`). wrangler dev runs with --test-scheduled, so
// `GET /__scheduled?cron=...` runs the scheduled handler and answers when it has finished.
// A model "gets a new version" by replacing it on the Replicate server (`faults.models`), which
// then lists it, as Replicate does, by latest_version.created_at, newest first.
// Two Workers: one with wrangler.toml's budgets (REFRESH_MAX_PAGES=3,
// REFRESH_MAX_CLASSIFICATIONS=10), one with both set to 1. The offline classifier answers.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import http from "node:http";
import { startReplicateServer } from "../../scripts/replicate-server.mjs";
import { buildWorker, startWorker } from "../support/harness.mjs";
import { assertClassification, request } from "../support/http.mjs";

const TOKEN = "r8_e2e_freshness_token";
const CRON = "17 * * * *";
const LISTING = "/v1/models?sort_by=latest_version_created_at&sort_direction=desc";

/** A Worker (offline classifier, --test-scheduled) over its own Replicate server. */
function setup(extraVars = {}) {
  const ctx = {};
  before(async () => {
    await buildWorker();
    ctx.replicate = await startReplicateServer({ token: TOKEN });
    ctx.worker = await startWorker({
      vars: { REPLICATE_API_BASE_URL: ctx.replicate.url, REPLICATE_API_TOKEN: TOKEN, ANTHROPIC_API_KEY: "", CLASSIFIER: "auto", ...extraVars },
      extraArgs: ["--test-scheduled"],
    });
  });
  after(async () => {
    await ctx.worker?.stop();
    await ctx.replicate?.close();
  });

  ctx.api = (p) => request(`${ctx.worker.url}${p}`);
  ctx.debug = async (id) => {
    const res = await ctx.api(`/api/models/${id}?debug=1`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get("x-cache"), "HIT", `${id} is cached`);
    return res.json;
  };
  /** Classifies models (each a MISS) and returns their records. */
  ctx.cache = async (ids) => {
    const out = {};
    for (const id of ids) {
      const res = await ctx.api(`/api/models/${id}`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get("x-cache"), "MISS", id);
      out[id] = await ctx.debug(id);
    }
    return out;
  };
  /** Runs the scheduled handler; returns the Replicate requests it made and its logged report. */
  ctx.cron = async () => {
    const r0 = ctx.replicate.requests.length;
    const logged = reports(ctx.worker.logs()).length;
    const res = await request(`${ctx.worker.url}/__scheduled?cron=${encodeURIComponent(CRON).replaceAll("%20", "+")}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, "Ran scheduled event");
    // The report is logged at the end of the handler; wrangler may print it a moment later.
    let report;
    for (let i = 0; i < 40 && !report; i++) {
      report = reports(ctx.worker.logs())[logged];
      if (!report) await new Promise((r) => setTimeout(r, 100));
    }
    const made = ctx.replicate.requests.slice(r0);
    for (const r of made) assert.equal(r.headers.authorization, `Bearer ${TOKEN}`, r.path);
    return { made, paths: made.map((r) => r.path), report };
  };
  /** Gives a model a new latest version (created at `createdAt`, default: keep its date). */
  ctx.newVersion = async (id, createdAt) => {
    const res = await request(`${ctx.replicate.url}/models/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200, res.text);
    const m = res.json;
    const version = { ...m.latest_version, id: randomBytes(32).toString("hex"), created_at: createdAt ?? m.latest_version.created_at };
    ctx.replicate.faults.models[id] = { ...m, latest_version: version };
    return version.id;
  };
  return ctx;
}

/** What each refresh run logged, oldest first: its report (`refresh: {...}`), or for a run
 * that failed, `{failed: message}` (`refresh failed: ...`). */
function reports(logs) {
  return [...logs.matchAll(/^refresh(?:: (\{.*\})| failed: (.*?))\s*$/gm)].map((m) => (m[1] ? JSON.parse(m[1]) : { failed: m[2] }));
}

const listings = (paths) => paths.filter((p) => p.startsWith("/v1/models?"));
const modelFetches = (paths) => paths.filter((p) => !p.startsWith("/v1/models?"));
const round = (id) => [`/v1/models/${id}`, `/v1/models/${id}/examples`];
const isoAgo = (ms) => new Date(Date.now() - ms).toISOString();

describe("freshness cron with wrangler.toml's budgets (3 pages, 10 reclassifications)", () => {
  const ctx = setup();
  const ids = ["salesforce/blip", "stability-ai/sdxl", "black-forest-labs/flux-schnell", "openai/whisper"];
  let records;

  test("with nothing cached, the cron asks Replicate nothing", async () => {
    const { made, report } = await ctx.cron();
    assert.deepEqual(made, []);
    assert.deepEqual(report, { pages: 0, scanned: 0, stale: 0, reclassified: 0, failed: 0 });
  });

  test("with nothing changed, it walks 3 pages newest-first and reclassifies nothing", async () => {
    records = await ctx.cache(ids);
    const { paths, report } = await ctx.cron();
    const pages = listings(paths);
    assert.equal(pages.length, 3, JSON.stringify(paths));
    assert.equal(pages[0], LISTING, "the first page is asked for sorted by latest version, newest first");
    for (const p of pages.slice(1)) assert.match(p, /^\/v1\/models\?cursor=/, "then the `next` links");
    assert.deepEqual(modelFetches(paths), []);
    for (const id of ids) assert.deepEqual(await ctx.debug(id), records[id], id);
    assert.deepEqual(report, { pages: 3, scanned: 300, stale: 0, reclassified: 0, failed: 0 });
  });

  test("a model with a new version is reclassified; the others are untouched", async () => {
    const before = records["salesforce/blip"];
    const version = await ctx.newVersion("salesforce/blip", new Date().toISOString());
    assert.notEqual(version, before.versionId);
    const { paths, report } = await ctx.cron();
    assert.equal(listings(paths)[0], LISTING);
    assert.deepEqual(modelFetches(paths).sort(), round("salesforce/blip"), "only the changed model is fetched");

    const d = await ctx.debug("salesforce/blip");
    assert.equal(d.versionId, version);
    assert.equal(d.replicateModel.latest_version.id, version);
    assert.ok(Date.parse(d.classifiedAt) > Date.parse(before.classifiedAt), `${d.classifiedAt} > ${before.classifiedAt}`);
    assertClassification(d.classification);
    assert.deepEqual(d.classification, before.classification, "same model, same (deterministic) answer");
    for (const id of ids.slice(1)) assert.deepEqual(await ctx.debug(id), records[id], `${id} unchanged`);
    const plain = await ctx.api("/api/models/salesforce/blip");
    assert.equal(plain.headers.get("x-cache"), "HIT");
    const list = await ctx.api("/api/classifications");
    assert.deepEqual(Object.keys(list.json).sort(), [...ids].sort(), "one entry per model, nothing added");
    assert.equal(report.reclassified, 1);
    assert.equal(report.stale, 1);
    assert.equal(report.failed, 0);
    records["salesforce/blip"] = d;

    // Run again: now up to date.
    const again = await ctx.cron();
    assert.deepEqual(modelFetches(again.paths), []);
    assert.deepEqual(await ctx.debug("salesforce/blip"), d);
  });

  test("REFRESH_MAX_PAGES: a change on page 3 is found, one on page 4 is not", async () => {
    // Versions replaced without a newer date keep their place in the listing:
    // flux-schnell is about the 215th model, whisper about the 390th.
    const flux = await ctx.newVersion("black-forest-labs/flux-schnell");
    const whisper = await ctx.newVersion("openai/whisper");
    const { paths, report } = await ctx.cron();
    assert.equal(listings(paths).length, 3);
    assert.deepEqual(modelFetches(paths).sort(), round("black-forest-labs/flux-schnell"));
    assert.equal((await ctx.debug("black-forest-labs/flux-schnell")).versionId, flux);
    const w = await ctx.debug("openai/whisper");
    assert.notEqual(w.versionId, whisper);
    assert.deepEqual(w, records["openai/whisper"], "beyond the pages walked: untouched");
    assert.deepEqual(report, { pages: 3, scanned: 300, stale: 1, reclassified: 1, failed: 0 });
  });

  test("a reclassification that fails keeps the old entry, and the next run retries it", async () => {
    const before = records["stability-ai/sdxl"];
    const version = await ctx.newVersion("stability-ai/sdxl", new Date().toISOString());
    ctx.replicate.faults.always = { match: "/models/stability-ai/sdxl", status: 500 };
    try {
      const { paths, report } = await ctx.cron();
      assert.ok(modelFetches(paths).includes("/v1/models/stability-ai/sdxl"), JSON.stringify(paths));
      assert.equal(report.failed, 1);
      assert.equal(report.reclassified, 0);
    } finally {
      ctx.replicate.faults.always = null;
    }
    assert.deepEqual(await ctx.debug("stability-ai/sdxl"), before, "the old record is kept");
    const { paths, report } = await ctx.cron();
    assert.deepEqual(modelFetches(paths).sort(), round("stability-ai/sdxl"));
    assert.equal(report.reclassified, 1);
    const d = await ctx.debug("stability-ai/sdxl");
    assert.equal(d.versionId, version);
    assert.ok(Date.parse(d.classifiedAt) > Date.parse(before.classifiedAt));
  });

  test("a `next` link off the API is not followed: the token never leaves Replicate", async () => {
    const trap = [];
    const server = http.createServer((req, res) => {
      trap.push({ path: req.url, headers: req.headers });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ next: null, previous: null, results: [] }));
    });
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    try {
      const version = await ctx.newVersion("salesforce/blip", new Date().toISOString());
      const page = await request(`${ctx.replicate.url}/models?sort_by=latest_version_created_at&sort_direction=desc`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      assert.equal(page.json.results[0].latest_version.id, version);
      const foreign = `http://127.0.0.1:${server.address().port}/v1/models?cursor=abc`;
      ctx.replicate.faults.next = [{ match: /^\/v1\/models$/, status: 200, body: { ...page.json, next: foreign } }];
      const { paths, report } = await ctx.cron();
      assert.deepEqual(listings(paths), [LISTING]);
      assert.deepEqual(trap, [], "nothing was sent to the foreign host");
      assert.deepEqual(report, { failed: "Invalid upstream response: Replicate gave an unusable answer: a `next` link left the API" });
      assert.equal((await ctx.debug("salesforce/blip")).versionId, version, "the page already read was still used");
    } finally {
      ctx.replicate.faults.next = [];
      server.close();
      server.closeAllConnections();
    }
  });
});

describe("freshness cron with REFRESH_MAX_PAGES=1 and REFRESH_MAX_CLASSIFICATIONS=1", () => {
  const ctx = setup({ REFRESH_MAX_PAGES: "1", REFRESH_MAX_CLASSIFICATIONS: "1" });
  const ids = ["salesforce/blip", "stability-ai/sdxl", "openai/whisper"];
  let records;

  test("two changed models: one reclassified per run, newest first", async () => {
    records = await ctx.cache(ids);
    const blip = await ctx.newVersion("salesforce/blip", isoAgo(3_600_000));
    const sdxl = await ctx.newVersion("stability-ai/sdxl", isoAgo(60_000));

    const first = await ctx.cron();
    assert.deepEqual(listings(first.paths), [LISTING], "one page only");
    assert.deepEqual(modelFetches(first.paths).sort(), round("stability-ai/sdxl"), "only the budget's one model");
    assert.equal((await ctx.debug("stability-ai/sdxl")).versionId, sdxl);
    assert.deepEqual(await ctx.debug("salesforce/blip"), records["salesforce/blip"], "over the budget: untouched this run");
    assert.deepEqual(first.report, { pages: 1, scanned: 100, stale: 2, reclassified: 1, failed: 0 });

    const second = await ctx.cron();
    assert.deepEqual(modelFetches(second.paths).sort(), round("salesforce/blip"));
    const d = await ctx.debug("salesforce/blip");
    assert.equal(d.versionId, blip);
    assert.ok(Date.parse(d.classifiedAt) > Date.parse(records["salesforce/blip"].classifiedAt));
    assert.deepEqual(second.report, { pages: 1, scanned: 100, stale: 1, reclassified: 1, failed: 0 });
    assert.deepEqual(await ctx.debug("openai/whisper"), records["openai/whisper"]);
  });

  test("a change beyond the first page is not seen with REFRESH_MAX_PAGES=1", async () => {
    await ctx.newVersion("openai/whisper");
    const { paths, report } = await ctx.cron();
    assert.deepEqual(listings(paths), [LISTING]);
    assert.deepEqual(modelFetches(paths), []);
    assert.deepEqual(await ctx.debug("openai/whisper"), records["openai/whisper"]);
    assert.deepEqual(report, { pages: 1, scanned: 100, stale: 0, reclassified: 0, failed: 0 });
  });
});
