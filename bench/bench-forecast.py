#!/usr/bin/python3
"""Forecast quality on a panel of public series: R's forecast package vs rnnstream.

    bench/bench-forecast.py [--panel NAME] [--rnnstream PATH] [--args ARGS] [--timeout S]

A panel is bench/forecast/NAME.tsv with its series in bench/forecast/series/*.csv
(from R's datasets package, written by make-panel.R): `panel` (the default)
is the one rnnstream's forecasting recipe was chosen on, `holdout` one it was
scored on only once the recipe was fixed. Every series is split the same
way for every method: train on all rows but the last H, score the H-step
forecast made at the end of the training part against the last H rows.

R's methods (naive, snaive, ets, auto.arima, thetaf, package defaults) run in
one `Rscript bench/forecast/r-baselines.R DIR`. With --rnnstream, each series
is also trained and forecast by

    rnnstream train --task forecast -i TRAIN.csv --target value
        --time-column time --horizon H --season M -o MODEL.safetensors -q ARGS
    rnnstream forecast -m MODEL.safetensors -i TRAIN.csv

whose stdout is CSV with columns time,h1..hH (more may follow), one row per
input row; the last row is the forecast after the training part. A series on
which rnnstream fails is reported as failed, and the rest still prints.

Metrics (M4's definitions): MASE = mean |y - f| on the test part over the mean
|y_t - y_{t-m}| on the training part (lag 1 when m = 1); sMAPE = mean of
200 |y - f| / (|y| + |f|); RMSE. Per series one table, then the means per
method (mean MASE is the headline) and the number of series each method wins
on MASE.

Standard library only. Exit status 0 when the R baselines ran (whatever
rnnstream did), 1 when they did not, 2 for bad arguments.
"""

import argparse
import csv
import io
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PANEL_DIR = os.path.join(HERE, "forecast")
R_SCRIPT = os.path.join(PANEL_DIR, "r-baselines.R")
R_METHODS = ("naive", "snaive", "ets", "auto.arima", "thetaf")
R_TIMEOUT_S = 1800
# Relative tolerance under which two MASEs tie for a win: naive and snaive
# are the same forecast when m = 1.
TIE = 1e-12


class Failure(Exception):
    """One method could not forecast one series; the message says why."""


def read_panel(name="panel"):
    with open(os.path.join(PANEL_DIR, name + ".tsv"), newline="") as f:
        panel = list(csv.DictReader(f, delimiter="\t"))
    for s in panel:
        s["m"], s["h"], s["rows"] = int(s["m"]), int(s["h"]), int(s["rows"])
        with open(os.path.join(PANEL_DIR, "series", s["name"] + ".csv"), newline="") as f:
            rows = list(csv.reader(f))
        if rows[0] != ["time", "value"] or len(rows) - 1 != s["rows"]:
            raise SystemExit(f"{s['name']}.csv does not match {name}.tsv")
        # The raw text goes to rnnstream, so it reads exactly what R read.
        s["text"] = rows[1:]
        values = [float(v) for _, v in s["text"]]
        s["train"], s["test"] = values[:-s["h"]], values[-s["h"]:]
    return panel


def metrics(train, test, fc, m):
    lag = max(m, 1)
    scale = sum(abs(train[t] - train[t - lag]) for t in range(lag, len(train)))
    scale /= len(train) - lag
    err = [y - f for y, f in zip(test, fc)]
    mase = sum(abs(e) for e in err) / len(err) / scale
    smape = sum(200 * abs(y - f) / (abs(y) + abs(f)) if y or f else 0.0
                for y, f in zip(test, fc)) / len(err)
    rmse = math.sqrt(sum(e * e for e in err) / len(err))
    return {"MASE": mase, "sMAPE": smape, "RMSE": rmse}


def tail(text, n=3):
    lines = [l for l in text.strip().splitlines() if l.strip()]
    return " | ".join(lines[-n:]) if lines else "(no output)"


# ----------------------------------------------------------------- R side

def run_r(tmp, panel_name, keep=None):
    """{(series, method): (forecast, seconds)}, versions, failures."""
    # A kept directory holds one subdirectory per panel, so that panels
    # never read each other's forecasts.
    out = os.path.join(keep or tmp, panel_name)
    stderr_path = os.path.join(out, "stderr.txt")
    if keep and os.path.exists(stderr_path):
        with open(stderr_path) as f:
            p = subprocess.CompletedProcess([], 0, "", f.read())
    else:
        # R may be linked against a threaded OpenBLAS; the benchmark, like
        # the others, uses one thread.
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        try:
            p = subprocess.run(["Rscript", R_SCRIPT, out, panel_name], env=env, capture_output=True,
                               text=True, timeout=R_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Failure(f"Rscript did not run: {e}; install it with "
                          "sh tools/install-deps.sh --forecast")
        if p.returncode != 0:
            raise Failure(f"r-baselines.R exited {p.returncode}: {tail(p.stderr)}")
        with open(stderr_path, "w") as f:
            f.write(p.stderr)
    fcs = {}
    with open(os.path.join(out, "forecasts.csv"), newline="") as f:
        for r in csv.DictReader(f):
            fcs.setdefault((r["series"], r["method"]), []).append(float(r["forecast"]))
    results = {}
    with open(os.path.join(out, "times.csv"), newline="") as f:
        for r in csv.DictReader(f):
            key = (r["series"], r["method"])
            results[key] = (fcs[key], float(r["seconds"]))
    with open(os.path.join(out, "versions.txt")) as f:
        versions = ", ".join(f.read().split("\n")).strip(", ")
    # r-baselines.R names each method that failed on a series on stderr.
    failures = {}
    for line in p.stderr.splitlines():
        words = line.split(" ", 2)
        if len(words) == 3 and words[1].rstrip(":") in R_METHODS:
            failures[(words[0], words[1].rstrip(":"))] = words[2]
    return results, versions, failures


# ---------------------------------------------------------- rnnstream side

def run_cmd(cmd, timeout):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Failure(f"`{cmd[1]}` killed after {timeout} s")
    except OSError as e:
        raise Failure(f"`{cmd[1]}` did not start: {e}")
    if p.returncode != 0:
        raise Failure(f"`{cmd[1]}` exited {p.returncode}: {tail(p.stderr)}")
    return p.stdout


def parse_forecast(stdout, h):
    rows = [r for r in csv.reader(io.StringIO(stdout)) if r]
    if len(rows) < 2:
        raise Failure(f"forecast printed {len(rows)} CSV lines, want a header and rows")
    header = [c.strip() for c in rows[0]]
    try:
        cols = [header.index(f"h{k}") for k in range(1, h + 1)]
    except ValueError:
        raise Failure(f"forecast header {','.join(header)[:80]} lacks h1..h{h}")
    try:
        fc = [float(rows[-1][c]) for c in cols]
    except (IndexError, ValueError):
        raise Failure(f"forecast's last row is not {h} numbers: {','.join(rows[-1])[:80]}")
    if not all(math.isfinite(v) for v in fc):
        raise Failure("forecast's last row is not finite")
    return fc


def run_rnnstream(binary, extra, s, tmp, timeout):
    train_csv = os.path.join(tmp, s["name"] + ".csv")
    model = os.path.join(tmp, s["name"] + ".safetensors")
    with open(train_csv, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["time", "value"])
        w.writerows(s["text"][:-s["h"]])
    t0 = time.perf_counter()
    run_cmd([binary, "train", "--task", "forecast", "-i", train_csv, "--target", "value",
             "--time-column", "time", "--horizon", str(s["h"]), "--season", str(s["m"]),
             "-o", model, "-q", *extra], timeout)
    out = run_cmd([binary, "forecast", "-m", model, "-i", train_csv], timeout)
    return parse_forecast(out, s["h"]), time.perf_counter() - t0


# ------------------------------------------------------------------ report

def fmt(v, width, digits):
    return f"{v:{width}.{digits}f}" if v < 1e6 else f"{v:{width}.4g}"


def means(scores, methods, names):
    """Mean MASE, sMAPE, RMSE, RMSE relative to snaive's, wins, seconds."""
    print(f"  {'method':<12} {'series':>6} {'MASE':>7} {'sMAPE %':>8} {'RMSE':>10} "
          f"{'RMSE/snaive':>11} {'wins':>5} {'seconds':>8}")
    wins = {m: 0 for m in methods}
    for n in names:
        got = {m: scores[n, m] for m in methods if (n, m) in scores}
        if got:
            best = min(v["MASE"] for v in got.values())
            for m, v in got.items():
                wins[m] += v["MASE"] <= best * (1 + TIE)
    for m in methods:
        rows = [scores[n, m] for n in names if (n, m) in scores]
        if not rows:
            print(f"  {m:<12} {0:>6}   (no series)")
            continue
        mean = {k: sum(r[k] for r in rows) / len(rows) for k in ("MASE", "sMAPE", "RMSE", "s")}
        rel = [scores[n, m]["RMSE"] / scores[n, "snaive"]["RMSE"] for n in names
               if (n, m) in scores and (n, "snaive") in scores and scores[n, "snaive"]["RMSE"]]
        rel_s = f"{sum(rel) / len(rel):11.3f}" if rel else f"{'-':>11}"
        print(f"  {m:<12} {len(rows):>6} {mean['MASE']:7.3f} {mean['sMAPE']:8.2f} "
              f"{fmt(mean['RMSE'], 10, 1)} {rel_s} {wins[m]:>5} {sum(r['s'] for r in rows):8.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--panel", default="panel", choices=("panel", "holdout"),
                    help="which panel (default: panel, the one the recipe was chosen on)")
    ap.add_argument("--rnnstream", metavar="PATH", help="also score this rnnstream executable")
    ap.add_argument("--args", default="", metavar="ARGS",
                    help="extra arguments for `rnnstream train` (one shell-quoted string)")
    ap.add_argument("--timeout", type=float, default=900, metavar="S",
                    help="seconds each rnnstream command may take (default 900)")
    ap.add_argument("--r-dir", metavar="DIR",
                    help="keep R's forecasts in DIR and reuse them when already there "
                    "(for runs that change only rnnstream)")
    opt = ap.parse_args()
    try:
        extra = shlex.split(opt.args)
    except ValueError as e:
        ap.error(f"--args: {e}")
    if opt.args and not opt.rnnstream:
        ap.error("--args needs --rnnstream")

    started = time.perf_counter()
    panel = read_panel(opt.panel)
    methods = list(R_METHODS)
    failures = {}
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-forecast-") as tmp:
        try:
            results, versions, failures = run_r(tmp, opt.panel, opt.r_dir)
        except Failure as e:
            versions = f"R baselines failed: {e}"
        if opt.rnnstream:
            methods.append("rnnstream")
            binary = os.path.abspath(opt.rnnstream)
            for s in panel:
                print(f"rnnstream: {s['name']} ...", file=sys.stderr, flush=True)
                try:
                    results[s["name"], "rnnstream"] = run_rnnstream(binary, extra, s, tmp,
                                                                    opt.timeout)
                except Failure as e:
                    failures[s["name"], "rnnstream"] = str(e)

    r_ran = any(m != "rnnstream" for _, m in results)
    print(versions)
    if opt.rnnstream:
        print(f"rnnstream: {binary}" + (f" (train {opt.args})" if opt.args else ""))
    print(f"panel {opt.panel}: {len(panel)} series; train = all rows but the last H, "
          "test = the last H\n")

    scores = {}
    for s in panel:
        n = s["name"]
        print(f"{n}  {s['kind']}  m={s['m']}  H={s['h']}  rows={s['rows']} "
              f"(train {len(s['train'])})")
        print(f"  {'method':<12} {'MASE':>7} {'sMAPE %':>8} {'RMSE':>10} {'seconds':>8}")
        for m in methods:
            if (n, m) in results:
                fc, secs = results[n, m]
                sc = scores[n, m] = dict(metrics(s["train"], s["test"], fc, s["m"]), s=secs)
                print(f"  {m:<12} {sc['MASE']:7.3f} {sc['sMAPE']:8.2f} "
                      f"{fmt(sc['RMSE'], 10, 2)} {secs:8.2f}")
            elif r_ran or m == "rnnstream":
                print(f"  {m:<12} failed: {failures.get((n, m), 'no forecast')}")
        print()

    names = [s["name"] for s in panel]
    print(f"Panel means ({len(names)} series; RMSE is in each series' units, so its mean "
          "is the large series'; wins are on MASE, ties each count)")
    means(scores, methods, names)
    common = [n for n in names if all((n, m) in scores for m in methods)]
    if 0 < len(common) < len(names):
        print(f"\nOn the {len(common)} series every method forecast")
        means(scores, methods, common)
    print(f"\ntotal {time.perf_counter() - started:.1f} s")
    return 0 if r_ran else 1


if __name__ == "__main__":
    sys.exit(main())
