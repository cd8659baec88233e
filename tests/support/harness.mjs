// Starts and stops the real Worker in `wrangler dev`, for end-to-end tests.
//
//   await buildWorker();                       // `bash scripts/build.sh`, once per process
//   const worker = await startWorker({ vars: { REPLICATE_API_BASE_URL: replicate.url, ... } });
//   await fetch(`${worker.url}/api/taskNames`);
//   worker.logs();                             // wrangler's stdout and stderr so far
//   await worker.stop();
//
// Each worker gets free HTTP and inspector ports, a fresh KV directory (--persist-to) and no
// secrets from the developer's machine: `.dev.vars` and `.env` are not read (an empty
// --env-file is passed), every variable the Worker reads is passed with --var (a test's
// `vars` override the safe defaults below), and upstream secrets are removed from the
// environment. Every wrangler started is killed (its whole process group) by stop(), and on
// process exit, SIGINT and SIGTERM.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const SHIM = path.join(repoRoot, "build", "worker", "shim.mjs");
const WRANGLER = path.join(repoRoot, "node_modules", ".bin", "wrangler");
const READY_TIMEOUT_MS = 60_000;

/** Every variable the Worker reads, with values that can never reach a real upstream. */
export const DEFAULT_VARS = Object.freeze({
  REPLICATE_API_BASE_URL: "http://127.0.0.1:9/v1",
  REPLICATE_API_TOKEN: "",
  ANTHROPIC_API_BASE_URL: "http://127.0.0.1:9",
  ANTHROPIC_API_KEY: "",
  ANTHROPIC_MODEL: "claude-sonnet-4-6",
  CLASSIFIER: "auto",
  ADMIN_TOKEN: "",
});

// Environment variables that must not reach wrangler (secrets, or switches that would load them).
const SCRUBBED_ENV = [
  "ANTHROPIC_API_KEY",
  "REPLICATE_API_TOKEN",
  "ADMIN_TOKEN",
  "CLOUDFLARE_API_TOKEN",
  "CLOUDFLARE_API_KEY",
  "CLOUDFLARE_INCLUDE_PROCESS_ENV",
  "WRANGLER_LOG",
  "NODE_OPTIONS",
  "NODE_TEST_CONTEXT",
];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Build

function newestMtime(p) {
  if (!existsSync(p)) return 0;
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const e of readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, e)));
  return newest;
}

/** True when build/worker/shim.mjs is newer than every input of the Rust build. */
export function buildIsFresh() {
  if (!existsSync(SHIM)) return false;
  const inputs = ["src", "Cargo.toml", "Cargo.lock", "build.rs", "README.md", "scripts/build.sh", "data"];
  const newestInput = Math.max(...inputs.map((p) => newestMtime(path.join(repoRoot, p))));
  return statSync(SHIM).mtimeMs >= newestInput;
}

// Several test files (processes) may build at once; they take turns through a lock directory.
async function withBuildLock(fn) {
  const lock = path.join(os.tmpdir(), `rmc-e2e-build-${Buffer.from(repoRoot).toString("hex").slice(-32)}.lock`);
  const deadline = Date.now() + 30 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== "EEXIST") throw e;
      // A lock older than 20 minutes belongs to a build that died.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lock}`);
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

let built;
/**
 * Builds the Worker (`bash scripts/build.sh`) once per process. Skipped when SKIP_WORKER_BUILD=1
 * and a build exists, or when the build is newer than every source file.
 */
export function buildWorker() {
  built ??= (async () => {
    if (process.env.SKIP_WORKER_BUILD === "1" && existsSync(SHIM)) return;
    await withBuildLock(async () => {
      if (buildIsFresh()) return;
      const out = [];
      const code = await new Promise((resolve, reject) => {
        const child = spawn("bash", ["scripts/build.sh"], {
          cwd: repoRoot,
          env: { ...process.env, SKIP_WORKER_BUILD: "" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        child.stdout.on("data", (d) => out.push(d));
        child.stderr.on("data", (d) => out.push(d));
        child.on("error", reject);
        child.on("close", resolve);
      });
      if (code !== 0 || !existsSync(SHIM)) {
        const log = Buffer.concat(out).toString("utf8");
        throw new Error(`bash scripts/build.sh failed (exit ${code}):\n${log.slice(-8000)}`);
      }
    });
  })();
  built.catch(() => {
    built = undefined;
  });
  return built;
}

// ---------------------------------------------------------------------------------------------
// Processes

const live = new Set(); // wrangler processes not yet stopped

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {}
  }
}

let hooksInstalled = false;
function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", () => {
    for (const w of live) {
      killGroup(w.child, "SIGKILL");
      try {
        rmSync(w.dir, { recursive: true, force: true });
      } catch {}
    }
  });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.once(sig, () => {
      for (const w of live) killGroup(w.child, "SIGKILL");
      process.exit(128 + (os.constants.signals[sig] ?? 1));
    });
  }
}

/** A port free on 127.0.0.1 right now, not one of `avoid`. */
export async function freePort(avoid = []) {
  for (;;) {
    const port = await new Promise((resolve, reject) => {
      const s = net.createServer();
      s.unref();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const { port } = s.address();
        s.close(() => resolve(port));
      });
    });
    if (!avoid.includes(port)) return port;
  }
}

/**
 * Starts `wrangler dev` on the current build and waits until `GET /api/taskNames` answers 200.
 * `vars` override DEFAULT_VARS (pass every upstream URL a test needs). `secrets` are passed as
 * secret bindings (through the env file, as `.dev.vars` would be; wrangler does not print their
 * values) instead of vars: names given there are left out of the vars. `extraArgs` are appended
 * to `wrangler dev`'s arguments (e.g. `["--test-scheduled"]`). `config` (a wrangler config path)
 * and `readyPath` exist to check the harness itself on a throwaway worker.
 */
export async function startWorker({ vars = {}, secrets = {}, extraArgs = [], port, config, readyPath = "/api/taskNames" } = {}) {
  installExitHooks();
  if (!config && !existsSync(SHIM)) throw new Error(`${SHIM} is missing: call buildWorker() first`);
  const httpPort = port ?? (await freePort());
  const inspectorPort = await freePort([httpPort]);
  const dir = mkdtempSync(path.join(os.tmpdir(), "rmc-e2e-"));
  const persist = path.join(dir, "state");
  const envFile = path.join(dir, "empty.env");
  const secretLines = Object.entries(secrets).map(([k, v]) => `${k}=${JSON.stringify(String(v ?? ""))}\n`);
  writeFileSync(envFile, secretLines.join(""));

  const allVars = { ...DEFAULT_VARS, ...vars };
  for (const k of Object.keys(secrets)) delete allVars[k];
  const args = [
    "dev",
    "--port", String(httpPort),
    "--ip", "127.0.0.1",
    "--inspector-port", String(inspectorPort),
    "--persist-to", persist,
    "--env-file", envFile,
    "--show-interactive-dev-session=false",
  ];
  if (config) args.push("--config", config);
  for (const [k, v] of Object.entries(allVars)) args.push("--var", `${k}:${v ?? ""}`);
  args.push(...extraArgs);

  const env = { ...process.env };
  for (const k of SCRUBBED_ENV) delete env[k];
  Object.assign(env, {
    SKIP_WORKER_BUILD: "1",
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    // The env file holds only `secrets` (empty unless a test passes some).
    CLOUDFLARE_LOAD_DEV_VARS_FROM_DOT_ENV: Object.keys(secrets).length ? "true" : "false",
    CI: "true",
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  });

  const child = spawn(WRANGLER, args, { cwd: repoRoot, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const chunks = [];
  child.stdout.on("data", (d) => chunks.push(d));
  child.stderr.on("data", (d) => chunks.push(d));
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.on("error", (err) => {
      exitInfo = { error: err };
      resolve(exitInfo);
    });
  });
  const record = { child, dir };
  live.add(record);

  const url = `http://127.0.0.1:${httpPort}`;
  const logs = () => Buffer.concat(chunks).toString("utf8");

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (!exitInfo) {
        killGroup(child, "SIGTERM");
        const done = await Promise.race([exited, sleep(10_000).then(() => null)]);
        if (!done) {
          killGroup(child, "SIGKILL");
          await Promise.race([exited, sleep(5_000)]);
        }
      }
      // workerd may outlive wrangler for a moment; the group kill above reaches it too.
      killGroup(child, "SIGKILL");
      live.delete(record);
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const started = Date.now();
  let lastError = "";
  for (;;) {
    if (exitInfo) {
      await stop();
      throw new Error(`wrangler dev exited before it was ready (${JSON.stringify(exitInfo)}):\n${logs().slice(-8000)}`);
    }
    if (Date.now() - started > READY_TIMEOUT_MS) {
      const text = logs();
      await stop();
      throw new Error(`wrangler dev not ready after ${READY_TIMEOUT_MS / 1000} s (last: ${lastError}):\n${text.slice(-8000)}`);
    }
    try {
      const res = await fetch(`${url}${readyPath}`, { signal: AbortSignal.timeout(5_000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
      lastError = `HTTP ${res.status}`;
    } catch (e) {
      lastError = String(e?.cause?.code ?? e?.message ?? e);
    }
    await sleep(250);
  }
  return { url, port: httpPort, inspectorPort, stop, logs, pid: child.pid };
}

/** Kills every wrangler this process started and has not stopped yet (synchronously). */
export function killAll() {
  for (const w of live) killGroup(w.child, "SIGKILL");
}
