#!/bin/sh
# The live path, for real: a private PulseAudio daemon with a null sink,
# a known recording played into it with paplay, and `capture` recording the
# sink's monitor through rs_microphone -> PortAudio -> ALSA's "pulse"
# device (libasound2-plugins) -> PulseAudio. The recording must contain
# the file: `align` finds the lag by cross-correlation and checks the
# correlation coefficient (> 0.99) and the SNR (> 30 dB) over the file's
# length. A second capture with a 100 ms ring and a reader that stalls for
# a second must report the lost input (RS_ERROR_OVERRUN), not hide it.
#
#   test-live.sh CAPTURE ALIGN REFERENCE.wav [RNNSTREAM [MODEL SPEECH.wav]]
#
# RNNSTREAM, when given and when it has the `devices` command, must list
# the PulseAudio device. With MODEL, `rnnstream transcribe` must hear in
# the file SPEECH, named VOICE-WORD-WORD-....wav, the words of its name, and
# `rnnstream listen` the same words when SPEECH is played into the sink, as
# a final result (JSON Lines, its output not being a terminal). Exit status 77 (meson: skipped) when PulseAudio is
# not installed, unless CI=true, where a skip is a failure.
#
# Nothing outside a temporary directory is touched: the daemon's runtime
# and state directories, its socket, the client configuration (no
# autospawn) and HOME all live there, and the daemon is killed on exit.
# The daemon runs with -n (no default.pa), so it loads exactly the two
# modules given here, at the reference file's rate, and PulseAudio has
# nothing to resample.
set -u

capture=$1
align=$2
reference=$3
rnnstream=${4:-}
model=${5:-}
speech=${6:-}

say() { echo "test-live: $*"; }
fail() { say "FAIL: $*"; exit 1; }
skip() {
  if [ "${CI:-}" = true ]; then
    fail "$* (CI=true: the live test must run)"
  fi
  say "SKIP: $*"
  exit 77
}

for tool in pulseaudio pactl paplay; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
plugin_found=no
for plugin in /usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so \
              /usr/lib/alsa-lib/libasound_module_pcm_pulse.so; do
  [ -e "$plugin" ] && plugin_found=yes
done
[ "$plugin_found" = yes ] || skip "ALSA's PulseAudio plugin (libasound2-plugins) is not installed"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rs-live-XXXXXX") || fail "mktemp"
daemon=""
cleanup() {
  status=$?
  if [ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null; then
    kill "$daemon" 2>/dev/null
    # Give it a second to go, then make sure.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$daemon" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
  fi
  if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
    for log in "$tmp"/*.log "$tmp"/*.out "$tmp"/*.err; do
      [ -s "$log" ] || continue
      echo "---- $(basename "$log") (last 30 lines)"
      tail -n 30 "$log"
    done
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The reference's rate, from its WAV header (bytes 24-27, little-endian).
rate=$(od -An -t u4 -j 24 -N 4 "$reference" | tr -d ' ')
[ -n "$rate" ] && [ "$rate" -gt 0 ] || fail "cannot read the rate of $reference"

mkdir -p "$tmp/runtime" "$tmp/state" "$tmp/home" || fail "mkdir"
chmod 700 "$tmp/runtime"
export XDG_RUNTIME_DIR="$tmp/runtime"
export PULSE_RUNTIME_PATH="$tmp/runtime/pulse"
export PULSE_STATE_PATH="$tmp/state"
export HOME="$tmp/home"
export PULSE_SERVER="unix:$tmp/runtime/native"
printf 'autospawn = no\n' > "$tmp/client.conf"
export PULSE_CLIENTCONFIG="$tmp/client.conf"
unset DISPLAY PULSE_COOKIE

started=$(date +%s)
# As root PulseAudio warns that it is meant for --system, then runs.
pulseaudio --daemonize=no --exit-idle-time=-1 -n --system=false --use-pid-file=false \
  --log-target=stderr --log-level=notice \
  -L "module-null-sink sink_name=rs_null rate=$rate channels=1 format=s16le" \
  -L "module-native-protocol-unix auth-anonymous=1 socket=$tmp/runtime/native" \
  > "$tmp/pulseaudio.log" 2>&1 &
daemon=$!

ready=no
for _ in $(seq 1 100); do
  kill -0 "$daemon" 2>/dev/null || fail "pulseaudio exited at start-up"
  if pactl info > "$tmp/pactl.out" 2>&1; then
    ready=yes
    break
  fi
  sleep 0.1
done
[ "$ready" = yes ] || fail "pulseaudio did not answer within 10 s"
pactl set-default-sink rs_null || fail "pactl set-default-sink"
pactl set-default-source rs_null.monitor || fail "pactl set-default-source"
say "pulseaudio up (pid $daemon); null sink at $rate Hz, its monitor the default source"

if [ -n "$rnnstream" ] && "$rnnstream" devices --help >/dev/null 2>&1; then
  # Not leak-checked: the command cannot keep ALSA's plugins loaded the way
  # capture does (see keep-modules.c), and its leaks are not ours to judge.
  ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" "$rnnstream" devices > "$tmp/devices.out" \
    2> "$tmp/devices.err" || fail "rnnstream devices failed"
  grep -q "ALSA: pulse" "$tmp/devices.out" || fail "rnnstream devices does not list ALSA: pulse"
  [ -s "$tmp/devices.err" ] && fail "rnnstream devices wrote to stderr"
  say "rnnstream devices lists the PulseAudio device"
fi

# Record 3 s; play the 1.4 s file once samples flow.
timeout 30 "$capture" --device pulse --rate "$rate" --seconds 3 --output "$tmp/captured.wav" \
  > "$tmp/capture.out" 2> "$tmp/capture.err" &
capturing=$!
for _ in $(seq 1 100); do
  grep -q '^ready$' "$tmp/capture.out" 2>/dev/null && break
  kill -0 "$capturing" 2>/dev/null || break
  sleep 0.1
done
grep -q '^ready$' "$tmp/capture.out" || { wait "$capturing"; fail "capture did not start"; }
timeout 20 paplay --device=rs_null "$reference" > "$tmp/paplay.out" 2>&1 || fail "paplay failed"
wait "$capturing" || fail "capture failed (status $?)"
cat "$tmp/capture.out"
grep -q '^overrun' "$tmp/capture.out" && fail "input was lost during the capture"
"$align" "$reference" "$tmp/captured.wav" || fail "the capture does not match $reference"

# Lost input is reported: a 100 ms ring, and a reader asleep for 1 s.
timeout 30 "$capture" --device pulse --rate "$rate" --seconds 1.5 --buffer-ms 100 \
  --stall-ms 1000 --output "$tmp/stalled.wav" > "$tmp/stalled.out" 2> "$tmp/stalled.err" ||
  fail "the stalled capture failed"
cat "$tmp/stalled.out"
grep -q '^overrun: .* samples dropped because the reader fell behind' "$tmp/stalled.out" ||
  fail "a reader that fell behind was not told"
grep -q 'dropped=0 ' "$tmp/stalled.out" && fail "the stalled capture counted no drops"

# Waits until the file pattern $2 names (rnnstream's output, or the
# temporary file of an atomic write) holds more than $3 bytes, while the
# process $1 runs: samples flow, and whatever is played next is recorded
# whole. (A stream can take a while to deliver its first samples:
# PulseAudio's null sink renders up to 2 s ahead until a stream asks for
# less.)
wait_output() {
  for _ in $(seq 1 100); do
    for f in $2; do
      [ -f "$f" ] && [ "$(wc -c < "$f")" -gt "$3" ] && return 0
    done
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

if [ -n "$rnnstream" ]; then
  # The same through rnnstream's own pipeline: micsrc records, wavsink
  # writes the file, and align checks samples and MFCCs.
  # Leaks are not checked, as for rnnstream devices above.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
  timeout 30 "$rnnstream" run --stats \
    "micsrc device=pulse rate=$rate duration=3 ! wavsink location=$tmp/micsrc.wav" \
    > "$tmp/micsrc.out" 2> "$tmp/micsrc.err" &
  running=$!
  wait_output "$running" "$tmp/.micsrc.wav.*" 1000 ||
    { wait "$running"; fail "rnnstream micsrc did not start"; }
  timeout 20 paplay --device=rs_null "$reference" > "$tmp/paplay.out" 2>&1 || fail "paplay failed"
  wait "$running" || fail "rnnstream run micsrc failed (status $?)"
  grep "^micsrc" "$tmp/micsrc.err"
  grep -q "^micsrc: ALSA: pulse, $rate Hz; .* 0 lost (ring full) in 0 gap(s)" "$tmp/micsrc.err" ||
    fail "rnnstream --stats does not report the capture, or input was lost"
  "$align" "$reference" "$tmp/micsrc.wav" ||
    fail "rnnstream's recording does not match $reference"

  # Live features until Ctrl-C: SIGINT ends the input, the stages flush,
  # the CSV is complete and the exit status is 0.
  # --foreground: timeout passes SIGINT on to rnnstream once (without it,
  # also to its process group, and a second SIGINT kills, as Ctrl-C twice).
  timeout --foreground 30 "$rnnstream" run "micsrc device=pulse rate=$rate ! mfcc ! csvsink" \
    > "$tmp/live.csv" 2> "$tmp/live.err" &
  running=$!
  wait_output "$running" "$tmp/live.csv" 0 ||
    { wait "$running"; fail "rnnstream micsrc ! mfcc did not start"; }
  timeout 20 paplay --device=rs_null "$reference" > "$tmp/paplay.out" 2>&1 || fail "paplay failed"
  kill -INT "$running"
  wait "$running" || fail "rnnstream run micsrc ! mfcc did not end cleanly on SIGINT (status $?)"
  frames=$(wc -l < "$tmp/live.csv")
  width=$(head -n 1 "$tmp/live.csv" | tr ',' '\n' | wc -l)
  # At least the file's 141 frames, 13 coefficients each.
  [ "$frames" -ge 141 ] && [ "$width" -eq 13 ] ||
    fail "live MFCCs: $frames frames of $width values"
  say "rnnstream micsrc: recording matches; $frames live MFCC frames until SIGINT"
fi

if [ -n "$rnnstream" ] && [ -n "$model" ]; then
  expected=$(basename "$speech" .wav | cut -d - -f 2- | tr - ' ')
  heard=$("$rnnstream" transcribe -m "$model" "$speech" | cut -f 2) ||
    fail "rnnstream transcribe failed"
  [ "$heard" = "$expected" ] ||
    fail "rnnstream transcribe heard '$heard' in $speech, not '$expected'"
  # Live recognition: listen until --duration, the speech played once
  # samples flow (a null sink can take a while to start a stream: wait).
  timeout --foreground 40 "$rnnstream" listen -m "$model" --device pulse --duration 9 --stats \
    > "$tmp/listen.out" 2> "$tmp/listen.err" &
  running=$!
  sleep 3
  kill -0 "$running" 2>/dev/null || { wait "$running"; fail "rnnstream listen did not start"; }
  timeout 20 paplay --device=rs_null "$speech" > "$tmp/paplay.out" 2>&1 || fail "paplay failed"
  wait "$running" || fail "rnnstream listen failed (status $?)"
  grep '"type": "final"' "$tmp/listen.out" || true
  grep -q "\"type\": \"final\", .*\"text\": \"$expected\"" "$tmp/listen.out" ||
    fail "rnnstream listen did not hear '$expected'"
  grep -q '"type": "partial"' "$tmp/listen.out" || fail "rnnstream listen gave no partial result"
  grep "^latency" "$tmp/listen.err" || fail "listen --stats reports no latency"
  say "rnnstream listen heard '$expected' live"
fi

say "passed in $(( $(date +%s) - started )) s"
exit 0
