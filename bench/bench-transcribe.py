#!/usr/bin/python3
"""Time `rnnstream transcribe` against pocketsphinx on connected digits.

    bench/bench-transcribe.py --list LIST [--list LIST ...] [--limit N]
        [--rnnstream PATH] [--model PATH] [--rnnstream-args ARGS]
        [--cpu N] [--ps-args ARGS]
        [--pocketsphinx-only | --rnnstream-only] [--json OUT]

A list has one utterance per line, `RELATIVE/PATH.wav<TAB>digit words`, the
path relative to the list's own directory and the words drawn from zero ...
nine and oh. Both recognisers decode the same files (the first N of each list
with --limit), each in one process pinned to one core (`taskset -c CPU`,
when taskset exists), and each list gets its own table:

    system | files | audio s | wall s | RTF | WER % | sentence acc %

rnnstream runs as one `rnnstream transcribe -m MODEL -j 1 FILE...` over the
original files (it reads any rate and resamples itself, so that work is
timed). pocketsphinx runs as one `pocketsphinx_batch` over a control file,
with a JSGF digits grammar, Debian's en-us model and two search weights
tuned on valid.list (PS_TUNED; --ps-args replaces them). The model wants
16 kHz: every file is first written as headerless 16-bit 16 kHz mono audio
into a temporary directory (copied as is when it already is 16 kHz,
resampled with sox otherwise), outside the timed region. Both sides load their model once,
inside the timed region; pocketsphinx's own log says how much of its wall
time went to decoding, which is printed below the table as its load time.

Standard library only. The exit status is 0 whether or not a recogniser ran
(why one did not is printed); 2 for bad arguments, including a list that
cannot be read or names a file that is not a readable PCM WAV.
"""

import argparse
import json
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import wave

DEFAULT_RNNSTREAM = "/work/main/build-check/cli/rnnstream"
DEFAULT_MODEL = "/work/main/models/digits.safetensors"
PS_MODEL_DIR = "/usr/share/pocketsphinx/model/en-us"
PS_HMM = os.path.join(PS_MODEL_DIR, "en-us")
PS_DICT = os.path.join(PS_MODEL_DIR, "cmudict-en-us.dict")
PS_RATE = 16000
# Two of pocketsphinx's search weights, tuned for this task. At Debian's
# defaults (-wip 0.65, -silprob 0.005) the digit loop inserts a word every
# few frames of noise: on the first 200 files of valid.list (held out from
# test.list, same generator) WER is 48.6 %, 229 of its 428 errors
# insertions. A small sweep on those files (-wip 1e-2 ... 1e-8, -silprob,
# -lw, -pip, -fillprob, -remove_silence, -remove_noise, -fsgusefiller)
# gave 30.2 % here; the runner-up settings were within a point of it.
PS_TUNED = "-wip 1e-2 -silprob 0.5"

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven",
          "eight", "nine", "oh")

# A child that hangs (a recogniser under development can) must not hang the
# benchmark: it gets this many times the audio's duration, plus a constant
# for loading its model, before it is killed and reported as failed.
TIMEOUT_PER_AUDIO_S = 5.0
TIMEOUT_BASE_S = 120.0


class BadArgument(Exception):
    """A list or a file named in one that cannot be used."""


# ---------------------------------------------------------------- the lists

def read_list(path, limit):
    """Read a list file into utterance dicts.

    Each utterance has `path` (absolute), `name` (as written in the list),
    `ref` (the reference words, lowercased), `rate`, `channels`, `width`
    (bytes per sample) and `seconds`, the last four from the WAV header.
    Only the first `limit` utterances are read when `limit` is not None.
    Raises BadArgument for an unreadable list, a malformed line or a file
    that is not an uncompressed PCM WAV.
    """
    base = os.path.dirname(os.path.abspath(path))
    utts = []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise BadArgument(f"cannot read list {path}: {e.strerror}") from e
    for lineno, line in enumerate(lines, 1):
        if limit is not None and len(utts) >= limit:
            break
        if not line.strip() or line.startswith("#"):
            continue
        name, sep, words = line.partition("\t")
        if not sep:
            raise BadArgument(f"{path}:{lineno}: no TAB between path and words")
        wav_path = os.path.join(base, name)
        try:
            with wave.open(wav_path, "rb") as w:
                rate, channels = w.getframerate(), w.getnchannels()
                width, frames = w.getsampwidth(), w.getnframes()
        except (OSError, EOFError, wave.Error) as e:
            raise BadArgument(f"{path}:{lineno}: {wav_path}: not a readable "
                              f"PCM WAV ({e})") from e
        ref = words.lower().split()
        unknown = sorted(set(ref) - set(DIGITS))
        if unknown:
            print(f"warning: {path}:{lineno}: words outside the digits "
                  f"vocabulary: {' '.join(unknown)}", file=sys.stderr)
        utts.append({"path": wav_path, "name": name, "ref": ref,
                     "rate": rate, "channels": channels, "width": width,
                     "seconds": frames / rate if rate else 0.0})
    if not utts:
        raise BadArgument(f"{path}: no utterances")
    return utts


# ------------------------------------------------------------------ scoring

def align_counts(ref, hyp):
    """Return (substitutions, deletions, insertions) of the best alignment.

    The Levenshtein distance over words with unit costs; among alignments
    of equal cost the backtrace prefers substitutions, then deletions, which
    is the usual NIST sclite convention and only affects the split, never
    the total.
    """
    n, m = len(ref), len(hyp)
    # d[i][j] = edit distance between ref[:i] and hyp[:j]
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sub = d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1])
            d[i][j] = min(sub, d[i - 1][j] + 1, d[i][j - 1] + 1)
    s = de = ins = 0
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and d[i][j] == d[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            s += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i > 0 and d[i][j] == d[i - 1][j] + 1:
            de += 1
            i -= 1
        else:
            ins += 1
            j -= 1
    return s, de, ins


def score(utts, hyps):
    """Score hypotheses (a list parallel to `utts`; None = no output).

    A file with no output line counts as an empty hypothesis, i.e. all its
    reference words are deletions, and is counted in `missing`.
    """
    tot = {"n_ref": 0, "sub": 0, "del": 0, "ins": 0, "sent_ok": 0,
           "missing": 0}
    for utt, hyp in zip(utts, hyps):
        if hyp is None:
            tot["missing"] += 1
            hyp = []
        s, de, ins = align_counts(utt["ref"], hyp)
        tot["n_ref"] += len(utt["ref"])
        tot["sub"] += s
        tot["del"] += de
        tot["ins"] += ins
        tot["sent_ok"] += hyp == utt["ref"]
    errors = tot["sub"] + tot["del"] + tot["ins"]
    tot["wer_pct"] = 100.0 * errors / tot["n_ref"] if tot["n_ref"] else 0.0
    tot["sent_acc_pct"] = 100.0 * tot["sent_ok"] / len(utts)
    return tot


# ------------------------------------------------------------------ running

def pin_prefix(cpu):
    if cpu is not None and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu)]
    return []


def run_timed(cmd, timeout):
    """Run `cmd` to completion; return a dict with rc, wall and cpu seconds.

    Wall time is time.perf_counter around the whole process; CPU time is the
    user + system time of waited-for children (RUSAGE_CHILDREN) before and
    after, so it covers the recogniser and, when pinned, taskset, which
    execs into it. `error` is set when the command could not start or was
    killed on the timeout.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = {"cmd": cmd, "rc": None, "stdout": "", "stderr": "", "error": None}
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True,
                           errors="replace", timeout=timeout)
        res.update(rc=p.returncode, stdout=p.stdout, stderr=p.stderr)
    except subprocess.TimeoutExpired as e:
        res["error"] = f"killed after the {timeout:.0f} s timeout"
        res["stdout"] = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
    except OSError as e:
        res["error"] = f"cannot run {cmd[0]}: {e.strerror}"
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    res["wall_s"] = wall
    res["cpu_s"] = ((after.ru_utime - before.ru_utime)
                    + (after.ru_stime - before.ru_stime))
    if res["error"] is None and res["rc"] != 0:
        tail = res["stderr"].strip().splitlines()[-5:]
        res["error"] = (f"exit status {res['rc']}"
                        + ("".join("\n    " + t for t in tail) if tail else ""))
    return res


def timeout_for(utts):
    return TIMEOUT_BASE_S + TIMEOUT_PER_AUDIO_S * sum(u["seconds"] for u in utts)


def normalise_words(text):
    return text.lower().split()


def rnnstream_check(binary, model):
    """Return None if `binary transcribe` looks usable, else why not."""
    if not os.path.isfile(binary) or not os.access(binary, os.X_OK):
        return f"no executable at {binary}"
    if not os.path.isfile(model):
        return f"no model at {model}"
    try:
        p = subprocess.run([binary, "transcribe", "--help"],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, errors="replace", timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"`{binary} transcribe --help` failed: {e}"
    if p.returncode != 0:
        msg = (p.stderr or p.stdout).strip().splitlines()[:1]
        return (f"`{binary} transcribe --help` exited {p.returncode}"
                + (f": {msg[0]}" if msg else ""))
    return None


def run_rnnstream(utts, binary, model, cpu, extra=()):
    """Decode `utts` with one `rnnstream transcribe` process.

    Output lines are `FILE<TAB>TRANSCRIPT`; FILE is matched against the
    argument as given, then against its real path, so a binary that prints
    normalised paths still scores.
    """
    why = rnnstream_check(binary, model)
    if why:
        return {"error": why}
    cmd = (pin_prefix(cpu)
           + [binary, "transcribe", "-m", model, "-j", "1"] + list(extra)
           + [u["path"] for u in utts])
    res = run_timed(cmd, timeout_for(utts))
    by_name = {}
    for line in res["stdout"].splitlines():
        name, sep, text = line.partition("\t")
        if sep:
            by_name[name] = normalise_words(text)
            by_name.setdefault(os.path.realpath(name), by_name[name])
    hyps = [by_name.get(u["path"], by_name.get(os.path.realpath(u["path"])))
            for u in utts]
    res["hyps"] = hyps
    del res["stdout"]
    return res


# pocketsphinx_batch writes one hypothesis per line: `WORDS (UTTID SCORE)`,
# with WORDS empty when nothing was recognised.
PS_HYP_RE = re.compile(r"^(.*?)\s*\((\S+)\s+(-?\d+)\)\s*$")
# Its log ends with `TOTAL X seconds speech, Y seconds CPU, Z seconds wall`.
PS_TOTAL_RE = re.compile(r"TOTAL\s+([\d.]+) seconds speech,\s+([\d.]+) "
                         r"seconds CPU,\s+([\d.]+) seconds wall")


def ps_words(text):
    """The digit words of a pocketsphinx hypothesis.

    Fillers (`<sil>`, `[NOISE]`, `++...++`) are dropped, and an alternate
    pronunciation's marker, `zero(2)`, is reduced to the word.
    """
    out = []
    for w in text.lower().split():
        if w.startswith(("<", "[", "++")):
            continue
        out.append(re.sub(r"\(\d+\)$", "", w))
    return out


def ps_write_dict(path):
    """Write the digits' pronunciations, taken from cmudict-en-us.dict.

    The full dictionary has about 134 000 entries; pocketsphinx reads all
    of them at start-up although a grammar uses eleven words, so the
    benchmark gives it only those (the decoding is the same). Raises
    RuntimeError when a digit, `oh` included, has no pronunciation.
    """
    want = set(DIGITS)
    lines = []
    with open(PS_DICT, encoding="utf-8", errors="replace") as f:
        for line in f:
            head = line.split(None, 1)[0] if line.strip() else ""
            if re.sub(r"\(\d+\)$", "", head) in want:
                lines.append(line if line.endswith("\n") else line + "\n")
    found = {re.sub(r"\(\d+\)$", "", ln.split(None, 1)[0]) for ln in lines}
    missing = want - found
    if missing:
        raise RuntimeError(f"{PS_DICT} has no pronunciation for "
                           f"{' '.join(sorted(missing))}")
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(lines)
    return "".join(lines)


PS_GRAMMAR = """#JSGF V1.0;
grammar digits;
<digit> = zero | one | two | three | four | five | six | seven | eight | nine | oh ;
public <digits> = <digit>+ ;
"""


def ps_prepare_audio(utts, outdir):
    """Write every utterance as headerless s16le 16 kHz mono `uNNNNNN.raw`.

    A 16 kHz 16-bit mono file is copied sample for sample; anything else is
    converted with `sox IN -r 16000 -b 16 -c 1 -e signed-integer -L OUT`
    (sox's default rate converter). Returns the number converted. Raises
    RuntimeError when a conversion is needed and sox is missing or fails.
    """
    converted = 0
    for k, u in enumerate(utts):
        out = os.path.join(outdir, f"u{k:06d}.raw")
        if u["rate"] == PS_RATE and u["width"] == 2 and u["channels"] == 1:
            with wave.open(u["path"], "rb") as w:
                data = w.readframes(w.getnframes())
            with open(out, "wb") as f:
                f.write(data)
            continue
        if not shutil.which("sox"):
            raise RuntimeError(f"{u['path']} is {u['rate']} Hz and sox, "
                               "needed to resample it, is not installed")
        p = subprocess.run(["sox", u["path"], "-t", "raw", "-r", str(PS_RATE),
                            "-b", "16", "-c", "1", "-e", "signed-integer",
                            "-L", out], capture_output=True, text=True,
                           errors="replace", stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise RuntimeError(f"sox failed on {u['path']}: {p.stderr.strip()}")
        converted += 1
    return converted


def ps_options(tmp):
    """pocketsphinx_batch's options, apart from -ctl, -hyp and -logfn.

    -adcin yes reads raw samples instead of cepstra; -cepdir and -cepext
    turn the control file's ids into paths; -adchdr 0 because the files have
    no header; -samprate 16000 (the default, written out) matches both the
    files and the en-us model. Everything else, the front end (which takes
    its parameters from the model's feat.params), the beams, VAD and CMN, is
    left at Debian's 0.8 defaults; the search weights in PS_TUNED (or
    --ps-args) follow these.
    """
    return ["-hmm", PS_HMM,
            "-dict", os.path.join(tmp, "digits.dict"),
            "-jsgf", os.path.join(tmp, "digits.gram"),
            "-adcin", "yes", "-adchdr", "0", "-input_endian", "little",
            "-samprate", str(PS_RATE),
            "-cepdir", os.path.join(tmp, "audio"), "-cepext", ".raw"]


def run_pocketsphinx(utts, cpu, extra=(), keep_dir=None):
    """Decode `utts` with one pocketsphinx_batch process.

    Everything it reads is prepared first in a temporary directory: the
    grammar, the digits' dictionary, the control file and the audio (see
    ps_prepare_audio); only the pocketsphinx_batch process is timed.
    """
    binary = shutil.which("pocketsphinx_batch")
    if not binary:
        return {"error": "pocketsphinx_batch not found (Debian package "
                         "pocketsphinx)"}
    if not os.path.isdir(PS_HMM) or not os.path.isfile(PS_DICT):
        return {"error": f"no en-us model in {PS_MODEL_DIR} (Debian "
                         "package pocketsphinx-en-us)"}
    with tempfile.TemporaryDirectory(prefix="bench-transcribe-") as tmp:
        try:
            with open(os.path.join(tmp, "digits.gram"), "w") as f:
                f.write(PS_GRAMMAR)
            ps_write_dict(os.path.join(tmp, "digits.dict"))
            os.mkdir(os.path.join(tmp, "audio"))
            converted = ps_prepare_audio(utts, os.path.join(tmp, "audio"))
        except (OSError, RuntimeError) as e:
            return {"error": str(e)}
        ctl = os.path.join(tmp, "digits.ctl")
        with open(ctl, "w") as f:
            f.writelines(f"u{k:06d}\n" for k in range(len(utts)))
        hyp_path = os.path.join(tmp, "digits.hyp")
        log_path = os.path.join(tmp, "digits.log")
        cmd = (pin_prefix(cpu) + [binary] + ps_options(tmp) + list(extra)
               + ["-ctl", ctl, "-hyp", hyp_path, "-logfn", log_path])
        res = run_timed(cmd, timeout_for(utts))
        res["converted"] = converted
        res["options"] = ps_options("TMP") + list(extra)
        by_id = {}
        try:
            with open(hyp_path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = PS_HYP_RE.match(line.rstrip("\n"))
                    if m:
                        by_id[m.group(2)] = ps_words(m.group(1))
        except OSError:
            pass
        res["hyps"] = [by_id.get(f"u{k:06d}") for k in range(len(utts))]
        try:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                log = f.read()
        except OSError:
            log = ""
        m = None
        for m in PS_TOTAL_RE.finditer(log):
            pass
        if m:
            res["decode_speech_s"] = float(m.group(1))
            res["decode_cpu_s"] = float(m.group(2))
            res["decode_wall_s"] = float(m.group(3))
        if res["error"] and log:
            tail = [ln for ln in log.splitlines() if "ERROR" in ln][-3:]
            res["error"] += "".join("\n    " + t for t in tail)
        if keep_dir:
            shutil.copytree(tmp, keep_dir, dirs_exist_ok=True)
        del res["stdout"]
        return res


# ---------------------------------------------------------------- reporting

def summarise(system, utts, res):
    """Add the scores and rates to `res` (a run's result) and return it."""
    audio = sum(u["seconds"] for u in utts)
    res["system"] = system
    res["files"] = len(utts)
    res["audio_s"] = audio
    if res.get("error") is None and "hyps" in res:
        res.update(score(utts, res["hyps"]))
        res["rtf"] = res["wall_s"] / audio if audio else None
        res["cpu_rtf"] = res["cpu_s"] / audio if audio else None
    return res


def print_table(list_path, utts, results):
    rates = {}
    for u in utts:
        rates[u["rate"]] = rates.get(u["rate"], 0) + 1
    rate_text = ", ".join(f"{n} at {r} Hz" for r, n in sorted(rates.items()))
    print(f"\n## {list_path}: {len(utts)} files ({rate_text})\n")
    head = ["system", "files", "audio s", "wall s", "RTF", "WER %",
            "sentence acc %"]
    rows = []
    for r in results:
        if r.get("error") is None and "wer_pct" in r:
            rows.append([r["system"], str(r["files"]), f"{r['audio_s']:.1f}",
                         f"{r['wall_s']:.2f}", f"{r['rtf']:.4f}",
                         f"{r['wer_pct']:.2f}", f"{r['sent_acc_pct']:.1f}"])
        else:
            rows.append([r["system"], str(r["files"]), f"{r['audio_s']:.1f}",
                         "-", "-", "-", "-"])
    widths = [max(len(h), *(len(row[i]) for row in rows))
              for i, h in enumerate(head)]
    print(" | ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("-|-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join([row[0].ljust(widths[0])]
                         + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]))
    print()
    for r in results:
        if r.get("error") is not None:
            print(f"{r['system']}: did not run: {r['error']}")
            continue
        extra = (f"{r['system']}: CPU {r['cpu_s']:.2f} s (RTF "
                 f"{r['cpu_rtf']:.4f}); errors S {r['sub']} D {r['del']} "
                 f"I {r['ins']} of {r['n_ref']} words")
        if r["missing"]:
            extra += (f"; {r['missing']} file{'s' if r['missing'] > 1 else ''}"
                      " without output (scored as deletions)")
        print(extra)
        if "decode_wall_s" in r:
            load = r["wall_s"] - r["decode_wall_s"]
            print(f"{r['system']}: decoding alone {r['decode_wall_s']:.2f} s "
                  f"wall (RTF {r['decode_wall_s'] / r['audio_s']:.4f}), "
                  f"start-up and model load {load:.2f} s; {r['converted']} "
                  f"files resampled to 16 kHz with sox before timing")
    ok = {r["system"]: r for r in results
          if r.get("error") is None and "wer_pct" in r}
    if "rnnstream" in ok and "pocketsphinx" in ok:
        a, b = ok["rnnstream"], ok["pocketsphinx"]
        ratio = b["wall_s"] / a["wall_s"] if a["wall_s"] > 0 else float("inf")
        if ratio >= 1:
            speed = f"{ratio:.1f}x faster than"
        else:
            speed = f"{1 / ratio:.1f}x slower than"
        print(f"rnnstream is {speed} pocketsphinx, WER "
              f"{a['wer_pct']:.2f}% vs {b['wer_pct']:.2f}%")


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Benchmark `rnnstream transcribe` against pocketsphinx "
                    "on connected digits (see bench/README.md).")
    ap.add_argument("--list", action="append", required=True,
                    metavar="LIST", help="a list file (repeatable; each is "
                    "reported separately)")
    ap.add_argument("--limit", type=int, metavar="N",
                    help="only the first N files of each list")
    ap.add_argument("--rnnstream", default=DEFAULT_RNNSTREAM, metavar="PATH",
                    help=f"the rnnstream binary (default {DEFAULT_RNNSTREAM})")
    ap.add_argument("--model", default=DEFAULT_MODEL, metavar="PATH",
                    help=f"rnnstream's model (default {DEFAULT_MODEL})")
    ap.add_argument("--cpu", type=int, default=0, metavar="N",
                    help="the core both run on, with taskset (default 0; "
                    "-1 for no pinning)")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--pocketsphinx-only", action="store_true")
    only.add_argument("--rnnstream-only", action="store_true")
    ap.add_argument("--json", metavar="OUT",
                    help="write the raw results, per-file hypotheses "
                    "included, as JSON")
    ap.add_argument("--rnnstream-args", default="", metavar="ARGS",
                    help="more `rnnstream transcribe` options, one string "
                    "(e.g. \"--beam 1\")")
    ap.add_argument("--ps-args", default=PS_TUNED, metavar="ARGS",
                    help="pocketsphinx_batch's search options, one string "
                    f"(default \"{PS_TUNED}\", tuned on valid.list; \"\" "
                    "for Debian's defaults)")
    ap.add_argument("--keep", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        ap.error("--limit must be at least 1")
    cpu = None if args.cpu < 0 else args.cpu
    try:
        ps_extra = shlex.split(args.ps_args)
        rs_extra = shlex.split(args.rnnstream_args)
    except ValueError as e:
        ap.error(f"--ps-args or --rnnstream-args: {e}")

    try:
        lists = [(p, read_list(p, args.limit)) for p in args.list]
    except BadArgument as e:
        print(f"bench-transcribe: {e}", file=sys.stderr)
        return 2

    pinned = (f"pinned to CPU {cpu} with taskset" if pin_prefix(cpu)
              else "not pinned")
    print(f"# rnnstream transcribe vs pocketsphinx_batch, one process each, "
          f"{pinned}; load average {os.getloadavg()[0]:.2f}")
    report = {"lists": [], "rnnstream": args.rnnstream, "model": args.model,
              "cpu": cpu}
    for list_path, utts in lists:
        results = []
        if not args.pocketsphinx_only:
            results.append(summarise(
                "rnnstream", utts,
                run_rnnstream(utts, args.rnnstream, args.model, cpu,
                              rs_extra)))
        if not args.rnnstream_only:
            results.append(summarise("pocketsphinx", utts,
                                     run_pocketsphinx(utts, cpu, ps_extra, args.keep)))
        print_table(list_path, utts, results)
        for r in results:
            r["hyps"] = [" ".join(h) if h is not None else None
                         for h in r.get("hyps", [])]
        report["lists"].append({
            "list": list_path,
            "files": [{"name": u["name"], "ref": " ".join(u["ref"]),
                       "rate": u["rate"], "seconds": u["seconds"]}
                      for u in utts],
            "results": results})
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    if args.json:
        try:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=1)
                f.write("\n")
        except OSError as e:
            print(f"bench-transcribe: cannot write {args.json}: "
                  f"{e.strerror}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
