#!/usr/bin/python3
"""Time torchaudio's Kaldi MFCC on one thread, per 10 ms frame.

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/bench_features_torch.py \\
        SAMPLES.safetensors [--ours FEATURES.f32] [--quick]

SAMPLES.safetensors is the file bench-features reads (a feature fixture:
"samples" [N] as 16-bit values in float32, metadata "sample_frequency"),
parsed here with the standard library. torchaudio.compliance.kaldi.mfcc
runs on the whole signal with Kaldi's defaults spelled out (torchaudio's
own defaults differ: no energy, energy floor 1): dither 0, use_energy
true, energy_floor 0. With --ours, bench-features' output for the same
signal is compared and the largest absolute difference reported.

Prints one JSON object per line on stdout (bench/report.py reads them);
progress on stderr. Timing as in bench_torch.py: time.perf_counter with the
garbage collector off, a calibrating warm-up, REPS repetitions of about
TARGET_S seconds, the median per frame reported.
"""

import gc
import json
import struct
import sys
import time

import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

TARGET_S = 0.25
REPS = 5


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def emit(record):
    print(json.dumps(record, separators=(",", ":")), flush=True)


def measure(work, target, reps):
    """work(n) does n units; (median, best) seconds per unit."""
    n = 1
    while True:
        t0 = time.perf_counter()
        work(n)
        t = time.perf_counter() - t0
        if t >= target / 4:
            break
        grow = target / 4 / t * 1.5 if t > 0 else 64
        n = int(n * min(max(grow, 2), 64))
    units = max(1, int(target / (t / n)))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        work(units)
        samples.append((time.perf_counter() - t0) / units)
    samples.sort()
    return samples[len(samples) // 2], samples[0]


def load_samples(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    info = header["samples"]
    if info["dtype"] != "F32" or len(info["shape"]) != 1:
        raise ValueError("%s: samples must be F32 [N]" % path)
    begin, end = info["data_offsets"]
    buf = bytearray(data[8 + n + begin:8 + n + end])
    x = torch.frombuffer(buf, dtype=torch.float32).clone()
    return x, float(header["__metadata__"]["sample_frequency"])


def main():
    args = sys.argv[1:]
    quick = "--quick" in args
    ours = None
    if "--ours" in args:
        ours = args[args.index("--ours") + 1]
        del args[args.index("--ours"):args.index("--ours") + 2]
    args = [a for a in args if a != "--quick"]
    if len(args) != 1:
        sys.exit("usage: bench_features_torch.py SAMPLES.safetensors [--ours F32] [--quick]")
    target, reps = (0.02, 3) if quick else (TARGET_S, REPS)

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    gc.disable()

    x, rate = load_samples(args[0])
    wav = x.unsqueeze(0)
    kw = dict(sample_frequency=rate, dither=0.0, energy_floor=0.0, use_energy=True)

    with torch.inference_mode():
        out = kaldi.mfcc(wav, **kw)
        frames = out.shape[0]

        def work(n):
            for _ in range(n):
                kaldi.mfcc(wav, **kw)

        log("bench_features_torch: torchaudio kaldi.mfcc, whole signal")
        median, best = measure(work, target, reps)

    record = {"type": "torch_features", "name": "mfcc", "version": torchaudio.__version__,
              "torch": torch.__version__, "threads": torch.get_num_threads(),
              "frames": frames, "us_per_frame": median * 1e6 / frames,
              "us_per_frame_best": best * 1e6 / frames}
    if ours is not None:
        with open(ours, "rb") as f:
            mine = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
        if mine.numel() == out.numel():
            record["maxdiff"] = float((mine.reshape(out.shape) - out).abs().max())
        else:
            log("bench_features_torch: %s has %d floats, expected %d" % (ours, mine.numel(),
                                                                         out.numel()))
    emit(record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
