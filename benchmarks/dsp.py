"""When is a C module needed? Sensor DSP operations in plain Python, @micropython.native,
@micropython.viper (where it applies: integer and raw-copy loops) and microlearn.dsp (C),
side by side, as ratios to the C module:

- on the unix port (x64): time per operation (mlclock: microseconds);
- on the emulated Cortex-M3 (qemu -icount shift=0): instructions per operation, read from the
  board's timer through mlclock;
- on x64 with valgrind --tool=callgrind: instructions per operation of the unix port binary,
  counted as (a script running the operation K times) minus (the same script without the
  loop), divided by K.

Operations, at lengths 32..1024: rms of an int16 window; conversion of raw int16 bytes to
scaled float32 (a sensor FIFO read); a window buffer push of a quarter-window hop (copy/slide);
a 4th-order IIR (two sections) over a float32 block; a real FFT.

    .venv/bin/python -m benchmarks.dsp            # writes docs/dsp-benchmarks.{md,csv,png}
    .venv/bin/python -m benchmarks.dsp --quick    # fewer sizes, no callgrind (CI):
                                                         # ~20 s, writes build/bench-dsp/
"""

import argparse
import csv
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from microlearn import paths, targets

OPS = ("rms", "convert", "window", "iir", "iir_q15", "fft")
IMPLS = ("python", "native", "viper", "c")
OP_TITLES = {
    "rms": "RMS of int16 samples",
    "convert": "int16 bytes -> scaled float32",
    "window": "window push (hop = n/4)",
    "iir": "IIR, 2 biquads, float32",
    "iir_q15": "IIR, 2 biquads, int16 fixed point",
    "fft": "real FFT, float32",
}

# The implementations, MicroPython source. setup(op, n) returns {impl: (fn, a, b)}: one
# operation is fn(a, b). Every implementation is built through exec so that a port without an
# emitter reports the variant as unavailable instead of failing.
DEVICE_IMPL = r'''
import array, math, gc, micropython
from microlearn import dsp

def _compile(src, name):
    g = {'array': array, 'math': math, 'micropython': micropython, 'dsp': dsp}
    try:
        exec(src, g)
        return g[name]
    except Exception as e:
        return None

RMS_PY = """
def rms(x):
    s = 0
    for v in x:
        s += v * v
    return math.sqrt(s / len(x))
"""
RMS_VIPER = """
@micropython.viper
def rms(x) -> int:
    p = ptr16(x)
    n = int(len(x))
    s = 0
    for i in range(n):
        v = p[i]
        if v >= 32768:
            v -= 65536
        s += v * v
    return s
"""
CONV_PY = """
def conv(buf, out):
    scale = 0.001
    for i in range(len(out)):
        v = buf[2 * i] | (buf[2 * i + 1] << 8)
        if v >= 32768:
            v -= 65536
        out[i] = v * scale
"""
WIN_PY = """
def win(w, new):
    n = len(w)
    hop = len(new)
    for i in range(n - hop):
        w[i] = w[i + hop]
    for i in range(hop):
        w[n - hop + i] = new[i]
"""
WIN_VIPER = """
@micropython.viper
def win(w, new):
    pw = ptr32(w)
    pn = ptr32(new)
    n = int(len(w))
    hop = int(len(new))
    for i in range(n - hop):
        pw[i] = pw[i + hop]
    for i in range(hop):
        pw[n - hop + i] = pn[i]
"""
IIR_PY = """
def iir(x, st):
    coefs, z = st
    n = len(x)
    for s in range(len(coefs)):
        b0, b1, b2, a1, a2 = coefs[s]
        z0 = z[2 * s]
        z1 = z[2 * s + 1]
        for i in range(n):
            v = x[i]
            o = b0 * v + z0
            z0 = b1 * v - a1 * o + z1
            z1 = b2 * v - a2 * o
            x[i] = o
        z[2 * s] = z0
        z[2 * s + 1] = z1
"""
IIRQ_PY = """
def iirq(x, st):
    coefs, z = st
    n = len(x)
    for s in range(len(coefs)):
        b0, b1, b2, a1, a2 = coefs[s]
        x1 = z[4 * s]
        x2 = z[4 * s + 1]
        y1 = z[4 * s + 2]
        y2 = z[4 * s + 3]
        for i in range(n):
            v = x[i]
            y = (b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) >> 14
            if y > 32767:
                y = 32767
            elif y < -32768:
                y = -32768
            x2 = x1
            x1 = v
            y2 = y1
            y1 = y
            x[i] = y
        z[4 * s] = x1
        z[4 * s + 1] = x2
        z[4 * s + 2] = y1
        z[4 * s + 3] = y2
"""
IIRQ_VIPER = """
@micropython.viper
def iirq(x, st):
    px = ptr16(x)
    pc = ptr32(st[0])
    pz = ptr32(st[1])
    n = int(len(x))
    ns = int(len(st[1])) >> 2
    for s in range(ns):
        b0 = pc[5 * s]
        b1 = pc[5 * s + 1]
        b2 = pc[5 * s + 2]
        a1 = pc[5 * s + 3]
        a2 = pc[5 * s + 4]
        x1 = pz[4 * s]
        x2 = pz[4 * s + 1]
        y1 = pz[4 * s + 2]
        y2 = pz[4 * s + 3]
        for i in range(n):
            v = px[i]
            if v >= 32768:
                v -= 65536
            y = (b0 * v + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) >> 14
            if y > 32767:
                y = 32767
            elif y < -32768:
                y = -32768
            x2 = x1
            x1 = v
            y2 = y1
            y1 = y
            px[i] = y
        pz[4 * s] = x1
        pz[4 * s + 1] = x2
        pz[4 * s + 2] = y1
        pz[4 * s + 3] = y2
"""
FFT_PY = """
def fft(x, st):
    re, im, ct, st_, rev = st
    n = len(x)
    for i in range(n):
        j = rev[i]
        re[j] = x[i]
        im[j] = 0.0
    size = 2
    while size <= n:
        half = size >> 1
        step = n // size
        for i in range(0, n, size):
            k = 0
            for j in range(i, i + half):
                l = j + half
                c = ct[k]
                s = st_[k]
                tr = re[l] * c + im[l] * s
                ti = im[l] * c - re[l] * s
                re[l] = re[j] - tr
                im[l] = im[j] - ti
                re[j] += tr
                im[j] += ti
                k += step
        size <<= 1
"""

def _variants(src, name):
    out = {'python': _compile(src, name)}
    out['native'] = _compile('@micropython.native\n' + src.strip() + '\n', name)
    return out

def _rev(i, bits):
    r = 0
    for _ in range(bits):
        r = (r << 1) | (i & 1)
        i >>= 1
    return r

# reps operations; kind says how one is called: 1: f(a); 2: f(a, b); 3: f(a, b, scale=0.001)
# (dsp.decode). kind 0: the empty loop, the baseline subtracted from timings.
def loop(f, a, b, kind, reps):
    if kind == 1:
        for _ in range(reps):
            f(a)
    elif kind == 2:
        for _ in range(reps):
            f(a, b)
    elif kind == 3:
        for _ in range(reps):
            f(a, b, scale=0.001)
    else:
        for _ in range(reps):
            pass

def filled(tc, n, fn):
    # Filled in place: a list comprehension of boxed floats would fragment a small heap.
    a = array.array(tc, bytes(n * (2 if tc in 'hH' else 4)))
    for i in range(n):
        a[i] = fn(i)
    return a

def setup(op, n):
    """{impl: (fn, a, b, kind)}; a missing impl does not apply (or the port cannot compile
    it)."""
    gc.collect()
    r = {}
    if op == 'rms':
        x = filled('h', n, lambda i: ((i * 7919) % 2001) - 1000)
        for k, f in _variants(RMS_PY, 'rms').items():
            r[k] = (f, x, None, 1)
        r['viper'] = (_compile(RMS_VIPER, 'rms'), x, None, 1)
        r['c'] = (dsp.rms, x, None, 1)
        return r
    if op == 'convert':
        buf = bytes(((i * 37) % 256) for i in range(2 * n))
        out = array.array('f', bytes(4 * n))
        for k, f in _variants(CONV_PY, 'conv').items():
            r[k] = (f, buf, out, 2)
        r['c'] = (dsp.decode, buf, out, 3)
        return r
    if op == 'window':
        hop = n // 4
        w = array.array('f', bytes(4 * n))
        new = filled('f', hop, float)
        for k, f in _variants(WIN_PY, 'win').items():
            r[k] = (f, w, new, 2)
        r['viper'] = (_compile(WIN_VIPER, 'win'), w, new, 2)
        buf = dsp.Window(n, hop)
        r['c'] = (buf.push, new, None, 1)
        return r
    if op == 'iir':
        sos = dsp.butter(4, 5.0, 100.0)
        coefs = [tuple(sos[6 * s + j] / sos[6 * s + 3] for j in (0, 1, 2, 4, 5))
                 for s in range(len(sos) // 6)]
        x = filled('f', n, lambda i: math.sin(i * 0.1))
        st = (coefs, array.array('f', bytes(4 * 2 * len(coefs))))
        for k, f in _variants(IIR_PY, 'iir').items():
            r[k] = (f, x, st, 2)
        flt = dsp.IIR(sos)
        r['c'] = (flt.process, x, None, 1)
        return r
    if op == 'iir_q15':
        sos = dsp.butter(4, 20.0, 100.0)
        q = [int(sos[6 * s + j] / sos[6 * s + 3] * 16384) for s in range(len(sos) // 6)
             for j in (0, 1, 2, 4, 5)]
        x = filled('h', n, lambda i: int(8000 * math.sin(i * 0.1)))
        coefs = [tuple(q[5 * s:5 * s + 5]) for s in range(len(q) // 5)]
        for k, f in _variants(IIRQ_PY, 'iirq').items():
            r[k] = (f, x, (coefs, array.array('i', bytes(16 * len(coefs)))), 2)
        r['viper'] = (_compile(IIRQ_VIPER, 'iirq'), x,
                      (array.array('i', q), array.array('i', bytes(16 * len(coefs)))), 2)
        flt = dsp.IIR(sos, typecode='h')
        r['c'] = (flt.process, x, None, 1)
        return r
    if op == 'fft':
        x = filled('f', n, lambda i: math.sin(i * 0.3) + 0.5 * math.cos(i * 1.1))
        ct = filled('f', n // 2, lambda k: math.cos(2 * math.pi * k / n))
        sn = filled('f', n // 2, lambda k: math.sin(2 * math.pi * k / n))
        bits = 0
        while (1 << bits) < n:
            bits += 1
        rev = filled('H', n, lambda i: _rev(i, bits))
        st = (array.array('f', bytes(4 * n)), array.array('f', bytes(4 * n)), ct, sn, rev)
        for k, f in _variants(FFT_PY, 'fft').items():
            r[k] = (f, x, st, 2)
        t = dsp.FFT(n)
        out = array.array('f', bytes(4 * (n + 2)))
        r['c'] = (t.rfft, x, out, 2)
        return r
'''

# Timing on a target through mlclock; prints "R op impl n value".
DEVICE_TIMING = DEVICE_IMPL + r'''
import mlclock
MIN = {min_ticks}
TRIALS = 5 if mlclock.UNIT == 'us' else 1

def timed(f, a, b, kind, reps):
    gc.collect()
    t0 = mlclock.ticks()
    loop(f, a, b, kind, reps)
    return mlclock.diff(mlclock.ticks(), t0)

def bench(f, a, b, kind):
    reps = 1
    while True:
        dt = timed(f, a, b, kind, reps)
        if dt >= MIN or reps >= 4096:
            break
        reps *= 4
    # wall clock (unix): best of TRIALS, for the operation and for the empty loop alike;
    # instruction counts (qemu) are exact already
    base = timed(None, None, None, 0, reps)
    for _ in range(TRIALS - 1):
        dt = min(dt, timed(f, a, b, kind, reps))
        base = min(base, timed(None, None, None, 0, reps))
    return mlclock.to_unit(max(dt - base, 0)) / reps

print('UNIT', mlclock.UNIT)
# A whole feature set (the HAR-style configuration of docs/dsp.md) on one 200 x 3 window.
fe = dsp.Features({'length': 200, 'n_axes': 3, 'sample_rate': 100, 'magnitude': True,
                   'time': ['mean', 'std', 'min', 'max', 'rms', 'skew', 'kurtosis',
                            'zero_crossings', 'mean_crossings', 'ptp', 'energy'],
                   'spectral': {'fft_length': 64, 'filter': 'lowpass', 'cutoff': 20,
                                'order': 4, 'n_bins': 8}})
win = filled('h', 600, lambda i: ((i * 7919) % 2001) - 1000)
fo = array.array('f', bytes(4 * fe.n_features))
print('R features c 200', bench(fe.process, win, fo, 2))
fe = win = fo = None
for op in {ops}:
    for n in {sizes}:
        impls = setup(op, n)
        for name in ('python', 'native', 'viper', 'c'):
            f, a, b, kind = impls.get(name, (None, None, None, 0))
            if f is None:
                continue
            print('R', op, name, n, bench(f, a, b, kind))
        impls = None
        gc.collect()
'''

# callgrind: the same setup, then K operations of one implementation (K = 0: the baseline).
DEVICE_COUNT = DEVICE_IMPL + r'''
impls = setup({op}, {n})
f, a, b, kind = impls[{impl}] if {k} else (None, None, None, 0)
loop(f, a, b, kind, {k})
'''


def count_script(op, n, impl, k):
    return (DEVICE_COUNT.replace("{op}", repr(op)).replace("{n}", str(n))
            .replace("{impl}", repr(impl)).replace("{k}", str(k)))


def run_timing(target_name, ops, sizes):
    target = targets.get(target_name)
    min_ticks = 20000 if target_name == "unix" else 200000  # 20 ms; 8 M instructions on M3
    script = DEVICE_TIMING.replace("{min_ticks}", str(min_ticks)).replace(
        "{ops}", repr(tuple(ops))).replace("{sizes}", repr(tuple(sizes)))
    with target.session(timeout=900) as s:
        res = s.exec(script)
    if not res.ok:
        raise RuntimeError(f"{target_name}: benchmark failed:\n{res.output[-3000:]}")
    unit = re.search(r"^UNIT (\S+)", res.output, re.M).group(1)
    rows = []
    for line in res.output.splitlines():
        if line.startswith("R "):
            _, op, impl, n, v = line.split()
            rows.append(dict(target=target_name, unit=unit, op=op, impl=impl, n=int(n),
                             value=float(v)))
    return rows


def callgrind_count(script_text, workdir):
    """Instructions (Ir) the unix port executes for a script, under callgrind."""
    from . import common

    return common.callgrind_count(script_text, workdir, path=str(paths.natmod()
                                                                       / "x64"))


def run_callgrind(ops, sizes, k=8):
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-dsp-") as tmp:
        for op in ops:
            for n in sizes:
                base = callgrind_count(count_script(op, n, "c", 0), tmp)
                for impl in IMPLS:
                    reps = k if impl == "c" or n <= 256 else max(2, k // 4)
                    try:
                        total = callgrind_count(count_script(op, n, impl, reps), tmp)
                    except RuntimeError:
                        continue  # the variant does not apply (KeyError in the script)
                    rows.append(dict(target="x64-callgrind", unit="Ir", op=op, impl=impl, n=n,
                                     value=(total - base) / reps))
    return rows


def add_ratios(rows):
    c = {(r["target"], r["op"], r["n"]): r["value"] for r in rows if r["impl"] == "c"}
    for r in rows:
        ref = c.get((r["target"], r["op"], r["n"]))
        r["ratio"] = r["value"] / ref if ref else float("nan")
    return rows


def write_csv(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["target", "unit", "op", "impl", "n", "value", "ratio"])
        w.writeheader()
        for r in rows:
            w.writerow({**r, "value": f"{r['value']:.6g}", "ratio": f"{r['ratio']:.4g}"})


def plot(rows, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tgts = [t for t in ("unix", "cortex-m3", "x64-callgrind") if any(r["target"] == t
                                                                     for r in rows)]
    fig, axes = plt.subplots(2, (len(OPS) + 1) // 2, figsize=(13, 8), sharey=True)
    axes = axes.ravel()
    styles = {"unix": "-", "cortex-m3": "--", "x64-callgrind": ":"}
    colors = {"python": "tab:red", "native": "tab:orange", "viper": "tab:green", "c": "tab:blue"}
    for ax, op in zip(axes, OPS):
        for t in tgts:
            for impl in ("python", "native", "viper"):
                pts = sorted((r["n"], r["ratio"]) for r in rows
                             if r["target"] == t and r["op"] == op and r["impl"] == impl)
                if pts:
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], styles[t],
                            color=colors[impl], marker="o", ms=3,
                            label=f"{impl} ({t})")
        ax.axhline(1.0, color=colors["c"], lw=1)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(OP_TITLES[op], fontsize=9)
        ax.set_xlabel("n (samples)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("cost / cost of the C module")
    axes[len(axes) // 2].set_ylabel("cost / cost of the C module")
    handles, labels = axes[-1].get_legend_handles_labels()
    for ax in axes[:-1]:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.08, 1, 0.96))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _fmt(v):
    return f"{v:.3g}" if v < 1000 else f"{v:,.0f}"


def write_markdown(rows, path, command, version, png_name, elapsed):
    units = {"unix": "µs", "cortex-m3": "instructions", "x64-callgrind": "instructions (Ir)"}
    lines = [
        "# DSP benchmarks: when is a C module needed?",
        "",
        f"Produced by `{command}` with MicroPython {version} (Debian source package), "
        f"in {elapsed:.0f} s. Raw numbers: [dsp-benchmarks.csv](dsp-benchmarks.csv); "
        f"how they are measured: `benchmarks/dsp.py`.",
        "",
        "Each operation is implemented in plain Python, with `@micropython.native`, with "
        "`@micropython.viper` where viper applies (integer arithmetic and raw 32-bit copies: "
        "viper has no float type) and with `microlearn.dsp`. Costs are per operation, including "
        "the Python call; the ratio is the cost over the C module's (higher is slower).",
        "",
        "- **unix**: x64 unix port, wall-clock microseconds (mlclock), repeated until 20 ms.",
        "- **cortex-m3**: qemu mps2-an385 with `-icount shift=0`: instructions, from the "
        "board's timer (mlclock), exact and repeatable; soft float.",
        "- **x64-callgrind**: `valgrind --tool=callgrind` on the unix port binary "
        "(`build/micropython/ports/unix/build-standard/micropython`, `MICROPYPATH=build/natmod/x64`): "
        "instructions of a script running the operation K times minus the same script without "
        "the loop, over K.",
        "",
        f"![ratios to the C module]({png_name})",
        "",
        f"Plot: `{command}`, MicroPython {version}.",
        "",
    ]
    summary = headline(rows)
    lines += ["## Headline", ""] + summary + [""]
    for t in ("unix", "cortex-m3", "x64-callgrind"):
        trows = [r for r in rows if r["target"] == t]
        if not trows:
            continue
        lines += [f"## {t} ({units[t]} per operation; ratio to C in brackets)", "",
                  "| operation | n | python | native | viper | C |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for op in OPS:
            for n in sorted({r["n"] for r in trows if r["op"] == op}):
                cells = []
                for impl in IMPLS:
                    r = [x for x in trows if x["op"] == op and x["n"] == n and x["impl"] == impl]
                    if not r:
                        cells.append("–")
                    elif impl == "c":
                        cells.append(_fmt(r[0]["value"]))
                    else:
                        cells.append(f"{_fmt(r[0]['value'])} ({r[0]['ratio']:.1f}×)")
                lines.append(f"| {OP_TITLES[op]} | {n} | " + " | ".join(cells) + " |")
        lines.append("")
    feats = [r for r in rows if r["op"] == "features"]
    if feats:
        lines += ["## A whole feature set", "",
                  "`Features.process` on one 200-frame, 3-axis int16 window: 4 channels (x, y, "
                  "z, magnitude) x (11 time features + 4th-order low-pass, rms/skew/kurtosis, "
                  "64-point FFTs with 50 % overlap, 8 power bins) = 88 features.", "",
                  "| target | cost per window |", "| --- | ---: |"]
        for r in feats:
            lines.append(f"| {r['target']} | {_fmt(r['value'])} {units[r['target']]} |")
        lines.append("")
    Path(path).write_text("\n".join(lines))


def headline(rows):
    out = []
    for t in ("cortex-m3", "unix", "x64-callgrind"):
        trows = [r for r in rows if r["target"] == t]
        if not trows:
            continue
        parts = []
        for op in OPS:
            big = max((r["n"] for r in trows if r["op"] == op), default=None)
            if big is None:
                continue
            get = {r["impl"]: r for r in trows if r["op"] == op and r["n"] == big}
            s = f"{op} n={big}: python {get['python']['ratio']:.0f}×"
            if "native" in get:
                s += f", native {get['native']['ratio']:.0f}×"
            if "viper" in get:
                s += f", viper {get['viper']['ratio']:.1f}×"
            parts.append(s)
        out.append(f"- **{t}**, cost relative to C at the largest size: " + "; ".join(parts)
                   + ".")
    m3 = {(r["op"], r["impl"], r["n"]): r["value"] for r in rows if r["target"] == "cortex-m3"}
    if m3:
        # Budget view: a 3-axis accelerometer at 100 Hz, features every 0.5 s on a 64 MHz M3.
        def ms(op, impl, n):
            v = m3.get((op, impl, n))
            return None if v is None else v / 64e3  # instructions at ~1 per cycle, 64 MHz
        n = max(k[2] for k in m3 if k[0] == "fft")
        py, c = ms("fft", "python", n), ms("fft", "c", n)
        if py and c:
            out.append(f"- At ~1 instruction per cycle on a 64 MHz Cortex-M3, a {n}-point FFT "
                       f"takes {py:.1f} ms in Python and {c:.2f} ms in C; a 4th-order IIR over "
                       f"{n} samples {ms('iir', 'python', n):.1f} ms vs "
                       f"{ms('iir', 'c', n):.2f} ms.")
    for t in ("cortex-m3", "x64-callgrind"):
        big = [r for r in rows if r["target"] == t and r["n"] >= 256 and r["impl"] != "c"
               and r["ratio"] == r["ratio"]]
        if not big:
            continue

        def span(impl, ops=OPS):
            v = [r["ratio"] for r in big if r["impl"] == impl and r["op"] in ops]
            return f"{min(v):.0f}-{max(v):.0f}×" if v else "–"

        out.append(f"- {t}, n >= 256: plain Python costs {span('python')} the C module, "
                   f"`native` {span('native')}, `viper` (integer and copy operations only) "
                   f"{span('viper')}; float work (IIR, FFT) in Python "
                   f"{span('python', ('iir', 'fft'))}.")
    out.append("- So: a C module is needed for per-sample float arithmetic on a stream (filters, "
               "FFTs, statistics; `native` gains little there, since every float operation "
               "still goes through the runtime), and for anything on a window that runs "
               "every hop. Integer loops and raw copies are within a few times of C in "
               "`viper`, which is enough when they run once per window. The float32 IIR "
               "computes in double for scipy-level accuracy, which soft-float cores pay for: "
               "there the q15 filter is about 8× cheaper.")
    return out


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.dsp", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="sizes 32 and 256 only, unix and cortex-m3, no callgrind")
    p.add_argument("--targets", default="unix,cortex-m3")
    p.add_argument("--no-callgrind", action="store_true")
    p.add_argument("--out", default=None,
                   help="folder for dsp-benchmarks.md/.csv/.png (default docs/, with --quick "
                        "build/bench-dsp/ so that CI does not overwrite the documented run)")
    args = p.parse_args(argv)

    sizes = (32, 256) if args.quick else (32, 64, 128, 256, 512, 1024)
    cg_sizes = (32, 256) if args.quick else (32, 128, 512, 1024)
    command = "python -m benchmarks.dsp" + (" --quick" if args.quick else "")
    t0 = time.monotonic()
    rows = []
    for t in args.targets.split(","):
        print(f"dsp benchmark: timing on {t} ...", file=sys.stderr)
        rows += run_timing(t, OPS, sizes)
    if not (args.quick or args.no_callgrind) and shutil.which("valgrind"):
        print("dsp benchmark: counting instructions with callgrind ...", file=sys.stderr)
        rows += run_callgrind(OPS, cg_sizes)
    add_ratios(rows)
    elapsed = time.monotonic() - t0
    out = Path(args.out) if args.out else (
        paths.build() / "bench-dsp" if args.quick else paths.root() / "docs")
    out.mkdir(parents=True, exist_ok=True)
    version = paths.micropython_version()
    write_csv(rows, out / "dsp-benchmarks.csv")
    plot(rows, out / "dsp-benchmarks.png",
         f"Cost relative to microlearn.dsp (C), MicroPython {version}: {command}")
    write_markdown(rows, out / "dsp-benchmarks.md", command, version, "dsp-benchmarks.png",
                   elapsed)
    for line in headline(rows):
        print(line)
    print(f"dsp benchmark: wrote {out}/dsp-benchmarks.md, .csv, .png in {elapsed:.0f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
