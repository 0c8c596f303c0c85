#!/usr/bin/python3
"""Time one training step in PyTorch, on one thread: bench-train's step.

    OMP_NUM_THREADS=1 /usr/bin/python3 bench/bench_train_torch.py \\
        DIR/train.tsv [--quick] [--phases] [--only NAME,...]

DIR is the directory bench-train --dump-dir=DIR wrote: per configuration
the initial weights (NAME.safetensors, state_dict naming "rnn.*", "fc.*"),
the input (NAME.input.f32, [T, B, 40] time-major) and the targets
(NAME.target.f32, [T, B, 10]), and train.tsv listing them. So PyTorch
trains the very model rnnstream trains, on the very same data.

One step, as bench-train's:

    opt.zero_grad(); out, _ = rnn(x)  (zero initial state, batch_first=False)
    y = fc(out); loss = MSELoss()(y, target); loss.backward()
    clip_grad_norm_(params, max_norm); opt.step()       (Adam, defaults)

The first FIXED_STEPS steps from the initial weights are run first and
their losses reported (the report checks them against rnnstream's); then a
calibrating warm-up and REPS repetitions of about TARGET_S seconds, the
median time per step reported (bench_torch.py's scheme: time.perf_counter,
garbage collector off). --phases adds the median over a few steps of
forward (through the loss), backward and the optimiser (clipping + step).

Prints one JSON object per line on stdout; progress on stderr.
"""

import gc
import json
import os
import struct
import sys
import time

import torch
from torch import nn

TARGET_S = 0.25
REPS = 5
PHASE_STEPS = 7


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def emit(record):
    print(json.dumps(record, separators=(",", ":")), flush=True)


def measure(work, target, reps):
    """work(n) does n units; (median, best, units) in seconds per unit."""
    n = 1
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
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        work(units)
        samples.append((time.perf_counter() - t0) / units)
    samples.sort()
    k = len(samples)
    median = samples[k // 2] if k % 2 else 0.5 * (samples[k // 2 - 1] + samples[k // 2])
    return median, samples[0], units


def load_safetensors(path):
    """{name: float32 tensor} from a safetensors file of F32 tensors."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    buf = bytearray(data[8 + n:])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise ValueError("%s: %s is %s, expected F32" % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        t = torch.frombuffer(buf, dtype=torch.float32, count=(end - begin) // 4, offset=begin)
        out[name] = t.reshape(info["shape"]).clone()
    return out


def read_f32(path, shape):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32).clone().reshape(shape)


class Model(nn.Module):
    def __init__(self, cell, input_size, hidden, outputs):
        super().__init__()
        if cell in ("rnn_tanh", "rnn_relu"):
            self.rnn = nn.RNN(input_size, hidden, nonlinearity=cell[4:])
        elif cell == "gru":
            self.rnn = nn.GRU(input_size, hidden)
        elif cell == "lstm":
            self.rnn = nn.LSTM(input_size, hidden)
        else:
            raise ValueError(cell)
        self.fc = nn.Linear(hidden, outputs)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out)


def read_configs(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, cell, hidden, batch, frames, inputs, outputs, max_norm, fixed = \
                line.rstrip("\n").split("\t")
            rows.append(dict(name=name, cell=cell, hidden=int(hidden), batch=int(batch),
                             frames=int(frames), input=int(inputs), outputs=int(outputs),
                             max_norm=float(max_norm), fixed_steps=int(fixed)))
    return rows


def run(cfg, directory, target, reps, phases):
    base = os.path.join(directory, cfg["name"])
    T, B = cfg["frames"], cfg["batch"]
    model = Model(cfg["cell"], cfg["input"], cfg["hidden"], cfg["outputs"])
    model.load_state_dict(load_safetensors(base + ".safetensors"))
    model.train()
    x = read_f32(base + ".input.f32", (T, B, cfg["input"]))
    target_y = read_f32(base + ".target.f32", (T, B, cfg["outputs"]))
    params = list(model.parameters())
    opt = torch.optim.Adam(params)
    mse = nn.MSELoss()
    max_norm = cfg["max_norm"]

    def step():
        opt.zero_grad()
        loss = mse(model(x), target_y)
        loss.backward()
        nn.utils.clip_grad_norm_(params, max_norm)
        opt.step()
        return loss

    losses = [float(step()) for _ in range(cfg["fixed_steps"])]

    def work(n):
        for _ in range(n):
            step()

    median, best, units = measure(work, target, reps)
    emit({"type": "torch_train", "name": cfg["name"], "cell": cfg["cell"],
          "hidden": cfg["hidden"], "batch": B, "frames": T,
          "ms_per_step": median * 1e3, "ms_per_step_best": best * 1e3,
          "seq_per_s": B / median, "steps": units, "reps": reps,
          "loss_first": losses[0], "loss_fixed": losses[-1]})

    if phases:
        fwd, bwd, opt_t = [], [], []
        for _ in range(PHASE_STEPS):
            opt.zero_grad()
            t0 = time.perf_counter()
            loss = mse(model(x), target_y)
            t1 = time.perf_counter()
            loss.backward()
            t2 = time.perf_counter()
            nn.utils.clip_grad_norm_(params, max_norm)
            opt.step()
            t3 = time.perf_counter()
            fwd.append(t1 - t0)
            bwd.append(t2 - t1)
            opt_t.append(t3 - t2)
        med = lambda v: sorted(v)[len(v) // 2] * 1e3
        emit({"type": "torch_train_phases", "name": cfg["name"], "forward_ms": med(fwd),
              "backward_ms": med(bwd), "optim_ms": med(opt_t)})


def main():
    args = sys.argv[1:]
    quick = "--quick" in args
    phases = "--phases" in args
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = args[i + 1].split(",")
        del args[i:i + 2]
    args = [a for a in args if a not in ("--quick", "--phases")]
    if len(args) != 1:
        sys.exit("usage: bench_train_torch.py DIR/train.tsv [--quick] [--phases] [--only N,..]")
    target, reps = (0.02, 3) if quick else (TARGET_S, REPS)

    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    gc.disable()

    emit({"type": "torch_train_info", "version": torch.__version__,
          "threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available()})
    directory = os.path.dirname(os.path.abspath(args[0]))
    for cfg in read_configs(args[0]):
        if only is not None and not any(cfg["name"].startswith(o) for o in only):
            continue
        log("bench_train_torch: %s" % cfg["name"])
        run(cfg, directory, target, reps, phases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
