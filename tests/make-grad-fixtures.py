#!/usr/bin/python3
"""Generate the gradient fixtures under tests/fixtures/train/ with PyTorch
autograd, for tests/train/test-train.c.

    /usr/bin/python3 tests/make-grad-fixtures.py

For every case this writes:

  <case>.safetensors       the model: module.state_dict() of an nn.RNN (tanh
                           or relu), nn.GRU or nn.LSTM, batch_first=False,
                           followed by an nn.Linear head ("rnn.*", "fc.*"),
                           metadata "cell".
  <case>.grad.safetensors  everything the C test needs, all float32:
      input [T, B, I]          the padded batch (time-major)
      lengths [B]              real frames per sequence (all different)
      h0 [L, B, H] (c0)        the initial state (random, so that its
                               gradient is non-trivial)
      target [T, B, O]         MSE / MAE targets
      classes [T, B]           cross-entropy classes
      labels [sum], label_lengths [B]   CTC targets (blank 0)
      loss [1]                 the loss PyTorch computed
      grad.<state_dict name>   dL/d every weight
      grad.input, grad.h0 (grad.c0)   dL/d input and initial state

Masking is pack_padded_sequence's: padded frames do not advance the state.
Losses (PyTorch's reduction='mean' over the real frames):
  mse   nn.functional.mse_loss over the real frames' outputs
  mae   nn.functional.l1_loss, likewise
  ce    nn.functional.cross_entropy over the real frames
  ctc   nn.functional.ctc_loss(log_softmax(outputs), labels, lengths,
        label_lengths, blank=0, reduction='mean')
TBPTT cases ("_tbptt<k>") run windows of k frames, the state detached
between windows (the usual PyTorch idiom), each window's MSE backpropagated
into the same gradients; "loss" is the sum of the window losses and
grad.h0 is not written (the C side's initial-state gradient is the last
window's).

The cases are small (I=4, H=6, T=8, B=3) so the fixtures stay a few KB.
Everything is seeded from a CRC of the case's name. Weights and data are
float32 (as stored); the reference loss and gradients are computed from them
in float64 and stored rounded to float32, so they hold no float32
accumulation error of their own.
"""

import os
import sys
import zlib

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
from safetensors_torch import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "train")

I, H, T, B = 4, 6, 8, 3
LENGTHS = [8, 5, 3]
TBPTT_LENGTHS = [8, 7, 7]     # every window holds a frame of every sequence
N_CLASSES = 5                 # ce and ctc; class 0 is the CTC blank
N_REG = 3                     # mse and mae outputs


class Model(nn.Module):
    def __init__(self, cell, layers, outputs):
        super().__init__()
        if cell in ("rnn_tanh", "rnn_relu"):
            self.rnn = nn.RNN(I, H, num_layers=layers, nonlinearity=cell[4:])
        elif cell == "gru":
            self.rnn = nn.GRU(I, H, num_layers=layers)
        else:
            self.rnn = nn.LSTM(I, H, num_layers=layers)
        self.fc = nn.Linear(H, outputs)

    def forward(self, x, lengths, state):
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, state = self.rnn(packed, state)
        out, _ = pad_packed_sequence(out, total_length=x.shape[0])
        return self.fc(out), state


def mask_of(lengths, frames):
    return torch.arange(frames)[:, None] < torch.tensor(lengths)[None, :]


def loss_of(kind, y, lengths, data):
    mask = mask_of(lengths, y.shape[0])
    if kind == "mse":
        return nn.functional.mse_loss(y[mask], data["target"][:y.shape[0]][mask])
    if kind == "mae":
        return nn.functional.l1_loss(y[mask], data["target"][:y.shape[0]][mask])
    if kind == "ce":
        return nn.functional.cross_entropy(y[mask], data["classes"][mask].long())
    lp = torch.log_softmax(y, dim=2)
    return nn.functional.ctc_loss(lp, data["labels"].long(), torch.tensor(lengths),
                                  data["label_lengths"].long(), blank=0,
                                  reduction="mean", zero_infinity=False)


def make_case(cell, layers, kind, window=0):
    name = "%s_l%d_%s" % (cell, layers, kind) + ("_tbptt%d" % window if window else "")
    torch.manual_seed(zlib.crc32(name.encode()))
    lengths = TBPTT_LENGTHS if window else LENGTHS
    outputs = N_REG if kind in ("mse", "mae") else N_CLASSES
    model = Model(cell, layers, outputs)
    x = torch.randn(T, B, I)
    for b, n in enumerate(lengths):
        x[n:, b] = 0.0
    h0 = 0.5 * torch.randn(layers, B, H)
    c0 = 0.5 * torch.randn(layers, B, H)
    data = {
        "input": x,
        "lengths": torch.tensor(lengths, dtype=torch.float32),
        "h0": h0,
    }
    if cell == "lstm":
        data["c0"] = c0
    if kind in ("mse", "mae"):
        data["target"] = torch.randn(T, B, outputs)
    if kind == "ce":
        data["classes"] = torch.randint(0, outputs, (T, B)).float()
    if kind == "ctc":
        label_lengths = [3, 2, 1]
        data["labels"] = torch.randint(1, outputs, (sum(label_lengths),)).float()
        data["label_lengths"] = torch.tensor(label_lengths, dtype=torch.float32)

    # The reference is computed in float64 from the float32 weights and
    # data, so that it carries no float32 rounding of its own: the
    # comparison then measures the C code's error alone.
    weights32 = {k: v.detach().clone() for k, v in model.state_dict().items()}
    model = model.double()
    data64 = {k: (v.double() if k in ("target",) else v) for k, v in data.items()}
    xg = x.double().requires_grad_(True)
    hg = h0.double().requires_grad_(True)
    cg = c0.double().requires_grad_(True)
    state = (hg, cg) if cell == "lstm" else hg
    if window == 0:
        y, _ = model(xg, lengths, state)
        loss = loss_of(kind, y, lengths, data64)
        loss.backward()
        total = loss.item()
    else:
        total = 0.0
        for start in range(0, T, window):
            stop = min(T, start + window)
            wl = [max(0, min(n - start, stop - start)) for n in lengths]
            y, state = model(xg[start:stop], wl, state)
            sub = dict(data64)
            sub["target"] = data64["target"][start:stop]
            loss = loss_of(kind, y, wl, sub)
            loss.backward()
            total += loss.item()
            state = tuple(s.detach() for s in state) if cell == "lstm" else state.detach()

    data["loss"] = torch.tensor([total])
    data["grad.input"] = xg.grad.float()
    if window == 0:
        data["grad.h0"] = hg.grad.float()
        if cell == "lstm":
            data["grad.c0"] = cg.grad.float()
    for k, v in model.named_parameters():
        data["grad." + k] = v.grad.float()
    tensors = {k: v.contiguous() for k, v in weights32.items()}
    write_safetensors(os.path.join(OUT, name + ".safetensors"), tensors,
                      metadata={"cell": cell})
    write_safetensors(os.path.join(OUT, name + ".grad.safetensors"),
                      {k: v.detach().contiguous() for k, v in data.items()})
    return name


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    names = []
    for cell in ("rnn_tanh", "rnn_relu", "gru", "lstm"):
        for layers in (1, 2):
            for kind in ("mse", "mae", "ce", "ctc"):
                names.append(make_case(cell, layers, kind))
        names.append(make_case(cell, 2, "mse", window=3))
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("# case cell layers loss window\n")
        for n in names:
            parts = n.split("_")
            cell = parts[0] + ("_" + parts[1] if parts[0] == "rnn" else "")
            rest = n[len(cell) + 1:].split("_")
            window = rest[2][5:] if len(rest) > 2 else "0"
            f.write("%s %s %s %s %s\n" % (n, cell, rest[0][1:], rest[1], window))


if __name__ == "__main__":
    main()
