#!/usr/bin/env bash
# Builds the Worker into build/ (wrangler.toml's [build] command). Does nothing when the build is
# newer than every source (wrangler dev runs this more than once at startup); SKIP_WORKER_BUILD=1
# reuses any existing build, so test harnesses that build once can start wrangler quickly.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f build/worker/shim.mjs ] && [ -f build/index_bg.wasm ]; then
  if [ "${SKIP_WORKER_BUILD:-}" = 1 ]; then
    exit 0
  fi
  if [ -z "$(find src data Cargo.toml Cargo.lock build.rs README.md scripts/build.sh -newer build/index_bg.wasm -print -quit)" ]; then
    exit 0
  fi
fi
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-wasm-bindgen}"
if [ -z "${ESBUILD_BIN:-}" ] && [ -x node_modules/esbuild/bin/esbuild ]; then
  export ESBUILD_BIN="$PWD/node_modules/esbuild/bin/esbuild"
fi
if [ -z "${WASM_OPT_BIN:-}" ] && [ -x node_modules/.bin/wasm-opt ]; then
  export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
fi
worker-build --release
# worker-build keeps the wasm names section (readable panic traces, about 130 KB); a deployed
# Worker's panics are still reported by message, so drop it to keep the bundle small.
if [ -n "${WASM_OPT_BIN:-}" ]; then
  "$WASM_OPT_BIN" build/index_bg.wasm --strip-debug --strip-producers \
    --enable-mutable-globals --enable-sign-ext --enable-nontrapping-float-to-int --enable-bulk-memory \
    --enable-multivalue --enable-reference-types --enable-exception-handling \
    -o build/index_bg.wasm
fi
