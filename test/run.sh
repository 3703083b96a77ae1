#!/usr/bin/env bash
# The README's test command (`npm test`). Runs, in order:
#   typecheck (shared/ with no runtime types, then the rest),
#   test/unit + test/edge under Node (tsx) and Bun, test/edge under Deno too,
#   each test/integration/*.test.ts in its own Node process (real Prometheus, s3rver, wrangler dev).
# Prints one closing line "N passed, N failed" and exits non-zero on any failure.
# Filter: `npm test -- <regex>` runs only the suites whose file path matches (typecheck always runs).
set -u
cd "$(dirname "$0")/.."
export NO_COLOR=1 FORCE_COLOR=0
filter="${1:-}"
bin=node_modules/.bin
pre="$PWD/test/lib/uvu-preload.ts" # keeps uvu's reporter alive on errors with non-string details
passed=0; failed=0; failures=()
log=$(mktemp -d)

# count LABEL LOGFILE RC: add uvu's Total/Passed/Skipped from the log; a run that died before
# printing its summary counts as one failure.
count() {
  local label=$1 f=$2 rc=$3 t p s
  t=$(sed -n 's/^ *Total: *\([0-9][0-9]*\).*/\1/p' "$f" | awk '{s+=$1} END {print s+0}')
  p=$(sed -n 's/^ *Passed: *\([0-9][0-9]*\).*/\1/p' "$f" | awk '{s+=$1} END {print s+0}')
  s=$(sed -n 's/^ *Skipped: *\([0-9][0-9]*\).*/\1/p' "$f" | awk '{s+=$1} END {print s+0}')
  local fl=$((t - p - s))
  # A run that exits non-zero, or never prints uvu's summary, failed even if no test said so.
  if { [ "$rc" -ne 0 ] || ! grep -q "Total:" "$f"; } && [ "$fl" -eq 0 ]; then fl=1; fi
  passed=$((passed + p)); failed=$((failed + fl))
  if [ "$fl" -gt 0 ]; then failures+=("$label"); fi
}

# suite LABEL CMD...: run a uvu command, stream its output, count it.
suite() {
  local label=$1; shift
  local f="$log/$(echo "$label" | tr -c 'a-zA-Z0-9' _).log"
  echo "=== $label"
  "$@" 2>&1 | tee "$f"
  count "$label" "$f" "${PIPESTATUS[0]}"
}

# step LABEL CMD...: a single pass/fail step (typecheck, generated-code check).
step() {
  local label=$1; shift
  echo "=== $label"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$label"); fi
}

files() { # DIR: test files under DIR matching the filter
  [ -d "$1" ] || return 0
  find "$1" -name '*.test.ts' | sort | { if [ -n "$filter" ]; then grep -E -- "$filter" || true; else cat; fi; }
}

# uvu takes a dir and a regex over paths relative to it; give it exactly the selected files.
pattern() { # DIR FILES...: a regex matching exactly these files, relative to DIR
  local dir=$1; shift
  local alts=()
  for f in "$@"; do alts+=("$(echo "${f#"$dir"/}" | sed 's/[.[\*^$()+?{|]/\\&/g')"); done
  local IFS='|'; echo "^(${alts[*]})$"
}

step "typecheck shared/ (no runtime types)" "$bin/tsc" -p shared/tsconfig.json
step "typecheck agent/ edge/ test/ bench/" "$bin/tsc" -p tsconfig.json

for dir in test/unit test/edge; do
  mapfile -t sel < <(files "$dir")
  [ "${#sel[@]}" -gt 0 ] || continue
  pat=$(pattern "$dir" "${sel[@]}")
  suite "$dir on Node" "$bin/uvu" -r tsx -r "$pre" "$dir" "$pat"
  suite "$dir on Bun" "$bin/bun" --preload "$pre" node_modules/uvu/bin.js "$dir" "$pat"
  if [ "$dir" = test/edge ]; then
    suite "$dir on Deno" "$bin/deno" run -A --preload "$pre" node_modules/uvu/bin.js "$dir" "$pat"
  fi
done

mapfile -t sel < <(files test/integration)
for f in "${sel[@]}"; do
  suite "$f" timeout 900 "$bin/uvu" -r tsx -r "$pre" test/integration "$(pattern test/integration "$f")"
done

rm -rf "$log"
echo
if [ "${#failures[@]}" -gt 0 ]; then
  echo "failed suites:"; printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
