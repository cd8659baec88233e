#!/usr/bin/env bash
# Runs every test: native unit tests of the core, then the end-to-end tests, which build the
# Worker once and run it in `wrangler dev` against local Replicate and Anthropic servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== native tests (cargo test)"
cargo test --quiet
echo "== lints (cargo clippy)"
cargo clippy --quiet --all-targets -- -D warnings
echo "== building the Worker"
bash scripts/build.sh
echo "== end-to-end tests (wrangler dev)"
SKIP_WORKER_BUILD=1 node --test --test-concurrency=1 tests/e2e/
