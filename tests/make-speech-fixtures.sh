#!/bin/sh
# Makes the spoken-digit fixtures of the recognition tests: digit strings
# from voices that tools/speech/make-digits-data.py holds out of training
# (flite's awb, festival's ked_diphone), at 16 kHz, 16-bit mono.
#
#   sh tests/make-speech-fixtures.sh     (needs flite, festival, festvox-kdlpc16k, sox)
set -eu
out=$(dirname "$0")/fixtures/speech
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

flite -voice awb -t "four two oh seven" -o "$tmp/awb.wav"
sox "$tmp/awb.wav" -r 16000 -b 16 -c 1 "$out/awb-four-two-oh-seven.wav" pad 0.3 0.8

echo "nine one three" | text2wave -eval "(voice_ked_diphone)" -o "$tmp/ked.wav"
sox "$tmp/ked.wav" -r 16000 -b 16 -c 1 "$out/ked-nine-one-three.wav" pad 0.3 0.8
ls -l "$out"
