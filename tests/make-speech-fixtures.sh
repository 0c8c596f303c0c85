#!/bin/sh
# Makes the spoken-digit fixtures of the recognition tests: two digit
# strings from each of three voices that tools/speech/make-digits-data.py
# holds out of training (flite's awb, festival's ked_diphone, espeak-ng's
# en-gb-x-gbcwmd), clean, at 16 kHz, 16-bit mono, with 0.3 s of silence
# before and 0.8 s after. The strings were fixed before any model heard
# them. LIST.txt names each file and what it says.
#
#   sh tests/make-speech-fixtures.sh   (needs flite, festival, festvox-kdlpc16k, espeak-ng, sox)
set -eu
out=$(dirname "$0")/fixtures/speech
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$out"
mkdir -p "$out"
: > "$out/LIST.txt"

put() {  # NAME TEXT RAW.wav
  sox "$3" -r 16000 -b 16 -c 1 "$out/$1.wav" pad 0.3 0.8
  printf '%s.wav\t%s\n' "$1" "$2" >> "$out/LIST.txt"
}

for text in "four two oh seven" "nine one three eight five"; do
  name=$(echo "$text" | tr ' ' '-')
  flite -voice awb -t "$text" -o "$tmp/a.wav"
  put "awb-$name" "$text" "$tmp/a.wav"
done
for text in "six zero two" "three three one nine"; do
  name=$(echo "$text" | tr ' ' '-')
  echo "$text" | text2wave -eval "(voice_ked_diphone)" -o "$tmp/k.wav"
  put "ked-$name" "$text" "$tmp/k.wav"
done
for text in "eight five five one" "two seven oh four six"; do
  name=$(echo "$text" | tr ' ' '-')
  espeak-ng -v en-gb-x-gbcwmd -w "$tmp/e.wav" "$text"
  put "gbcwmd-$name" "$text" "$tmp/e.wav"
done
cat "$out/LIST.txt"
