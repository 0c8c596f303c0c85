#!/usr/bin/python3
"""Time the benchmark's models in PyTorch, on one thread.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \\
    /usr/bin/python3 bench/bench_torch.py MODELS.tsv INPUT.f32 \\
        [--dump-dir DIR] [--quick]

MODELS.tsv and INPUT.f32 come from make_models.py. The weights are read
from the very safetensors files bench-cells reads (parsed here with the
standard library and torch.frombuffer, no safetensors package), and the
input frames from the same raw float32 file, so both sides compute the same
thing. Prints one JSON object per line on stdout (bench/report.py joins them
with bench-cells' lines); progress on stderr.

Modes, per model (see README.md):
  stream  one frame per call, batch 1, state carried: the fastest of
          several per-step forms (see STEP_FORMS), each screened briefly,
          the winner then measured like everything else.
  seq     nn.RNN/GRU/LSTM over one [2000, 1, 40] tensor from a zero state.
  batch   the same over [200, 32, 40].
With --dump-dir, the seq output is compared with bench-cells' output for the
same model (DIR/NAME.out.f32) and the max absolute difference reported.

Timing: time.perf_counter, garbage collector off, a warm-up that also
calibrates how many calls fill one repetition (~TARGET_S), then REPS
repetitions, median reported. The same scheme as bench-cells.c.
"""

import gc
import json
import os
import struct
import sys
import time
from typing import List, Tuple

import torch
from torch import Tensor, nn

SEQ_T = 2000
BATCH_B = 32
BATCH_T = 200

TARGET_S = 0.25
REPS = 5


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def emit(record):
    print(json.dumps(record, separators=(",", ":")), flush=True)


# ---------------------------------------------------------------------------
# timing


def measure(work, target=None, reps=None):
    """work(n) does n units. Returns (median, best) seconds per unit and the
    repetition count."""
    target = TARGET_S if target is None else target
    reps = REPS if reps is None else reps
    n = 1
    # Warm-up doubling as calibration (TorchScript's profiling executor
    # also specialises the graph during the first calls).
    while True:
        t0 = time.perf_counter()
        work(n)
        t = time.perf_counter() - t0
        if t >= target / 4:
            break
        grow = target / 4 / t * 1.5 if t > 0 else 64
        n = int(n * min(max(grow, 2), 64))
    per_unit = t / n
    units = 1 if per_unit >= target else int(target / per_unit)
    if per_unit >= target and reps > 3:
        reps = 3   # as in bench-cells: long units need fewer samples
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        work(units)
        samples.append((time.perf_counter() - t0) / units)
    samples.sort()
    mid = len(samples) // 2
    median = samples[mid] if len(samples) % 2 else 0.5 * (samples[mid - 1] + samples[mid])
    return median, samples[0], reps


# ---------------------------------------------------------------------------
# loading


def load_safetensors(path):
    """{name: float32 tensor} from a safetensors file of F32 tensors."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    buf = bytearray(data[8 + n:])   # writable, so frombuffer does not warn
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError("%s: %s is %s, expected F32" % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        t = torch.frombuffer(buf, dtype=torch.float32, count=(end - begin) // 4,
                             offset=begin)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def read_f32(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32).clone()


def make_rnn(cell, input_size, hidden, layers, tensors):
    if cell in ("rnn_tanh", "rnn_relu"):
        rnn = nn.RNN(input_size, hidden, num_layers=layers,
                     nonlinearity=cell[4:])
    elif cell == "gru":
        rnn = nn.GRU(input_size, hidden, num_layers=layers)
    elif cell == "lstm":
        rnn = nn.LSTM(input_size, hidden, num_layers=layers)
    else:
        raise ValueError(cell)
    # The files hold "rnn.<param>"; strip whatever prefix there is.
    state = {k.rsplit(".", 1)[-1]: v for k, v in tensors.items()}
    rnn.load_state_dict(state)
    return rnn.eval()


def make_cells(cell, rnn):
    """One nn.*Cell per layer, holding that layer's weights."""
    cells = []
    for l in range(rnn.num_layers):
        in_size = rnn.input_size if l == 0 else rnn.hidden_size
        if cell in ("rnn_tanh", "rnn_relu"):
            c = nn.RNNCell(in_size, rnn.hidden_size, nonlinearity=cell[4:])
        elif cell == "gru":
            c = nn.GRUCell(in_size, rnn.hidden_size)
        else:
            c = nn.LSTMCell(in_size, rnn.hidden_size)
        c.load_state_dict({k: getattr(rnn, "%s_l%d" % (k, l))
                           for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})
        cells.append(c)
    return cells


# ---------------------------------------------------------------------------
# per-step forms


class StackedCells(nn.Module):
    """nn.RNNCell / nn.GRUCell layers, one frame."""

    def __init__(self, cells):
        super().__init__()
        self.cells = nn.ModuleList(cells)

    def forward(self, x: Tensor, h: List[Tensor]) -> Tuple[Tensor, List[Tensor]]:
        new_h: List[Tensor] = []
        for i, cell in enumerate(self.cells):
            x = cell(x, h[i])
            new_h.append(x)
        return x, new_h


class StackedLSTMCells(nn.Module):
    """nn.LSTMCell layers, one frame."""

    def __init__(self, cells):
        super().__init__()
        self.cells = nn.ModuleList(cells)

    def forward(self, x: Tensor, hc: List[Tuple[Tensor, Tensor]]
                ) -> Tuple[Tensor, List[Tuple[Tensor, Tensor]]]:
        new_hc: List[Tuple[Tensor, Tensor]] = []
        for i, cell in enumerate(self.cells):
            h, c = cell(x, hc[i])
            new_hc.append((h, c))
            x = h
        return x, new_hc


def step_forms(cell, rnn):
    """{form: (step, initial state, input shape)}: every way of advancing
    one frame we try. step(x, state) -> (y, state)."""
    H, L = rnn.hidden_size, rnn.num_layers
    cells = make_cells(cell, rnn)
    if cell == "lstm":
        stacked = StackedLSTMCells(cells).eval()
        cell_state = [(torch.zeros(1, H), torch.zeros(1, H)) for _ in range(L)]
        module_state = (torch.zeros(L, 1, H), torch.zeros(L, 1, H))
    else:
        stacked = StackedCells(cells).eval()
        cell_state = [torch.zeros(1, H) for _ in range(L)]
        module_state = torch.zeros(L, 1, H)
    scripted = torch.jit.script(stacked)
    # Freezing inlines the weights as constants and lets the JIT fold what
    # it can: the fastest TorchScript form when it helps at all.
    frozen = torch.jit.freeze(torch.jit.script(type(stacked)(make_cells(cell, rnn)).eval()))
    return {
        "eager-cells": (stacked, cell_state, (1, rnn.input_size)),
        "script-cells": (scripted, cell_state, (1, rnn.input_size)),
        "frozen-cells": (frozen, cell_state, (1, rnn.input_size)),
        # The whole nn.RNN/GRU/LSTM on a one-frame sequence: one Python call
        # for all layers.
        "eager-module-T1": (rnn, module_state, (1, 1, rnn.input_size)),
    }


# ---------------------------------------------------------------------------


def bench_model(entry, x_all, dump_dir, modes):
    path, cell, layers, hidden, input_size, model_modes = entry
    name = os.path.basename(path)[:-len(".safetensors")]
    layers, hidden, input_size = int(layers), int(hidden), int(input_size)
    rnn = make_rnn(cell, input_size, hidden, layers, load_safetensors(path))
    x = x_all.reshape(-1, input_size)
    todo = [m for m in modes if model_modes == "all" or m in model_modes.split(",")]

    if "stream" in todo:
        log("  %s: streaming" % name)
        results = {}
        frames = x[:SEQ_T]
        for form, (step, state0, shape) in step_forms(cell, rnn).items():
            xs = [frames[t].reshape(shape) for t in range(SEQ_T)]
            box = {"state": state0, "pos": 0}

            def work(n, step=step, xs=xs, box=box):
                state, pos = box["state"], box["pos"]
                for _ in range(n):
                    _, state = step(xs[pos], state)
                    pos += 1
                    if pos == SEQ_T:
                        pos = 0
                box["state"], box["pos"] = state, pos

            # Screening: half-length repetitions, three of them.
            med, _, _ = measure(work, TARGET_S / 2, 3)
            results[form] = (med, work)
        best = min(results, key=lambda f: results[f][0])
        med, best_t, reps = measure(results[best][1])
        emit({"type": "torch_stream", "name": name, "us": med * 1e6,
              "us_best": best_t * 1e6, "reps": reps, "form": best,
              "screened_us": {f: round(r[0] * 1e6, 3) for f, r in results.items()}})

    if "seq" in todo:
        log("  %s: whole sequence" % name)
        xs = x[:SEQ_T].reshape(SEQ_T, 1, input_size).contiguous()
        record = {"type": "torch_seq", "name": name, "T": SEQ_T}
        if dump_dir is not None:
            ours_path = os.path.join(dump_dir, name + ".out.f32")
            if os.path.exists(ours_path):
                y, _ = rnn(xs)
                ours = read_f32(ours_path)
                if ours.numel() == y.numel():
                    record["maxdiff"] = float((ours - y.reshape(-1)).abs().max())
                else:
                    record["maxdiff_error"] = "size %d != %d" % (ours.numel(), y.numel())

        def work(n):
            for _ in range(n):
                rnn(xs)

        med, best_t, reps = measure(work)
        record.update({"fps": SEQ_T / med, "fps_best": SEQ_T / best_t,
                       "s_per_seq": med, "reps": reps})
        emit(record)

    if "batch" in todo:
        log("  %s: batch" % name)
        xb = x[:BATCH_T * BATCH_B].reshape(BATCH_T, BATCH_B, input_size).contiguous()

        def work(n):
            for _ in range(n):
                rnn(xb)

        med, best_t, reps = measure(work)
        emit({"type": "torch_batch", "name": name, "B": BATCH_B, "T": BATCH_T,
              "fps": BATCH_B * BATCH_T / med, "s_per_block": med, "reps": reps})


def main():
    global TARGET_S, REPS
    args = sys.argv[1:]
    dump_dir = None
    modes = ["stream", "seq", "batch"]
    pos = []
    while args:
        a = args.pop(0)
        if a == "--quick":
            TARGET_S, REPS = 0.02, 3
        elif a == "--dump-dir":
            dump_dir = args.pop(0)
        elif a.startswith("--modes="):
            modes = a.split("=", 1)[1].split(",")
        else:
            pos.append(a)
    if len(pos) != 2:
        sys.exit("usage: bench_torch.py MODELS.tsv INPUT.f32 [--dump-dir DIR] "
                 "[--quick] [--modes=stream,seq,batch]")

    # One thread: the comparison is core against core. The environment
    # variables (set by run.sh) cover OpenBLAS/OpenMP inside torch; these
    # cover ATen's own pools.
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    gc.disable()

    x_all = read_f32(pos[1])
    with open(pos[0]) as f:
        entries = [line.rstrip("\n").split("\t") for line in f
                   if line.strip() and not line.startswith("#")]

    emit({"type": "torch_info", "version": torch.__version__,
          "threads": torch.get_num_threads(),
          "mkldnn": bool(torch.backends.mkldnn.is_available()),
          "blas": "see torch.__config__.show()"})
    with torch.inference_mode():
        for entry in entries:
            log("bench_torch: %s" % entry[0])
            bench_model(entry, x_all, dump_dir, modes)
            gc.collect()


if __name__ == "__main__":
    main()
