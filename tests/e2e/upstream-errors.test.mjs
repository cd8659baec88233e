// End-to-end: how the real Worker reports upstream failures (README: 502 failed or rejected
// credentials, 503 rate limited with Retry-After, 504 timed out), that nothing is cached after
// one, and the admin token guarding ?force and purge.
// Replicate and Anthropic faults are injected per test; a short REQUEST_BUDGET_MS keeps the
// timeout tests quick.

import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { startReplicateServer } from "../../scripts/replicate-server.mjs";
import { startAnthropicServer } from "../support/anthropic-server.mjs";
import { buildWorker, startWorker } from "../support/harness.mjs";
import { assertClassification, assertError, clearFaults, request } from "../support/http.mjs";

const TOKEN = "r8_e2e_errors_token";
const KEY = "test-anthropic-key";
const ADMIN = "e2e-admin-secret";
const BUDGET_MS = 6000;
let replicate, anthropic, worker;

before(async () => {
  await buildWorker();
  replicate = await startReplicateServer({ token: TOKEN });
  anthropic = await startAnthropicServer({ apiKey: KEY });
  worker = await startWorker({
    vars: {
      REPLICATE_API_BASE_URL: replicate.url,
      REPLICATE_API_TOKEN: TOKEN,
      ANTHROPIC_API_BASE_URL: anthropic.url,
      ANTHROPIC_API_KEY: KEY,
      ANTHROPIC_MODEL: "claude-sonnet-4-6",
      CLASSIFIER: "auto",
      ADMIN_TOKEN: ADMIN,
      REQUEST_BUDGET_MS: String(BUDGET_MS),
    },
  });
});

after(async () => {
  await worker?.stop();
  await replicate?.close();
  await anthropic?.close();
});

afterEach(() => clearFaults(replicate, anthropic));

const api = (p, opts) => request(`${worker.url}${p}`, opts);
async function assertNotCached(id) {
  const list = await api("/api/classifications");
  assert.equal(list.status, 200);
  assert.ok(!(id in list.json), `${id} must not be cached`);
}

test("the Worker is healthy before faults", async () => {
  const res = await api("/api/models/salesforce/blip");
  assert.equal(res.status, 200, res.text);
  assertClassification(res.json.classification);
});

test("Replicate 500 -> 502, nothing cached", async () => {
  replicate.faults.always = { status: 500, body: { detail: "Internal server error", status: 500 } };
  assertError(await api("/api/models/stability-ai/sdxl"), 502);
  replicate.faults.always = null;
  await assertNotCached("stability-ai/sdxl");
});

test("Replicate rejecting the token (401) -> 502", async () => {
  replicate.faults.always = {
    status: 401,
    body: { title: "Unauthenticated", detail: "You did not pass a valid authentication token", status: 401 },
  };
  assertError(await api("/api/models/stability-ai/sdxl"), 502);
  replicate.faults.always = null;
  await assertNotCached("stability-ai/sdxl");
});

test("Replicate 429 -> 503 with Retry-After", async () => {
  replicate.faults.always = {
    status: 429,
    headers: { "retry-after": "17" },
    body: { detail: "Request was throttled. Your rate limit resets in ~17s.", status: 429 },
  };
  const res = await api("/api/models/stability-ai/sdxl");
  assertError(res, 503);
  assert.equal(res.headers.get("retry-after"), "17");
  replicate.faults.always = null;
  await assertNotCached("stability-ai/sdxl");
});

test("Replicate answering something that is not JSON -> 502", async () => {
  replicate.faults.always = { status: 200, body: "<html>not json</html>", headers: { "content-type": "text/html" } };
  assertError(await api("/api/models/stability-ai/sdxl"), 502);
  replicate.faults.always = null;
  await assertNotCached("stability-ai/sdxl");
});

test("Replicate dropping the connection -> 502", async () => {
  replicate.faults.always = { destroy: true };
  assertError(await api("/api/models/stability-ai/sdxl"), 502);
  replicate.faults.always = null;
  await assertNotCached("stability-ai/sdxl");
});

test("Replicate too slow -> 504 within the budget", async () => {
  replicate.faults.always = { delayMs: BUDGET_MS + 4000 };
  const t0 = Date.now();
  const res = await api("/api/models/stability-ai/sdxl");
  const took = Date.now() - t0;
  assertError(res, 504);
  assert.ok(took < BUDGET_MS + 3000, `answered after ${took} ms`);
  replicate.faults.always = null;
  await assertNotCached("stability-ai/sdxl");
});

test("Anthropic rejecting the key (401) -> 502, not retried", async () => {
  const before = anthropic.requests.length;
  anthropic.faults.always = { status: 401, body: { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } } };
  assertError(await api("/api/models/stability-ai/sdxl"), 502);
  assert.equal(anthropic.requests.length - before, 1);
  anthropic.faults.always = null;
  await assertNotCached("stability-ai/sdxl");
});

test("Anthropic 404 for a retired model id -> 502", async () => {
  anthropic.faults.always = {
    status: 404,
    body: { type: "error", error: { type: "not_found_error", message: "model: claude-3-7-sonnet-20250219" } },
  };
  assertError(await api("/api/models/stability-ai/sdxl"), 502);
  anthropic.faults.always = null;
  await assertNotCached("stability-ai/sdxl");
});

test("Anthropic 429 with a long retry-after -> 503 with Retry-After", async () => {
  anthropic.faults.always = {
    status: 429,
    headers: { "retry-after": "40" },
    body: { type: "error", error: { type: "rate_limit_error", message: "rate limited" } },
  };
  const res = await api("/api/models/stability-ai/sdxl");
  assertError(res, 503);
  assert.equal(res.headers.get("retry-after"), "40");
  anthropic.faults.always = null;
  await assertNotCached("stability-ai/sdxl");
});

test("Anthropic 429 once with a short retry-after is retried and succeeds", async () => {
  const before = anthropic.requests.length;
  anthropic.faults.next = [
    { status: 429, headers: { "retry-after": "1" }, body: { type: "error", error: { type: "rate_limit_error", message: "slow down" } } },
  ];
  const res = await api("/api/models/stability-ai/sdxl");
  assert.equal(res.status, 200, res.text);
  assert.equal(anthropic.requests.length - before, 2);
  assert.ok(anthropic.requests.at(-1).taskEnum, "the retry is a full, valid request");
});

test("Anthropic 500 and 529 are retried; persistent ones -> 502 or 503", async () => {
  for (const [status, type] of [[500, "api_error"], [529, "overloaded_error"]]) {
    const before = anthropic.requests.length;
    anthropic.faults.always = { status, body: { type: "error", error: { type, message: type } } };
    const res = await api("/api/models/openai/whisper");
    assert.ok([502, 503].includes(res.status), `${status}: got ${res.status} ${res.text}`);
    assertError(res, res.status);
    assert.ok(anthropic.requests.length - before >= 2, `${status} was retried`);
    anthropic.faults.always = null;
    await assertNotCached("openai/whisper");
  }
});

test("Anthropic too slow -> 504 within the budget", async () => {
  anthropic.faults.always = { delayMs: BUDGET_MS + 4000 };
  const t0 = Date.now();
  const res = await api("/api/models/openai/whisper");
  const took = Date.now() - t0;
  assertError(res, 504);
  assert.ok(took < BUDGET_MS + 3000, `answered after ${took} ms`);
  anthropic.faults.always = null;
  await assertNotCached("openai/whisper");
});

test("?force needs the admin token when ADMIN_TOKEN is set", async () => {
  const before = replicate.requests.length;
  const none = await api("/api/models/salesforce/blip?force=1");
  assertError(none, 401);
  const wrong = await api("/api/models/salesforce/blip?force=1", { headers: { authorization: "Bearer nope" } });
  assertError(wrong, 403);
  assert.equal(replicate.requests.length, before, "refused before any upstream call");
  const ok = await api("/api/models/salesforce/blip?force=1", { headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.headers.get("x-cache"), "MISS");
  const plain = await api("/api/models/salesforce/blip");
  assert.equal(plain.headers.get("x-cache"), "HIT", "reading stays open");
});

test("purge needs the admin token when ADMIN_TOKEN is set", async () => {
  assertError(await api("/api/cache/purge", { method: "POST" }), 401);
  assertError(await api("/api/cache/purge", { method: "POST", headers: { authorization: "Bearer nope" } }), 403);
  const cached = Object.keys((await api("/api/classifications")).json);
  assert.ok(cached.includes("salesforce/blip"));
  const res = await api("/api/cache/purge", { method: "POST", headers: { authorization: `Bearer ${ADMIN}` } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json, { deleted: cached.length, complete: true });
  assert.deepEqual((await api("/api/classifications")).json, {});
});

test("wrong methods are refused with the error shape", async () => {
  const get = await api("/api/cache/purge");
  assertError(get, 405);
  assert.deepEqual(get.json, { error: "Method not allowed", message: "GET is not allowed here; use POST" });
  assert.equal(get.headers.get("allow"), "POST, OPTIONS");
  const post = await api("/api/taskNames", { method: "POST" });
  assertError(post, 405);
  assert.deepEqual(post.json, { error: "Method not allowed", message: "POST is not allowed here; use GET" });
  assert.equal(post.headers.get("allow"), "GET, OPTIONS");
});

