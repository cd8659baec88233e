// Benchmarks the Worker as it runs locally (wrangler dev, workerd, local KV, offline classifier,
// Replicate served from the public snapshot) and prints the figures as a Markdown table:
//   - the Worker's size: wasm raw and gzip, and the deployable bundle's gzip size
//   - prompt size for the 100 most-run models: this project's prompt (fixed cacheable part +
//     per-model part) against a reconstruction of the original service's prompt
//   - cache-hit latency p50/p99 and requests/s on /api/models/... against a static route
//     (/api/taskNames), with wrk -t2 -c16 (install wrk first: apt-get install wrk)
//   - /api/classifications with 5,000 cached entries: time and KV operations
// Run: node bench/run.mjs   (DURATION=10s and ENTRIES=5000 to change)
import { spawnSync, execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync, existsSync, rmSync } from "node:fs";
import { gzipSync } from "node:zlib";
import path from "node:path";
import YAML from "yaml";
import { TASKS_DATA } from "@huggingface/tasks";
import { buildWorker, startWorker, repoRoot } from "../tests/support/harness.mjs";
import { startReplicateServer, defaultModelsPath } from "../scripts/replicate-server.mjs";

const DURATION = process.env.DURATION || "10s";
const ENTRIES = Number(process.env.ENTRIES || 5000);
const rows = [];
const row = (what, value, how) => {
  rows.push([what, value, how]);
  console.error(`${what}: ${value}`);
};
const kb = (n) => `${(n / 1024).toFixed(0)} KB`;
const tokens = (chars) => Math.round(chars / 4);

await buildWorker();

// ---- size
const wasm = readFileSync(path.join(repoRoot, "build/index_bg.wasm"));
row("wasm size", `${kb(wasm.length)} raw, ${kb(gzipSync(wasm, { level: 9 }).length)} gzip`, "build/index_bg.wasm, gzip -9");
const dist = path.join(repoRoot, "dist");
rmSync(dist, { recursive: true, force: true });
const dry = spawnSync(path.join(repoRoot, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", dist], {
  cwd: repoRoot,
  env: { ...process.env, SKIP_WORKER_BUILD: "1", WRANGLER_SEND_METRICS: "false" },
  encoding: "utf8",
});
if (dry.status === 0) {
  const files = readdirSync(dist, { recursive: true }).map((f) => path.join(dist, f)).filter((f) => statSync(f).isFile());
  const gz = files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0);
  row("deployable bundle", `${kb(gz)} gzip (original: about 165 KB)`, "wrangler deploy --dry-run --outdir dist, each file gzip -9");
} else {
  console.error(dry.stderr.slice(-2000));
}

// ---- servers
const models = JSON.parse(readFileSync(defaultModelsPath(), "utf8"));
const replicate = await startReplicateServer({ models });
const worker = await startWorker({ vars: { REPLICATE_API_BASE_URL: replicate.url, CLASSIFIER: "offline" } });
const get = async (p) => {
  const r = await fetch(worker.url + p);
  return { status: r.status, headers: r.headers, text: await r.text() };
};

try {
  // ---- prompt size, top 100 by run count
  const top = [...models].sort((a, b) => (b.run_count ?? 0) - (a.run_count ?? 0)).slice(0, 100);
  let ours = [], fixedLen = 0, orig = [];
  for (const m of top) {
    const r = await get(`/api/models/${m.owner}/${m.name}?prompt=1`);
    if (r.status !== 200) throw new Error(`prompt for ${m.owner}/${m.name}: ${r.status} ${r.text}`);
    const marker = r.text.indexOf("<model_metadata>\nModel: ");
    fixedLen = marker;
    ours.push({ total: r.text.length, model: r.text.length - marker });
    const ex = await (await fetch(`${replicate.url}/models/${m.owner}/${m.name}/examples`)).json();
    orig.push(originalPrompt(m, ex.results).length);
  }
  const avg = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const avgOrig = avg(orig), avgOurs = avg(ours.map((o) => o.total)), avgModel = avg(ours.map((o) => o.model));
  row("original prompt, top 100", `avg ${tokens(avgOrig)} tokens, max ${tokens(Math.max(...orig))}`, "reconstruction of the original's prompt, characters / 4");
  row("this prompt, top 100", `avg ${tokens(avgOurs)} tokens, max ${tokens(Math.max(...ours.map((o) => o.total)))}`, "?prompt=1, characters / 4");
  row("cacheable share", `${((fixedLen / avgOurs) * 100).toFixed(0)}% (fixed part ${tokens(fixedLen)} tokens)`, "system prompt with cache_control");
  row("uncached input per model", `avg ${tokens(avgModel)} tokens, max ${tokens(Math.max(...ours.map((o) => o.model)))} = ${((avgModel / avgOrig) * 100).toFixed(0)}% of the original`, "per-model part only");

  // ---- latency
  await get("/api/models/salesforce/blip");
  const hit = await get("/api/models/salesforce/blip");
  if (hit.headers.get("x-cache") !== "HIT") throw new Error("expected a cache hit");
  const wrk = (p) => {
    const out = execFileSync("wrk", ["-t2", "-c16", `-d${DURATION}`, "--latency", worker.url + p], { encoding: "utf8" });
    const pct = (q) => out.match(new RegExp(`\\s${q}%\\s+([\\d.]+\\w+)`))?.[1];
    const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1]);
    const errors = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? "0";
    return { p50: pct(50), p99: pct(99), rps, errors };
  };
  let hasWrk = spawnSync("wrk", ["--version"]).error === undefined;
  if (hasWrk) {
    const s = wrk("/api/taskNames");
    const h = wrk("/api/models/salesforce/blip");
    row("static route /api/taskNames", `${s.rps.toFixed(0)} req/s, p50 ${s.p50}, p99 ${s.p99}`, `wrk -t2 -c16 -d${DURATION}`);
    row("cache hit /api/models/salesforce/blip", `${h.rps.toFixed(0)} req/s, p50 ${h.p50}, p99 ${h.p99}, ${((h.rps / s.rps) * 100).toFixed(0)}% of static (non-2xx: ${h.errors})`, `wrk -t2 -c16 -d${DURATION}`);
  } else {
    console.error("wrk not found: skipping throughput (apt-get install wrk)");
  }

  // ---- listing with many entries: the snapshot's models plus fabricated copies up to ENTRIES
  const ids = models.map((m) => `${m.owner}/${m.name}`);
  for (let i = 0; ids.length < ENTRIES; i++) {
    const base = models[i % models.length];
    const id = `bench-copies/${base.name}-${i}`.slice(0, 100);
    replicate.faults.models[id] = { ...base, owner: "bench-copies", name: id.split("/")[1] };
    ids.push(id);
  }
  let next = 0, failed = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < ENTRIES) {
        const id = ids[next++];
        for (let attempt = 0; ; attempt++) {
          try {
            const r = await fetch(`${worker.url}/api/models/${id}`);
            await r.arrayBuffer();
            if (r.status !== 200) failed++;
            break;
          } catch (e) {
            if (attempt === 3) throw e;
            await new Promise((res) => setTimeout(res, 1000));
          }
        }
      }
    }),
  );
  console.error(`seeded ${ENTRIES} entries in ${((Date.now() - t0) / 1000).toFixed(0)} s (${failed} failed)`);
  const times = [];
  let count = 0, ops = "";
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    const r = await get("/api/classifications");
    times.push(performance.now() - s);
    count = Object.keys(JSON.parse(r.text)).length;
    ops = r.headers.get("x-kv-operations");
  }
  times.sort((a, b) => a - b);
  row(`/api/classifications, ${count} entries`, `${times[2].toFixed(0)} ms median of 5, ${ops} KV operations`, "X-KV-Operations header");
} finally {
  await worker.stop();
  await replicate.close();
}

console.log("| figure | value | how |\n| --- | --- | --- |");
for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);

/** The original service's prompt (its later, KV-cached version) rebuilt for comparison. */
function originalPrompt(model, examples) {
  const props = model.latest_version?.openapi_schema?.components?.schemas?.Input?.properties ?? {};
  const inputs = Object.entries(props).map(([k, v]) => `- ${k}: ${v.description} (${v.type})`).join("\n");
  const out = model.latest_version?.openapi_schema?.components?.schemas?.Output ?? {};
  const outputSchema = JSON.stringify(out.properties ?? out, null, 2);
  const ex = (examples ?? [])
    .map((e, i) => `Example ${i + 1}:\n\nInput: ${YAML.stringify(e.input)}\n\nOutput: ${JSON.stringify(e.output, null, 2)?.slice(0, 3000)}`)
    .join("\n\n---------------\n\n");
  const tasks = Object.keys(TASKS_DATA).map((t) => `- ${t}: ${TASKS_DATA[t]?.summary}`).join("\n");
  return `You are a helpful assistant that classifies AI models and returns JSON descriptions.

Here's the model to classify:

## Basic model info

Model name: ${model.name}
Model description: ${model.description}

## Model inputs

${inputs}

## Model output schema

${outputSchema}

If the input or output schema includes a format of URI, it is referring to a file.

## Example inputs and outputs

Use these example outputs to better understand the types of inputs the model accepts, and the types of outputs the model returns:

${ex}

## Task Classification

Based on the information above, please classify the model into one of the following tasks:

${tasks}

## Output format

Return a JSON object with the following fields:

- summary: A short summary of what the model does in 10 words or less. This should not be a sales pitch.
- inputTypes: An array of the types of inputs the model accepts, like "text", "image", "audio", etc.
- outputTypes: An array of the types of outputs the model returns, like "text", "image", "audio", etc.
- task: The task the model performs. This should be one of the Hugging Face task names.

Do not include any other text in your response.
Do not explain your reasoning.
Just return the JSON object.
No code fencing.
No markdown.
No backticks.
No triple backticks.
No code blocks.`;
}
