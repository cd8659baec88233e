// Runs the API locally: `wrangler dev` on http://127.0.0.1:8787 (PORT to change).
// Without REPLICATE_API_TOKEN (in .dev.vars or the environment) it first starts the bundled
// Replicate-compatible server over the public model snapshot and points the Worker at it, so
// the API works with no secrets and no internet. With a token, the Worker talks to Replicate.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { startReplicateServer } from "./replicate-server.mjs";

const root = new URL("..", import.meta.url).pathname;
const port = process.env.PORT || "8787";
const devVars = existsSync(`${root}.dev.vars`) ? readFileSync(`${root}.dev.vars`, "utf8") : "";
const hasToken = !!process.env.REPLICATE_API_TOKEN || /^\s*REPLICATE_API_TOKEN\s*=\s*\S+/m.test(devVars);

const args = ["dev", "--port", port, "--ip", "127.0.0.1"];
let replicate;
if (!hasToken) {
  replicate = await startReplicateServer({ port: Number(process.env.REPLICATE_PORT || 8788) });
  console.log(`Serving Replicate's API from the public snapshot at ${replicate.url}`);
  args.push("--var", `REPLICATE_API_BASE_URL:${replicate.url}`);
}
const wrangler = spawn(`${root}node_modules/.bin/wrangler`, args, {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
});
const stop = () => wrangler.kill("SIGTERM");
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
wrangler.on("exit", async (code) => {
  if (replicate) await replicate.close();
  process.exit(code ?? 0);
});
