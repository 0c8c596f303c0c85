#!/usr/bin/python3
"""Generate the golden-vector fixtures under tests/fixtures/.

Run from anywhere with Debian's interpreter (it needs python3-torch and numpy,
nothing else):

    /usr/bin/python3 tests/make-fixtures.py

For every case this writes, into tests/fixtures/:

  <case>.safetensors     exactly module.state_dict() of a small nn.Module that
                         holds one RNN (nn.RNN tanh/relu, nn.GRU or nn.LSTM,
                         under various attribute names, one of them nested)
                         and optionally one nn.Linear head.
  <case>.io.safetensors  "input" [T, I] and "output" [T, O], both float32: the
                         model run by PyTorch in float32 on that input as one
                         sequence (batch 1, batch_first=False, zero initial
                         state). "output" is the head's output when there is a
                         head, else the RNN's output sequence (the top layer's
                         h_t; the projected h_t for an LSTM with proj_size; the
                         concatenation [forward, reverse] when bidirectional).

and tests/fixtures/cases.txt, one line per case for the C tests to iterate,
after one '#' line naming the columns: name, cell kind, layers, hidden size,
input size, output size (columns of "output"), bidirectional (0/1), LSTM
proj_size (0 = none), the RNN's bias (0/1), head (none, or a Linear head with
"bias" or "nobias"), and the weights' dtype (F32, F16, BF16).

Cases stored as F16 or BF16 have their weights rounded to that dtype first;
the reference output is computed in float32 from the rounded weights, which
is what a loader that converts every tensor to float32 computes.

Inputs are standard normal noise scaled per case (Case.input_std) so that
the first layer's gate pre-activations have a standard deviation of about 1.5:
the nonlinearities are exercised, curved and saturated parts alike, without
being pinned. Weights keep PyTorch's default initialisation.

The output is deterministic: every case seeds torch from a CRC of its name,
so adding or removing a case does not change the others, and PyTorch runs
single-threaded. The safetensors files are written without the safetensors
package, in the layout of the reference implementation: an 8-byte
little-endian header length N, N bytes of compact UTF-8 JSON padded with
spaces to a multiple of 8 ("__metadata__" first when present), then the
tensor bytes, little-endian, in sorted-name order with no holes.
"""

import math
import os
import sys
import zlib

import torch
from torch import nn
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
from safetensors_torch import write_safetensors  # noqa: E402

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")

DEFAULT_T = 128

# Standard deviation of the layer-0 input pre-activations (see
# Case.input_std).
INPUT_DRIVE = 1.5

# ---------------------------------------------------------------------------
# safetensors writing




# ---------------------------------------------------------------------------
# models


class Holder(nn.Module):
    """A plain submodule, to nest the RNN one level deeper ("body.rnn")."""


class Model(nn.Module):
    """One RNN under attribute path rnn_attr, optionally one Linear head."""

    def __init__(self, rnn, rnn_attr, head=None, head_attr=None):
        super().__init__()
        parts = rnn_attr.split(".")
        parent = self
        for part in parts[:-1]:
            child = Holder()
            setattr(parent, part, child)
            parent = child
        setattr(parent, parts[-1], rnn)
        self._rnn_attr = rnn_attr
        self._head_attr = head_attr
        if head is not None:
            setattr(self, head_attr, head)

    def recurrent(self):
        m = self
        for part in self._rnn_attr.split("."):
            m = getattr(m, part)
        return m

    def forward(self, x):
        """x: [T, I] -> [T, O], one sequence from a zero state."""
        y, _ = self.recurrent()(x.unsqueeze(1))
        y = y.squeeze(1)
        if self._head_attr is not None:
            y = getattr(self, self._head_attr)(y)
        return y


def make_rnn(kind, input_size, hidden, layers, bias, bidir, proj):
    common = dict(num_layers=layers, bias=bias, batch_first=False,
                  bidirectional=bidir)
    if kind == "rnn_tanh":
        return nn.RNN(input_size, hidden, nonlinearity="tanh", **common)
    if kind == "rnn_relu":
        return nn.RNN(input_size, hidden, nonlinearity="relu", **common)
    if kind == "gru":
        return nn.GRU(input_size, hidden, **common)
    if kind == "lstm":
        return nn.LSTM(input_size, hidden, proj_size=proj, **common)
    raise ValueError(kind)


# ---------------------------------------------------------------------------
# cases


class Case:
    def __init__(self, name, kind, layers, hidden, input_size, head="none",
                 head_out=0, bias=True, bidir=False, proj=0, dtype="F32",
                 rnn_attr="rnn", head_attr="head", metadata=None, T=DEFAULT_T):
        self.name = name
        self.kind = kind
        self.layers = layers
        self.hidden = hidden
        self.input_size = input_size
        self.head = head            # "none", "bias" or "nobias"
        self.head_out = head_out
        self.bias = bias
        self.bidir = bidir
        self.proj = proj
        self.dtype = dtype
        self.rnn_attr = rnn_attr
        self.head_attr = head_attr
        self.metadata = dict(metadata or {})
        if kind == "rnn_relu":
            # A relu Elman RNN has the same tensors as a tanh one; the file
            # must say which it is.
            self.metadata.setdefault("cell", "rnn_relu")
        self.T = T

    @property
    def rnn_out(self):
        per_dir = self.proj if self.proj else self.hidden
        return per_dir * (2 if self.bidir else 1)

    @property
    def output_size(self):
        return self.head_out if self.head != "none" else self.rnn_out

    @property
    def input_std(self):
        """Scale of the random input. Default init draws the layer-0 input
        weights from U(-1/sqrt(H), 1/sqrt(H)), variance 1/(3H), so a
        unit-variance input gives pre-activations of std sqrt(I/(3H)), about
        0.3: every gate would sit in its linear region. Scale the input so
        that std is INPUT_DRIVE instead: the gate nonlinearities then see
        their curved and saturated parts without being pinned there."""
        s = INPUT_DRIVE * math.sqrt(3.0 * self.hidden / self.input_size)
        return round(max(1.0, s), 2)

    @property
    def seed(self):
        return zlib.crc32(self.name.encode("utf-8"))


RNN_ATTRS = {
    "rnn_tanh": ["rnn", "encoder", "body.rnn"],
    "rnn_relu": ["encoder", "body.rnn", "rnn"],
    "gru": ["gru", "rnn", "body.rnn", "encoder"],
    "lstm": ["lstm", "encoder", "rnn", "body.rnn"],
}
HEAD_ATTRS = ["head", "fc", "proj", "out", "decoder"]

# Hidden sizes for the grid; deeper stacks use smaller ones to keep files
# small. A few sizes of interest (16, 23, 40, 48) are pinned below.
HIDDEN_SHALLOW = [8, 10, 12, 14, 20, 24, 28, 32]
HIDDEN_DEEP = [8, 9, 12, 16, 20]
PINNED_HIDDEN = {
    "gru_l1_head": 23,         # not a multiple of 4, 8 or 16
    "lstm_l1": 16,             # exactly one 16-float vector
    "rnn_tanh_l1_head": 40,    # 2.5 x 16
    "gru_l2": 40,
    "lstm_l1_head": 48,
    "rnn_relu_l2_head_nobias": 23,
}


def grid_cases():
    """Every kind x layers {1,2,3} x head {yes,no} x bias {yes,no}."""
    cases = []
    head_i = 0
    for kind in ["rnn_tanh", "rnn_relu", "gru", "lstm"]:
        attr_i = 0
        for layers in (1, 2, 3):
            for head in (True, False):
                for bias in (True, False):
                    name = "%s_l%d%s%s" % (kind, layers,
                                           "_head" if head else "",
                                           "" if bias else "_nobias")
                    h = zlib.crc32(name.encode("utf-8"))
                    hiddens = HIDDEN_DEEP if layers == 3 else HIDDEN_SHALLOW
                    hidden = PINNED_HIDDEN.get(name, hiddens[h % len(hiddens)])
                    input_size = 3 + (h >> 8) % 11          # 3 .. 13
                    head_out = 1 + (h >> 16) % 6 if head else 0
                    rnn_attrs = RNN_ATTRS[kind]
                    rnn_attr = rnn_attrs[attr_i % len(rnn_attrs)]
                    attr_i += 1
                    head_attr = HEAD_ATTRS[head_i % len(HEAD_ATTRS)]
                    if head:
                        head_i += 1
                    cases.append(Case(name, kind, layers, hidden, input_size,
                                      head="bias" if head else "none",
                                      head_out=head_out, bias=bias,
                                      rnn_attr=rnn_attr, head_attr=head_attr))
    return cases


def extra_cases():
    return [
        # Bidirectional.
        Case("gru_l2_bidir_head", "gru", 2, 20, 7, head="bias", head_out=3,
             bidir=True, rnn_attr="encoder", head_attr="fc"),
        Case("lstm_l1_bidir", "lstm", 1, 12, 5, bidir=True, rnn_attr="lstm"),
        Case("rnn_tanh_l2_bidir", "rnn_tanh", 2, 10, 6, bidir=True,
             rnn_attr="body.rnn"),
        # LSTM with projections (weight_hr_l*).
        Case("lstm_l1_proj", "lstm", 1, 24, 6, proj=8, rnn_attr="lstm"),
        Case("lstm_l2_proj_head", "lstm", 2, 20, 9, proj=7, head="bias",
             head_out=2, rnn_attr="rnn", head_attr="proj"),
        Case("lstm_l2_bidir_proj", "lstm", 2, 16, 4, proj=6, bidir=True,
             rnn_attr="body.rnn"),
        # A Linear head without bias (no "<head>.bias" tensor).
        Case("gru_l2_head_linnobias", "gru", 2, 14, 8, head="nobias",
             head_out=3, rnn_attr="rnn", head_attr="head"),
        # Half-precision files.
        Case("gru_l1_f16", "gru", 1, 24, 5, dtype="F16", rnn_attr="gru"),
        Case("gru_l2_head_bf16", "gru", 2, 16, 7, head="bias", head_out=2,
             dtype="BF16", rnn_attr="rnn", head_attr="head"),
        Case("lstm_l2_head_f16", "lstm", 2, 12, 6, head="bias", head_out=3,
             dtype="F16", rnn_attr="lstm", head_attr="fc"),
        Case("lstm_l1_bf16", "lstm", 1, 20, 9, dtype="BF16",
             rnn_attr="encoder"),
        # Rich metadata.
        Case("gru_l1_head_meta", "gru", 1, 12, 4, head="bias", head_out=2,
             rnn_attr="rnn", head_attr="classifier",
             metadata={"cell": "gru", "labels": "[\"a\",\"b\"]",
                       "description": "Two-class toy classifier: a GRU "
                                      "(hidden 12) and a linear head; "
                                      "fixture with metadata, \u00e9t\u00e9 "
                                      "\"quoted\" \\ backslash."}),
        # Long sequence for the streaming tests.
        Case("gru_stream", "gru", 2, 32, 10, head="bias", head_out=4,
             rnn_attr="rnn", head_attr="head", T=1000),
    ]


def all_cases():
    cases = grid_cases() + extra_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case name"
    return cases


# ---------------------------------------------------------------------------
# generation


def build(case):
    torch.manual_seed(case.seed)
    rnn = make_rnn(case.kind, case.input_size, case.hidden, case.layers,
                   case.bias, case.bidir, case.proj)
    head = None
    if case.head != "none":
        head = nn.Linear(case.rnn_out, case.head_out,
                         bias=(case.head == "bias"))
    model = Model(rnn, case.rnn_attr, head,
                  case.head_attr if head is not None else None)
    model.eval()
    if case.dtype != "F32":
        rounding = {"F16": torch.float16, "BF16": torch.bfloat16}[case.dtype]
        with torch.no_grad():
            for p in model.parameters():
                p.copy_(p.to(rounding).to(torch.float32))
    x = torch.randn(case.T, case.input_size, dtype=torch.float32)
    return model, x * case.input_std


def generate(case):
    model, x = build(case)
    with torch.no_grad():
        y = model(x)
    assert y.shape == (case.T, case.output_size), (case.name, y.shape)
    assert torch.isfinite(y).all(), case.name
    state = model.state_dict()
    write_safetensors(os.path.join(FIXTURES, case.name + ".safetensors"),
                      state, dtype=case.dtype, metadata=case.metadata)
    write_safetensors(os.path.join(FIXTURES, case.name + ".io.safetensors"),
                      {"input": x, "output": y}, dtype="F32")
    return model, x, y


def write_cases_txt(cases):
    lines = ["# name kind(rnn_tanh|rnn_relu|gru|lstm) layers hidden input "
             "output bidirectional(0|1) proj(0|P) bias(0|1) "
             "head(none|bias|nobias) dtype(F32|F16|BF16)"]
    for c in cases:
        lines.append("%-26s %-8s %d %2d %2d %2d %d %d %d %-6s %s" % (
            c.name, c.kind, c.layers, c.hidden, c.input_size, c.output_size,
            int(c.bidir), c.proj, int(c.bias), c.head, c.dtype))
    with open(os.path.join(FIXTURES, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    os.makedirs(FIXTURES, exist_ok=True)
    cases = all_cases()
    total = 0
    for case in cases:
        _, x, y = generate(case)
        size = sum(os.path.getsize(os.path.join(FIXTURES, case.name + s))
                   for s in (".safetensors", ".io.safetensors"))
        total += size
        print("%-26s T=%4d I=%2d O=%2d |y|max=%7.3f y.std=%6.3f %7d bytes"
              % (case.name, case.T, case.input_size, case.output_size,
                 float(y.abs().max()), float(y.std()), size))
    write_cases_txt(cases)
    print("%d cases, %d bytes" % (len(cases), total))
    return 0


if __name__ == "__main__":
    sys.exit(main())
