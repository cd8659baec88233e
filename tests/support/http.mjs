// Small HTTP helpers for the end-to-end tests.

import assert from "node:assert/strict";
import { TASKS_DATA } from "@huggingface/tasks";

/** Every task name of the installed @huggingface/tasks, in its order. */
export const TASK_NAMES = Object.keys(TASKS_DATA);

/** TASKS_DATA as JSON would carry it (tasks without data are null). */
export const TASKS_JSON = Object.fromEntries(
  TASK_NAMES.map((k) => [k, TASKS_DATA[k] === undefined ? null : JSON.parse(JSON.stringify(TASKS_DATA[k]))]),
);

/** fetch that reads the body: {status, headers, text, json (parsed when JSON, else undefined)}. */
export async function request(url, { method = "GET", headers = {}, body, timeoutMs = 60_000 } = {}) {
  const res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Asserts the README's error shape: JSON {"error": title, "message": string}, CORS, status. */
export function assertError(res, status, title) {
  assert.equal(res.status, status, `status (body: ${res.text})`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
  assert.ok(res.json && typeof res.json === "object", `JSON body: ${res.text}`);
  assert.deepEqual(Object.keys(res.json).sort(), ["error", "message"], `error keys: ${res.text}`);
  assert.equal(typeof res.json.error, "string");
  assert.equal(typeof res.json.message, "string");
  assert.ok(res.json.message.length > 0);
  if (title !== undefined) assert.equal(res.json.error, title);
}

/** Asserts a classification object is well formed and uses the taxonomy. */
export function assertClassification(c) {
  assert.deepEqual(Object.keys(c).sort(), ["inputTypes", "outputTypes", "summary", "task", "taskSummary"]);
  assert.equal(typeof c.summary, "string");
  assert.ok(TASK_NAMES.includes(c.task), `task ${c.task} is a taxonomy name`);
  assert.ok(Array.isArray(c.inputTypes) && Array.isArray(c.outputTypes));
  assert.equal(c.taskSummary, TASKS_DATA[c.task]?.summary ?? null);
}

/** A fabricated public model, as Replicate's API would describe it. */
export function fabricatedModel(owner, name, description) {
  return {
    url: `https://replicate.com/${owner}/${name}`,
    owner,
    name,
    description,
    visibility: "public",
    github_url: null,
    paper_url: null,
    license_url: null,
    run_count: 0,
    cover_image_url: null,
    default_example: null,
    latest_version: null,
  };
}

/** Clears every queued fault (and queued Anthropic reply) so no test answers another's request. */
export function clearFaults(...servers) {
  for (const s of servers) {
    s.faults.next = [];
    s.faults.always = null;
    if (s.replies) s.replies.length = 0;
  }
}
