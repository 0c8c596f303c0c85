#!/bin/sh
# Installs rnnstream into a scratch prefix, builds a cell plugin out of tree
# against the installed header through pkg-config (as a third party would),
# and checks that the installed rnnstream loads it next to its own cells.
# Usage: tests/install/test-install.sh BUILD_DIR
set -eu
build=${1:?usage: test-install.sh BUILD_DIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
prefix="$stage/prefix"

meson configure "$build" -Dprefix="$prefix" >/dev/null
meson install -C "$build" --quiet
libdir=$(find "$prefix" -name 'rnnstream-1.pc' -exec dirname {} \; | head -n 1)
export PKG_CONFIG_PATH="$libdir"
plugindir=$(pkg-config --variable=plugindir rnnstream-1)

mkdir "$stage/myplugins"
# The plugin needs the ABI header only: no library to link.
cc -std=c11 -Wall -Wextra -Werror -shared -fPIC -fvisibility=hidden -DBAD_KIND=10 \
  $(pkg-config --cflags rnnstream-1) "$src/tests/plugins/bad-plugin.c" \
  -o "$stage/myplugins/extra.so"

out=$(env -u RNNSTREAM_PLUGIN_SYSTEM_PATH RNNSTREAM_PLUGIN_PATH="$stage/myplugins" \
  LD_LIBRARY_PATH="$(dirname "$libdir")" "$prefix/bin/rnnstream" plugins)
echo "$out"
echo "$out" | grep -q "^extra_cell .*$stage/myplugins/extra.so" || { echo "out-of-tree plugin not listed"; exit 1; }
echo "$out" | grep -q "^gru .*$plugindir/gru.so" || { echo "installed gru plugin not listed"; exit 1; }
# The installed tool runs a model with its installed plugins.
env -u RNNSTREAM_PLUGIN_SYSTEM_PATH LD_LIBRARY_PATH="$(dirname "$libdir")" \
  "$prefix/bin/rnnstream" apply -m "$src/models/demo-forecast.safetensors" \
  -i "$src/models/demo-input.csv" | tail -n 1
echo "1 passed, 0 failed"
