# The counting logic of `npm test`, sourced by test/run.sh and by the runner's own test
# (test/integration/test-runner.test.ts, which runs it over the fixture suites in test/lib/runner-fixtures).
#
#   . test/lib/runner.sh
#   runner_init
#   run_suites test "$filter"     # test/unit and test/edge per runtime, test/integration/* one process each
#   summary                       # "failed suites: ..." and the closing line "N passed, N failed"; status 1 on failure
#
# Run from the repository root.

runner_init() {
  export NO_COLOR=1 FORCE_COLOR=0
  bin=node_modules/.bin
  # Keeps uvu's reporter alive on errors with non-string details, reports a `before` hook that threw, and
  # ends a process that stays alive after its summary (test/lib/uvu-preload.ts).
  pre="$PWD/test/lib/uvu-preload.ts"
  passed=0; failed=0; failures=()
  log=$(mktemp -d)
}

# count LABEL LOGFILE RC: add uvu's Total/Passed from the log. uvu's Total already leaves out skipped
# tests, so failed = Total - Passed. A run that exits non-zero or never prints uvu's summary failed even if
# no test said so (a crash, a `before` hook that threw, a timeout).
count() {
  local label=$1 f=$2 rc=$3 t p
  t=$(sed -n 's/^ *Total: *\([0-9][0-9]*\).*/\1/p' "$f" | awk '{s+=$1} END {print s+0}')
  p=$(sed -n 's/^ *Passed: *\([0-9][0-9]*\).*/\1/p' "$f" | awk '{s+=$1} END {print s+0}')
  local fl=$((t - p))
  if { [ "$rc" -ne 0 ] || ! grep -q "Total:" "$f"; } && [ "$fl" -eq 0 ]; then fl=1; fi
  passed=$((passed + p)); failed=$((failed + fl))
  if [ "$fl" -gt 0 ]; then failures+=("$label"); fi
}

# suite LABEL CMD...: run a uvu command, stream its output, count it.
suite() {
  local label=$1; shift
  local f
  f="$log/$(echo "$label" | tr -c 'a-zA-Z0-9' _).log"
  echo "=== $label"
  "$@" 2>&1 | tee "$f"
  local rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 124 ]; then echo "=== $label: killed by its time limit" | tee -a "$f"; fi
  count "$label" "$f" "$rc"
}

# step LABEL CMD...: a single pass/fail step (typecheck, machine set-up).
step() {
  local label=$1; shift
  echo "=== $label"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); failures+=("$label"); fi
}

files() { # DIR FILTER: test files under DIR whose path matches FILTER (all when empty)
  [ -d "$1" ] || return 0
  find "$1" -name '*.test.ts' | sort | { if [ -n "$2" ]; then grep -E -- "$2" || true; else cat; fi; }
}

# uvu takes a dir and a regex over paths relative to it; give it exactly the selected files.
pattern() { # DIR FILES...: a regex matching exactly these files, relative to DIR
  local dir=$1; shift
  local alts=()
  for f in "$@"; do alts+=("$(echo "${f#"$dir"/}" | sed 's/[.[\*^$()+?{|]/\\&/g')"); done
  local IFS='|'; echo "^(${alts[*]})$"
}

# run_suites ROOT FILTER: ROOT/unit and ROOT/edge in one process per runtime (Node, Bun; Deno for edge),
# then each ROOT/integration/*.test.ts in its own Node process; every process has a 15-minute limit.
run_suites() {
  local root=$1 filter=${2:-} dir pat f sel
  for dir in "$root/unit" "$root/edge"; do
    mapfile -t sel < <(files "$dir" "$filter")
    [ "${#sel[@]}" -gt 0 ] || continue
    pat=$(pattern "$dir" "${sel[@]}")
    suite "$dir on Node" timeout -k 10 900 "$bin/uvu" -r tsx -r "$pre" "$dir" "$pat"
    suite "$dir on Bun" timeout -k 10 900 "$bin/bun" --preload "$pre" node_modules/uvu/bin.js "$dir" "$pat"
    if [ "${dir##*/}" = edge ]; then
      suite "$dir on Deno" timeout -k 10 900 "$bin/deno" run -A --preload "$pre" node_modules/uvu/bin.js "$dir" "$pat"
    fi
  done
  mapfile -t sel < <(files "$root/integration" "$filter")
  for f in "${sel[@]}"; do
    suite "$f" timeout -k 10 900 "$bin/uvu" -r tsx -r "$pre" "$root/integration" "$(pattern "$root/integration" "$f")"
  done
}

# summary: the failed suites, then the closing line (CI reads it: "N passed, N failed" alone on a line).
summary() {
  rm -rf "$log"
  echo
  if [ "${#failures[@]}" -gt 0 ]; then
    echo "failed suites:"; printf '  %s\n' "${failures[@]}"
  fi
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
