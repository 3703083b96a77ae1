#!/usr/bin/env bash
# The README's test command (`npm test`). Runs, in order:
#   the machine set-up (scripts/setup.ts: installs the Debian packages the tests need when apt-get is
#     usable, otherwise stops within seconds with the command to run),
#   typecheck (shared/ with no runtime types, then the rest),
#   test/unit + test/edge under Node (tsx) and Bun, test/edge under Deno too,
#   each test/integration/*.test.ts in its own Node process (real Prometheus, s3rver, wrangler dev).
# Prints one closing line "N passed, N failed" and exits non-zero on any failure.
# Filter: `npm test -- <regex>` runs only the suites whose file path matches (typecheck always runs).
set -u
cd "$(dirname "$0")/.."
. test/lib/runner.sh
runner_init
filter="${1:-}"

# Prometheus, Alertmanager, Chromium and Go (the unit suites read Prometheus' PromQL scripts through Go).
if ! "$bin/bun" scripts/setup.ts test; then
  failed=$((failed + 1)); failures+=("machine set-up: the command to run is above")
  summary; exit 1
fi

step "typecheck shared/ (no runtime types)" "$bin/tsc" -p shared/tsconfig.json
step "typecheck agent/ edge/ test/ bench/ scripts/" "$bin/tsc" -p tsconfig.json

run_suites test "$filter"
summary
