// End-to-end: `rmc seed` fills the real Worker's cache (wrangler dev, offline classifier,
// Replicate served from the snapshot), resumes from its state file, and reclassifies with --force.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { defaultModelsPath, startReplicateServer } from "../../scripts/replicate-server.mjs";
import { buildWorker, repoRoot, startWorker } from "../support/harness.mjs";
import { request } from "../support/http.mjs";

const run = promisify(execFile);
const RMC = path.join(repoRoot, "target", "debug", "rmc");
const models = JSON.parse(readFileSync(defaultModelsPath(), "utf8"));
const top5 = [...models]
  .sort((a, b) => (b.run_count ?? 0) - (a.run_count ?? 0))
  .slice(0, 5)
  .map((m) => `${m.owner}/${m.name}`.toLowerCase());
const state = path.join(mkdtempSync(path.join(os.tmpdir(), "rmc-seed-")), "seed.state");
let replicate, worker;

before(async () => {
  await buildWorker();
  await run("cargo", ["build", "--quiet", "--bin", "rmc"], { cwd: repoRoot });
  replicate = await startReplicateServer({ models });
  worker = await startWorker({ vars: { REPLICATE_API_BASE_URL: replicate.url, CLASSIFIER: "offline" } });
});

after(async () => {
  await worker?.stop();
  await replicate?.close();
});

const seed = (...args) =>
  run(RMC, ["seed", "--api", worker.url, "--models", defaultModelsPath(), "--top", "5", "--concurrency", "3", ...args], {
    cwd: repoRoot,
    maxBuffer: 1 << 24,
  });
const modelFetches = () => replicate.requests.filter((r) => /^\/v1\/models\/[^/]+\/[^/?]+$/.test(r.path)).length;

test("seed classifies the five most-run models: all MISS, then listed", async () => {
  const { stdout } = await seed("--state", state);
  assert.equal(stdout, "MISS\t5\n");
  assert.deepEqual(readFileSync(state, "utf8").trim().split("\n").sort(), [...top5].sort());
  const list = await request(`${worker.url}/api/classifications`);
  assert.deepEqual(Object.keys(list.json).sort(), [...top5].sort());
  assert.equal(modelFetches(), 5);
});

test("a second run with the same state file skips them all without a request", async () => {
  const before = replicate.requests.length;
  const { stdout, stderr } = await seed("--state", state);
  assert.equal(stdout, "");
  assert.match(stderr, /skipped \(already done\): 5/);
  assert.equal(replicate.requests.length, before);
});

test("without a state file the cached models are HITs", async () => {
  const { stdout } = await seed();
  assert.equal(stdout, "HIT\t5\n");
  assert.equal(modelFetches(), 5);
});

test("--force reclassifies (a loopback API needs no admin token)", async () => {
  const { stdout } = await seed("--force");
  assert.equal(stdout, "MISS\t5\n");
  assert.equal(modelFetches(), 10);
});

test("errors are counted by status and make the run fail", async () => {
  replicate.faults.always = { match: "/v1/models/", status: 500, body: { detail: "boom" } };
  try {
    await assert.rejects(
      run(RMC, ["seed", "--api", worker.url, "--models", defaultModelsPath(), "--top", "6", "--force", "--concurrency", "2"], {
        cwd: repoRoot,
      }),
      (e) => {
        // retried (502 from the API) and reported as one line per outcome
        assert.equal(e.code, 1);
        assert.equal(e.stdout, "error 502\t6\n");
        return true;
      },
    );
  } finally {
    replicate.faults.always = null;
  }
});
