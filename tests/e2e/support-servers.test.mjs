// The local upstream servers on their own (no Worker): scripts/replicate-server.mjs ships with
// the product (the local run command uses it), and the tests rely on both following the real
// contracts.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { defaultModelsPath, startReplicateServer } from "../../scripts/replicate-server.mjs";
import { startAnthropicServer } from "../support/anthropic-server.mjs";
import { repoRoot } from "../support/harness.mjs";
import { request } from "../support/http.mjs";

const TOKEN = "r8_support_token";
const auth = { authorization: `Bearer ${TOKEN}` };
let replicate, anthropic, snapshot;

before(async () => {
  snapshot = JSON.parse(readFileSync(defaultModelsPath(), "utf8"));
  replicate = await startReplicateServer({ token: TOKEN, models: snapshot });
  anthropic = await startAnthropicServer();
});
after(async () => {
  await replicate?.close();
  await anthropic?.close();
});

test("Replicate: a model is served exactly as in the snapshot, case-insensitively", async () => {
  const blip = snapshot.find((m) => m.owner === "salesforce" && m.name === "blip");
  const res = await request(`${replicate.url}/models/Salesforce/BLIP`, { headers: auth });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.deepEqual(res.json, blip);
  const ex = await request(`${replicate.url}/models/salesforce/blip/examples`, { headers: auth });
  assert.deepEqual(ex.json, { next: null, previous: null, results: [blip.default_example] });
  assert.equal(replicate.requests.at(-1).headers.authorization, `Bearer ${TOKEN}`);
});

test("Replicate: 401 without the token, 404 for unknown models", async () => {
  const no = await request(`${replicate.url}/models/salesforce/blip`);
  assert.equal(no.status, 401);
  assert.deepEqual(no.json, { title: "Unauthenticated", detail: "You did not pass a valid authentication token", status: 401 });
  const wrong = await request(`${replicate.url}/models/salesforce/blip`, { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 401);
  const missing = await request(`${replicate.url}/models/nobody/nothing-here`, { headers: auth });
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.json, { detail: "Not found.", status: 404 });
});

test("Replicate: GET /v1/models pages every model once, by run_count descending", async () => {
  const seen = new Set();
  let url = `${replicate.url}/models`;
  let last = Infinity;
  let pages = 0;
  while (url) {
    const res = await request(url, { headers: auth });
    assert.equal(res.status, 200);
    assert.ok(res.json.results.length <= 100);
    for (const m of res.json.results) {
      const id = `${m.owner}/${m.name}`;
      assert.ok(!seen.has(id), `${id} once`);
      seen.add(id);
      assert.ok((m.run_count ?? 0) <= last);
      last = m.run_count ?? 0;
    }
    if (pages > 0) assert.ok(res.json.previous?.startsWith(`${replicate.url}/models?cursor=`));
    url = res.json.next;
    pages++;
  }
  assert.equal(seen.size, snapshot.length);
  assert.equal(pages, Math.ceil(snapshot.length / 100));
});

test("Replicate: faults (FIFO, always, fabricated models)", async () => {
  replicate.faults.next = [{ status: 500, body: "boom", headers: { "x-fault": "1" } }, { match: "/examples", status: 429, headers: { "retry-after": "5" } }];
  const a = await request(`${replicate.url}/models/salesforce/blip`, { headers: auth });
  assert.equal(a.status, 500);
  assert.equal(a.text, "boom");
  assert.equal(a.headers.get("x-fault"), "1");
  const b = await request(`${replicate.url}/models/salesforce/blip`, { headers: auth });
  assert.equal(b.status, 200, "the /examples fault waits for its path");
  const c = await request(`${replicate.url}/models/salesforce/blip/examples`, { headers: auth });
  assert.equal(c.status, 429);
  assert.equal(c.headers.get("retry-after"), "5");
  assert.deepEqual(c.json, { detail: "Too Many Requests", status: 429 });

  replicate.faults.always = { delayMs: 200 };
  const t0 = Date.now();
  assert.equal((await request(`${replicate.url}/models/salesforce/blip`, { headers: auth })).status, 200);
  assert.ok(Date.now() - t0 >= 190);
  replicate.faults.always = null;

  replicate.faults.models["Evil/Model"] = { owner: "evil", name: "model", description: "x", default_example: null };
  const evil = await request(`${replicate.url}/models/evil/model`, { headers: auth });
  assert.deepEqual(evil.json, replicate.faults.models["Evil/Model"]);
  const evilEx = await request(`${replicate.url}/models/evil/model/examples`, { headers: auth });
  assert.deepEqual(evilEx.json.results, []);
  replicate.faults.models["salesforce/blip"] = null;
  assert.equal((await request(`${replicate.url}/models/salesforce/blip`, { headers: auth })).status, 404);
  replicate.faults.models = {};
});

test("Replicate: the CLI serves until SIGTERM", async () => {
  const child = spawn(process.execPath, ["scripts/replicate-server.mjs", "--port", "0"], { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!/^http:\/\/127\.0\.0\.1:\d+\/v1$/m.test(out)) {
    assert.ok(Date.now() < deadline, "the CLI printed its URL");
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = out.trim().split("\n")[0];
  const res = await request(`${url}/models/salesforce/blip`);
  assert.equal(res.status, 200, "no token: open");
  child.kill("SIGTERM");
  const [code] = await once(child, "exit");
  assert.equal(code, 0);
});

test("Anthropic: validates credentials, version and body like the real API", async () => {
  const post = (body, headers = {}) =>
    request(`${anthropic.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": "test-anthropic-key", "anthropic-version": "2023-06-01", ...headers },
      body: JSON.stringify(body),
    });
  const ok = { model: "claude-sonnet-4-6", max_tokens: 50, messages: [{ role: "user", content: "<model_metadata>Generate image captions</model_metadata>" }] };
  const bad = await post(ok, { "x-api-key": "wrong" });
  assert.equal(bad.status, 401);
  assert.deepEqual(bad.json, { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } });
  assert.equal((await post(ok, { "anthropic-version": "" })).json.error.type, "invalid_request_error");
  assert.equal((await post({ ...ok, max_tokens: "5" })).status, 400);
  assert.equal((await post({ ...ok, messages: [] })).status, 400);
  assert.equal((await post({ ...ok, tool_choice: { type: "tool", name: "x" } })).status, 400);
  const res = await post(ok);
  assert.equal(res.status, 200);
  assert.match(res.json.id, /^msg_/);
  assert.equal(res.json.model, "claude-sonnet-4-6");
  assert.equal(res.json.stop_reason, "tool_use");
  assert.deepEqual(res.json.content[0].input, {
    summary: "Generates image captions",
    task: "image-to-text",
    inputTypes: ["image", "text"],
    outputTypes: ["text"],
  });
  anthropic.replies.push({ status: 529 });
  const over = await post(ok);
  assert.equal(over.status, 529);
  assert.deepEqual(over.json, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } });
});
