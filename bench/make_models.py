#!/usr/bin/python3
"""Write the benchmark's models and input into a directory.

    /usr/bin/python3 bench/make_models.py OUTDIR [--quick]

For every cell kind in CELLS, hidden size in HIDDEN and layer count in
LAYERS this writes OUTDIR/<cell>-l<layers>-h<hidden>.safetensors: exactly
the state_dict of a module holding one nn.RNN / nn.GRU / nn.LSTM under the
attribute "rnn" (input 40, no head, batch_first=False), in PyTorch's default
initialisation, seeded from the file name so that every run times the same
weights. rnn_relu files carry the metadata cell=rnn_relu, which is the only
way to tell them from rnn_tanh ones.

It also writes OUTDIR/input.f32: N_INPUT_FRAMES frames of INPUT floats,
raw little-endian float32, uniform in [-1, 1). Both benchmarks read their
inputs from it, so both sides run identical data: the first 2000 frames are
the whole-sequence input [T, 1, I], all 6400 are the batch input [200, 32,
I] (time-major, row t * 32 + b is frame t of stream b), and streaming cycles
through the first 2000.

And OUTDIR/models.tsv, one line per model: file, cell, layers, hidden,
input, modes ("all", or "stream" for rnn_relu, whose cost is rnn_tanh's
apart from the cheaper nonlinearity, so only the streaming table shows it).

safetensors are written with the standard library only (no safetensors
package): an 8-byte little-endian header length N, N bytes of compact JSON
{name: {dtype, shape, data_offsets}} padded with spaces to a multiple of 8,
then the tensors' bytes contiguous in sorted-name order.
"""

import os
import sys
import zlib

import torch
from torch import nn
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
from safetensors_torch import write_safetensors  # noqa: E402

INPUT = 40
HIDDEN = [64, 128, 256, 512]
LAYERS = [1, 2]
# rnn_relu last: it only appears in the streaming table.
CELLS = ["rnn_tanh", "gru", "lstm", "rnn_relu"]
N_INPUT_FRAMES = 6400          # = 200 frames x 32 streams; >= 2000

QUICK_HIDDEN = [64, 256]
QUICK_LAYERS = [1, 2]



def make_rnn(cell, hidden, layers):
    if cell == "rnn_tanh":
        return nn.RNN(INPUT, hidden, num_layers=layers, nonlinearity="tanh")
    if cell == "rnn_relu":
        return nn.RNN(INPUT, hidden, num_layers=layers, nonlinearity="relu")
    if cell == "gru":
        return nn.GRU(INPUT, hidden, num_layers=layers)
    if cell == "lstm":
        return nn.LSTM(INPUT, hidden, num_layers=layers)
    raise ValueError(cell)


class Holder(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    quick = "--quick" in sys.argv[1:]
    if len(args) != 1:
        sys.exit("usage: make_models.py OUTDIR [--quick]")
    out = args[0]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)

    hidden = QUICK_HIDDEN if quick else HIDDEN
    layers_list = QUICK_LAYERS if quick else LAYERS

    g = torch.Generator().manual_seed(12345)
    x = torch.rand(N_INPUT_FRAMES, INPUT, generator=g) * 2 - 1
    with open(os.path.join(out, "input.f32"), "wb") as f:
        f.write(x.numpy().astype("<f4").tobytes())

    lines = ["#file\tcell\tlayers\thidden\tinput\tmodes"]
    for cell in CELLS:
        for layers in layers_list:
            for h in hidden:
                name = "%s-l%d-h%d" % (cell, layers, h)
                # A CRC of the name, not a running seed: adding a size
                # leaves every other model's weights unchanged.
                torch.manual_seed(zlib.crc32(name.encode()))
                rnn = make_rnn(cell, h, layers)
                meta = {"cell": cell} if cell == "rnn_relu" else None
                path = os.path.join(out, name + ".safetensors")
                write_safetensors(path, Holder(rnn).state_dict(), metadata=meta)
                modes = "stream" if cell == "rnn_relu" else "all"
                lines.append("\t".join([path, cell, str(layers), str(h),
                                        str(INPUT), modes]))
    with open(os.path.join(out, "models.tsv"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
