#!/usr/bin/env python3
"""End-to-end tests of the rnnstream command line: real processes, real
files and pipes. Standard library only, so CI needs no extra packages.

Usage: test_cli.py PATH/TO/rnnstream
"""
import json
import os
import select
import struct
import subprocess
import sys
import tempfile
import time

EXE = sys.argv[1]
ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.environ["RS_TEST_FIXTURES"]
DEMO = os.path.join(ROOT, "models", "demo-forecast.safetensors")
DEMO_IN = os.path.join(ROOT, "models", "demo-input.csv")
DEMO_OUT = os.path.join(ROOT, "models", "demo-expected.csv")

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


def test_apply_streams_row_by_row():
    """Each output row must come out before the next input row goes in."""
    p = subprocess.Popen([EXE, "apply", "-m", DEMO], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    try:
        p.stdin.write("value,month_sin,month_cos\n")
        for i in range(5):
            p.stdin.write("%g,0.5,-0.5\n" % (i * 0.1))
            p.stdin.flush()
            ready, _, _ = select.select([p.stdout], [], [], 10)
            assert ready, "no output for row %d within 10 s" % i
            line = p.stdout.readline()
            assert len(line.strip().split(",")) == 1, line
        p.stdin.close()
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdout.close()
        p.stderr.close()


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
    for text, line, phrase in (("1,2,3\n4,5\n", 2, "2 values, expected 3"),
                               ("value,a,b\n1,2,3\n4,x,6\n", 3, "field 2 'x' is not a number"),
                               ("1,2,3\n1,2,nan\n", 2, "field 3 'nan' is not a finite number")):
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
        assert inputs[1] + ": " in r.stderr and "bad.csv:2: field 2 'x'" in r.stderr, r.stderr
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


for name, func in sorted(globals().items()):
    if name.startswith("test_") and callable(func):
        start = time.monotonic()
        check(name, func)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
