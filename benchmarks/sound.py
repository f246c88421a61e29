"""Cost of the streaming audio front end (dsp.AudioFeatures) per second of audio: instructions
on the emulated Cortex-M3 and Cortex-M0 (qemu -icount: exact, repeatable), microseconds on the
unix port; and its RAM. The real-time margin at a clock rate f is f / (instructions per second
of audio) at about one instruction per cycle.

    .venv/bin/python -m benchmarks.sound [--targets unix,cortex-m3,cortex-m0]

Each configuration streams 2 s of a spoken digit (data/fsdd, 8 kHz, repeated) from a WAV file
(dsp.WavReader) in chunks of 160 samples (20 ms, what an I2S driver might hand over) through
process(); the figure is the cost of the second second (the stream in its steady state),
reading the file and the Python loop included.
"""

import argparse
import sys

import numpy as np

from microlearn import audio, targets, wav

CONFIGS = [
    # name, config (fixed point unless it says float32)
    ("log-mel 40, 32 ms frames, hop 16 ms", dict(frame_length=256, hop=128, n_mels=40)),
    ("log-mel 40, 32 ms frames, hop 16 ms, float32",
     dict(frame_length=256, hop=128, n_mels=40, fixed_point=False)),
    ("log-mel 40, 32 ms frames, hop 20 ms", dict(frame_length=256, hop=160, n_mels=40)),
    ("log-mel 40, 25 ms frames (FFT 256), hop 10 ms", dict(frame_length=200, hop=80, n_mels=40)),
    ("log-mel 40, 25 ms frames (FFT 256), hop 10 ms, float32",
     dict(frame_length=200, hop=80, n_mels=40, fixed_point=False)),
    ("log-mel 20, 32 ms frames, hop 16 ms", dict(frame_length=256, hop=128, n_mels=20)),
    ("MFCC 13 of 40 mels, 32 ms frames, hop 16 ms",
     dict(frame_length=256, hop=128, n_mels=40, n_mfcc=13)),
    ("MFCC 13 of 40 mels, 32 ms frames, hop 16 ms, float32",
     dict(frame_length=256, hop=128, n_mels=40, n_mfcc=13, fixed_point=False)),
    ("log-mel 40, 64 ms frames, hop 32 ms", dict(frame_length=512, hop=256, n_mels=40)),
]
CHUNK = 160
RATE = 8000

SCRIPT = r"""
import array, gc, mlclock
from microlearn import dsp
buf = array.array('h', bytes(2 * {chunk}))
t0 = t1 = k = i = 0
for name, cfg in {configs!r}:
    fe = dsp.AudioFeatures(cfg)
    out = array.array('f', bytes(4 * fe.n_features * (1 + ({chunk} - 1) // fe.hop)))
    w = dsp.WavReader('sound.wav')
    frames = 0
    gc.collect()
    for i in range(0, {n}, {chunk}):
        if i == {rate}:
            t0 = mlclock.ticks()
            frames = 0
        w.read(buf)
        frames += fe.process(buf, out)
    t1 = mlclock.ticks()
    w.close()
    print('R', name, mlclock.to_unit(mlclock.diff(t1, t0)), frames, fe.memory)
print('UNIT', mlclock.UNIT)
"""


def signal():
    """2 s: a spoken digit repeated (speech, not silence: the cost does not depend on the
    values, but a real signal keeps it honest)."""
    x, rate = wav.read(audio.fsdd_dir() / "7_jackson_0.wav")
    assert rate == RATE
    return np.resize(x, 2 * RATE).astype(np.int16)


def measure(target_name):
    x = signal()
    cfgs = [(name, dict(sample_rate=RATE, **cfg)) for name, cfg in CONFIGS]
    script = SCRIPT.format(n=len(x), chunk=CHUNK, rate=RATE, configs=cfgs)
    import io

    f = io.BytesIO()
    wav.write(f, x, RATE)
    with targets.get(target_name).session({"sound.wav": f.getvalue()}) as s:
        res = s.exec(script)
    if not res.ok:
        raise RuntimeError(f"{target_name}: {res.output}")
    rows, unit = [], ""
    for line in res.output.splitlines():
        if line.startswith("R "):
            name, rest = line[2:].rsplit(" ", 3)[0], line.rsplit(" ", 3)[1:]
            rows.append((name, float(rest[0]), int(rest[1]), int(rest[2])))
        elif line.startswith("UNIT"):
            unit = line.split()[1]
    return rows, unit


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", default="unix,cortex-m3,cortex-m0")
    args = ap.parse_args(argv)
    table = {}
    for t in args.targets.split(","):
        rows, unit = measure(t)
        for name, cost, frames, mem in rows:
            table.setdefault(name, {})[t] = (cost, unit, frames, mem)
    names = args.targets.split(",")
    print("| front end | frames/s | RAM (bytes) | " + " | ".join(
        f"{t} ({'instructions' if t != 'unix' else 'µs'} per s of audio)" for t in names) + " |")
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in names) + " |")
    for name, per in table.items():
        first = next(iter(per.values()))
        cells = []
        for t in names:
            cost, unit, frames, mem = per[t]
            cells.append(f"{cost:,.0f}" if unit == "instr" else f"{cost:,.0f}")
        print(f"| {name} | {first[2]} | {first[3]:,} | " + " | ".join(cells) + " |")
    m3 = {n: per["cortex-m3"][0] for n, per in table.items() if "cortex-m3" in per}
    for n, c in m3.items():
        print(f"cortex-m3: {n}: {c / 1e6:.1f} M instructions per second of audio, "
              f"{100 * c / 64e6:.0f}% of a 64 MHz core")
    return 0


if __name__ == "__main__":
    sys.exit(main())
