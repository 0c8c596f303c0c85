#!/usr/bin/python3
"""A stand-in for rnnstream's `train --task forecast` and `forecast`, to check
bench-forecast.py against the command-line contract without the real thing.

    bench/bench-forecast.py --rnnstream bench/forecast/fake-rnnstream.py

Its forecast is the seasonal naive one, so its scores must equal R's snaive
on every series: that checks the split, the row the harness reads and the
metrics. Its output has interval columns after h1..hH, as rnnstream's may.
FAKE_RNNSTREAM_FAIL=NAME makes `train` fail when the input's path contains
NAME, to check that one failing series leaves the others' rows.
"""

import csv
import json
import os
import sys


def option(args, name):
    return args[args.index(name) + 1]


def read_values(path):
    with open(path, newline="") as f:
        return [(r["time"], float(r["value"])) for r in csv.DictReader(f)]


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "train":
        path = option(args, "-i")
        fail = os.environ.get("FAKE_RNNSTREAM_FAIL")
        if fail and fail in path:
            sys.exit(f"rnnstream: {path}: failing on purpose")
        read_values(path)
        with open(option(args, "-o"), "w") as f:
            json.dump({"h": int(option(args, "--horizon")),
                       "m": int(option(args, "--season"))}, f)
        return 0
    if cmd == "forecast":
        with open(option(args, "-m")) as f:
            model = json.load(f)
        h, m = model["h"], max(model["m"], 1)
        rows = read_values(option(args, "-i"))
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["time"] + [f"h{k}" for k in range(1, h + 1)]
                   + [f"lo{k}" for k in range(1, h + 1)] + [f"hi{k}" for k in range(1, h + 1)])
        for i, (t, _) in enumerate(rows):
            # Step k after row i repeats the value one season before it:
            # row i + k - m * ceil(k / m), clamped to the series' start.
            fc = [rows[max(i + k - m * -(-k // m), 0)][1] for k in range(1, h + 1)]
            w.writerow([t] + [repr(v) for v in fc] + [repr(v - 1) for v in fc]
                       + [repr(v + 1) for v in fc])
        return 0
    sys.exit(f"fake rnnstream: unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
