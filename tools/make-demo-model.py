#!/usr/bin/python3
"""Train the demo forecaster shipped in models/.

    /usr/bin/python3 tools/make-demo-model.py

A one-layer GRU (hidden 32) with a Linear head learns to predict next month's
value of a monthly seasonal series in the spirit of R's classic
"AirPassengers" (1949-1960: exponential growth, a summer peak whose size grows
with the level, noise). R is not needed: the series is synthesised, seeded.

Each input row has 3 features: the scaled value of month t,
sin(2 pi m / 12) and cos(2 pi m / 12) with m = t mod 12 the calendar month
(0 = January); the target is the scaled value of month t + 1. The scaling is
scaled = (value - VALUE_CENTER) / VALUE_SCALE.

Writes, into models/:

  demo-forecast.safetensors  the model's state_dict() ("gru.*", "head.*"),
                             float32, with metadata cell / description /
                             inputs / outputs;
  demo-input.csv             a header "value,month_sin,month_cos" then one row
                             per month (%.6g, comma-separated);
  demo-series.csv            the same months as a raw series: a header
                             "month,value", then YYYY-MM (January 1949 first)
                             and VALUE_CENTER + VALUE_SCALE * the scaled value
                             as printed in demo-input.csv (%.12g), the input of
                             pipelines/forecast.pipeline;
  demo-expected.csv          PyTorch's output for each row of demo-input.csv
                             (%.9g, one per line, no header), the model run
                             in float32 over the whole file as one sequence
                             from a zero state, on the inputs exactly as
                             printed in the CSV.

Deterministic: seeded data and initialisation, single-threaded PyTorch,
full-batch training. Takes a few seconds.
"""

import json
import math
import os
import sys

import numpy as np
import torch
from torch import nn
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tools"))
from safetensors_torch import write_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "models")

SEED = 1949
MONTHS = 144            # 12 years, as AirPassengers
DEMO_ROWS = 120         # rows in demo-input.csv (the first ten years)
HIDDEN = 32
STEPS = 400
LR = 0.01

VALUE_CENTER = 250.0
VALUE_SCALE = 100.0

# Relative seasonal deviation by calendar month, shaped like AirPassengers':
# a trough in November, a peak in July and August.
SEASON = [-0.09, -0.11, 0.02, -0.02, -0.03, 0.10,
          0.22, 0.21, 0.06, -0.08, -0.20, -0.08]



def make_series(rng):
    """Monthly values 112..~450: exponential trend, multiplicative season,
    log-normal noise."""
    t = np.arange(MONTHS + 1)
    trend = 115.0 * np.exp(0.0102 * t)
    season = 1.0 + np.array([SEASON[m % 12] for m in t]) * (1.0 + t / MONTHS)
    noise = np.exp(rng.normal(0.0, 0.025, size=t.shape))
    return trend * season * noise


def features(values):
    """Rows [scaled value, month sin, month cos] for each month, float64."""
    rows = []
    for t, v in enumerate(values):
        m = t % 12
        # Rounded so that sin(pi) prints as 0, not 1.22465e-16.
        rows.append([(v - VALUE_CENTER) / VALUE_SCALE,
                     round(math.sin(2.0 * math.pi * m / 12.0), 12),
                     round(math.cos(2.0 * math.pi * m / 12.0), 12)])
    return np.array(rows)


class Forecaster(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(3, HIDDEN, num_layers=1)
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, x):
        """x: [T, 3] -> [T, 1], one sequence from a zero state."""
        y, _ = self.gru(x.unsqueeze(1))
        return self.head(y.squeeze(1))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)

    values = make_series(rng)
    rows = features(values[:MONTHS])
    # Round the inputs as the CSV will print them, so that training, the
    # expected outputs and a reader of the CSV all see the same numbers.
    rows = np.array([[float("%.6g" % v) for v in r] for r in rows])
    targets = (values[1:MONTHS + 1] - VALUE_CENTER) / VALUE_SCALE

    x_all = torch.tensor(rows, dtype=torch.float32)
    y_all = torch.tensor(targets, dtype=torch.float32).unsqueeze(1)
    x_train, y_train = x_all[:DEMO_ROWS], y_all[:DEMO_ROWS]

    model = Forecaster()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()
    for step in range(STEPS):
        opt.zero_grad()
        loss = loss_fn(model(x_train), y_train)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print("step %3d  loss %.6f" % (step, loss.item()))

    model.eval()
    with torch.no_grad():
        train_loss = loss_fn(model(x_train), y_train).item()
        # The last two years were never trained on: run through them.
        held = loss_fn(model(x_all)[DEMO_ROWS:], y_all[DEMO_ROWS:]).item()
        naive = loss_fn(x_all[DEMO_ROWS:, :1], y_all[DEMO_ROWS:]).item()
        expected = model(x_train).squeeze(1)
    print("final training loss (MSE, scaled units): %.6f" % train_loss)
    print("held-out last %d months: MSE %.6f (repeat-last-value baseline "
          "%.6f)" % (MONTHS - DEMO_ROWS, held, naive))

    os.makedirs(MODELS, exist_ok=True)
    metadata = {
        "cell": "gru",
        "description": (
            "Demo forecaster: a 1-layer GRU (hidden %d) and a Linear head "
            "trained on a synthetic AirPassengers-like monthly series. "
            "Inputs per month t: value scaled as (value - %g) / %g, "
            "sin(2*pi*m/12), cos(2*pi*m/12) with m = t mod 12 "
            "(0 = January); output: the scaled value of month t+1."
            % (HIDDEN, VALUE_CENTER, VALUE_SCALE)),
        "inputs": json.dumps(["value", "month_sin", "month_cos"],
                             separators=(",", ":")),
        "outputs": json.dumps(["next_value"], separators=(",", ":")),
    }
    write_safetensors(os.path.join(MODELS, "demo-forecast.safetensors"),
                      model.state_dict(), metadata=metadata)
    with open(os.path.join(MODELS, "demo-input.csv"), "w") as f:
        f.write("value,month_sin,month_cos\n")
        for r in rows[:DEMO_ROWS]:
            f.write(",".join("%.6g" % v for v in r) + "\n")
    # From the printed scaled values, so that scaling this series again
    # gives demo-input.csv's first column (to double rounding).
    with open(os.path.join(MODELS, "demo-series.csv"), "w") as f:
        f.write("month,value\n")
        for t, r in enumerate(rows[:DEMO_ROWS]):
            value = VALUE_CENTER + VALUE_SCALE * float("%.6g" % r[0])
            f.write("%d-%02d,%.12g\n" % (1949 + t // 12, t % 12 + 1, value))
    with open(os.path.join(MODELS, "demo-expected.csv"), "w") as f:
        for v in expected.tolist():
            f.write("%.9g\n" % v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
