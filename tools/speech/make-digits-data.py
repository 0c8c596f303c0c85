#!/usr/bin/python3
"""Make a reproducible synthetic connected-digit speech data set.

Vocabulary (11 words): zero one two three four five six seven eight nine oh.

Usage:
    make-digits-data.py -o DIR [--seed 1] [--train 12000] [--valid 600]
                        [--test 600] [--real 600] [-j JOBS]

Output in DIR:
    wav/{train,valid,test}/NNNNNN.wav  16-bit mono WAV, 16 kHz (8 kHz for the
                                       telephone-band share)
    real/NNNNNN.wav                    real human recordings (see below), 8 kHz
    train.list valid.list test.list real.list
                                       "RELATIVE/PATH.wav<TAB>transcript"
    manifest.tsv                       every per-utterance parameter
    noise/*.wav                        the seeded noise beds the mixes used

Everything is drawn from one random.Random(seed) in the main process, in a
fixed order, before any work is handed to the workers, so the transcripts,
voices and augmentation parameters depend on --seed and the counts only, not
on -j.  sox runs with -R (fixed dither and noise seeds); noise comes from
three fixed beds made once with `sox -R -n synth`, read at a random offset.

Voices
------
espeak-ng: 8 English base voices x 30 variants (and the bare base) (see ESPEAK_BASES and
ESPEAK_VARIANTS), random speed -s 120..210 wpm, pitch -p 20..80, word gap
-g 0..6 (x10 ms).
festival (text2wave): kal_diphone, ked_diphone (diphones recorded from real
speakers) and cmu_us_slt_arctic_hts (HTS voice trained on a real speaker),
random duration stretch 0.85..1.25 (for HTS through hts_engine's -r rate).
flite: kal, kal16, awb, rms, slt (CMU voices from real speakers), random
duration_stretch 0.85..1.25.
MBROLA voices (mbrola-us1/us2/us3/en1) are not in Debian 12 main, so they are
not used.

Held-out voices (the fixed rule)
--------------------------------
A voice identity is engine:name, for espeak-ng name is base+variant.
Validation and test use ONLY held-out identities; training uses none of them:
  * espeak-ng: a (base, variant) pair is held out when the base is
    en-gb-x-gbcwmd, or the variant is one of m3, f2, klatt3, grandpa;
  * festival: the whole voice ked_diphone is held out;
  * flite: the whole voice awb is held out.
All other identities are training voices.  The engine mix is espeak 40%,
festival 30%, flite 30% in every split (in validation and test the festival
and flite shares are all ked and awb).

Augmentation (sox, per utterance, drawn at random)
--------------------------------------------------
15% of utterances are clean: only the TTS silence trimmed, resampled to
16 kHz, leading/trailing silence and level.  The others get, each with its
own probability:
  * tempo (pitch kept) or speed (pitch follows), factor 0.85..1.15 (70%)
  * pitch shift -300..+300 cents (50%)
  * reverb with a random room: reverberance, HF damping, room scale,
    pre-delay, wet gain (30%)
  * additive white/pink/brown noise at SNR 5..30 dB against the active speech
    level (65%)
  * telephone band: sinc 300-3400 Hz and written at 8 kHz (20%)
All get leading and trailing silence 0.1..0.8 s, peak normalisation to
-3 dBFS and then a gain of -20..+6 dB through sox's limiter (no clipping).

Real human speech (--real N)
----------------------------
asterisk-core-sounds-en-wav ships isolated words recorded by a person
(Allison Smith, US English female, 8 kHz): digits/0.wav .. 9.wav and
digits/oh.wav, i.e. all 11 words.  Each is trimmed of silence once; N random
digit strings are made by joining them with random pauses of 0.03..0.35 s
and 0.1..0.5 s of silence at each end, a faint pink noise floor
(-70..-55 dBFS) added, written at 8 kHz as real.list.  This
is isolated-word speech spliced together (no coarticulation), so it is a
test of voice and recording generalisation, not of connected speech.
"""

import argparse
import array
import math
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import wave

WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven",
         "eight", "nine"]
VOCAB = WORDS + ["oh"]

ESPEAK_BASES = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp",
                "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc"]
# "" is the base voice itself.  Variants that turn speech into effects
# (Demonic, UniRobot, robosoft*, ...) are left out, and so are Michael, f4
# and norbert, which pocketsphinx's human-speech en-us model recognised
# worst (80-97% word errors with a digit grammar, against 17-75% for these).
ESPEAK_VARIANTS = ["", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8",
                   "f1", "f2", "f3", "f5", "klatt", "klatt2", "klatt3",
                   "klatt4", "croak", "whisper", "adam", "Andy", "Annie",
                   "david", "edward", "john", "linda", "max", "paul",
                   "quincy", "steph", "grandpa"]
HELD_ESPEAK_BASES = {"en-gb-x-gbcwmd"}
HELD_ESPEAK_VARIANTS = {"m3", "f2", "klatt3", "grandpa"}

FESTIVAL_VOICES = ["kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts"]
HELD_FESTIVAL = {"ked_diphone"}
FLITE_VOICES = ["kal", "kal16", "awb", "rms", "slt"]
HELD_FLITE = {"awb"}

NOISE_COLOURS = ["white", "pink", "brown"]
NOISE_BED_SECONDS = 120.0
RATE = 16000
TEL_RATE = 8000

ASTERISK_DIRS = ["/usr/share/asterisk/sounds/en_US_f_Allison",
                 "/usr/share/asterisk/sounds/en"]


class ToolError(Exception):
    """A command failed; the message names the command and the utterance."""


def die(msg):
    print("make-digits-data: error: " + msg, file=sys.stderr)
    sys.exit(1)


def check_packages():
    """Check every package of packages.txt is installed; exit naming the
    missing ones."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "packages.txt")
    with open(path) as f:
        pkgs = [l.strip() for l in f if l.strip()]
    missing = []
    for p in pkgs:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
        if r.returncode != 0 or "install ok installed" not in r.stdout:
            missing.append(p)
    if missing:
        die("missing Debian packages: %s\n  install them with: "
            "apt-get install %s" % (" ".join(missing), " ".join(missing)))


def check_voices():
    """Fail if a listed espeak-ng variant or festival/flite voice is not
    there (espeak-ng would silently fall back to the base voice)."""
    r = run(["espeak-ng", "--voices=variant"], "listing espeak-ng variants")
    have = {l.split()[4].split("/")[-1] for l in r.stdout.splitlines()[1:]
            if len(l.split()) >= 5}
    bad = [v for v in ESPEAK_VARIANTS if v and v not in have]
    r = run(["espeak-ng", "--voices=en"], "listing espeak-ng voices")
    have = {l.split()[1] for l in r.stdout.splitlines()[1:] if len(l.split()) > 1}
    bad += [b for b in ESPEAK_BASES if b not in have]
    r = run(["flite", "-lv"], "listing flite voices")
    bad += [v for v in FLITE_VOICES if v not in r.stdout.split()]
    for v in FESTIVAL_VOICES:
        if not any(os.path.isdir(os.path.join("/usr/share/festival/voices", l, v))
                   for l in ("english", "us")):
            bad.append(v)
    if bad:
        die("voices not found: " + " ".join(bad))


def espeak_pairs(held):
    return [(b, v) for b in ESPEAK_BASES for v in ESPEAK_VARIANTS
            if (b in HELD_ESPEAK_BASES or v in HELD_ESPEAK_VARIANTS) == held]


def voice_pools(held):
    """(engine, voice-name) choices with their engine weight, for a split."""
    es = ["%s+%s" % p if p[1] else p[0] for p in espeak_pairs(held)]
    fe = [v for v in FESTIVAL_VOICES if (v in HELD_FESTIVAL) == held]
    fl = [v for v in FLITE_VOICES if (v in HELD_FLITE) == held]
    return [("espeak", es, 0.4), ("festival", fe, 0.3), ("flite", fl, 0.3)]


def draw_words(rng):
    n = rng.randint(1, 7)
    digits = [rng.randrange(10) for _ in range(n)]
    # Half the speakers read 0 as "oh" (as in phone numbers), nearly always.
    oh_style = rng.random() < 0.5
    words = []
    for d in digits:
        if d == 0 and oh_style and rng.random() < 0.9:
            words.append("oh")
        else:
            words.append(WORDS[d])
    return words


def spoken_text(rng, words):
    """The text given to the synthesiser: the words, sometimes in groups
    separated by commas (a pause, as when reading a number out)."""
    if len(words) >= 3 and rng.random() < 0.3:
        groups, i = [], 0
        while i < len(words):
            k = rng.randint(2, 4)
            groups.append(" ".join(words[i:i + k]))
            i += k
        return ", ".join(groups)
    return " ".join(words)


def u(rng, a, b, nd=3):
    return round(rng.uniform(a, b), nd)


def draw_utterance(rng, split, idx, pools):
    words = draw_words(rng)
    p = {"id": "%s-%06d" % (split, idx), "split": split,
         "path": "wav/%s/%06d.wav" % (split, idx),
         "transcript": " ".join(words), "text": spoken_text(rng, words)}
    r, acc = rng.random(), 0.0
    for engine, names, w in pools:
        acc += w
        if r < acc or engine == pools[-1][0]:
            break
    p["engine"] = engine
    p["voice"] = rng.choice(names)
    if engine == "espeak":
        p["tts"] = "s=%d p=%d g=%d" % (rng.randint(120, 210),
                                       rng.randint(20, 80), rng.randint(0, 6))
    else:
        p["tts"] = "stretch=%.3f" % rng.uniform(0.85, 1.25)
    a = {}
    a["clean"] = rng.random() < 0.15
    a["lead"] = u(rng, 0.1, 0.8)
    a["trail"] = u(rng, 0.1, 0.8)
    a["gain"] = u(rng, -20.0, 6.0, 2)
    if not a["clean"]:
        if rng.random() < 0.7:
            a["speed_mode"] = rng.choice(["tempo", "speed"])
            a["speed"] = u(rng, 0.85, 1.15)
        if rng.random() < 0.5:
            a["pitch"] = rng.randint(-300, 300)
        if rng.random() < 0.3:
            a["reverb"] = "%d %d %d %d %d %.1f" % (
                rng.randint(10, 60), rng.randint(20, 80), rng.randint(10, 100),
                100, rng.randint(0, 20), rng.uniform(-6.0, 0.0))
        if rng.random() < 0.65:
            a["noise"] = rng.choice(NOISE_COLOURS)
            a["snr"] = u(rng, 5.0, 30.0, 1)
            a["noise_offset"] = u(rng, 0.0, 1.0, 4)  # fraction of free bed
        a["telephone"] = rng.random() < 0.2
    else:
        a["telephone"] = False
    p["aug"] = a
    return p


def run(cmd, what, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, **kw)
    if r.returncode != 0:
        raise ToolError("%s: command failed (exit %d): %s\n%s" % (
            what, r.returncode, " ".join(cmd), r.stderr.strip()[-2000:]))
    return r


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ToolError("%s: expected 16-bit mono" % path)
        a = array.array("h")
        a.frombytes(w.readframes(w.getnframes()))
        if sys.byteorder == "big":
            a.byteswap()
        return a, w.getframerate()


def write_wav(path, samples, rate):
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())


def active_level_db(samples, rate):
    """Speech level in dBFS: the RMS over the 20 ms frames whose energy is
    within 35 dB of the loudest frame (a simple active-speech level)."""
    n = max(1, rate // 50)
    energies = []
    for i in range(0, len(samples) - n + 1, n):
        fr = samples[i:i + n]
        energies.append(sum(x * x for x in fr) / n)
    if not energies or max(energies) <= 0:
        return -120.0
    thr = max(energies) * 10 ** (-35 / 10)
    act = [e for e in energies if e >= thr]
    return 10 * math.log10(sum(act) / len(act) / 32768.0 ** 2)


def synthesise(p, raw, tmp):
    what = "utterance %s (%s:%s)" % (p["id"], p["engine"], p["voice"])
    if p["engine"] == "espeak":
        kv = dict(x.split("=") for x in p["tts"].split())
        run(["espeak-ng", "-v", p["voice"], "-s", kv["s"], "-p", kv["p"],
             "-g", kv["g"], "-w", raw, p["text"]], what)
    elif p["engine"] == "festival":
        stretch = float(p["tts"].split("=")[1])
        txt = os.path.join(tmp, "text.txt")
        with open(txt, "w") as f:
            f.write(p["text"] + "\n")
        cmd = ["text2wave", "-o", raw, "-eval", "(voice_%s)" % p["voice"]]
        if p["voice"].endswith("_hts"):
            cmd += ["-eval", "(set! hts_engine_params (append hts_engine_params"
                    " (list (list \"-r\" %.4f))))" % (1.0 / stretch)]
        else:
            cmd += ["-eval", "(Parameter.set 'Duration_Stretch %.3f)" % stretch]
        run(cmd + [txt], what)
    else:
        stretch = p["tts"].split("=")[1]
        run(["flite", "-voice", p["voice"], "-t", p["text"], "-o", raw,
             "--setf", "duration_stretch=" + stretch], what)
    if not os.path.exists(raw) or os.path.getsize(raw) <= 44:
        raise ToolError("%s: the synthesiser wrote no audio to %s" % (what, raw))


def process(job):
    """Worker: make one utterance.  Returns (id, duration, rate)."""
    p, out_dir, beds = job
    a = p["aug"]
    what = "utterance %s (%s:%s)" % (p["id"], p["engine"], p["voice"])
    tmp = tempfile.mkdtemp(prefix=p["id"] + "-", dir=os.path.join(out_dir, ".tmp"))
    try:
        raw = os.path.join(tmp, "raw.wav")
        synthesise(p, raw, tmp)
        # Stage A: trim the synthesiser's silence, the speech effects,
        # 16 kHz mono, our own silence, peak at -3 dBFS.
        st = os.path.join(tmp, "a.wav")
        fx = ["remix", "-", "silence", "1", "0.01", "0.1%", "reverse",
              "silence", "1", "0.01", "0.1%", "reverse"]
        if "speed" in a:
            if a["speed_mode"] == "tempo":
                fx += ["tempo", "-s", str(a["speed"])]
            else:
                fx += ["speed", str(a["speed"])]
        if "pitch" in a:
            fx += ["pitch", str(a["pitch"])]
        fx += ["rate", "-v", str(RATE)]
        if "reverb" in a:
            fx += ["reverb"] + a["reverb"].split() + ["remix", "-"]
        fx += ["pad", str(a["lead"]), str(a["trail"]), "norm", "-3"]
        run(["sox", "-R", "-V1", raw, "-b", "16", st] + fx, what)
        dst = os.path.join(out_dir, p["path"])
        tail = []
        if a["telephone"]:
            tail += ["sinc", "300-3400", "rate", "-v", str(TEL_RATE)]
        tail += ["gain", "-l", str(a["gain"])]
        if "noise" in a:
            samples, rate = read_wav(st)
            level = active_level_db(samples, rate)
            bed, bed_db = beds[a["noise"]]
            dur = len(samples) / rate
            off = a["noise_offset"] * max(0.0, NOISE_BED_SECONDS - dur - 0.01)
            vol = 10 ** ((level - a["snr"] - bed_db) / 20)
            noise = "|sox -R -V1 %s -p trim %.4f %.4f" % (bed, off, dur)
            run(["sox", "-R", "-V1", "-m", "-v", "1", st, "-v", "%.6f" % vol,
                 noise, "-b", "16", dst] + tail, what)
        else:
            run(["sox", "-R", "-V1", st, "-b", "16", dst] + tail, what)
        with wave.open(dst, "rb") as w:
            return p["id"], w.getnframes() / w.getframerate(), w.getframerate()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def make_noise_beds(out_dir):
    """Three 120 s noise beds (sox -R makes them the same on every run);
    returns colour -> (path, RMS level in dBFS)."""
    d = os.path.join(out_dir, "noise")
    os.makedirs(d, exist_ok=True)
    beds = {}
    for c in NOISE_COLOURS:
        path = os.path.join(d, c + ".wav")
        run(["sox", "-R", "-V1", "-n", "-r", str(RATE), "-b", "16", "-c", "1",
             path, "synth", str(NOISE_BED_SECONDS), c + "noise", "norm", "-6"],
            "noise bed " + c)
        s, _ = read_wav(path)
        ms = sum(x * x for x in s) / len(s)
        beds[c] = (path, 10 * math.log10(ms / 32768.0 ** 2))
    return beds


def aug_string(a):
    keys = ["clean", "speed_mode", "speed", "pitch", "reverb", "noise", "snr",
            "noise_offset", "telephone", "lead", "trail", "gain"]
    return " ".join("%s=%s" % (k, str(a[k]).replace(" ", ","))
                    for k in keys if k in a)


# Real recordings -----------------------------------------------------------

def real_words_dir():
    for d in ASTERISK_DIRS:
        if all(os.path.exists(os.path.join(d, "digits", f + ".wav"))
               for f in [str(i) for i in range(10)] + ["oh"]):
            return d
    return None


def make_real(rng, n, out_dir, jobs_tmp):
    """Build real.list from the asterisk recordings; returns the manifest
    rows and the durations."""
    src = real_words_dir()
    if src is None:
        die("asterisk-core-sounds-en-wav recordings not found in %s"
            % " or ".join(ASTERISK_DIRS))
    words = {}
    for i, w in enumerate(VOCAB):
        f = os.path.join(src, "digits", (str(i) if i < 10 else "oh") + ".wav")
        t = os.path.join(jobs_tmp, "real-%s.wav" % w)
        run(["sox", "-R", "-V1", f, "-b", "16", "-c", "1", "-r", str(TEL_RATE),
             t, "silence", "1", "0.01", "0.3%", "reverse", "silence", "1",
             "0.01", "0.3%", "reverse"], "trimming real word " + f)
        words[w], _ = read_wav(t)
    # The recordings' silences are digital (+-1 LSB); a faint pink noise
    # floor (-70..-55 dBFS) keeps the spliced pauses from being exact zeros.
    bed = os.path.join(jobs_tmp, "real-floor.wav")
    run(["sox", "-R", "-V1", "-n", "-r", str(TEL_RATE), "-b", "16", "-c", "1",
         bed, "synth", str(NOISE_BED_SECONDS), "pinknoise", "norm", "-6"],
        "noise floor for the real recordings")
    floor, _ = read_wav(bed)
    floor_db = 10 * math.log10(sum(x * x for x in floor) / len(floor)
                               / 32768.0 ** 2)
    os.makedirs(os.path.join(out_dir, "real"), exist_ok=True)
    rows, durs = [], []
    for idx in range(n):
        ws = draw_words(rng)
        lead, trail = u(rng, 0.1, 0.5), u(rng, 0.1, 0.5)
        gaps = [u(rng, 0.03, 0.35) for _ in ws[1:]]
        out = array.array("h", bytes(2 * int(lead * TEL_RATE)))
        for k, w in enumerate(ws):
            if k:
                out.extend(array.array("h", bytes(2 * int(gaps[k - 1] * TEL_RATE))))
            out.extend(words[w])
        out.extend(array.array("h", bytes(2 * int(trail * TEL_RATE))))
        level = u(rng, -70.0, -55.0, 1)
        off = rng.randrange(len(floor) - len(out)) if len(floor) > len(out) else 0
        g = 10 ** ((level - floor_db) / 20)
        for i in range(len(out)):
            j = (off + i) % len(floor)
            out[i] = max(-32768, min(32767, out[i] + int(round(g * floor[j]))))
        path = "real/%06d.wav" % idx
        write_wav(os.path.join(out_dir, path), out, TEL_RATE)
        durs.append(len(out) / TEL_RATE)
        rows.append({"id": "real-%06d" % idx, "split": "real", "path": path,
                     "transcript": " ".join(ws), "text": " ".join(ws),
                     "engine": "recorded", "voice": "asterisk:en_US_f_Allison",
                     "tts": "-", "aug_s": "lead=%s trail=%s gaps=%s floor_db=%s" % (
                         lead, trail, ",".join(str(x) for x in gaps) or "-",
                         level),
                     "rate": TEL_RATE, "dur": len(out) / TEL_RATE})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", dest="out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--train", type=int, default=12000)
    ap.add_argument("--valid", type=int, default=600)
    ap.add_argument("--test", type=int, default=600)
    ap.add_argument("--real", type=int, default=600,
                    help="real-speech utterances from asterisk recordings")
    ap.add_argument("-j", dest="jobs", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    check_packages()
    check_voices()
    out = os.path.abspath(args.out)
    os.makedirs(os.path.join(out, ".tmp"), exist_ok=True)

    # All random draws happen here, in a fixed order.
    rng = random.Random(args.seed)
    utts = []
    for split, n in (("train", args.train), ("valid", args.valid),
                     ("test", args.test)):
        pools = [x for x in voice_pools(split != "train") if x[1]]
        tot = sum(w for _, _, w in pools)
        pools = [(e, v, w / tot) for e, v, w in pools]
        os.makedirs(os.path.join(out, "wav", split), exist_ok=True)
        for i in range(n):
            utts.append(draw_utterance(rng, split, i, pools))
    real_rng = random.Random("real-%d" % args.seed)

    beds = make_noise_beds(out)
    t0 = time.time()
    results = {}
    jobs = [(p, out, beds) for p in utts]
    total = len(jobs)
    try:
        with multiprocessing.Pool(max(1, args.jobs)) as pool:
            for k, (uid, dur, rate) in enumerate(
                    pool.imap_unordered(process, jobs, chunksize=4), 1):
                results[uid] = (dur, rate)
                if k % 50 == 0 or k == total:
                    el = time.time() - t0
                    print("%d/%d utterances, %.1f s, %.2f utt/s" % (
                        k, total, el, k / el), flush=True)
    except ToolError as e:
        die(str(e))
    gen_seconds = time.time() - t0

    rows = []
    for p in utts:
        dur, rate = results[p["id"]]
        rows.append(dict(p, aug_s=aug_string(p["aug"]), rate=rate, dur=dur))
    if args.real > 0:
        rows += make_real(real_rng, args.real, out, os.path.join(out, ".tmp"))
    shutil.rmtree(os.path.join(out, ".tmp"), ignore_errors=True)

    for split in ("train", "valid", "test", "real"):
        sel = [r for r in rows if r["split"] == split]
        if not sel and split == "real":
            continue
        with open(os.path.join(out, split + ".list"), "w") as f:
            for r in sel:
                f.write("%s\t%s\n" % (r["path"], r["transcript"]))
    with open(os.path.join(out, "manifest.tsv"), "w") as f:
        cols = ["id", "split", "path", "transcript", "text", "engine", "voice",
                "tts", "aug_s", "rate", "dur"]
        f.write("\t".join(c if c != "aug_s" else "augmentation"
                          for c in cols) + "\n")
        for r in rows:
            f.write("\t".join(str(r[c]) if c != "dur" else "%.3f" % r[c]
                              for c in cols) + "\n")

    # Summary.
    print("seed %d, %d synthetic utterances in %.1f s with %d worker(s): "
          "%.2f utt/s" % (args.seed, total, gen_seconds, args.jobs,
                          total / max(gen_seconds, 1e-9)))
    for split in ("train", "valid", "test", "real"):
        sel = [r for r in rows if r["split"] == split]
        if not sel:
            continue
        h = sum(r["dur"] for r in sel) / 3600
        tel = sum(1 for r in sel if r["rate"] == TEL_RATE)
        print("  %-5s %6d utterances, %.3f h, %d at 8 kHz" % (
            split, len(sel), h, tel))
        counts = {}
        for r in sel:
            k = r["engine"] + ":" + r["voice"]
            counts[k] = counts.get(k, 0) + 1
        by_engine = {}
        for k, c in counts.items():
            by_engine.setdefault(k.split(":")[0], []).append((k, c))
        for e, lst in sorted(by_engine.items()):
            lst.sort(key=lambda x: (-x[1], x[0]))
            print("    %s: %d voices: %s" % (
                e, len(lst), ", ".join("%s %d" % (k.split(":", 1)[1], c)
                                       for k, c in lst)))
    print("wrote %s/{train,valid,test%s}.list and manifest.tsv" % (
        out, ",real" if args.real > 0 else ""))


if __name__ == "__main__":
    main()
