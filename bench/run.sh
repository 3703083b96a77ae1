#!/usr/bin/env bash
# `npm run bench [-- name...]`: run the benchmarks and print their figures. With no names, runs the
# quick, self-contained ones; name any file in bench/ (without .ts) to run it, e.g.
#   npm run bench -- xor matchers promql
# Each figure in docs/benchmarks.md names the exact command that produced it.
set -u
cd "$(dirname "$0")/.."
bin=node_modules/.bin
quick=(xor matchers promql-parser remote objstore)
names=("$@")
[ "${#names[@]}" -gt 0 ] || names=("${quick[@]}")
rc=0
for n in "${names[@]}"; do
  f="bench/$n.ts"
  if [ ! -f "$f" ]; then echo "no benchmark $f (have: $(ls bench/*.ts | xargs -n1 basename | sed 's/\.ts$//' | tr '\n' ' '))"; rc=2; continue; fi
  echo "=== $n on Bun"
  "$bin/bun" "$f" || rc=1
  echo "=== $n on Node"
  "$bin/tsx" "$f" || rc=1
done
exit $rc
