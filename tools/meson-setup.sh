#!/bin/sh
# meson setup for a build directory that may or may not exist yet; options
# given now replace the ones it had. Usage: meson-setup.sh DIR [OPTIONS...]
set -eu
dir=$1
shift
if [ -f "$dir/build.ninja" ]; then
  exec meson setup --reconfigure "$dir" "$@"
fi
exec meson setup "$dir" "$@"
