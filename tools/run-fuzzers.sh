#!/bin/sh
# Runs every libFuzzer target for SECONDS seconds each (default 60) from its
# committed seed corpus, in a scratch copy so the corpus in git stays small.
# Usage: tools/run-fuzzers.sh BUILD_DIR [SECONDS]
set -eu
build=${1:?usage: run-fuzzers.sh BUILD_DIR [SECONDS]}
seconds=${2:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in safetensors pipeline csv-stream; do
  mkdir -p "$work/$target"
  echo "fuzz-$target: ${seconds}s"
  "$build/tests/fuzz/fuzz-$target" -max_total_time="$seconds" -rss_limit_mb=2048 \
    -timeout=10 -print_final_stats=1 "$work/$target" "$src/tests/fuzz/corpus/$target" \
    > "$work/$target.log" 2>&1 || { tail -n 60 "$work/$target.log"; exit 1; }
  grep -E 'stat::number_of_executed_units|Done' "$work/$target.log" | tail -n 2
done
