#!/bin/sh
# Installs, with apt-get, whatever rnnstream needs to build and test that is
# not installed yet. Debian 12; run as root (or with sudo available).
# With --bench, also what the benchmarks need (OpenBLAS, PyTorch); with
# --speech, what tools/speech/make-digits-data.py needs (tools/speech/packages.txt);
# with --forecast, R and its forecast package for bench/bench-forecast.py.
set -eu
packages="make meson ninja-build pkg-config gcc clang libclang-rt-14-dev libfuzzer-14-dev
  libglib2.0-dev libjson-glib-dev python3 libopenblas-dev
  libsndfile1-dev portaudio19-dev libfftw3-dev libsoxr-dev libsamplerate0-dev libcairo2-dev
  sox alsa-utils pulseaudio pulseaudio-utils libasound2-plugins"
if [ "${1:-}" = "--bench" ]; then
  packages="$packages python3-torch python3-numpy python3-torchaudio"
fi
if [ "${1:-}" = "--speech" ]; then
  packages="$packages $(cat "$(dirname "$0")/speech/packages.txt")"
fi
if [ "${1:-}" = "--forecast" ]; then
  packages="$packages r-base-core r-cran-forecast"
fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
