#!/bin/sh
# Times rnnstream against PyTorch and prints the tables (see bench/README.md).
#
#   bench/run.sh BUILDDIR          (what `make bench BUILD=BUILDDIR` runs)
#
# Builds nothing: BUILDDIR must already hold bench/bench-cells, i.e. have
# been configured with OpenBLAS found (-Dbench=enabled makes that an error
# if not) and compiled. Use a release build for numbers worth quoting.
#
# Environment:
#   BENCH_QUICK=1   tiny model set and short measurements (smoke test)
#   BENCH_CPU=N     pin both benchmarks to CPU N with taskset
#   BENCH_TRAIN=only  the training table alone (bench-train against
#                   bench_train_torch.py; needs only bench/bench-train)
#   BENCH_PHASES=1  the training table with where a step's time goes
#
# Raw results stay in BUILDDIR/bench-results/ (JSON lines + the report).
# Exit status: 0 whether targets are met or not; non-zero only when a
# benchmark failed to run.
set -u

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILDDIR" >&2
  exit 2
fi
build=$1
here=$(cd "$(dirname "$0")" && pwd)
python=/usr/bin/python3          # Debian's, which has PyTorch
exe=$build/bench/bench-cells

if [ ! -x "$exe" ] && [ "${BENCH_TRAIN:-}" != only ]; then
  cat >&2 <<EOF
bench: $exe is missing. Configure and build with the benchmarks (needs
OpenBLAS: apt-get install libopenblas-dev), preferably as a release build:

  meson setup $build -Dbuildtype=release -Dbench=enabled
  ninja -C $build
  $0 $build
EOF
  exit 2
fi
build_abs=$(cd "$build" && pwd)

# One thread everywhere: the comparison is one core against one core, and
# a second thread would only fight the other benchmark for the other core.
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
# This build's plugins, never an installed copy or the user's.
export RNNSTREAM_PLUGIN_SYSTEM_PATH="$build_abs/plugins" RNNSTREAM_PLUGIN_PATH=

quick=
[ "${BENCH_QUICK:-0}" != 0 ] && quick=--quick
pin=
if [ -n "${BENCH_CPU:-}" ]; then
  pin="taskset -c $BENCH_CPU"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rnnstream-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
results=$build_abs/bench-results
mkdir -p "$results"
ours=$results/rnnstream.jsonl
theirs=$results/torch.jsonl
: >"$ours"
: >"$theirs"

start=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
failed=0

# Training: one step (forward, MSE, BPTT, clipping, Adam) in rnnstream and
# in PyTorch, on the same initial weights and data, which bench-train
# writes to $tmp/train for bench_train_torch.py. BENCH_PHASES=1 adds where
# a step's time goes on both sides.
run_training() {
  train_exe=$build/bench/bench-train
  phases=
  [ "${BENCH_PHASES:-0}" != 0 ] && phases=--phases
  if [ ! -x "$train_exe" ]; then
    echo "bench: $train_exe is missing: no training table" >&2
    return
  fi
  mkdir -p "$tmp/train"
  echo "bench: training (rnnstream)" >&2
  $pin "$train_exe" $quick $phases --dump-dir "$tmp/train" >>"$ours" || failed=1
  echo "bench: training (PyTorch)" >&2
  $pin $python "$here/bench_train_torch.py" "$tmp/train/train.tsv" $quick $phases \
    >>"$theirs" || failed=1
}

report() {
  load_after=$(cut -d' ' -f1-3 /proc/loadavg)
  elapsed=$(( $(date +%s) - start ))
  $python "$here/report.py" "$ours" "$theirs" --build "$build_abs" \
    --load-before "$load_before" --load-after "$load_after" --elapsed "$elapsed" "$@" |
    tee "$results/report.txt"
  if [ "$failed" != 0 ]; then
    echo "bench: a benchmark failed (see above); the tables may be incomplete" >&2
    exit 1
  fi
  exit 0
}

# BENCH_TRAIN=only: the training table alone (about 1 minute).
if [ "${BENCH_TRAIN:-}" = only ]; then
  run_training
  report --only train
fi

echo "bench: writing models to $tmp" >&2
if ! $python "$here/make_models.py" "$tmp" $quick; then
  echo "bench: make_models.py failed" >&2
  exit 1
fi

# The model list: column 6 says which modes a model takes part in (rnn_relu
# only streams; its other numbers would repeat rnn_tanh's).
all_models=$(awk -F'\t' '!/^#/ && $6 == "all" { print $1 }' "$tmp/models.tsv")
stream_models=$(awk -F'\t' '!/^#/ && $6 == "stream" { print $1 }' "$tmp/models.tsv")

echo "bench: rnnstream" >&2
# shellcheck disable=SC2086  # word splitting of the lists is intended
$pin "$exe" $quick --sgemm --input "$tmp/input.f32" --dump-dir "$tmp" $all_models >>"$ours" ||
  failed=1
if [ -n "$stream_models" ]; then
  # shellcheck disable=SC2086
  $pin "$exe" $quick --modes=stream,bound --input "$tmp/input.f32" $stream_models >>"$ours" ||
    failed=1
fi

echo "bench: PyTorch" >&2
# shellcheck disable=SC2086
$pin $python "$here/bench_torch.py" "$tmp/models.tsv" "$tmp/input.f32" --dump-dir "$tmp" \
  $quick >>"$theirs" || failed=1

# Features: rnnstream's Kaldi MFCC against torchaudio's kaldi.mfcc on the
# same speech (a feature fixture), and against FFTW's FFT alone. Built with
# the library's own dependencies, so present whenever the benchmarks are.
features_exe=$build/bench/bench-features
features_input=$here/../tests/fixtures/features/front_center_16k.safetensors
if [ -x "$features_exe" ]; then
  echo "bench: features (rnnstream)" >&2
  $pin "$features_exe" $quick --dump "$tmp/features.f32" "$features_input" >>"$ours" ||
    failed=1
  echo "bench: features (torchaudio)" >&2
  $pin $python "$here/bench_features_torch.py" "$features_input" --ours "$tmp/features.f32" \
    $quick >>"$theirs" || failed=1
else
  echo "bench: $features_exe is missing: no features table" >&2
fi

run_training
report
