#!/usr/bin/python3
"""Generate the feature fixtures under tests/fixtures/features/.

Run from anywhere with Debian's interpreter (python3-torchaudio, torch and
numpy) and sox:

    /usr/bin/python3 tests/make-feature-fixtures.py

Recordings: two of alsa-utils' voice prompts (/usr/share/sounds/alsa,
48 kHz, 16-bit mono), converted by sox to 16 kHz and 8 kHz 16-bit mono
without dither (so the conversion is repeatable) and kept next to the
fixtures as <recording>_<rate>.wav.

For each recording and rate, <recording>_<rate>.safetensors holds, all
float32:

  samples        [N]     the WAV's samples, int16 values as floats (Kaldi's
                         scale), so the C tests need no WAV reader;
  <case>         [T, D]  the expected output of one case.

and in its metadata:

  sample_frequency       the rate, "16000";
  source                 where the samples come from;
  <case>                 the Kaldi command that makes the case, program
                         first: "compute-mfcc-feats --num-ceps=20
                         --cepstral-lifter=0", "compute-fbank-feats",
                         "add-deltas --delta-order=2 --delta-window=2",
                         "apply-cmvn-sliding --norm-vars=true";
  <case>.input           for add-deltas / apply-cmvn-sliding: the case whose
                         output is the input;
  <case>.tile            the input repeated that many times, end to end
                         (default 1): sliding CMVN needs more frames than
                         one recording has;
  <case>.samples         compute-*-feats on only the first that many samples.

The references:

  compute-*-feats        torchaudio.compliance.kaldi.mfcc / fbank with every
                         option passed explicitly (torchaudio's defaults for
                         use_energy, dither and energy_floor are not
                         Kaldi's). Two things torchaudio lacks are built
                         from its pieces: --window-type=sine (its window
                         function is swapped for Kaldi's sine window), and
                         snip-edges=false on signals shorter than a frame
                         (torchaudio pads by at most one reflection, Kaldi
                         reflects again and again): there, each frame is
                         cut out of the signal with Kaldi's reflection rule
                         and given to torchaudio alone with snip_edges=True.
                         On the full recordings both ways agree (checked
                         here), which also checks the reflection rule.
  add-deltas             numpy in float64, Kaldi's DeltaFeatures: filters
                         built by repeated convolution, edge frames
                         replicated (torchaudio.functional.compute_deltas
                         pads differently and is not used).
  apply-cmvn-sliding     numpy in float64, Kaldi's SlidingWindowCmnInternal
                         windows, with the window sums taken directly rather
                         than updated frame by frame.

Everything is deterministic: no dither, no random numbers.
"""

import os
import shlex
import subprocess
import sys
import wave

import numpy as np
import torch
import torchaudio.compliance.kaldi as kaldi

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
from safetensors_torch import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "features")
SOUNDS = "/usr/share/sounds/alsa"
RECORDINGS = {"front_center": "Front_Center.wav", "rear_left": "Rear_Left.wav"}

# Kaldi's defaults, as torchaudio keyword arguments (dither 0: ours, and
# the only reproducible choice).
FRAME_DEFAULTS = dict(frame_length=25.0, frame_shift=10.0, dither=0.0,
                      preemphasis_coefficient=0.97, remove_dc_offset=True,
                      window_type="povey", blackman_coeff=0.42, round_to_power_of_two=True,
                      snip_edges=True, num_mel_bins=23, low_freq=20.0, high_freq=0.0,
                      raw_energy=True, energy_floor=0.0)
MFCC_DEFAULTS = dict(FRAME_DEFAULTS, use_energy=True, num_ceps=13, cepstral_lifter=22.0)
FBANK_DEFAULTS = dict(FRAME_DEFAULTS, use_energy=False, use_log_fbank=True, use_power=True)

# (case, Kaldi command[, input case[, tile]]) per file; "@N" after the name
# cuts the signal to its first N samples.
CASES = {
    ("front_center", 16000): [
        ("mfcc_default", "compute-mfcc-feats"),
        ("mfcc_nosnip", "compute-mfcc-feats --snip-edges=false"),
        ("mfcc_hamming", "compute-mfcc-feats --window-type=hamming"),
        ("mfcc_hanning", "compute-mfcc-feats --window-type=hanning"),
        ("mfcc_rectangular", "compute-mfcc-feats --window-type=rectangular"),
        ("mfcc_blackman", "compute-mfcc-feats --window-type=blackman"),
        ("mfcc_sine", "compute-mfcc-feats --window-type=sine"),
        ("mfcc_no_energy", "compute-mfcc-feats --use-energy=false"),
        ("mfcc_windowed_energy", "compute-mfcc-feats --raw-energy=false"),
        ("mfcc_energy_floor", "compute-mfcc-feats --energy-floor=20000"),
        ("mfcc_no_pow2", "compute-mfcc-feats --round-to-power-of-two=false"),
        ("mfcc_band", "compute-mfcc-feats --low-freq=100 --high-freq=7000"),
        ("mfcc_band_negative", "compute-mfcc-feats --low-freq=40 --high-freq=-400"),
        ("mfcc_20ceps_nolifter", "compute-mfcc-feats --num-ceps=20 --cepstral-lifter=0"),
        ("mfcc_hires", "compute-mfcc-feats --num-mel-bins=40 --num-ceps=40 --low-freq=20 "
                       "--high-freq=-400"),
        ("mfcc_plain", "compute-mfcc-feats --remove-dc-offset=false "
                       "--preemphasis-coefficient=0"),
        ("mfcc_20ms_5ms", "compute-mfcc-feats --frame-length=20 --frame-shift=5"),
        ("mfcc_nosnip_odd", "compute-mfcc-feats --snip-edges=false --frame-length=25.0625"),
        ("mfcc_nosnip_30ms", "compute-mfcc-feats --snip-edges=false --frame-length=30 "
                             "--frame-shift=15 --window-type=hamming"),
        ("mfcc_nosnip_100@100", "compute-mfcc-feats --snip-edges=false"),
        ("mfcc_nosnip_300@300", "compute-mfcc-feats --snip-edges=false"),
        ("fbank_nosnip_700@700", "compute-fbank-feats --snip-edges=false --use-energy=true"),
        ("fbank_default", "compute-fbank-feats"),
        ("fbank_40", "compute-fbank-feats --num-mel-bins=40"),
        ("fbank_energy", "compute-fbank-feats --use-energy=true"),
        ("fbank_windowed_energy", "compute-fbank-feats --use-energy=true --raw-energy=false"),
        ("fbank_magnitude", "compute-fbank-feats --use-power=false"),
        ("fbank_linear", "compute-fbank-feats --use-log-fbank=false"),
        ("fbank_40_nosnip", "compute-fbank-feats --num-mel-bins=40 --snip-edges=false"),
        ("fbank_blackman_coeff", "compute-fbank-feats --window-type=blackman "
                                 "--blackman-coeff=0.5"),
        ("deltas_default", "add-deltas", "mfcc_default"),
        ("deltas_order1_window3", "add-deltas --delta-order=1 --delta-window=3",
         "mfcc_default"),
        ("deltas_order3_window1", "add-deltas --delta-order=3 --delta-window=1",
         "mfcc_default"),
        ("cmvn_default", "apply-cmvn-sliding", "mfcc_default", 5),
        ("cmvn_norm_vars", "apply-cmvn-sliding --norm-vars=true", "mfcc_default", 5),
        ("cmvn_small", "apply-cmvn-sliding --cmn-window=50 --min-cmn-window=10 "
                       "--norm-vars=true", "mfcc_default", 1),
        ("cmvn_center", "apply-cmvn-sliding --center=true --cmn-window=60 --min-cmn-window=10",
         "mfcc_default", 1),
        ("cmvn_center_norm_vars", "apply-cmvn-sliding --center=true --cmn-window=301 "
                                  "--min-cmn-window=50 --norm-vars=true", "fbank_default", 1),
        ("cmvn_min_window_beyond", "apply-cmvn-sliding --cmn-window=20 --min-cmn-window=40",
         "mfcc_default", 1),
    ],
    ("rear_left", 16000): [
        ("mfcc_default", "compute-mfcc-feats"),
        ("mfcc_nosnip", "compute-mfcc-feats --snip-edges=false"),
        ("fbank_default", "compute-fbank-feats"),
        ("fbank_40_energy", "compute-fbank-feats --num-mel-bins=40 --use-energy=true"),
        ("cmvn_short", "apply-cmvn-sliding --norm-vars=true", "mfcc_default", 1),
    ],
    ("front_center", 8000): [
        ("mfcc_default", "compute-mfcc-feats"),
        ("mfcc_15bins", "compute-mfcc-feats --num-mel-bins=15"),
        ("mfcc_8k_band", "compute-mfcc-feats --low-freq=20 --high-freq=3700"),
        ("fbank_15bins", "compute-fbank-feats --num-mel-bins=15"),
        ("fbank_15bins_nosnip", "compute-fbank-feats --num-mel-bins=15 --snip-edges=false "
                                "--use-energy=true"),
    ],
    ("rear_left", 8000): [
        ("mfcc_15bins", "compute-mfcc-feats --num-mel-bins=15 --use-energy=false"),
        ("fbank_15bins", "compute-fbank-feats --num-mel-bins=15"),
    ],
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# recordings


def convert(name, rate):
    src = os.path.join(SOUNDS, RECORDINGS[name])
    dst = os.path.join(OUT, "%s_%dk.wav" % (name, rate // 1000))
    # -D: no dither (sox dithers by default when it requantises), so the
    # file is the same on every run; -R: repeatable mode.
    subprocess.run(["sox", "-D", "-R", src, "-r", str(rate), "-b", "16", "-c", "1",
                    "-e", "signed-integer", dst], check=True)
    with wave.open(dst, "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2 and w.getframerate() == rate
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return dst, data.astype(np.float32)


# ---------------------------------------------------------------------------
# Kaldi options -> torchaudio arguments


def parse_command(command):
    words = shlex.split(command)
    program, options = words[0], {}
    for w in words[1:]:
        assert w.startswith("--") and "=" in w, w
        k, v = w[2:].split("=", 1)
        options[k.replace("-", "_")] = v
    return program, options


def torchaudio_args(program, options, rate):
    args = dict(MFCC_DEFAULTS if program == "compute-mfcc-feats" else FBANK_DEFAULTS)
    for k, v in options.items():
        assert k in args, k
        default = args[k]
        if isinstance(default, bool):
            args[k] = {"true": True, "false": False}[v]
        elif isinstance(default, int):
            args[k] = int(v)
        elif isinstance(default, float):
            args[k] = float(v)
        else:
            args[k] = v
    args["sample_frequency"] = float(rate)
    return args


def kaldi_sine_window(window_type, window_size, blackman_coeff, device, dtype):
    """Kaldi's sine window, sin(pi n / (N - 1)), which torchaudio lacks."""
    if window_type == "sine":
        n = torch.arange(window_size, dtype=torch.float64)
        return torch.sin(np.pi * n / (window_size - 1)).to(device=device, dtype=dtype)
    return ORIGINAL_WINDOW(window_type, window_size, blackman_coeff, device, dtype)


ORIGINAL_WINDOW = kaldi._feature_window_function
kaldi._feature_window_function = kaldi_sine_window


def run_torchaudio(program, args, samples):
    wav = torch.from_numpy(samples).unsqueeze(0)
    fn = kaldi.mfcc if program == "compute-mfcc-feats" else kaldi.fbank
    with torch.no_grad():
        return fn(wav, **args).numpy().astype(np.float32)


def frame_geometry(args, rate):
    # Kaldi: float options, product in double, truncated.
    f32 = np.float32
    length = int(float(f32(rate)) * 0.001 * float(f32(args["frame_length"])))
    shift = int(float(f32(rate)) * 0.001 * float(f32(args["frame_shift"])))
    return length, shift


def kaldi_reflected_frames(samples, length, shift):
    """Kaldi's ExtractWindow with snip-edges=false: the frames' samples,
    reflecting at both ends as often as needed."""
    n = len(samples)
    m = (n + shift // 2) // shift
    frames = np.empty((m, length), dtype=np.float32)
    for f in range(m):
        start = f * shift + shift // 2 - length // 2
        for s in range(length):
            i = start + s
            while i < 0 or i >= n:
                i = -i - 1 if i < 0 else 2 * n - 1 - i
            frames[f, s] = samples[i]
    return frames


def run_reflected(program, args, samples, rate):
    """snip-edges=false computed frame by frame: each Kaldi frame alone
    through torchaudio with snip_edges=True."""
    length, shift = frame_geometry(args, rate)
    frames = kaldi_reflected_frames(samples, length, shift)
    one = dict(args, snip_edges=True)
    rows = [run_torchaudio(program, one, fr) for fr in frames]
    return np.concatenate(rows, axis=0) if rows else np.zeros((0, 0), np.float32)


# ---------------------------------------------------------------------------
# add-deltas and apply-cmvn-sliding in numpy (float64)


def kaldi_deltas(x, order=2, window=2):
    scales = [np.array([1.0])]
    for _ in range(order):
        prev = scales[-1]
        prev_offset = (len(prev) - 1) // 2
        cur_offset = prev_offset + window
        cur = np.zeros(len(prev) + 2 * window)
        normaliser = 0.0
        for j in range(-window, window + 1):
            normaliser += j * j
            for k in range(-prev_offset, prev_offset + 1):
                cur[j + k + cur_offset] += j * prev[k + prev_offset]
        scales.append(cur / normaliser)
    x = x.astype(np.float64)
    t_len, dim = x.shape
    out = np.zeros((t_len, dim * (order + 1)))
    for t in range(t_len):
        for i, s in enumerate(scales):
            m = (len(s) - 1) // 2
            for j in range(-m, m + 1):
                src = min(max(t + j, 0), t_len - 1)
                out[t, i * dim:(i + 1) * dim] += s[j + m] * x[src]
    return out.astype(np.float32)


def kaldi_cmvn_sliding(x, cmn_window=600, min_cmn_window=100, norm_vars=False, center=False):
    x = x.astype(np.float64)
    n_frames = len(x)
    out = np.empty_like(x)
    for t in range(n_frames):
        if center:
            start = t - cmn_window // 2
            end = start + cmn_window
        else:
            start = t - cmn_window
            end = t + 1
        if start < 0:
            end -= start
            start = 0
        if not center and end > t:
            end = max(t + 1, min_cmn_window)
        if end > n_frames:
            start -= end - n_frames
            end = n_frames
            start = max(start, 0)
        window = x[start:end]
        mean = window.mean(axis=0)
        out[t] = x[t] - mean
        if norm_vars:
            if end - start == 1:
                out[t] = 0.0
            else:
                var = np.maximum((window * window).mean(axis=0) - mean * mean, 1e-10)
                out[t] /= np.sqrt(var)
    return out.astype(np.float32)


# ---------------------------------------------------------------------------


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(1)
    for (name, rate), cases in CASES.items():
        wav_path, samples = convert(name, rate)
        tensors = {"samples": torch.from_numpy(samples)}
        metadata = {
            "sample_frequency": str(rate),
            "source": "%s (alsa-utils, 48 kHz) through sox -D -R to %d Hz 16-bit mono: %s"
                      % (RECORDINGS[name], rate, os.path.basename(wav_path)),
        }
        results = {}
        for case in cases:
            case_name, command = case[0], case[1]
            program, options = parse_command(command)
            limit = None
            if "@" in case_name:
                case_name, limit = case_name.split("@")
                limit = int(limit)
                metadata[case_name + ".samples"] = str(limit)
            if program in ("compute-mfcc-feats", "compute-fbank-feats"):
                args = torchaudio_args(program, options, rate)
                x = samples[:limit] if limit is not None else samples
                if limit is not None:
                    out = run_reflected(program, args, x, rate)
                else:
                    out = run_torchaudio(program, args, x)
                    if not args["snip_edges"]:
                        # torchaudio's padding against Kaldi's reflection rule.
                        check = run_reflected(program, args, x, rate)
                        diff = float(np.abs(check - out).max())
                        assert check.shape == out.shape and diff < 1e-3, (case_name, diff)
            else:
                source, tile = case[2], case[3] if len(case) > 3 else 1
                metadata[case_name + ".input"] = source
                if tile != 1:
                    metadata[case_name + ".tile"] = str(tile)
                x = np.concatenate([results[source]] * tile, axis=0)
                if program == "add-deltas":
                    out = kaldi_deltas(x, order=int(options.get("delta_order", 2)),
                                       window=int(options.get("delta_window", 2)))
                else:
                    kw = {"cmn_window": 600, "min_cmn_window": 100, "norm_vars": False,
                          "center": False}
                    for k, v in options.items():
                        kw[k] = {"true": True, "false": False}[v] if v in ("true", "false") \
                            else int(v)
                    out = kaldi_cmvn_sliding(x, **kw)
            results[case_name] = out
            tensors[case_name] = torch.from_numpy(np.ascontiguousarray(out))
            metadata[case_name] = command
            log("%s_%dk %-24s %s" % (name, rate // 1000, case_name, list(out.shape)))
        path = os.path.join(OUT, "%s_%dk.safetensors" % (name, rate // 1000))
        write_safetensors(path, tensors, "F32", metadata)
        log("wrote", path)


if __name__ == "__main__":
    main()
