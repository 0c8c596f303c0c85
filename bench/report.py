#!/usr/bin/python3
"""Join bench-cells' and bench_torch.py's JSON lines into the tables.

    python3 bench/report.py RNNSTREAM.jsonl TORCH.jsonl [--build DIR]
        [--load-before "1.00 0.50 0.20"] [--load-after ...] [--elapsed S]
        [--only train]

(bench-features' and bench-train's lines, and their PyTorch counterparts',
go into the same two files; --only train prints the training table alone.)

Standard library only. Prints to stdout; the exit status is 0 whatever the
PASS/MISS marks say (they are informational), 1 only when an input is
missing or unreadable.

Ratios are always PyTorch's time over ours: > 1 means rnnstream is faster.
See README.md for every column.
"""

import json
import os
import sys

# The targets, in one place so the headers and the marks cannot disagree.
STREAM_VS_TORCH = 5.0          # for hidden <= STREAM_VS_TORCH_MAX_H
STREAM_VS_TORCH_MAX_H = 128
STREAM_VS_BOUND = 1.3          # ours / bound, every size
SEQ_VS_TORCH = 3.0             # for hidden <= SEQ_MAX_H
SEQ_MAX_H = 256
BATCH_VS_TORCH = 2.0
BATCH_PCT_PEAK = 60.0
FEATURES_VS_TORCH = 4.0        # torchaudio's time / ours, per frame
FEATURES_VS_FFT = 2.5          # ours / the FFT alone, per frame
FEATURES_PIECES_VS_BLOCK = 1.1  # 10 ms pieces / one block
TRAIN_VS_TORCH = 1.0           # training examples per second, ours / PyTorch's ...
TRAIN_MAX_H = 256              # ... for hidden <= TRAIN_MAX_H

CELL_ORDER = {"rnn_tanh": 0, "rnn_relu": 1, "gru": 2, "lstm": 3}


def read_jsonl(path):
    records = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                print("report: %s:%d: not JSON, skipped" % (path, n), file=sys.stderr)
    return records


def index(records, type_):
    return {r["name"]: r for r in records if r.get("type") == type_}


def fmt(x, spec):
    return "n/a" if x is None else format(x, spec)


def fmt_ratio(r):
    """Two decimals below 10, so that a 1.96x MISS never prints as 2.0x."""
    return "n/a" if r is None else format(r, ".2f" if r < 10 else ".1f") + "x"


def table(headers, rows, aligns):
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        out = []
        for c, w, a in zip(cells, widths, aligns):
            out.append(c.ljust(w) if a == "<" else c.rjust(w))
        return "  ".join(out).rstrip()

    print(line(headers))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))


def weights(params):
    """Weight bytes and the cache level they fit (this EPYC: L1d 32 KiB, L2
    512 KiB per core; see README.md)."""
    b = 4 * params
    size = "%d KiB" % round(b / 1024) if b < 1 << 20 else "%.1f MiB" % (b / (1 << 20))
    return "%s %s" % (size, "L1" if b <= 32 << 10 else "L2" if b <= 512 << 10 else "L3")


def buildtype(build):
    path = os.path.join(build, "meson-info", "intro-buildoptions.json")
    try:
        with open(path) as f:
            for opt in json.load(f):
                if opt.get("name") == "buildtype":
                    return opt.get("value")
    except (OSError, ValueError):
        pass
    return None


def features_table(ours, theirs):
    """bench-features' and bench_features_torch.py's records, if any."""
    f_ours = index(ours, "features")
    f_torch = index(theirs, "torch_features").get("mfcc")
    info = next((r for r in ours if r.get("type") == "features_info"), None)
    if not f_ours or info is None:
        return
    print()
    print("== Features: Kaldi MFCC (%d coefficients, Kaldi's defaults), %g Hz speech, "
          "%d frames, one thread (us per 10 ms frame, median) ==" % (
              info["dim"], info["sample_frequency"], info["frames"]))
    print("Target: >= %gx torchaudio, <= %gx FFTW's %d-point real FFT alone, 10 ms pieces "
          "<= %gx one block." % (FEATURES_VS_TORCH, FEATURES_VS_FFT, info["fft_length"],
                                 FEATURES_PIECES_VS_BLOCK))
    print("one block = the whole signal offered to one accept call; 10 ms pieces = %d "
          "samples per call, popping in between. %s." % (info["piece"], info["fftw"]))
    fft = f_ours.get("fft", {}).get("us_per_frame")
    block = f_ours.get("mfcc_block", {}).get("us_per_frame")
    torch_us = f_torch["us_per_frame"] if f_torch else None
    rows = []
    marks = {"PASS": 0, "MISS": 0}
    for name, label in (("mfcc_block", "rnnstream, one block"),
                        ("mfcc_pieces", "rnnstream, 10 ms pieces")):
        r = f_ours.get(name)
        if r is None:
            continue
        us = r["us_per_frame"]
        vs_torch = torch_us / us if torch_us else None
        vs_fft = us / fft if fft else None
        conds = [None if vs_torch is None else vs_torch >= FEATURES_VS_TORCH,
                 None if vs_fft is None else vs_fft <= FEATURES_VS_FFT]
        if name == "mfcc_pieces" and block:
            conds.append(us / block <= FEATURES_PIECES_VS_BLOCK)
        mark = "MISS" if False in conds else "n/a" if None in conds else "PASS"
        if mark in marks:
            marks[mark] += 1
        rows.append([label, fmt(us, ".3f"), fmt_ratio(vs_fft), fmt_ratio(vs_torch),
                     fmt_ratio(us / block) if block else "n/a", mark])
    if f_torch:
        rows.append(["torchaudio %s kaldi.mfcc, whole signal" % f_torch["version"],
                     fmt(torch_us, ".3f"), fmt_ratio(torch_us / fft) if fft else "n/a",
                     "1.00x", "-", "-"])
    if fft:
        rows.append(["FFTW real FFT alone", fmt(fft, ".3f"), "1.00x",
                     fmt_ratio(torch_us / fft) if torch_us else "n/a", "-", "-"])
    table(["what", "us/frame", "/ FFT", "torch / this", "/ one block", "target"], rows,
          "<>>>><")
    print("%d PASS, %d MISS" % (marks["PASS"], marks["MISS"]))
    if f_torch and "maxdiff" in f_torch:
        print("max|diff| rnnstream vs torchaudio: %.1e" % f_torch["maxdiff"])


def train_table(ours, theirs):
    """bench-train's and bench_train_torch.py's records, if any."""
    o_train = index(ours, "train")
    t_train = index(theirs, "torch_train")
    info = next((r for r in ours if r.get("type") == "train_info"), None)
    if not o_train or info is None:
        return
    print()
    print("== Training: one step = forward, MSE, backward (whole-sequence BPTT), clipping "
          "(max norm %g), Adam; %d layer, input %d, head %d outputs, one thread "
          "(sequences per second, median) ==" % (info["max_norm"], info["layers"],
                                                 info["input"], info["outputs"]))
    print("Target: >= %gx PyTorch for hidden <= %d. ratio = ours / PyTorch (> 1: we are "
          "faster). loss rel.diff: the loss of step %s, both sides starting from the same "
          "weights and data." % (TRAIN_VS_TORCH, TRAIN_MAX_H, info.get("fixed_steps", "?")))
    names = sorted(o_train, key=lambda n: (o_train[n]["batch"] != 32,
                                           CELL_ORDER.get(o_train[n]["cell"], 9),
                                           o_train[n]["hidden"], -o_train[n]["batch"]))
    rows = []
    marks = {"PASS": 0, "FAIL": 0}
    for n in names:
        r = o_train[n]
        t = t_train.get(n)
        ratio = r["seq_per_s"] / t["seq_per_s"] if t else None
        if ratio is None:
            mark = "n/a"
        elif r["hidden"] > TRAIN_MAX_H:
            mark = "-"
        else:
            mark = "PASS" if ratio >= TRAIN_VS_TORCH else "FAIL"
        if mark in marks:
            marks[mark] += 1
        diff = None
        if t and "loss_fixed" in t and "loss_fixed" in r:
            diff = abs(r["loss_fixed"] - t["loss_fixed"]) / max(abs(t["loss_fixed"]), 1e-30)
        rows.append([r["cell"], str(r["hidden"]), str(r["batch"]), str(r["frames"]),
                     fmt(r["ms_per_step"], ".2f"), fmt(t["ms_per_step"] if t else None, ".2f"),
                     fmt(r["seq_per_s"], ",.0f"), fmt(t["seq_per_s"] if t else None, ",.0f"),
                     fmt_ratio(ratio), fmt(diff, ".1e"), mark])
    table(["cell", "H", "B", "T", "ours ms", "torch ms", "ours seq/s", "torch seq/s", "ratio",
           "loss rel.diff", "target"], rows, "<>>>>>>>>><")
    print("%d PASS, %d FAIL" % (marks["PASS"], marks["FAIL"]))

    o_ph = index(ours, "train_phases")
    t_ph = index(theirs, "torch_train_phases")
    if o_ph:
        print()
        print("Where a step goes (ms, median of 7 steps; --phases). gemm columns: the "
              "engine's matrix products re-run alone on the step's shapes; the rest of "
              "forward/backward is gate arithmetic and copies.")
        rows = []
        for n in names:
            p = o_ph.get(n)
            if p is None:
                continue
            q = t_ph.get(n, {})
            rows.append([n, fmt(p["forward_ms"], ".1f"),
                         fmt(p["fwd_block_gemm_ms"] + p["fwd_recurrent_gemm_ms"], ".1f"),
                         fmt(p["backward_ms"], ".1f"), fmt(p["bwd_recurrent_gemm_ms"], ".1f"),
                         fmt(p["bwd_weight_gemm_ms"], ".1f"),
                         fmt(p["optim_ms"] + p["set_params_ms"], ".1f"),
                         fmt(q.get("forward_ms"), ".1f"), fmt(q.get("backward_ms"), ".1f"),
                         fmt(q.get("optim_ms"), ".1f")])
        table(["config", "fwd", "fwd gemm", "bwd", "bwd rec gemm", "bwd weight gemm", "optim",
               "torch fwd", "torch bwd", "torch optim"], rows, "<>>>>>>>>>")


def main():
    args = sys.argv[1:]
    opts = {}
    pos = []
    while args:
        a = args.pop(0)
        if a.startswith("--") and args:
            opts[a[2:]] = args.pop(0)
        else:
            pos.append(a)
    if len(pos) != 2:
        sys.exit("usage: report.py RNNSTREAM.jsonl TORCH.jsonl [--build DIR] ...")
    try:
        ours = read_jsonl(pos[0])
        theirs = read_jsonl(pos[1])
    except OSError as e:
        print("report: %s" % e, file=sys.stderr)
        return 1

    if opts.get("only") == "train":
        tinfo = next((r for r in theirs if r.get("type") == "torch_train_info"), {})
        bt = buildtype(opts["build"]) if "build" in opts else None
        print("rnnstream vs PyTorch %s, one thread each; build type: %s%s" % (
            tinfo.get("version", "?"), bt or "?",
            "" if bt in (None, "release") else "  (WARNING: not a release build)"))
        if "load-before" in opts:
            print("  load average before/after: %s / %s" % (opts["load-before"],
                                                           opts.get("load-after", "?")))
        train_table(ours, theirs)
        if "elapsed" in opts:
            print("\ntotal run time: %s s" % opts["elapsed"])
        return 0

    info = next((r for r in ours if r.get("type") == "info"), {})
    tinfo = next((r for r in theirs if r.get("type") == "torch_info"), {})
    models = index(ours, "model")
    o_stream, o_seq, o_batch, o_bound = (index(ours, t) for t in ("stream", "seq", "batch", "bound"))
    t_stream, t_seq, t_batch = (index(theirs, t) for t in ("torch_stream", "torch_seq", "torch_batch"))
    sgemm = [r for r in ours if r.get("type") == "sgemm"]
    peak = max((r["gflops"] for r in sgemm), default=None)

    names = sorted(models, key=lambda n: (CELL_ORDER.get(models[n]["cell"], 9),
                                          models[n]["layers"], models[n]["hidden"]))

    # ---- header
    bt = buildtype(opts["build"]) if "build" in opts else None
    print("rnnstream vs PyTorch %s, one thread each" % tinfo.get("version", "?"))
    print("  rnnstream kernels: %s; build type: %s%s" % (
        info.get("kernels", "?"), bt or "?",
        "" if bt in (None, "release") else "  (WARNING: not a release build)"))
    print("  bound: %s sgemv (%s) + %s" % (
        "OpenBLAS", info.get("openblas_core", "?"), info.get("activations", "?")))
    if "load-before" in opts:
        print("  load average before/after: %s / %s%s" % (
            opts["load-before"], opts.get("load-after", "?"),
            "  (WARNING: other work was running; expect noise)"
            if float(opts["load-before"].split()[0]) > 0.5 else ""))
    print()

    # ---- sgemm
    if sgemm:
        print("== Single-core sgemm (OpenBLAS, best of the repetitions) ==")
        rows = [["%dx%dx%d" % (r["m"], r["n"], r["k"]), "B^T" if r["trans_b"] else "B",
                 fmt(r["gflops"], ".1f")] for r in sgemm]
        table(["M x N x K", "B", "GFLOP/s"], rows, "<<>")
        print("sgemm peak (max of the above): %s GFLOP/s" % fmt(peak, ".1f"))
        print()

    # ---- streaming
    print("== Streaming: B=1, one frame per rs_stream_forward call, state carried "
          "(us per step, median) ==")
    print("Target: >= %gx PyTorch for hidden <= %d, and ours/bound <= %g for every size." % (
        STREAM_VS_TORCH, STREAM_VS_TORCH_MAX_H, STREAM_VS_BOUND))
    print("ratio = PyTorch / ours (> 1: we are faster). bound = OpenBLAS sgemv (faster layout) over W_ih and "
          "W_hh of every layer + the gate nonlinearities; roof = FLOPs / sgemm peak.")
    print("weights = all layers' weights and biases, and the smallest cache level per core "
          "they fit in (L1d 32 KiB, L2 512 KiB).")
    rows = []
    marks = {"PASS": 0, "MISS": 0}
    for n in names:
        if n not in o_stream:
            continue
        m = models[n]
        us = o_stream[n]["us"]
        t = t_stream.get(n)
        b = o_bound.get(n)
        ratio = t["us"] / us if t else None
        over_bound = us / b["us"] if b else None
        roof = m["flops_per_frame"] / (peak * 1e3) if peak else None   # us
        conds = [None if over_bound is None else over_bound <= STREAM_VS_BOUND]
        if m["hidden"] <= STREAM_VS_TORCH_MAX_H:
            conds.append(None if ratio is None else ratio >= STREAM_VS_TORCH)
        mark = "MISS" if False in conds else "n/a" if None in conds else "PASS"
        if mark in marks:
            marks[mark] += 1
        rows.append([m["cell"], str(m["layers"]), str(m["hidden"]), weights(m["params"]),
                     fmt(us, ".2f"),
                     fmt(t["us"] if t else None, ".1f"), t["form"] if t else "n/a",
                     fmt_ratio(ratio),
                     fmt(b["us"] if b else None, ".2f"),
                     "%s+%s" % (fmt(b["gemv_us"], ".2f"), fmt(b["act_us"], ".2f")) if b else "n/a",
                     fmt(over_bound, ".2f"), fmt(us / roof if roof else None, ".1f"),
                     fmt(m["flops_per_frame"] / us * 1e-3, ".1f"), mark])
    table(["cell", "L", "H", "weights", "ours us", "torch us", "torch form", "ratio",
           "bound us", "gemv+act", "ours/bound", "ours/roof", "GFLOP/s", "target"],
          rows, "<>>>>><>>>>>><")
    print("%d PASS, %d MISS" % (marks["PASS"], marks["MISS"]))
    print()

    # ---- whole sequence
    print("== Whole sequence: T=2000, B=1, one rs_stream_forward call (frames per second, "
          "median) ==")
    print("Target: >= %gx PyTorch for hidden <= %d (no target above). max|diff| = largest "
          "absolute difference between the two outputs." % (SEQ_VS_TORCH, SEQ_MAX_H))
    rows = []
    marks = {"PASS": 0, "MISS": 0}
    for n in names:
        if n not in o_seq:
            continue
        m = models[n]
        fps = o_seq[n]["fps"]
        t = t_seq.get(n)
        ratio = fps / t["fps"] if t else None
        if m["hidden"] > SEQ_MAX_H or ratio is None:
            mark = "-" if ratio is not None else "n/a"
        else:
            mark = "PASS" if ratio >= SEQ_VS_TORCH else "MISS"
        if mark in marks:
            marks[mark] += 1
        rows.append([m["cell"], str(m["layers"]), str(m["hidden"]), fmt(fps, ",.0f"),
                     fmt(t["fps"] if t else None, ",.0f"), fmt_ratio(ratio),
                     fmt(t.get("maxdiff") if t else None, ".1e"),
                     fmt(fps * m["flops_per_frame"] * 1e-9, ".1f"), mark])
    table(["cell", "L", "H", "ours fps", "torch fps", "ratio", "max|diff|", "GFLOP/s", "target"],
          rows, "<>>>>>>><")
    print("%d PASS, %d MISS" % (marks["PASS"], marks["MISS"]))
    print()

    # ---- batch
    print("== Batch: B=32 streams, T=200, one rs_stream_forward call (stream-frames per second "
          "= 32*200/time, median) ==")
    print("Target: >= %gx PyTorch and >= %g%% of the sgemm peak (%s GFLOP/s)." % (
        BATCH_VS_TORCH, BATCH_PCT_PEAK, fmt(peak, ".1f")))
    rows = []
    marks = {"PASS": 0, "MISS": 0}
    for n in names:
        if n not in o_batch:
            continue
        m = models[n]
        r = o_batch[n]
        t = t_batch.get(n)
        ratio = r["fps"] / t["fps"] if t else None
        pct = 100 * r["gflops"] / peak if peak else None
        conds = []
        if ratio is not None:
            conds.append(ratio >= BATCH_VS_TORCH)
        if pct is not None:
            conds.append(pct >= BATCH_PCT_PEAK)
        # A missing side can only turn a PASS into n/a, never hide a MISS.
        mark = "MISS" if not all(conds) else "PASS" if len(conds) == 2 else "n/a"
        if mark in marks:
            marks[mark] += 1
        rows.append([m["cell"], str(m["layers"]), str(m["hidden"]), fmt(r["fps"], ",.0f"),
                     fmt(t["fps"] if t else None, ",.0f"), fmt_ratio(ratio),
                     fmt(r["gflops"], ".1f"),
                     fmt(t["fps"] * m["flops_per_frame"] * 1e-9 if t else None, ".1f"),
                     fmt(pct, ".0f") + "%" if pct else "n/a", mark])
    table(["cell", "L", "H", "ours fps", "torch fps", "ratio", "ours GFLOP/s", "torch GFLOP/s",
           "% peak", "target"], rows, "<>>>>>>>><")
    print("%d PASS, %d MISS" % (marks["PASS"], marks["MISS"]))

    features_table(ours, theirs)
    train_table(ours, theirs)

    missing = [n for n in names if n in o_stream and n not in t_stream]
    if missing:
        print("\nno PyTorch result for: %s" % ", ".join(missing))
    if "elapsed" in opts:
        print("\ntotal run time: %s s" % opts["elapsed"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
