// End-to-end: the real Worker in wrangler dev classifying with "Claude" (a local server following
// the Anthropic Messages API contract), Replicate served from the public snapshot.
// Tests run in order and share the Worker's KV.

import { after, afterEach, before, test } from "node:test";
import assert from "node:assert/strict";
import { TASKS_DATA } from "@huggingface/tasks";
import { startReplicateServer } from "../../scripts/replicate-server.mjs";
import { startAnthropicServer } from "../support/anthropic-server.mjs";
import { buildWorker, startWorker } from "../support/harness.mjs";
import { TASK_NAMES, assertClassification, clearFaults, request } from "../support/http.mjs";

const TOKEN = "r8_e2e_llm_token";
const KEY = "test-anthropic-key";
const MODEL = "claude-sonnet-4-6";
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
      ANTHROPIC_MODEL: MODEL,
      CLASSIFIER: "auto",
    },
  });
});

after(async () => {
  await worker?.stop();
  await replicate?.close();
  await anthropic?.close();
});

afterEach(() => clearFaults(anthropic));

const api = (p, opts) => request(`${worker.url}${p}`, opts);
const toolUse = (rec) => rec.response.content.find((b) => b.type === "tool_use");
const allText = (body) => {
  const parts = [];
  const walk = (v) => {
    if (typeof v === "string") parts.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  walk(body.system);
  walk(body.messages);
  return parts.join("\n");
};

let first;
test("salesforce/blip: a MISS classified by Claude with a forced tool carrying the whole taxonomy", async () => {
  const res = await api("/api/models/salesforce/blip");
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get("x-cache"), "MISS");
  assert.equal(res.json.model, "salesforce/blip");
  const c = res.json.classification;
  assertClassification(c);

  assert.equal(anthropic.requests.length, 1);
  const call = anthropic.requests[0];
  const answered = toolUse(call).input;
  assert.equal(c.task, answered.task);
  assert.equal(c.task, "image-to-text");
  assert.equal(c.summary, answered.summary);
  assert.deepEqual(c.inputTypes, answered.inputTypes);
  assert.deepEqual(c.outputTypes, answered.outputTypes);
  assert.equal(c.taskSummary, TASKS_DATA["image-to-text"].summary);

  assert.equal(call.method, "POST");
  assert.equal(call.path, "/v1/messages");
  assert.equal(call.headers["x-api-key"], KEY);
  assert.equal(call.headers["anthropic-version"], "2023-06-01");
  assert.match(call.headers["content-type"], /^application\/json/);
  assert.equal(call.body.model, MODEL);
  assert.ok(Number.isInteger(call.body.max_tokens) && call.body.max_tokens > 0);
  assert.equal(call.body.tool_choice.type, "tool");
  const tool = call.body.tools.find((t) => t.name === call.body.tool_choice.name);
  assert.ok(tool, "the forced tool is among the tools");
  assert.deepEqual([...tool.input_schema.properties.task.enum].sort(), [...TASK_NAMES].sort());
  assert.deepEqual([...call.taskEnum].sort(), [...TASK_NAMES].sort());
  const text = allText(call.body);
  assert.ok(text.includes("salesforce/blip"));
  assert.ok(text.includes("Generate image captions"));

  for (const r of replicate.requests) assert.equal(r.headers.authorization, `Bearer ${TOKEN}`);
  first = res;
});

test("second call is a HIT: no new Anthropic or Replicate request", async () => {
  const [a, r] = [anthropic.requests.length, replicate.requests.length];
  const res = await api("/api/models/salesforce/blip");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-cache"), "HIT");
  assert.equal(res.text, first.text);
  assert.equal(anthropic.requests.length, a);
  assert.equal(replicate.requests.length, r);
});

test("?debug=1 keeps Claude's raw reply and names the model used", async () => {
  const res = await api("/api/models/salesforce/blip?debug=1");
  assert.equal(res.status, 200);
  const d = res.json;
  const sent = anthropic.requests[0].response;
  assert.equal(d.claudeResponse.id, sent.id);
  assert.deepEqual(d.claudeResponse, sent);
  assert.equal(typeof d.classifier, "string");
  assert.ok(d.classifier.includes(MODEL), d.classifier);
  assert.deepEqual(d.classification, first.json.classification);
  assert.equal(d.taxonomyVersion, "0.21.54");
  assert.ok("offline" in d && "agreement" in d);
  assert.equal(d.replicateModel.owner, "salesforce");
});

test("?prompt=1 of a cached entry is its stored prompt, without calling Claude", async () => {
  const a = anthropic.requests.length;
  const res = await api("/api/models/salesforce/blip?prompt=1");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/plain/);
  assert.equal(res.text, (await api("/api/models/salesforce/blip?debug=1")).json.prompt);
  assert.equal(anthropic.requests.length, a);
});

test("?prompt=1 of an uncached model builds the prompt without calling Claude or caching", async () => {
  const a = anthropic.requests.length;
  const res = await api("/api/models/stability-ai/sdxl?prompt=1");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/plain/);
  assert.ok(res.text.includes("stability-ai/sdxl"));
  assert.equal(anthropic.requests.length, a);
  const list = await api("/api/classifications");
  assert.ok(!("stability-ai/sdxl" in list.json));
});

test("an answer outside the taxonomy is repaired once, then the offline classifier is used and marked", async () => {
  const a = anthropic.requests.length;
  const bad = { summary: "Makes videos from sound", task: "audio-to-video", inputTypes: ["audio"], outputTypes: ["video"] };
  anthropic.replies.push(bad, { ...bad });
  const res = await api("/api/models/salesforce/blip?force=1");
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers.get("x-cache"), "MISS");
  assertClassification(res.json.classification);
  assert.notEqual(res.json.classification.task, "audio-to-video");
  assert.equal(anthropic.requests.length - a, 2, "one request and one repair attempt");
  const d = (await api("/api/models/salesforce/blip?debug=1")).json;
  assert.ok(d.classifier.startsWith("offline"), d.classifier);
  assert.deepEqual(d.classification, res.json.classification);
  const list = (await api("/api/classifications")).json;
  assert.deepEqual(list["salesforce/blip"], res.json.classification);
});

test("a repaired answer is used when the repair is valid", async () => {
  const a = anthropic.requests.length;
  anthropic.replies.push(
    { summary: "Answers questions", task: "not-a-task", inputTypes: ["image"], outputTypes: ["text"] },
    { summary: "Answers questions about images", task: "visual-question-answering", inputTypes: ["image", "text"], outputTypes: ["text"] },
  );
  const res = await api("/api/models/salesforce/blip?force=1");
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.classification.task, "visual-question-answering");
  assert.equal(res.json.classification.summary, "Answers questions about images");
  assert.equal(anthropic.requests.length - a, 2);
  const repair = anthropic.requests.at(-1);
  assert.equal(repair.headers["x-api-key"], KEY);
  assert.equal(repair.body.model, MODEL);
  const d = (await api("/api/models/salesforce/blip?debug=1")).json;
  assert.ok(d.classifier.includes(MODEL), d.classifier);
  assert.equal(d.claudeResponse.id, repair.response.id);
});

test("markup in Claude's summary is not passed on", async () => {
  anthropic.replies.push({
    summary: "<img src=x onerror=alert(1)> Generates **image** `captions` [link](http://x)",
    task: "image-to-text",
    inputTypes: ["image"],
    outputTypes: ["text"],
  });
  const res = await api("/api/models/salesforce/blip?force=1");
  assert.equal(res.status, 200, res.text);
  const s = res.json.classification.summary;
  assert.ok(!/[<>`*\[\]]/.test(s), s);
  assert.ok(s.includes("Generates"), s);
});

test("the default answer follows the prompt: a text-to-image model", async () => {
  const res = await api("/api/models/stability-ai/sdxl");
  assert.equal(res.status, 200, res.text);
  const sent = toolUse(anthropic.requests.at(-1)).input;
  assert.equal(res.json.classification.task, sent.task);
  assert.ok(TASK_NAMES.includes(sent.task));
});

test("a reply without a tool call (a refusal) falls back to the offline classifier", async () => {
  const a = anthropic.requests.length;
  const refusal = (n) => ({
    raw: {
      id: `msg_01refusal${n}`,
      type: "message",
      role: "assistant",
      model: MODEL,
      content: [{ type: "text", text: "I can't help with that." }],
      stop_reason: "refusal",
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  });
  anthropic.replies.push(refusal(1), refusal(2));
  const res = await api("/api/models/openai/whisper");
  assert.equal(res.status, 200, res.text);
  assertClassification(res.json.classification);
  assert.equal(anthropic.requests.length - a, 2);
  const d = (await api("/api/models/openai/whisper?debug=1")).json;
  assert.ok(d.classifier.startsWith("offline"), d.classifier);
  assert.equal(d.claudeResponse.id, "msg_01refusal2");
});

test("concurrent requests for one uncached model all succeed with the same answer", async () => {
  anthropic.replies.push({ delayMs: 700 });
  const all = await Promise.all([1, 2, 3].map(() => api("/api/models/black-forest-labs/flux-schnell")));
  for (const res of all) {
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, all[0].json);
  }
});

// The Worker's own design (worker_app.rs: concurrent misses share one upstream round), not the
// README's contract.
test("concurrent misses for one model share one Claude call", async () => {
  const [a, r] = [anthropic.requests.length, replicate.requests.length];
  anthropic.replies.push({ delayMs: 700 });
  const all = await Promise.all([1, 2, 3].map(() => api("/api/models/bytedance/sdxl-lightning-4step")));
  for (const res of all) assert.equal(res.status, 200, res.text);
  assert.equal(anthropic.requests.length - a, 1);
  const modelFetches = replicate.requests.slice(r).filter((x) => x.path === "/v1/models/bytedance/sdxl-lightning-4step");
  assert.equal(modelFetches.length, 1);
});
