#!/usr/bin/env python3
"""End-to-end tests of the rnnstream command line: real processes, real
files and pipes. Standard library only, so CI needs no extra packages.

Usage: test_cli.py PATH/TO/rnnstream
"""
import datetime
import json
import math
import os
import re
import select
import struct
import subprocess
import sys
import tempfile
import time
import traceback

EXE = sys.argv[1]
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.environ["RS_TEST_FIXTURES"]
DEMO = os.path.join(ROOT, "models", "demo-forecast.safetensors")
DEMO_IN = os.path.join(ROOT, "models", "demo-input.csv")
DEMO_OUT = os.path.join(ROOT, "models", "demo-expected.csv")
DEMO_SERIES = os.path.join(ROOT, "models", "demo-series.csv")
DIGITS = os.path.join(ROOT, "models", "digits.safetensors")

passed = 0
failed = 0


def run(*args, stdin=None, env=None):
    return subprocess.run([EXE, *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32"
        b, e = info["data_offsets"]
        raw = data[8 + n + b:8 + n + e]
        vals = struct.unpack("<%df" % (len(raw) // 4), raw)
        rows = info["shape"][0]
        cols = len(vals) // rows
        out[name] = [list(vals[r * cols:(r + 1) * cols]) for r in range(rows)]
    return out


def parse_csv(text):
    return [[float(v) for v in line.split(",")] for line in text.splitlines() if line]


def max_diff(a, b):
    assert len(a) == len(b), (len(a), len(b))
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def check(name, func):
    global passed, failed
    try:
        func()
        passed += 1
        print("ok - %s" % name)
    except Exception as e:  # noqa: BLE001 - report any failure and go on
        failed += 1
        print("not ok - %s: %r" % (name, e))
        print("".join("# " + line for line in traceback.format_exc().splitlines(True)))


def test_plugins():
    r = run("plugins")
    assert r.returncode == 0, r.stderr
    names = [line.split()[0] for line in r.stdout.splitlines()[1:]]
    assert names == ["gru", "lstm", "rnn_relu", "rnn_tanh"], names
    assert os.environ["RS_TEST_PLUGINS"] in r.stdout


def test_plugins_refusal_reported():
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "garbage.so")
        with open(bad, "w") as f:
            f.write("not a library\n")
        env = dict(os.environ, RNNSTREAM_PLUGIN_PATH=d)
        r = run("plugins", env=env)
        assert r.returncode == 0, r.stderr
        assert bad in r.stderr and "not a loadable shared object" in r.stderr, r.stderr


def test_inspect():
    r = run("inspect", DEMO)
    assert r.returncode == 0, r.stderr
    for phrase in ("cell:         gru", "input size:   3", "output size:  1", "parameters:",
                   "metadata:", "tensors:"):
        assert phrase in r.stdout, (phrase, r.stdout)


def test_apply_matches_pytorch():
    r = run("apply", "-m", DEMO, "-i", DEMO_IN)
    assert r.returncode == 0, r.stderr
    with open(DEMO_OUT) as f:
        expected = parse_csv(f.read())
    assert max_diff(parse_csv(r.stdout), expected) <= 1e-5


def test_apply_chunks_identical():
    outs = [run("apply", "-m", DEMO, "-i", DEMO_IN, *extra).stdout
            for extra in ([], ["--chunk", "1"], ["--chunk", "7"], ["--chunk", "100000"])]
    assert outs[0] and all(o == outs[0] for o in outs)
    with open(DEMO_IN) as f:
        piped = run("apply", "-m", DEMO, stdin=f.read()).stdout
    assert piped == outs[0]


def test_apply_bidirectional():
    model = os.path.join(FIXTURES, "gru_l2_bidir_head.safetensors")
    io = read_safetensors(os.path.join(FIXTURES, "gru_l2_bidir_head.io.safetensors"))
    text = "\n".join(",".join("%.9g" % v for v in row) for row in io["input"]) + "\n"
    r = run("apply", "-m", model, stdin=text)
    assert r.returncode == 0, r.stderr
    assert max_diff(parse_csv(r.stdout), io["output"]) <= 1e-5
    r = run("apply", "-m", model, "--chunk", "1", stdin=text)
    assert r.returncode == 1 and "bidirectional" in r.stderr, r.stderr


def stream_rows(args, header, rows, head_lines=0):
    """Runs rnnstream ARGS with rows written to its standard input one at
    a time: after the header (and its head_lines of output), each row must
    be answered by one output line within 10 s, before the next goes in.
    Returns the output lines."""
    p = subprocess.Popen([EXE, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1)
    try:
        p.stdin.write(header + "\n")
        p.stdin.flush()
        out = [p.stdout.readline() for _ in range(head_lines)]
        for row in rows:
            p.stdin.write(row + "\n")
            p.stdin.flush()
            ready, _, _ = select.select([p.stdout], [], [], 10)
            assert ready, "no output for row %r within 10 s" % row
            out.append(p.stdout.readline())
        p.stdin.close()
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()
    return out


def test_apply_streams_row_by_row():
    """Each output row must come out before the next input row goes in."""
    out = stream_rows(["apply", "-m", DEMO], "value,month_sin,month_cos",
                      ["%g,0.5,-0.5" % (i * 0.1) for i in range(5)])
    assert all(len(line.strip().split(",")) == 1 for line in out), out


def test_interrupt_flushes_and_exits_cleanly():
    """Ctrl-C while waiting for input ends the stream: rows already answered
    stay answered, the file output is completed, the exit status is 0."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.csv")
        p = subprocess.Popen([EXE, "apply", "-m", DEMO, "-o", out], stdin=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        try:
            p.stdin.write("1,0,1\n2,0.5,0.8\n")
            p.stdin.flush()
            time.sleep(0.5)
            p.send_signal(2)
            assert p.wait(timeout=10) == 0, p.stderr.read()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdin.close()
            p.stderr.close()
        with open(out) as f:
            assert len(f.read().splitlines()) == 2


def test_apply_bad_rows():
    for text, line, phrase in (("1,2,3\n4,5\n", 2, "2 fields, expected 3"),
                               ("value,a,b\n1,2,3\n4,x,6\n", 3,
                                "column 'a' (2): 'x' is not a number"),
                               ("1,2,3\n1,2,nan\n", 2, "column 3: missing value 'nan'"),
                               ("1,2,3\n1,2,inf\n", 2, "column 3: 'inf' is not a number"),
                               ("1,2,1e39\n", 1, "column 3: 1e+39 is beyond the float range"),
                               ("1,2\n", 1, "2 values per row, expected 3 (what the next "
                                "stage takes)")):
        r = run("apply", "-m", DEMO, stdin=text)
        assert r.returncode == 1, (text, r.returncode)
        assert "<stdin>:%d: %s" % (line, phrase) in r.stderr, r.stderr


def test_apply_output_atomic():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.csv")
        bad_in = os.path.join(d, "in.csv")
        with open(bad_in, "w") as f:
            f.write("1,2,3\n" * 10 + "1,2\n")
        r = run("apply", "-m", DEMO, "-i", bad_in, "-o", out)
        assert r.returncode == 1 and bad_in + ":11:" in r.stderr, r.stderr
        assert os.listdir(d) == ["in.csv"], os.listdir(d)
        r = run("apply", "-m", DEMO, "-i", DEMO_IN, "-o", out)
        assert r.returncode == 0, r.stderr
        with open(out) as f:
            assert len(f.read().splitlines()) == 120
        assert sorted(os.listdir(d)) == ["in.csv", "out.csv"]


def test_run_inline_and_shipped():
    inline = "csvsrc location=%s ! model path=%s ! csvsink" % (DEMO_IN, DEMO)
    r = run("run", inline)
    assert r.returncode == 0, r.stderr
    shipped = run("run", "apply", "--set", "model.path=" + DEMO, "--set",
                  "csvsrc.location=" + DEMO_IN)
    assert shipped.returncode == 0, shipped.stderr
    direct = run("apply", "-m", DEMO, "-i", DEMO_IN)
    assert r.stdout == shipped.stdout == direct.stdout and r.stdout
    r = run("run", "apply", "--set", "model.path=m.safetensors", "--print")
    assert r.returncode == 0 and "! model path=m.safetensors" in r.stdout, r.stdout
    r = run("run", "--elements")
    assert r.returncode == 0 and "csvsrc:" in r.stdout and "precision" in r.stdout, r.stdout


def test_jsonsink():
    r = run("run", "csvsrc location=%s ! model path=%s ! jsonsink" % (DEMO_IN, DEMO))
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    csv_rows = parse_csv(run("apply", "-m", DEMO, "-i", DEMO_IN).stdout)
    assert [row["index"] for row in rows] == list(range(120))
    assert [row["values"] for row in rows] == csv_rows


def test_stats():
    r = run("apply", "-m", DEMO, "-i", DEMO_IN, "--chunk", "10", "--stats")
    assert r.returncode == 0, r.stderr
    assert "frames: 120 in, 120 out" in r.stderr, r.stderr
    for stage in ("csvsrc", "model", "csvsink", "per block"):
        assert "\n" + stage in r.stderr, r.stderr
    assert "model: gru, 1 layer(s), hidden 32, 3 -> 1 values per frame, streaming" in r.stderr


def test_run_errors():
    r = run("run", "csvsrc ! modle ! csvsink")
    assert r.returncode == 1, r.returncode
    assert "<command line>:1:10: unknown element 'modle'" in r.stderr, r.stderr
    r = run("run", "apply", "--set", "model.pth=x")
    assert r.returncode == 2 and "has no parameter 'pth'" in r.stderr, r.stderr
    r = run("run", "apply")
    assert r.returncode == 1 and "needs parameter 'path'" in r.stderr, r.stderr


def test_batch_with_a_bad_file():
    with tempfile.TemporaryDirectory() as d:
        inputs = []
        for name, text in (("a.csv", "1,2,3\n4,5,6\n"), ("bad.csv", "1,2,3\n4,x,6\n"),
                           ("c.csv", "7,8,9\n")):
            path = os.path.join(d, name)
            with open(path, "w") as f:
                f.write(text)
            inputs.append(path)
        out = os.path.join(d, "out")
        args = ["batch", "apply", "--set", "model.path=" + DEMO, "-d", out, "-j", "2"] + inputs
        r = run(*args)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert inputs[1] + ": " in r.stderr, r.stderr
        assert "bad.csv:2: column 2: 'x' is not a number" in r.stderr, r.stderr
        assert "3 inputs: 2 done, 0 skipped (output exists), 1 failed" in r.stderr, r.stderr
        assert sorted(os.listdir(out)) == ["a.csv", "c.csv"], os.listdir(out)
        with open(os.path.join(out, "a.csv")) as f:
            assert f.read() == run("apply", "-m", DEMO, "-i", inputs[0]).stdout
        # A second run resumes: the finished inputs are skipped.
        r = run(*args)
        assert "3 inputs: 0 done, 2 skipped (output exists), 1 failed" in r.stderr, r.stderr
        r = run("batch", "apply", "-d", out, inputs[0], os.path.join(d, "x", "a.csv"))
        assert r.returncode == 2 and "would both write" in r.stderr, r.stderr


def test_errors():
    r = run("apply", "-m", "/nonexistent.safetensors", stdin="")
    assert r.returncode == 1 and "/nonexistent.safetensors" in r.stderr, r.stderr
    r = run("apply", "-m", DEMO, "-i", "/nonexistent.csv")
    assert r.returncode == 1 and "/nonexistent.csv" in r.stderr, r.stderr
    r = run("apply")
    assert r.returncode == 2 and "no model" in r.stderr, r.stderr
    r = run("apply", "-m", DEMO, "--chunk", "-3")
    assert r.returncode == 2, r.stderr
    r = run("frobnicate")
    assert r.returncode == 2, r.stderr
    r = run("inspect", DEMO_IN)
    assert r.returncode == 1 and DEMO_IN in r.stderr, r.stderr


FEATURES = os.path.join(FIXTURES, "features")


def wav(name):
    return os.path.join(FEATURES, name + ".wav")


def test_features_match_kaldi():
    ref16 = read_safetensors(os.path.join(FEATURES, "front_center_16k.safetensors"))
    ref8 = read_safetensors(os.path.join(FEATURES, "front_center_8k.safetensors"))
    for args, ref, tol in (
            ([wav("front_center_16k")], ref16["mfcc_default"], 2e-3),
            (["--snip-edges=false", wav("front_center_16k")], ref16["mfcc_nosnip"], 2e-3),
            (["--type=fbank", "--num-mel-bins=40", wav("front_center_16k")],
             ref16["fbank_40"], 1e-3),
            (["--window-type=hamming", wav("front_center_16k")], ref16["mfcc_hamming"], 2e-3),
            ([wav("front_center_8k")], ref8["mfcc_default"], 2e-3)):
        r = run("features", *args)
        assert r.returncode == 0, (args, r.stderr)
        assert max_diff(parse_csv(r.stdout), ref) <= tol, args


def test_features_pipeline_stages():
    ref = read_safetensors(os.path.join(FEATURES, "front_center_16k.safetensors"))
    r = run("run", "filesrc location=%s chunk=160 ! mfcc ! deltas ! csvsink"
            % wav("front_center_16k"))
    assert r.returncode == 0, r.stderr
    assert max_diff(parse_csv(r.stdout), ref["deltas_default"]) <= 2e-3
    # The shipped pipeline and the command are one code path.
    shipped = run("run", "mfcc", "--set", "filesrc.location=" + wav("front_center_16k"))
    assert shipped.returncode == 0 and shipped.stdout == run(
        "features", wav("front_center_16k")).stdout


def test_features_resampled():
    r = run("features", "--sample-frequency=8000", "--stats", wav("front_center_16k"))
    assert r.returncode == 0, r.stderr
    assert "16000 Hz -> 8000 Hz (resampled)" in r.stderr, r.stderr
    rows = parse_csv(r.stdout)
    # 22848 samples at 16 kHz are 11424 at 8 kHz: 1 + (11424 - 200) // 80 frames.
    assert len(rows) == 141 and len(rows[0]) == 13, (len(rows), len(rows[0]))


def test_features_errors():
    with tempfile.TemporaryDirectory() as d:
        bad = os.path.join(d, "bad.wav")
        with open(bad, "wb") as f:
            f.write(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk")
        r = run("features", bad)
        assert r.returncode == 1 and bad in r.stderr, r.stderr
    for args, message in (
            (["--num-mel-bins=many"], "num-mel-bins"),
            (["--frobnicate=1"], "frobnicate"),
            (["--window-type=kaiser"], "kaiser"),
            (["--type=plp"], "--type must be mfcc or fbank")):
        r = run("features", *args, wav("front_center_16k"))
        assert r.returncode in (1, 2) and message in r.stderr, (args, r.stderr)
        assert r.stdout == "", args
    # A shape mismatch is caught while the pipeline is set up, before any
    # audio is read: 13 MFCCs into a model that wants 3 values per frame.
    r = run("run", "filesrc location=%s ! mfcc ! model path=%s ! csvsink"
            % (wav("front_center_16k"), DEMO))
    assert r.returncode == 1 and "13" in r.stderr and "3" in r.stderr, r.stderr
    assert r.stdout == "", r.stdout


def test_batch_audio_with_a_corrupt_file():
    with tempfile.TemporaryDirectory() as d:
        inputs = [wav("front_center_16k"), os.path.join(d, "corrupt.wav"), wav("rear_left_8k")]
        with open(inputs[1], "wb") as f:
            f.write(b"RIFF" + bytes(range(256)) * 4)
        out = os.path.join(d, "out")
        r = run("batch", "mfcc", "-d", out, "-j", "2", *inputs)
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert inputs[1] + ": " in r.stderr, r.stderr
        assert "3 inputs: 2 done, 0 skipped (output exists), 1 failed" in r.stderr, r.stderr
        assert "h of audio" in r.stderr, r.stderr
        assert sorted(os.listdir(out)) == ["front_center_16k.csv", "rear_left_8k.csv"], \
            os.listdir(out)
        with open(os.path.join(out, "rear_left_8k.csv")) as f:
            assert f.read() == run("features", inputs[2]).stdout


# CSV series and the time-series elements. Every number is recomputed here
# in Python, from the definitions, not from rnnstream's code.


def write_file(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def labelled(text):
    """CSV rows with a label first: [(label, [values])]."""
    out = []
    for line in text.splitlines():
        fields = line.split(",")
        out.append((fields[0], [float(v) for v in fields[1:]]))
    return out


def assert_close(got, expected, tol=1e-6):
    """Rows of floats equal to float precision (relative), same shape."""
    assert len(got) == len(expected), (len(got), len(expected))
    for r, (g, e) in enumerate(zip(got, expected)):
        assert len(g) == len(e), (r, g, e)
        for x, y in zip(g, e):
            assert abs(x - y) <= tol * max(1.0, abs(y)), (r, g, e)


def with_normalisation(src, dst, normalisation, key="normalisation"):
    """A copy of the safetensors file src with metadata key (normalisation)
    set to a JSON text: the tensors' bytes are kept, the header is
    rewritten."""
    with open(src, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.setdefault("__metadata__", {})[key] = normalisation
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(dst, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data[8 + n:])


def test_csv_columns_and_time_column():
    with tempfile.TemporaryDirectory() as d:
        path = write_file(d, "in.csv", "date,a,b,c\n2024-01-01,1,2,3\n2024-01-02,4,5,6\n")
        by_name = run("run", "csvsrc location=%s time-column=date columns=c,a ! csvsink" % path)
        assert by_name.returncode == 0, by_name.stderr
        assert by_name.stdout == "2024-01-01,3,1\n2024-01-02,6,4\n", by_name.stdout
        # Indices count from 1, as cut and awk do.
        by_index = run("run", "csvsrc location=%s time-column=1 columns=4,2 ! csvsink" % path)
        assert by_index.stdout == by_name.stdout, by_index.stdout
        every = run("run", "csvsrc location=%s time-column=date ! csvsink" % path)
        assert every.stdout == "2024-01-01,1,2,3\n2024-01-02,4,5,6\n", every.stdout
        r = run("run", "csvsrc location=%s time-column=date columns=b ! jsonsink" % path)
        assert [json.loads(line) for line in r.stdout.splitlines()] == [
            {"index": 0, "label": "2024-01-01", "values": [2]},
            {"index": 1, "label": "2024-01-02", "values": [5]}], r.stdout
        # Without a time column the dates are values, which they are not.
        r = run("run", "csvsrc location=%s ! csvsink" % path)
        assert r.returncode == 1, r.returncode
        assert "%s:2: column 'date' (1): '2024-01-01' is not a number" % path in r.stderr, \
            r.stderr
        r = run("run", "csvsrc location=%s columns=a,price ! csvsink" % path)
        assert r.returncode == 1, r.returncode
        assert "%s:1: no column 'price'; the columns are 'date', 'a', 'b', 'c'" % path \
            in r.stderr, r.stderr
        # A time that holds the delimiter stays one field on the way out.
        path = write_file(d, "comma.csv", 'when;v\n"2024-01-01, 09:00";2.5\n')
        r = run("run", "csvsrc location=%s delimiter=; time-column=when ! csvsink" % path)
        assert r.stdout == '"2024-01-01, 09:00",2.5\n', (r.stdout, r.stderr)


def test_csv_header_detection():
    with tempfile.TemporaryDirectory() as d:
        bare = write_file(d, "bare.csv", "1,2\n3,4\n")
        named = write_file(d, "named.csv", "x,y\n1,2\n")
        for path, header, out in ((bare, "auto", "1,2\n3,4\n"), (bare, "yes", "3,4\n"),
                                  (named, "auto", "1,2\n")):
            r = run("run", "csvsrc location=%s header=%s ! csvsink" % (path, header))
            assert r.returncode == 0 and r.stdout == out, (path, header, r.stdout, r.stderr)
        r = run("run", "csvsrc location=%s header=no ! csvsink" % named)
        assert r.returncode == 1, r.returncode
        assert "%s:1: column 1: 'x' is not a number" % named in r.stderr, r.stderr


def test_csv_missing_policies():
    rows = [(0, "1", "10"), (1, "", "20"), (2, "NA", "NaN"), (3, "4", "40"), (4, "5", "-nan")]
    text = "t,a,b\n" + "".join("%d,%s,%s\n" % row for row in rows)

    def value(v):
        return None if v.lower().lstrip("+-") in ("", "na", "nan") else float(v)

    columns = [[value(row[1]) for row in rows], [value(row[2]) for row in rows]]

    def held(col):
        out, last = [], None
        for v in col:
            last = v if v is not None else last
            out.append(last)
        return out

    def interpolated(col):
        out = list(col)
        known = [i for i, v in enumerate(col) if v is not None]
        for i0, i1 in zip(known, known[1:]):
            for i in range(i0 + 1, i1):
                out[i] = col[i0] + (col[i1] - col[i0]) * (i - i0) / (i1 - i0)
        return out

    with tempfile.TemporaryDirectory() as d:
        path = write_file(d, "gaps.csv", text)
        r = run("run", "csvsrc location=%s time-column=t ! csvsink" % path)
        assert r.returncode == 1, r.returncode
        assert "%s:3: column 'a' (2): missing value (empty field)" % path in r.stderr, r.stderr
        r = run("run", "csvsrc location=%s time-column=t missing=skip ! csvsink" % path,
                "--stats")
        assert r.returncode == 0, r.stderr
        assert labelled(r.stdout) == [(str(row[0]), [value(row[1]), value(row[2])])
                                      for row in rows
                                      if value(row[1]) is not None
                                      and value(row[2]) is not None], r.stdout
        assert "missing values: skip, 3 row(s) skipped" in r.stderr, r.stderr
        for policy, fill in (("hold", held), ("interpolate", interpolated)):
            r = run("run", "csvsrc location=%s time-column=t missing=%s ! csvsink"
                    % (path, policy))
            assert r.returncode == (0 if policy == "hold" else 1), (policy, r.stderr)
            a, b = fill(columns[0]), fill(columns[1])
            expected = [(str(row[0]), [a[i], b[i]]) for i, row in enumerate(rows)
                        if a[i] is not None and b[i] is not None]
            if policy == "interpolate":
                # b's last gap never closes: the rows held for it are dropped
                # and the end says so.
                expected = expected[:4]
                assert "%s:6: column 'b' (3): missing value at the end of the input" % path \
                    in r.stderr, r.stderr
            assert labelled(r.stdout) == expected, (policy, r.stdout)


def test_csv_malformed_rows_named():
    with tempfile.TemporaryDirectory() as d:
        for text, line, phrase in (("a,b\n1,2\n3\n", 3, "1 field, expected 2"),
                                   ("a,b\n1,2\n\n# note\n3,\"4\n", 5,
                                    "field 2: unterminated quoted field"),
                                   ("a,b\n1,2\n1,1e999\n", 3,
                                    "column 'b' (2): '1e999' is beyond the double range"),
                                   ("a,b\n1,2\n1,0x10\n", 3,
                                    "column 'b' (2): '0x10' is not a number"),
                                   ("a\n1e300\n", 2, "column 'a': 1e+300 is beyond the float "
                                    "range")):
            path = write_file(d, "bad.csv", text)
            r = run("run", "csvsrc location=%s ! csvsink" % path)
            assert r.returncode == 1, (text, r.returncode)
            assert "%s:%d: %s" % (path, line, phrase) in r.stderr, (text, r.stderr)


# A daily-ish series of two values with datetimes crossing a month, a
# quarter and a year, for the feature elements.
SERIES_TIMES = [(datetime.datetime(2023, 11, 25, 6, 30)
                 + datetime.timedelta(days=3 * i, hours=5 * i, minutes=7 * i,
                                      seconds=15 * i)).isoformat() for i in range(10)]
SERIES = [[112, 10.5], [118, 11], [132, 9.25], [129, 12], [121, 12.5], [135, 8],
          [148, 7.5], [148, 13], [136, 10], [119, 11.75]]
SERIES_CSV = "time,x,y\n" + "".join("%s,%g,%g\n" % (t, v[0], v[1])
                                    for t, v in zip(SERIES_TIMES, SERIES))


def run_series(d, stages, *extra):
    path = write_file(d, "series.csv", SERIES_CSV)
    r = run("run", "csvsrc location=%s time-column=time ! %s ! csvsink" % (path, stages), *extra)
    assert r.returncode == 0, (stages, r.stderr)
    return labelled(r.stdout), r.stderr


def test_lags_and_diff_numbers():
    with tempfile.TemporaryDirectory() as d:
        got, _ = run_series(d, "lags lags=3")
        assert [g[0] for g in got] == SERIES_TIMES[2:]
        assert_close([g[1] for g in got],
                     [SERIES[t - 2] + SERIES[t - 1] + SERIES[t] for t in range(2, 10)])
        got, err = run_series(d, "lags lags=3 zero-pad=true", "--stats")
        padded = [[0, 0]] * 2 + SERIES
        assert_close([g[1] for g in got], [padded[t] + padded[t + 1] + padded[t + 2]
                                           for t in range(10)])
        assert "lags: 3 rows of 2 values -> 6, oldest first; zero-padded; 10 rows in, " \
               "10 frames out" in err, err

        got, _ = run_series(d, "diff")
        assert [g[0] for g in got] == SERIES_TIMES[1:]
        assert_close([g[1] for g in got], [[a - b for a, b in zip(SERIES[t], SERIES[t - 1])]
                                           for t in range(1, 10)])
        # Seasonal lag 3, then two ordinary differences.
        got, err = run_series(d, "diff order=2 seasonal-lag=3", "--stats")
        s = {t: [a - b for a, b in zip(SERIES[t], SERIES[t - 3])] for t in range(3, 10)}
        d1 = {t: [a - b for a, b in zip(s[t], s[t - 1])] for t in range(4, 10)}
        d2 = [[a - b for a, b in zip(d1[t], d1[t - 1])] for t in range(5, 10)]
        assert [g[0] for g in got] == SERIES_TIMES[5:]
        assert_close([g[1] for g in got], d2)
        assert "diff: order 2, seasonal lag 3: the first 5 rows fill the history; 10 rows " \
               "in, 5 frames out" in err, err


def test_standardize_numbers():
    with tempfile.TemporaryDirectory() as d:
        # Running: mean and population deviation of the rows so far, this one
        # included; 0 while they do not vary.
        got, err = run_series(d, "standardize", "--stats")
        expected = []
        for t in range(10):
            row = []
            for c in range(2):
                seen = [SERIES[k][c] for k in range(t + 1)]
                mean = sum(seen) / len(seen)
                std = (sum((v - mean) ** 2 for v in seen) / len(seen)) ** 0.5
                row.append((SERIES[t][c] - mean) / std if std > 0 else 0.0)
            expected.append(row)
        assert_close([g[1] for g in got], expected, 1e-5)
        assert [g[0] for g in got] == SERIES_TIMES
        means = [sum(row[c] for row in SERIES) / len(SERIES) for c in range(2)]
        assert "standardize: z = (x - mean) / std, running mean and std over 10 rows; at the " \
               "end: mean %.6g, %.6g" % tuple(means) in err, err
        got, _ = run_series(d, "standardize mean=100,10 std=20,2")
        assert_close([g[1] for g in got], [[(x - 100) / 20, (y - 10) / 2] for x, y in SERIES])
        # One pair for every value; the inverse undoes it.
        got, _ = run_series(d, "standardize mean=100 std=20")
        assert_close([g[1] for g in got], [[(x - 100) / 20, (y - 100) / 20] for x, y in SERIES])
        got, _ = run_series(d, "standardize mean=100 std=20 ! standardize name=back invert=true "
                            "mean=100 std=20")
        assert_close([g[1] for g in got], SERIES)


def test_calendar_numbers():
    with tempfile.TemporaryDirectory() as d:
        got, err = run_series(d, "calendar features=hour,weekday,quarter,month,position",
                              "--stats")
        expected = []
        for t, text in enumerate(SERIES_TIMES):
            when = datetime.datetime.fromisoformat(text)
            month = 2 * math.pi * (when.month - 1) / 12
            day = 2 * math.pi * when.weekday() / 7
            hour = 2 * math.pi * (when.hour + when.minute / 60 + when.second / 3600) / 24
            quarter = [1.0 if (when.month - 1) // 3 == q else 0.0 for q in range(4)]
            # The values first, then the features in their fixed order.
            expected.append(SERIES[t] + [t, math.sin(month), math.cos(month)] + quarter
                            + [math.sin(day), math.cos(day), math.sin(hour), math.cos(hour)])
        assert [g[0] for g in got] == SERIES_TIMES
        assert_close([g[1] for g in got], expected, 1e-6)
        assert "calendar: 2 values + 11 calendar features; times of kind datetime; 10 frames" \
            in err, err
        # Monthly times have no hour; a text that is no time is named.
        path = write_file(d, "monthly.csv", "m,v\n1949-01,1\n1949-02,2\n")
        r = run("run", "csvsrc location=%s time-column=m ! calendar features=hour ! csvsink"
                % path)
        assert r.returncode == 1, r.returncode
        assert "element calendar: frame 0: time '1949-01': a time of kind 'year-month' has no " \
               "hour" in r.stderr, r.stderr
        path = write_file(d, "odd.csv", "m,v\n1949-01,1\nlast week,2\n")
        r = run("run", "csvsrc location=%s time-column=m ! calendar features=month ! csvsink"
                % path)
        assert r.returncode == 1, r.returncode
        assert "element calendar: frame 1: time 'last week' is not a date or time" in r.stderr, \
            r.stderr
        r = run("run", "csvsrc location=%s ! calendar features=month ! csvsink" % DEMO_IN)
        assert r.returncode == 1, r.returncode
        assert "element calendar: frame 0 has no time: set the source's time-column=" \
            in r.stderr, r.stderr


def test_series_streams_row_by_row():
    """Through csvsrc, standardize and lags, each row is answered before the
    next one is written (tail -f file | rnnstream run ...)."""
    p = subprocess.Popen([EXE, "run", "csvsrc time-column=1 ! standardize ! lags lags=2 "
                          "! csvsink"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, bufsize=1)
    try:
        p.stdin.write("time,x,y\n")
        for t, (text, row) in enumerate(zip(SERIES_TIMES, SERIES)):
            p.stdin.write("%s,%g,%g\n" % (text, row[0], row[1]))
            p.stdin.flush()
            if t == 0:
                continue        # the first row only fills the window
            ready, _, _ = select.select([p.stdout], [], [], 10)
            assert ready, "no output for row %d within 10 s" % t
            line = p.stdout.readline()
            assert line.startswith(text + ",") and len(line.split(",")) == 5, line
        p.stdin.close()
        assert p.wait(timeout=10) == 0, p.stderr.read()
        assert p.stdout.read() == ""
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


def test_standardize_from_model():
    # The raw series is the demo input's first column, unscaled.
    with open(DEMO_IN) as f:
        scaled = [float(line.split(",")[0]) for line in f.read().splitlines()[1:]]
    with open(DEMO_SERIES) as f:
        series = labelled("\n".join(f.read().splitlines()[1:]))
    assert len(series) == len(scaled) == 120
    for t, ((month, (value,)), z) in enumerate(zip(series, scaled)):
        assert month == "%d-%02d" % (1949 + t // 12, t % 12 + 1), month
        assert abs((value - 250) / 100 - z) < 1e-9, (month, value, z)
    with open(DEMO_OUT) as f:
        forecast = [[250 + 100 * float(line)] for line in f.read().splitlines()]

    with tempfile.TemporaryDirectory() as d:
        model = os.path.join(d, "model.safetensors")
        # The demo model's scaling of its three inputs, as its metadata.
        with_normalisation(DEMO, model, '{"mean": [250, 0, 0], "std": [100, 1.0, 1]}')
        r = run("run", "csvsrc location=%s time-column=month ! calendar features=month "
                "! standardize from-model=%s ! model path=%s "
                "! standardize name=unscale invert=true mean=250 std=100 ! csvsink"
                % (DEMO_SERIES, model, model), "--stats")
        assert r.returncode == 0, r.stderr
        got = labelled(r.stdout)
        assert [g[0] for g in got] == [s[0] for s in series]
        assert max_diff([g[1] for g in got], forecast) <= 1e-3
        assert "standardize: z = (x - mean) / std, from %s mean and std: mean 250, 0, 0; " \
               "std 100, 1, 1" % model in r.stderr, r.stderr
        # The output's scaling from the model too, as rnnstream train records it.
        both = os.path.join(d, "both.safetensors")
        with_normalisation(model, both, '{"mean": 250, "std": 100}', key="target_normalisation")
        r = run("run", "csvsrc location=%s time-column=month ! calendar features=month "
                "! standardize from-model=%s ! model path=%s ! standardize name=unscale invert=true "
                "from-model=%s key=target_normalisation ! csvsink"
                % (DEMO_SERIES, both, both, both))
        assert r.returncode == 0, r.stderr
        assert max_diff([g[1] for g in labelled(r.stdout)], forecast) <= 1e-3

        for normalisation, phrase in (
                ('{"mean": [250], "std": [100, 1]}', "1 mean(s) from %s, but 2 std(s)" % model),
                ('{"mean": [250, 0], "std": [100, 1]}',
                 "2 means and stds (from %s), but the stage before it gives 3" % model),
                ('{"mean": [250, 0, 0], "std": [100, 0, 1]}',
                 "std 2 is 0: it must be finite and positive (from %s)" % model),
                ('[250, 100]', "%s: metadata 'normalisation' is not {\"mean\": [numbers], "
                 "\"std\": [numbers]}" % model)):
            with_normalisation(DEMO, model, normalisation)
            r = run("run", "csvsrc location=%s time-column=month ! calendar features=month "
                    "! standardize from-model=%s ! model path=%s ! csvsink"
                    % (DEMO_SERIES, model, model))
            assert r.returncode == 1, (normalisation, r.returncode)
            assert "element standardize: " + phrase in r.stderr, (normalisation, r.stderr)
            assert r.stdout == "", r.stdout


def test_series_elements_listed():
    r = run("run", "--elements")
    assert r.returncode == 0, r.stderr
    for phrase in ("lags:", "diff:", "standardize:", "calendar:", "forecast:", "time-column",
                   "missing", "from-model", "seasonal-lag", "zero-pad", "intervals"):
        assert phrase in r.stdout, (phrase, r.stdout)


EXAMPLE_CONFIG = os.path.join(ROOT, "models", "forecast-example.ini")


def seasonal_series(path, n=144):
    """Monthly: trend + a sine of period 12 + uniform noise from a seeded
    LCG (the same numbers on every machine). Returns the values."""
    seed = 12345
    values = []
    lines = ["month,value"]
    for t in range(n):
        seed = (seed * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        noise = (seed >> 11) / float(1 << 53) - 0.5
        v = 100 + 0.5 * t + 20 * math.sin(2 * math.pi * t / 12) + 4 * noise
        lines.append("%d-%02d,%.6f" % (1990 + t // 12, t % 12 + 1, v))
        values.append(float("%.6f" % v))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return values


def metadata(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    return json.loads(data[8:8 + n])["__metadata__"]


def forecast_rows(text):
    """forecast's CSV: the header's names and [(time, [values or None])]."""
    lines = text.splitlines()
    rows = []
    for line in lines[1:]:
        fields = line.split(",")
        rows.append((fields[0], [float(v) if v else None for v in fields[1:]]))
    return lines[0].split(","), rows


def test_train_forecasts_seasonal_series():
    """A known answer: trend + a season + uniform noise of deviation 1.15.
    Trained with the example recipe (the seasonal representation on logs,
    the season found from the months), forecast beats seasonal naive by
    far and comes within a small multiple of the noise; train's own
    validation score is forecast's."""
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "series.csv")
        y = seasonal_series(series)
        model = os.path.join(d, "model.safetensors")
        log = os.path.join(d, "log.csv")
        r = run("train", "--config", EXAMPLE_CONFIG, "-i", series, "-o", model,
                "--epochs", "120", "--log", log)
        assert r.returncode == 0, r.stderr
        lines = r.stderr.splitlines()
        assert lines[0].startswith("epoch 1/120  step "), lines[0]
        assert " windows/s  ETA " in lines[0], lines[0]
        assert lines[-1].startswith("train: ") and "best epoch" in lines[-1], lines[-1]
        assert "wrote " + model in lines[-1], lines[-1]

        meta = metadata(model)
        assert meta["cell"] == "gru" and meta["task"] == "forecast"
        assert json.loads(meta["inputs"]) == ["log value difference lag 1",
                                              "log value difference lag 12"], meta["inputs"]
        assert json.loads(meta["outputs"]) == ["value+1"]
        assert meta["target"] == "value" and meta["horizon"] == "1" and meta["season"] == "12"
        assert meta["time_column"] == "month" and json.loads(meta["covariates"]) == []
        fc = json.loads(meta["forecast"])
        assert fc["season"] == 12 and fc["log"] is True and fc["reference"] == "seasonal", fc
        n_train = int(len(y) * 0.8)
        # The inputs' statistics: the differences of logs over the training rows.
        d1 = [math.log(y[t]) - math.log(y[t - 1]) for t in range(12, n_train)]
        mean = sum(d1) / len(d1)
        assert abs(fc["inputs"]["mean"][0] - mean) < 1e-9, fc["inputs"]
        training = json.loads(meta["training"])
        assert training["rows"] == len(y) and training["settings"]["window"] == 12, training
        assert training["period"] == "monthly", training
        assert 1 <= training["best_epoch"] <= training["epochs"] <= 120, training

        r = run("forecast", "-m", model, "-i", series)
        assert r.returncode == 0, r.stderr
        names, got = forecast_rows(r.stdout)
        assert names == ["time", "h1"], names
        assert len(got) == len(y) and got[0][0] == "1990-01", got[:1]
        # The first season only fills the history.
        assert all(g[1] == [None] for g in got[:12]) and got[12][1][0] is not None, got[11:13]
        forecast = [g[1][0] for g in got]
        frames = range(n_train - 1, len(y) - 1)

        def rmse(pred):
            return math.sqrt(sum((pred(t) - y[t + 1]) ** 2 for t in frames) / len(frames))

        model_rmse = rmse(lambda t: forecast[t])
        seasonal_naive = rmse(lambda t: y[t - 11])
        print("# seasonal series: validation RMSE %.3f, seasonal naive %.3f, noise 1.15"
              % (model_rmse, seasonal_naive))
        assert model_rmse < 0.5 * seasonal_naive and model_rmse < 2.5, \
            (model_rmse, seasonal_naive)
        assert training["valid_metric_name"] == "valid RMSE (data units)", training
        assert abs(training["valid_metric"] - model_rmse) < 1e-3 * model_rmse, \
            (training["valid_metric"], model_rmse)
        assert len(training["losses"]["train"]) == training["epochs"], training

        with open(log) as f:
            rows = f.read().splitlines()
        assert rows[0] == "epoch,step,train_loss,valid_loss,valid_metric,lr,seconds", rows[0]
        assert len(rows) == 1 + training["epochs"], len(rows)
        first = rows[1].split(",")
        assert first[0] == "1" and float(first[5]) == 0.01, first
        assert all(math.isfinite(float(v)) for v in first[2:]), first

        # Row by row through a pipe: each forecast comes out before the next
        # row goes in, and the rows are those of the whole file.
        with open(series) as f:
            text = f.read().splitlines()
        streamed = stream_rows(["forecast", "-m", model], text[0], text[1:], head_lines=1)
        assert "".join(streamed) == r.stdout

        # The same forecasts as a pipeline of one's own.
        r = run("run", "csvsrc location=%s columns=value time-column=month ! forecast model=%s "
                "! csvsink" % (series, model))
        assert r.returncode == 0, r.stderr
        assert r.stdout.splitlines()[0] == "time,h1"
        assert [line for line in r.stdout.splitlines()[13:]] == \
            [line for line in forecast_text_lines(series, model)[13:]]


def test_default_recipe_serves_as_trained():
    """The default recipe on a positive monthly series: the trend reference
    with a multiplicative season, no logs. forecast over the file gives
    the validation RMSE train measured (every step of every validation
    frame), and it beats seasonal naive's on the same forecasts."""
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "series.csv")
        y = seasonal_series(series)
        model = os.path.join(d, "model.safetensors")
        train_forecaster(series, model, "--horizon", "3", "--epochs", "60")
        meta = metadata(model)
        fc = json.loads(meta["forecast"])
        assert fc["reference"] == "trend" and fc["multiplicative"] is True, fc
        assert fc["log"] is False and fc["season"] == 12, fc
        training = json.loads(meta["training"])
        names, rows = forecast_rows(forecast_text(series, model))
        assert all(r[1][0] is None for r in rows[:24]) and rows[24][1][0] is not None
        n_train = int(len(y) * 0.8)
        err, snaive = [], []
        for t in range(n_train - 1, len(y) - 1):
            for h in range(1, 4):
                if t + h < len(y):
                    err.append(rows[t][1][h - 1] - y[t + h])
                    snaive.append(y[t + h - 12] - y[t + h])
        rmse = math.sqrt(sum(e * e for e in err) / len(err))
        snaive_rmse = math.sqrt(sum(e * e for e in snaive) / len(snaive))
        print("# default recipe, 3 steps: validation RMSE %.3f, seasonal naive %.3f"
              % (rmse, snaive_rmse))
        assert abs(training["valid_metric"] - rmse) < 1e-3 * rmse, (training["valid_metric"], rmse)
        assert rmse < 0.5 * snaive_rmse, (rmse, snaive_rmse)


def forecast_text(series, model):
    r = run("forecast", "-m", model, "-i", series)
    assert r.returncode == 0, r.stderr
    return r.stdout


def forecast_text_lines(series, model):
    return forecast_text(series, model).splitlines()


def noisy_series(path, n, seed, sigma=1.0):
    """Monthly, a season of 12 plus Gaussian noise (seeded); the values."""
    import random
    rng = random.Random(seed)
    y = [50 + 10 * math.sin(2 * math.pi * t / 12) + rng.gauss(0, sigma) for t in range(n)]
    with open(path, "w") as f:
        f.write("month,value\n")
        for t, v in enumerate(y):
            f.write("%d-%02d,%.6f\n" % (1900 + t // 12, t % 12 + 1, v))
    return y


def train_forecaster(series, model, *settings):
    """A forecaster of series' value column, monthly, with the settings
    given (flags of rnnstream train), written to model."""
    r = run("train", "--task", "forecast", "-i", series, "--target", "value",
            "--time-column", "month", *settings, "-q", "-o", model)
    assert r.returncode == 0, r.stderr


def test_train_tests_the_season():
    """A daily series that does not repeat weekly trains without a season
    (the test's F below its critical value, in the model's metadata); a
    monthly one that repeats keeps its 12; --season-test no keeps 7."""
    import random
    rng = random.Random(3)
    with tempfile.TemporaryDirectory() as d:
        daily = os.path.join(d, "daily.csv")
        with open(daily, "w") as f:
            f.write("day,value\n")
            for t in range(150):
                day = datetime.date(2020, 1, 1) + datetime.timedelta(days=t)
                f.write("%s,%.4f\n" % (day.isoformat(), 60 + 0.1 * t + rng.gauss(0, 3)))
        monthly = os.path.join(d, "monthly.csv")
        seasonal_series(monthly)
        for series, column, flags, season, tested in (
                (daily, "day", [], 1, False), (monthly, "month", [], 12, True),
                (daily, "day", ["--season-test", "no"], 7, None)):
            model = os.path.join(d, "m.safetensors")
            r = run("train", "--task", "forecast", "-i", series, "--target", "value",
                    "--time-column", column, "--epochs", "2", "-q", "-o", model, *flags)
            assert r.returncode == 0, r.stderr
            meta = metadata(model)
            training = json.loads(meta["training"])
            assert meta["season"] == str(season), (series, meta["season"])
            if tested is None:
                assert "season_test" not in training, training
                continue
            test = training["season_test"]
            assert test["seasonal"] is tested and test["season"] == (7 if column == "day" else 12)
            assert (test["F"] > test["critical"]) is tested, test
            assert 2 < test["critical"] < 3.5, test


def test_forecast_intervals_cover():
    """80% and 95% intervals on a series of season plus Gaussian noise cover
    about that share of what follows (on rows the model never saw), the
    bounds bracket the forecast and widen with the step."""
    with tempfile.TemporaryDirectory() as d:
        train = os.path.join(d, "train.csv")
        noisy_series(train, 360, 1)
        model = os.path.join(d, "m.safetensors")
        train_forecaster(train, model, "--horizon", "3", "--hidden", "16", "--lr", "0.01",
                         "--epochs", "60", "--log-transform", "no")
        test = os.path.join(d, "test.csv")
        y = noisy_series(test, 600, 2)
        r = run("forecast", "-m", model, "-i", test, "--intervals", "80,95")
        assert r.returncode == 0, r.stderr
        names, rows = forecast_rows(r.stdout)
        assert names == ["time", "h1", "h2", "h3", "lo80_h1", "lo80_h2", "lo80_h3", "hi80_h1",
                         "hi80_h2", "hi80_h3", "lo95_h1", "lo95_h2", "lo95_h3", "hi95_h1",
                         "hi95_h2", "hi95_h3"], names
        inside = {80: 0, 95: 0}
        count = 0
        # The first two seasons only fill the trend reference's history.
        assert all(r[1][0] is None for r in rows[:24]) and rows[24][1][0] is not None
        for t in range(24, len(y) - 1):
            v = rows[t][1]
            for h in range(3):
                assert v[9 + h] <= v[3 + h] <= v[h] <= v[6 + h] <= v[12 + h], v
            count += 1
            inside[80] += v[3] <= y[t + 1] <= v[6]
            inside[95] += v[9] <= y[t + 1] <= v[12]
        c80, c95 = inside[80] / count, inside[95] / count
        print("# intervals on Gaussian noise: 80%% covers %.1f%%, 95%% covers %.1f%%"
              % (100 * c80, 100 * c95))
        assert 0.70 <= c80 <= 0.88 and 0.88 <= c95 <= 0.99, (c80, c95)
        r = run("forecast", "-m", model, "-i", test, "--intervals", "120")
        assert r.returncode == 1 and "120 is not a coverage" in r.stderr, r.stderr



def test_forecast_plot():
    """--plot draws a PNG of the size the command promises, after the CSV
    is complete: a path that cannot be written fails with one line naming
    it, and the forecasts (to a file or to stdout) are all there."""
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "series.csv")
        noisy_series(series, 120, 4)
        model = os.path.join(d, "m.safetensors")
        train_forecaster(series, model, "--horizon", "6", "--hidden", "8", "--epochs", "10")
        args = ["forecast", "-m", model, "-i", series, "--intervals", "80,95"]
        plain = run(*args)
        assert plain.returncode == 0, plain.stderr
        png, out = os.path.join(d, "f.png"), os.path.join(d, "f.csv")
        r = run(*args, "--plot", png, "-o", out)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        with open(png, "rb") as f:
            data = f.read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
        assert struct.unpack(">II", data[16:24]) == (1200, 600), data[16:24]
        assert 10000 < len(data) < 2000000, len(data)
        assert data[-8:-4] == b"IEND", data[-12:]
        with open(out) as f:
            assert f.read() == plain.stdout
        bad = os.path.join(d, "no", "f.png")
        r = run(*args, "--plot", bad, "-o", out + ".2")
        assert r.returncode == 1 and len(r.stderr.splitlines()) == 1 and bad in r.stderr, \
            r.stderr
        with open(out + ".2") as f:
            assert f.read() == plain.stdout
        r = run(*args, "--plot", bad)
        assert r.returncode == 1 and bad in r.stderr and r.stdout == plain.stdout, r.stderr
        assert not os.path.exists(os.path.dirname(bad))


def read_csv_dicts(path):
    import csv
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def py_scores(points):
    """MASE, sMAPE, RMSE of [(actual, forecast, scale)], M4's definitions
    as bench/bench-forecast.py has them, pooled over the points."""
    n = len(points)
    mase = sum(abs(y - f) / s for y, f, s in points) / n
    smape = sum(200 * abs(y - f) / (abs(y) + abs(f)) if y or f else 0.0
                for y, f, _ in points) / n
    rmse = math.sqrt(sum((y - f) ** 2 for y, f, _ in points) / n)
    return mase, smape, rmse


def backtest_expected(y, origins, forecasts, H, m):
    """{(origin, method, step): (MASE, sMAPE, RMSE)} with "all" for either,
    from the series y, the origin rows (0-based) and each origin's model
    forecasts, with the naive and seasonal naive forecasts made here."""
    points = {}
    for k, t in enumerate(origins):
        scale = sum(abs(y[i] - y[i - m]) for i in range(m, t + 1)) / (t + 1 - m)
        methods = {"model": forecasts[k], "naive": [y[t]] * H,
                   "snaive": [y[t + h - m * math.ceil(h / m)] for h in range(1, H + 1)]}
        for name, f in methods.items():
            for h in range(H):
                p = (y[t + 1 + h], f[h], scale)
                for key in ((k + 1, name, "all"), ("all", name, h + 1), ("all", name, "all")):
                    points.setdefault(key, []).append(p)
    return {key: py_scores(p) for key, p in points.items()}


def backtest_metrics(path):
    """backtest's --output: {(origin, method, step): (MASE, sMAPE, RMSE)}."""
    out = {}
    for r in read_csv_dicts(path):
        origin = r["origin"] if r["origin"] == "all" else int(r["origin"])
        step = r["step"] if r["step"] == "all" else int(r["step"])
        out[(origin, r["method"], step)] = (float(r["MASE"]), float(r["sMAPE"]),
                                            float(r["RMSE"]))
    return out


def test_backtest_model_matches_forecast():
    """A known answer: on trend + season + noise, seasonal naive misses the
    trend (a MASE about 1) and a forecaster on the seasonal representation
    does not. backtest -m scores the model's own forecasts at the last 5
    origins, 6 apart: every number agrees with the metrics recomputed here
    from `rnnstream forecast` at the same rows, and the table prints them."""
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "series.csv")
        y = seasonal_series(series)
        H, K, m = 6, 5, 12
        origins = [len(y) - 1 - H - (K - 1 - k) * H for k in range(K)]
        # Trained on the rows up to the first origin only: every score is
        # out of sample.
        with open(series) as f:
            lines = f.read().splitlines()
        train = write_file(d, "train.csv", "\n".join(lines[:origins[0] + 2]) + "\n")
        model = os.path.join(d, "m.safetensors")
        r = run("train", "--config", EXAMPLE_CONFIG, "-i", train, "--horizon", str(H),
                "--epochs", "80", "-q", "-o", model)
        assert r.returncode == 0, r.stderr
        out, fc = os.path.join(d, "metrics.csv"), os.path.join(d, "forecasts.csv")
        r = run("backtest", "-m", model, "-i", series, "-o", out, "--forecasts", fc)
        assert r.returncode == 0, r.stderr
        assert r.stderr == "", r.stderr
        names, rows = forecast_rows(run("forecast", "-m", model, "-i", series).stdout)
        forecasts = [rows[t][1][:H] for t in origins]
        expected = backtest_expected(y, origins, forecasts, H, m)
        got = backtest_metrics(out)
        assert set(got) == set(expected), sorted(set(got) ^ set(expected), key=str)
        # forecast writes float32 (7 digits): the scores agree to about that.
        for key, want in expected.items():
            for a, b in zip(got[key], want):
                assert abs(a - b) <= 1e-4 * max(1.0, abs(b)), (key, got[key], want)
        model_mase, snaive_mase = got[("all", "model", "all")][0], got[("all", "snaive", "all")][0]
        print("# backtest -m on trend + season: MASE %.3f, naive %.3f, seasonal naive %.3f"
              % (model_mase, got[("all", "naive", "all")][0], snaive_mase))
        assert 0.8 < snaive_mase < 1.5 and model_mase < 0.5 * snaive_mase, got
        # The forecasts file: each origin's rows, the values and forecasts.
        frows = read_csv_dicts(fc)
        assert len(frows) == K * H, len(frows)
        for r0 in frows:
            k, h, t = int(r0["origin"]) - 1, int(r0["step"]), int(r0["row"]) - 1
            assert t == origins[k] + h and r0["origin_time"] == rows[origins[k]][0], r0
            assert float(r0["actual"]) == y[t], r0
            assert abs(float(r0["model"]) - forecasts[k][h - 1]) < 1e-4, r0
            assert float(r0["naive"]) == y[origins[k]], r0
        # The table: a headline row of every point, then by origin (named by
        # time) and by step, each with the three measures of three methods.
        lines = r.stdout.splitlines()
        assert lines[0].startswith("backtest: %s (not refitted) on %s, target value"
                                   % (model, series)), lines[0]
        assert lines[1].startswith("5 origins 6 rows apart, 6 steps each, season 12"), lines[1]
        assert lines[4].split() == ["model", "naive", "snaive"] * 3, lines[4]
        table = {line.split()[0]: line.split()[1:] for line in lines[5:] if len(line.split()) == 10}
        for label, key in [("all", ("all", "all")), (rows[origins[2]][0], (3, "all")),
                           ("6", ("all", 6))]:
            cells = table[label]
            for i, method in enumerate(("model", "naive", "snaive")):
                for j, want in enumerate(expected[(key[0], method, key[1])]):
                    text = cells[3 * j + i]
                    # Rounded to the decimals shown: MASE 3, sMAPE 2, RMSE
                    # four significant digits of the largest.
                    decimals = len(text.split(".")[1]) if "." in text else 0
                    assert decimals == (3, 2, 2)[j], (label, cells)
                    assert abs(float(text) - want) <= 0.5 * 10 ** -decimals + 1e-4, \
                        (label, cells, want)


def test_backtest_refit_does_not_peek():
    """--config refits at each origin on the rows up to it alone: the rows
    after an origin, even replaced by huge values, change nothing about
    its forecast (only its score), while a later origin that trains on
    them forecasts differently. The first origin's forecast is what train
    and forecast give on the rows up to it."""
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "series.csv")
        y = seasonal_series(series)
        H = 6
        origins = [len(y) - 1 - H - (2 - k) * H for k in range(3)]
        with open(series) as f:
            lines = f.read().splitlines()
        # Rows after the second origin replaced: they are the second
        # origin's targets and the third's training rows.
        huge = write_file(d, "huge.csv", "\n".join(
            lines[:origins[1] + 2] + ["%s,%g" % (line.split(",")[0], 1e6 + i)
                                      for i, line in enumerate(lines[origins[1] + 2:])]) + "\n")
        settings = ["--config", EXAMPLE_CONFIG, "--horizon", str(H), "--epochs", "30",
                    "--origins", "3"]

        def backtest(path, name):
            out, fc = os.path.join(d, name + "-m.csv"), os.path.join(d, name + "-f.csv")
            r = run("backtest", *settings, "-i", path, "-o", out, "--forecasts", fc)
            assert r.returncode == 0, r.stderr
            progress = r.stderr.splitlines()
            assert len(progress) == 3 and progress[0].startswith(
                "backtest: origin 1/3, rows 1-%d (to %s): " % (origins[0] + 1,
                                                               lines[origins[0] + 1][:7])), \
                progress
            assert "refitted at each origin (%s) on %s" % (EXAMPLE_CONFIG, path) in r.stdout, \
                r.stdout
            return backtest_metrics(out), read_csv_dicts(fc)

        metrics, fc = backtest(series, "plain")
        metrics_huge, fc_huge = backtest(huge, "huge")
        for a, b in zip(fc, fc_huge):
            k = int(a["origin"])
            same = all(a[m] == b[m] for m in ("model", "naive", "snaive"))
            assert same == (k < 3), (k, a, b)
            assert (a["actual"] == b["actual"]) == (int(a["row"]) <= origins[1] + 1), (a, b)
        for key in metrics:
            assert (metrics[key] == metrics_huge[key]) == (key[0] == 1), key

        # Origin 1 by hand: train on its rows, forecast from the last.
        cut = write_file(d, "cut.csv", "\n".join(lines[:origins[0] + 2]) + "\n")
        model = os.path.join(d, "cut.safetensors")
        r = run("train", "--config", EXAMPLE_CONFIG, "--horizon", str(H), "--epochs", "30",
                "-i", cut, "-o", model, "-q")
        assert r.returncode == 0, r.stderr
        last = forecast_rows(run("forecast", "-m", model, "-i", cut).stdout)[1][-1][1]
        mine = [float(a["model"]) for a in fc if a["origin"] == "1"]
        assert max(abs(a - b) for a, b in zip(mine, last)) < 1e-4, (mine, last)


def test_backtest_errors():
    """One line naming the file and a non-zero status for malformed rows,
    a series too short for the origins asked, a model that is not a
    forecaster, training settings with -m; no output file after any."""
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "series.csv")
        seasonal_series(series, 60)
        model = os.path.join(d, "m.safetensors")
        train_forecaster(series, model, "--horizon", "6", "--hidden", "8", "--epochs", "5",
                         "--reference", "seasonal")
        out = os.path.join(d, "out.csv")
        with open(series) as f:
            lines = f.read().splitlines()
        bad = write_file(d, "bad.csv", "\n".join(lines[:30] + ["1992-06,abc"] + lines[31:]) + "\n")
        for args in (["-m", model], ["--config", EXAMPLE_CONFIG, "--horizon", "6"]):
            r = run("backtest", *args, "-i", bad, "-o", out)
            assert r.returncode == 1 and "bad.csv:31: column 'value'" in r.stderr, r.stderr
            assert len(r.stderr.splitlines()) == 1 and r.stdout == "", r.stderr
        # 60 rows, H 6: origins 6 apart from row 13 on (a season of history
        # and one more) fit 7 times; 8 do not.
        r = run("backtest", "-m", model, "-i", series, "--origins", "8", "-o", out)
        assert r.returncode == 1 and "series.csv: 60 rows are too few for 8 origins" in r.stderr \
            and "7 fit" in r.stderr, r.stderr
        r = run("backtest", "-m", model, "-i", series, "--origins", "0", "-q")
        assert r.returncode == 0 and "7 origins 6 rows apart" in r.stdout, r.stderr
        short = write_file(d, "short.csv", "\n".join(lines[:16]) + "\n")
        r = run("backtest", "--config", EXAMPLE_CONFIG, "-i", short, "--horizon", "6")
        assert r.returncode == 1 and "short.csv: 15 rows are too few for 5 origins" in r.stderr, \
            r.stderr
        r = run("backtest", "-m", DEMO, "-i", series)
        assert r.returncode == 1 and "is not a forecaster" in r.stderr, r.stderr
        r = run("backtest", "-m", model, "-i", series, "--hidden", "4")
        assert r.returncode == 2 and "--hidden is a training setting" in r.stderr, r.stderr
        r = run("backtest", "-m", model, "--config", EXAMPLE_CONFIG, "-i", series)
        assert r.returncode == 2, r.stderr
        r = run("backtest", "-m", model)
        assert r.returncode == 2 and "-i SERIES.csv" in r.stderr, r.stderr
        r = run("backtest", "-m", model, "-i", series, "-o", os.path.join(d, "no", "out.csv"))
        assert r.returncode == 1 and "no/out.csv" in r.stderr, r.stderr
        assert not os.path.exists(out)

def test_forecast_bad_input():
    """Malformed rows name the file and line; missing values follow the
    policy; a model on logs refuses a value <= 0 naming the row; a file that
    is not a forecaster is refused; a failed run leaves no output file."""
    with tempfile.TemporaryDirectory() as d:
        train = os.path.join(d, "train.csv")
        noisy_series(train, 120, 3)
        model = os.path.join(d, "m.safetensors")
        train_forecaster(train, model, "--hidden", "8", "--epochs", "5", "--log-transform", "yes")
        assert json.loads(metadata(model)["forecast"])["log"] is True
        with open(train) as f:
            lines = f.read().splitlines()
        bad = write_file(d, "bad.csv", "\n".join(lines[:30] + ["1902-06,abc"] + lines[31:]) + "\n")
        out = os.path.join(d, "out.csv")
        r = run("forecast", "-m", model, "-i", bad, "-o", out)
        assert r.returncode == 1 and "bad.csv:31" in r.stderr, r.stderr
        assert not os.path.exists(out)
        gap = write_file(d, "gap.csv", "\n".join(lines[:30] + ["1902-06,"] + lines[31:]) + "\n")
        r = run("forecast", "-m", model, "-i", gap)
        assert r.returncode == 1 and "gap.csv:31" in r.stderr, r.stderr
        for policy, n in (("skip", 119), ("hold", 120), ("interpolate", 120)):
            r = run("forecast", "-m", model, "-i", gap, "--missing", policy)
            assert r.returncode == 0, (policy, r.stderr)
            assert len(r.stdout.splitlines()) == 1 + n, (policy, len(r.stdout.splitlines()))
        neg = write_file(d, "neg.csv", "\n".join(lines[:40] + ["1903-04,-5"]) + "\n")
        r = run("forecast", "-m", model, "-i", neg)
        assert r.returncode == 1 and "row 40 (1903-04)" in r.stderr and "> 0" in r.stderr, \
            r.stderr
        # The rows before the bad one were answered (and flushed) first.
        assert len(r.stdout.splitlines()) == 40, r.stdout
        r = run("forecast", "-m", DEMO, "-i", train)
        assert r.returncode == 1 and "is not a forecaster" in r.stderr, r.stderr
        nocol = write_file(d, "nocol.csv", "month,price\n1900-01,3\n")
        r = run("forecast", "-m", model, "-i", nocol)
        assert r.returncode == 1 and "value" in r.stderr, r.stderr


def changing_series(path, n, seed, change=None, at=120):
    """Monthly, level 50 and a season of amplitude 10 plus Gaussian noise
    (seeded); from row `at` on, `change`: "level" (+15) or "trend" (+0.5
    a month). The values as written."""
    import random
    rng = random.Random(seed)
    y = []
    with open(path, "w") as f:
        f.write("month,value\n")
        for t in range(n):
            level = 50 + (15 if change == "level" and t >= at else 0) \
                + (0.5 * (t - at) if change == "trend" and t >= at else 0)
            v = level + 10 * math.sin(2 * math.pi * t / 12) + rng.gauss(0, 1)
            f.write("%d-%02d,%.6f\n" % (1900 + t // 12, t % 12 + 1, v))
            y.append(float("%.6f" % v))
    return y


def one_step_rmse(text, y, frames):
    """The RMSE of forecast's h1 column against the next row, over frames."""
    got = [g[1][0] for g in forecast_rows(text)[1]]
    return math.sqrt(sum((got[t] - y[t + 1]) ** 2 for t in frames) / len(frames))


def test_forecast_update_helps():
    """A model trained on a steady season meets a series that changes at
    row 120: with --update (default settings) its one-step error after the
    change is well under the frozen model's, and before it about the
    same. Two changes the frozen model cannot follow: a level shift for a
    model that forecasts the level itself (reference none), and a trend
    for one that corrects the seasonal naive forecast (reference seasonal;
    the default, trend, extrapolates the new slope by itself)."""
    with tempfile.TemporaryDirectory() as d:
        train = os.path.join(d, "train.csv")
        changing_series(train, 240, 1)
        for change, recipe in (("level", ["--reference", "none", "--log-transform", "no"]),
                               ("trend", ["--reference", "seasonal"])):
            model = os.path.join(d, change + ".safetensors")
            train_forecaster(train, model, "--hidden", "16", "--lr", "0.01", "--epochs", "60",
                             *recipe)
            test = os.path.join(d, change + ".csv")
            y = changing_series(test, 300, 2, change)
            before, after = range(24, 119), range(132, 299)
            frozen = run("forecast", "-m", model, "-i", test)
            updated = run("forecast", "-m", model, "-i", test, "--update")
            assert frozen.returncode == 0 and updated.returncode == 0, updated.stderr
            f_before, f_after = (one_step_rmse(frozen.stdout, y, fr) for fr in (before, after))
            u_before, u_after = (one_step_rmse(updated.stdout, y, fr) for fr in (before, after))
            print("# update, %s change at row 120: one-step RMSE after it %.2f frozen, %.2f "
                  "with --update; before it %.2f and %.2f (noise 1)"
                  % (change, f_after, u_after, f_before, u_before))
            assert u_after < 0.5 * f_after, (change, u_after, f_after)
            assert u_before < 1.25 * f_before, (change, u_before, f_before)


def test_forecast_checkpoint_resume():
    """Rows through a pipe, the process SIGKILLed after 25 (its last
    checkpoint at 20), restarted with the same checkpoint: the rows it
    printed up to the checkpoint and what the restarted run prints are the
    uninterrupted run's, bit for bit, with and without --update; the rows
    it printed after the checkpoint come again, the same. The restart
    replays the input from its start (skipping what the checkpoint
    consumed), or with --checkpoint-input continue takes the rows after
    it; a checkpoint at the end of a file goes on when the file grows."""
    with tempfile.TemporaryDirectory() as d:
        train = os.path.join(d, "train.csv")
        noisy_series(train, 120, 3)
        model = os.path.join(d, "m.safetensors")
        train_forecaster(train, model, "--horizon", "2", "--hidden", "8", "--epochs", "10")
        noisy_series(os.path.join(d, "long.csv"), 180, 4)
        with open(os.path.join(d, "long.csv")) as f:
            long_lines = f.read().splitlines()
        lines = long_lines[:151]
        series = write_file(d, "series.csv", "\n".join(lines) + "\n")
        longer = write_file(d, "longer.csv", "\n".join(long_lines) + "\n")
        for extra in ([], ["--update"]):
            whole = run("forecast", "-m", model, "-i", series, *extra)
            assert whole.returncode == 0, whole.stderr
            want = whole.stdout.splitlines()
            ck = os.path.join(d, "ck%d.safetensors" % len(extra))
            p = subprocess.Popen([EXE, "forecast", "-m", model, "--checkpoint", ck,
                                  "--checkpoint-every", "10", *extra], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 bufsize=1)
            try:
                p.stdin.write(lines[0] + "\n")
                p.stdin.flush()
                first = [p.stdout.readline().rstrip("\n")]
                for line in lines[1:26]:
                    p.stdin.write(line + "\n")
                    p.stdin.flush()
                    ready, _, _ = select.select([p.stdout], [], [], 10)
                    assert ready, "no forecast for %s within 10 s" % line
                    first.append(p.stdout.readline().rstrip("\n"))
                p.kill()
                assert p.wait(timeout=10) == -9
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdin.close()
                p.stdout.close()
                p.stderr.close()
            meta = metadata(ck)
            assert meta["input.rows"] == "20" and meta["rows"] == "20", meta
            assert meta["input.last_time"] == lines[20].split(",")[0], meta
            saved = os.path.join(d, "saved.safetensors")
            with open(ck, "rb") as f, open(saved, "wb") as g:
                g.write(f.read())

            # Replay: the same input from its start.
            r = run("forecast", "-m", model, "--checkpoint", ck, *extra,
                    stdin="\n".join(lines) + "\n")
            assert r.returncode == 0, r.stderr
            again = r.stdout.splitlines()
            assert again[0] == want[0], again[:1]
            assert first[:21] + again[1:] == want, (extra, len(again))
            assert again[1:6] == first[21:26]
            print("# checkpoint%s: killed after row 25, resumed from row 20: %d rows, the "
                  "same as one run" % (" with --update" if extra else "", len(want) - 1))
            assert metadata(ck)["input.rows"] == "150"
            # Nothing new: nothing printed but the header.
            r = run("forecast", "-m", model, "-i", series, "--checkpoint", ck, *extra)
            assert r.returncode == 0 and r.stdout.splitlines() == want[:1], r.stderr
            # The file grew: its new rows, as a run over the longer file gives them.
            r = run("forecast", "-m", model, "-i", longer, "--checkpoint", ck, *extra)
            assert r.returncode == 0, r.stderr
            assert r.stdout.splitlines()[1:] == \
                forecast_text_lines_with(longer, model, extra)[151:], extra
            # Continue: the input is the rows after the checkpoint's.
            r = run("forecast", "-m", model, "--checkpoint", saved, "--checkpoint-input",
                    "continue", *extra, stdin="\n".join(lines[:1] + lines[21:]) + "\n")
            assert r.returncode == 0, r.stderr
            assert r.stdout.splitlines() == want[:1] + want[21:], extra
            os.remove(saved)


def forecast_text_lines_with(series, model, extra):
    r = run("forecast", "-m", model, "-i", series, *extra)
    assert r.returncode == 0, r.stderr
    return r.stdout.splitlines()


def test_forecast_checkpoint_refused():
    """A checkpoint that is truncated, of another model, not a checkpoint,
    made with other update settings or on another input is refused with a
    message naming the file and what is wrong, and is left as it was; the
    flags that need --update or --checkpoint say so."""
    with tempfile.TemporaryDirectory() as d:
        train = os.path.join(d, "train.csv")
        noisy_series(train, 120, 3)
        models = []
        for seed in ("1", "2"):
            models.append(os.path.join(d, "m%s.safetensors" % seed))
            train_forecaster(train, models[-1], "--hidden", "8", "--epochs", "5", "--seed", seed)
        ck = os.path.join(d, "ck.safetensors")
        r = run("forecast", "-m", models[0], "-i", train, "--checkpoint", ck, "--update")
        assert r.returncode == 0, r.stderr
        with open(ck, "rb") as f:
            data = f.read()
        cut = os.path.join(d, "cut.safetensors")
        with open(cut, "wb") as f:
            f.write(data[:len(data) // 2])
        other = os.path.join(d, "other.csv")
        noisy_series(other, 150, 9)
        short = write_file(d, "short.csv", "".join(open(train).readlines()[:50]))
        cases = (
            ([models[0], "--checkpoint", cut, "--update"], cut, "cannot read the checkpoint"),
            ([models[1], "--checkpoint", ck, "--update"], ck, "another model"),
            ([models[0], "--checkpoint", models[1]], models[1], "not a forecaster checkpoint"),
            ([models[0], "--checkpoint", ck], ck, "made with updates"),
            ([models[0], "--checkpoint", ck, "--update", "--update-lr", "0.01"], ck,
             "updates of lr 0.003, 1 step, window 24, not lr 0.01"),
            ([models[0], "--checkpoint", ck, "--update", "-i", other], ck,
             "the input is not the one the checkpoint was made on"),
            ([models[0], "--checkpoint", ck, "--update", "-i", short], ck,
             "the input ended after 49 rows, but the checkpoint has consumed 120"),
        )
        for args, path, what in cases:
            with open(path, "rb") as f:
                before = f.read()
            r = run("forecast", "-m", *args, *([] if "-i" in args else ["-i", train]))
            assert r.returncode == 1, (args, r.returncode, r.stderr)
            assert path in r.stderr and what in r.stderr, (what, r.stderr)
            with open(path, "rb") as f:
                assert f.read() == before, path
        r = run("forecast", "-m", models[0], "-i", train, "--checkpoint",
                os.path.join(d, "no", "such", "dir", "ck"))
        assert r.returncode == 1 and "cannot write the checkpoint" in r.stderr, r.stderr
        r = run("forecast", "-m", models[0], "-i", train, "--update-lr", "0.01")
        assert r.returncode == 2 and "--update-lr needs --update" in r.stderr, r.stderr
        r = run("forecast", "-m", models[0], "-i", train, "--checkpoint-every", "5")
        assert r.returncode == 2 and "needs --checkpoint" in r.stderr, r.stderr


def test_train_reproducible_and_resumable():
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "series.csv")
        seasonal_series(series)
        base = ["train", "--config", EXAMPLE_CONFIG, "-i", series, "-q"]

        def model(name, *extra):
            path = os.path.join(d, name)
            r = run(*base, "-o", path, *extra)
            assert r.returncode == 0, r.stderr
            assert r.stderr == "", r.stderr
            with open(path, "rb") as f:
                return f.read()

        one = model("a.safetensors", "--epochs", "16")
        assert one == model("b.safetensors", "--epochs", "16")
        assert one != model("c.safetensors", "--epochs", "16", "--seed", "2")
        # 8 epochs, a checkpoint, 8 more from it: the same file as 16.
        ckpt = os.path.join(d, "ckpt.safetensors")
        model("half.safetensors", "--epochs", "8", "--checkpoint", ckpt)
        assert metadata(ckpt)["epoch"] == "8"
        assert model("resumed.safetensors", "--epochs", "16", "--resume", ckpt) == one
        # The checkpoint's settings are the defaults of a resumed run.
        path = os.path.join(d, "bare.safetensors")
        r = run("train", "--resume", ckpt, "--epochs", "16", "-o", path, "-q")
        assert r.returncode == 0, r.stderr
        with open(path, "rb") as f:
            assert f.read() == one
        r = run("train", "--resume", ckpt, "--epochs", "16", "-o", path, "--hidden", "8")
        assert r.returncode == 2, r.returncode
        assert "--hidden: hidden is '8', but the checkpoint %s was made with '32'" % ckpt \
            in r.stderr, r.stderr


def test_train_errors():
    with tempfile.TemporaryDirectory() as d:
        series = os.path.join(d, "series.csv")
        seasonal_series(series)
        out = os.path.join(d, "m.safetensors")
        config = os.path.join(d, "c.ini")

        def train_with(text, *extra):
            with open(config, "w") as f:
                f.write(text)
            return run("train", "--config", config, "-o", out, *extra)

        good = "[data]\ninput = series.csv\ntarget = value\n"
        r = train_with(good + "[training]\nepochs = 2\nlearning-rate = 0.1\n")
        assert r.returncode == 2, r.returncode
        assert r.stderr.startswith("rnnstream train: %s:6: unknown key 'learning-rate' in "
                                   "[training] (known: " % config), r.stderr
        r = train_with(good + "[training]\nlr = fast\n")
        assert r.returncode == 2 and \
            "%s:5: [training] lr: 'fast' is not a number" % config in r.stderr, r.stderr
        r = train_with(good + "[model]\ncell = transformer\n")
        assert r.returncode == 2 and "[model] cell: 'transformer' is not one of gru, lstm, " \
            "rnn_tanh, rnn_relu" in r.stderr, r.stderr
        r = train_with(good + "[extra]\nx = 1\n")
        assert r.returncode == 2 and "%s:4: unknown group [extra]" % config in r.stderr, r.stderr
        r = train_with(good, "--hidden", "0")
        assert r.returncode == 2 and "--hidden: 0 is out of range [1, 65536]" in r.stderr, \
            r.stderr
        r = train_with(good, "--task", "classify")
        assert r.returncode == 2 and "[data] target: is for the forecast task, not classify" \
            in r.stderr, r.stderr
        r = train_with(good, "--loss", "ctc")
        assert r.returncode == 2 and "--loss: forecast trains with mse or mae, not ctc" \
            in r.stderr, r.stderr
        r = run("train", "-i", series, "-o", out)
        assert r.returncode == 2 and "no target column" in r.stderr, r.stderr
        r = run("train", "-i", series, "--target", "price", "-o", out)
        assert r.returncode == 1 and series in r.stderr and "price" in r.stderr, r.stderr
        short = write_file(d, "short.csv", "month,value\n2000-01,1\n2000-02,2\n2000-03,3\n")
        r = run("train", "-i", short, "--target", "value", "-o", out)
        assert r.returncode == 1 and short in r.stderr and "short" in r.stderr, r.stderr
        bad = write_file(d, "bad.csv", "month,value\n2000-01,1\n2000-02,x\n")
        r = run("train", "-i", bad, "--target", "value", "-o", out)
        assert r.returncode == 1 and "%s:3:" % bad in r.stderr, r.stderr
        r = run("train", "--resume", series, "-o", out)
        assert r.returncode == 1 and series in r.stderr, r.stderr
        assert not os.path.exists(out)


# ---- training on sound files ----

TONES = {"low": 300.0, "mid": 800.0, "high": 2000.0}


def write_wav(path, samples, rate=16000):
    import wave
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<%dh" % len(samples),
                                  *(max(-32768, min(32767, int(v))) for v in samples)))


def tone_utterance(rng, words, rate=16000, gaps=True):
    """Tones for words (a sine per word, 120-200 ms, random level and a
    slightly detuned pitch) with short silences around and between them,
    over a faint noise floor."""
    x = []

    def silence(lo, hi):
        x.extend(rng.gauss(0, 30) for _ in range(int(rng.uniform(lo, hi) * rate)))
    if gaps:
        silence(0.05, 0.2)
    for w in words:
        f = TONES[w] * rng.uniform(0.95, 1.05)
        n = int(rng.uniform(0.12, 0.2) * rate) if gaps else int(rng.uniform(0.4, 0.7) * rate)
        a = rng.uniform(2000, 8000)
        step = 2 * math.pi * f / rate
        x.extend(a * min(1.0, i / 160, (n - i) / 160) * math.sin(step * i) + rng.gauss(0, 30)
                 for i in range(n))
        if gaps:
            silence(0.04, 0.12)
    if gaps:
        silence(0.05, 0.2)
    return x


def tone_corpus(d, name, n, seed, words=(1, 4), gaps=True):
    """A list NAME.list of n tone utterances in d; returns the texts."""
    import random
    rng = random.Random(seed)
    texts = []
    with open(os.path.join(d, name + ".list"), "w") as f:
        f.write("# tone 'words': low, mid, high\n")
        for i in range(n):
            ws = [rng.choice(sorted(TONES)) for _ in range(rng.randint(*words))]
            path = "%s-%03d.wav" % (name, i)
            write_wav(os.path.join(d, path), tone_utterance(rng, ws, gaps=gaps))
            f.write("%s\t%s\n" % (path, " ".join(ws)))
            texts.append(" ".join(ws))
    return texts


def greedy_ctc(rows, labels):
    out, prev = [], 0
    for r in rows:
        best = max(range(len(r)), key=lambda k: r[k])
        if best != 0 and best != prev:
            out.append(labels[best])
        prev = best
    return " ".join(out)


def test_train_ctc_learns_tone_sequences():
    """A CTC recogniser learns to transcribe sequences of three tones; the
    served model (its own front end in a pipeline) transcribes files it
    never saw."""
    with tempfile.TemporaryDirectory() as d:
        tone_corpus(d, "train", 160, 1)
        valid = tone_corpus(d, "valid", 24, 2)
        model = os.path.join(d, "ctc.safetensors")
        plot = os.path.join(d, "loss.png")
        base = ["train", "--task", "ctc", "-i", os.path.join(d, "train.list"),
                "--validation-input", os.path.join(d, "valid.list"), "--hidden", "32",
                "--lr", "0.01", "--batch", "16"]
        r = run(*base, "--epochs", "12", "-o", model, "--plot", plot)
        assert r.returncode == 0, r.stderr
        assert " utterances/s " in r.stderr and "token error rate (%)" in r.stderr, r.stderr
        meta = metadata(model)
        assert meta["task"] == "ctc" and meta["blank"] == "0" and meta["units"] == "words"
        labels = json.loads(meta["labels"])
        assert labels == ["<blank>", "high", "low", "mid"], labels
        assert meta["frontend"] == "fbank num-mel-bins=40 ! cmvn ! stack frames=3", meta
        assert float(meta["sample_rate"]) == 16000 and abs(float(meta["frame_rate"]) - 100 / 3) < 1e-9
        training = json.loads(meta["training"])
        assert training["utterances"] == 160 and training["validation_utterances"] == 24
        print("# ctc on tones: validation token error rate %.1f%% after %d epochs"
              % (training["valid_metric"], training["epochs"]))
        assert training["valid_metric"] <= 5.0, training
        with open(plot, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"

        # Served as trained: the model's front end, then its standardisation.
        right = 0
        for i, text in enumerate(valid):
            wavf = os.path.join(d, "valid-%03d.wav" % i)
            r = run("run", "filesrc location=%s ! %s ! standardize from-model=%s ! model path=%s "
                    "! csvsink" % (wavf, meta["frontend"], model, model))
            assert r.returncode == 0, r.stderr
            right += greedy_ctc(parse_csv(r.stdout), labels) == text
        print("# ctc on tones: %d of %d validation files transcribed exactly" % (right, len(valid)))
        assert right >= len(valid) - 2, right

        # The same model file with one thread and with three, and from a
        # checkpoint resumed on another thread count.
        files = []
        ckpt = os.path.join(d, "ckpt.safetensors")
        for j, extra in (("1", ["--epochs", "2"]), ("3", ["--epochs", "2"]),
                         ("2", ["--epochs", "1", "--checkpoint", ckpt])):
            path = os.path.join(d, "j%s.safetensors" % j)
            r = run(*base, *extra, "-j", j, "-q", "-o", path)
            assert r.returncode == 0, r.stderr
            with open(path, "rb") as f:
                files.append(f.read())
        path = os.path.join(d, "resumed.safetensors")
        r = run("train", "--resume", ckpt, "--epochs", "2", "-j", "1", "-q", "-o", path)
        assert r.returncode == 0, r.stderr
        with open(path, "rb") as f:
            resumed = f.read()
        assert files[0] == files[1] == resumed


def test_train_estimates_cmvn_prior():
    """A cmvn with prior-frames= but no numbers gets its prior from the
    training files: the mean and deviation of the features that reach it,
    over every frame of every file; the model's front end carries them, and
    serves."""
    with tempfile.TemporaryDirectory() as d:
        tone_corpus(d, "train", 12, 1)
        model = os.path.join(d, "ctc.safetensors")
        frontend = "fbank num-mel-bins=8 ! cmvn norm-vars=true min-cmn-window=0 prior-frames=50"
        r = run("train", "--task", "ctc", "-i", os.path.join(d, "train.list"), "--validation",
                "0.25", "--frontend", frontend, "--hidden", "8", "--epochs", "1", "-q",
                "-o", model)
        assert r.returncode == 0, r.stderr
        meta = metadata(model)
        m = re.search(r"prior-mean=([^ ]+) prior-std=([^ ]+)", meta["frontend"])
        assert m and meta["frontend"].startswith(frontend + " prior-mean="), meta["frontend"]
        mean = [float(v) for v in m.group(1).split(",")]
        std = [float(v) for v in m.group(2).split(",")]
        rows = []
        for i in range(12):
            r = run("run", "filesrc location=%s ! fbank num-mel-bins=8 ! csvsink"
                    % os.path.join(d, "train-%03d.wav" % i))
            assert r.returncode == 0, r.stderr
            rows += parse_csv(r.stdout)
        for k in range(8):
            col = [row[k] for row in rows]
            mu = sum(col) / len(col)
            sd = math.sqrt(sum((v - mu) ** 2 for v in col) / len(col))
            assert abs(mean[k] - mu) <= 1e-4 * max(1, abs(mu)), (k, mean[k], mu)
            assert abs(std[k] - sd) <= 1e-4 * max(1, sd), (k, std[k], sd)
        r = run("transcribe", "-m", model, os.path.join(d, "train-000.wav"))
        assert r.returncode == 0, r.stderr
        # A prior to estimate is for training; served without numbers, an error.
        r = run("run", "filesrc location=%s ! %s ! csvsink"
                % (os.path.join(d, "train-000.wav"), frontend))
        assert r.returncode != 0 and "prior-frames needs prior-mean" in r.stderr, r.stderr


def test_transcribe_formats_and_failures():
    """transcribe with a CTC model trained on tones: every format, input
    order with several workers, a file at another rate resampled, a bad
    file reported while the others go on."""
    with tempfile.TemporaryDirectory() as d:
        tone_corpus(d, "train", 160, 1)
        valid = tone_corpus(d, "valid", 6, 2)
        model = os.path.join(d, "ctc.safetensors")
        r = run("train", "--task", "ctc", "-i", os.path.join(d, "train.list"),
                "--validation-input", os.path.join(d, "valid.list"), "--hidden", "32",
                "--lr", "0.01", "--batch", "16", "--epochs", "12", "-q", "-o", model)
        assert r.returncode == 0, r.stderr
        files = [os.path.join(d, "valid-%03d.wav" % i) for i in range(len(valid))]
        # The first file again at 8 kHz: resampled to the model's 16 kHz.
        import random
        write_wav(os.path.join(d, "low-rate.wav"),
                  tone_utterance(random.Random(9), ["low", "high"], rate=8000), rate=8000)
        r = run("transcribe", "-m", model, "-j", "3", "--stats", *files,
                os.path.join(d, "low-rate.wav"))
        assert r.returncode == 0, r.stderr
        lines = r.stdout.splitlines()
        assert [l.split("\t")[0] for l in lines] == files + [os.path.join(d, "low-rate.wav")]
        got = [l.split("\t")[1] for l in lines]
        assert sum(g == v for g, v in zip(got, valid)) >= len(valid) - 1, (got, valid)
        assert got[-1] == "low high", got[-1]
        assert "real-time factor" in r.stderr, r.stderr

        r = run("transcribe", "-m", model, "--format", "jsonl", files[0])
        assert r.returncode == 0, r.stderr
        obj = json.loads(r.stdout)
        assert obj["file"] == files[0] and obj["text"] == got[0], obj
        words = [w for seg in obj["segments"] for w in seg["words"]]
        assert [w["word"] for w in words] == got[0].split(), words
        assert all(w["start"] < w["end"] for w in words), words
        assert all(a["end"] <= b["start"] for a, b in zip(words, words[1:])), words
        assert 0 < words[-1]["end"] <= obj["duration"] + 0.05, (words, obj["duration"])

        for fmt, head in (("srt", "1\n00:00:0"), ("vtt", "WEBVTT\n\n00:00:0")):
            out = os.path.join(d, "out." + fmt)
            r = run("transcribe", "-m", model, "--format", fmt, "-o", out, files[0])
            assert r.returncode == 0, r.stderr
            with open(out) as f:
                text = f.read()
            assert text.startswith(head) and got[0] in text, text
        subs = os.path.join(d, "subs")
        os.mkdir(subs)
        r = run("transcribe", "-m", model, "--format", "vtt", "-d", subs, *files[:2])
        assert r.returncode == 0 and sorted(os.listdir(subs)) == ["valid-000.vtt", "valid-001.vtt"]

        bad = write_file(d, "bad.wav", "not a sound file")
        r = run("transcribe", "-m", model, files[0], bad, files[1])
        assert r.returncode == 1, r.returncode
        assert [l.split("\t")[0] for l in r.stdout.splitlines()] == [files[0], files[1]]
        assert "rnnstream transcribe: %s: " % bad in r.stderr and "1 of 3 files failed" in \
            r.stderr, r.stderr
        r = run("transcribe", "-m", DEMO, files[0])
        assert r.returncode == 1 and "is not a CTC recogniser" in r.stderr, r.stderr
        r = run("transcribe", "-m", model, "--format", "doc", files[0])
        assert r.returncode == 2 and "'doc' is not one of" in r.stderr, r.stderr
        r = run("transcribe", "-m", model, "--words", "low,loud", files[0])
        assert r.returncode == 1 and "loud" in r.stderr, r.stderr


def word_errors(ref, hyp):
    r = list(range(len(hyp) + 1))
    for i in range(1, len(ref) + 1):
        prev, r[0] = r[0], i
        for j in range(1, len(hyp) + 1):
            cur = r[j]
            r[j] = min(r[j] + 1, r[j - 1] + 1, prev + (ref[i - 1] != hyp[j - 1]))
            prev = cur
    return r[-1]


def test_transcribe_bundled_digits_model():
    """The bundled recogniser on digit strings from three voices it never
    heard (tests/make-speech-fixtures.sh): a regression bound, the numbers
    of the model as committed."""
    speech = os.path.join(FIXTURES, "speech")
    with open(os.path.join(speech, "LIST.txt")) as f:
        refs = dict(line.rstrip("\n").split("\t") for line in f)
    files = [os.path.join(speech, name) for name in sorted(refs)]
    r = run("transcribe", "-m", DIGITS, *files)
    assert r.returncode == 0, r.stderr
    got = dict(line.split("\t") for line in r.stdout.splitlines())
    exact = errors = words = 0
    for path in files:
        ref, hyp = refs[os.path.basename(path)].split(), got[path].split()
        exact += ref == hyp
        errors += word_errors(ref, hyp)
        words += len(ref)
    print("# bundled digits model, held-out voices: %d of %d strings exact, WER %.1f%%"
          % (exact, len(files), 100.0 * errors / words))
    assert exact >= 4 and errors <= 0.2 * words, got


def test_train_classify_tones():
    with tempfile.TemporaryDirectory() as d:
        tone_corpus(d, "train", 90, 3, words=(1, 1), gaps=False)
        model = os.path.join(d, "cls.safetensors")
        r = run("train", "--task", "classify", "-i", os.path.join(d, "train.list"),
                "--validation", "0.2", "--hidden", "16", "--lr", "0.01", "--batch", "8",
                "--epochs", "8", "-o", model)
        assert r.returncode == 0, r.stderr
        meta = metadata(model)
        assert meta["task"] == "classify" and json.loads(meta["labels"]) == ["high", "low", "mid"]
        training = json.loads(meta["training"])
        assert training["utterances"] == 72 and training["validation_utterances"] == 18
        print("# classify tones: validation frame error rate %.1f%%" % training["valid_metric"])
        assert training["valid_metric"] <= 10.0, training


def test_train_audio_errors():
    with tempfile.TemporaryDirectory() as d:
        tone_corpus(d, "train", 12, 4)
        good = os.path.join(d, "train.list")
        out = os.path.join(d, "m.safetensors")
        base = ["--task", "ctc", "--epochs", "1", "--hidden", "8", "-o", out]
        bad = write_file(d, "bad.list", "# x\ntrain-000.wav low\n")
        r = run("train", "-i", bad, *base)
        assert r.returncode == 1 and "%s:2: expected PATH<TAB>TEXT" % bad in r.stderr, r.stderr
        with open(good) as f:
            lines = f.read().splitlines()
        missing = write_file(d, "missing.list", "\n".join(lines[:3] + ["gone.wav\tlow"]
                                                          + lines[3:]) + "\n")
        r = run("train", "-i", missing, *base)
        assert r.returncode == 0, r.stderr
        assert "warning: skipped %s:4: gone.wav: " % missing in r.stderr, r.stderr
        assert json.loads(metadata(out)["training"])["skipped_files"] == 1
        os.unlink(out)
        unknown = write_file(d, "unknown.list", "train-000.wav\tlow loud\n")
        r = run("train", "-i", good, "--validation-input", unknown, *base)
        assert r.returncode == 1 and "%s:1: 'loud' is not one of the 3 labels found in the " \
            "training data" % unknown in r.stderr, r.stderr
        r = run("train", "-i", good, "--frontend", "fbank ! modle", *base)
        assert r.returncode == 1 and "unknown element 'modle'" in r.stderr, r.stderr
        r = run("train", "-i", good, "--window", "10", *base)
        assert r.returncode == 2 and "ctc trains on whole utterances" in r.stderr, r.stderr
        r = run("train", "-i", good, "--target", "x", *base)
        assert r.returncode == 2 and "is for the forecast task, not ctc" in r.stderr, r.stderr
        nothing = write_file(d, "nothing.list", "a.wav\tlow\nb.wav\thigh\n")
        r = run("train", "-i", nothing, *base)
        assert r.returncode == 1 and "no file could be read" in r.stderr, r.stderr
        assert not os.path.exists(out)


# RS_TEST_ONLY=SUBSTRING runs the matching tests alone.
for name, func in sorted(globals().items()):
    if name.startswith("test_") and callable(func) and os.environ.get("RS_TEST_ONLY", "") in name:
        start = time.monotonic()
        check(name, func)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
