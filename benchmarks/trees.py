"""Benchmarks: microlearn.trees against what a MicroPython user would otherwise pick, on the same
trained models and test data, in one run.

    .venv/bin/python -m benchmarks.trees                  # docs/benchmarks.{md,csv}, plots
    .venv/bin/python -m benchmarks.trees --quick --out D  # reduced run (CI), into folder D

Implementations (benchmarks.trees_gen makes the models and the generated code):
- microlearn: `trees.load` of the binary model file + `predict` (one sample per call) and
  `predict_many` (per sample); and `predict` and `predict_many` on int16 samples
  (microlearn_i16, microlearn_many_i16);
- emlearn_standin: benchmarks/emlearn_standin, emlearn's C tree evaluator in a native module
  that reads emlearn's tree CSV, `predict(x, out)` on int16 samples (a stand-in for
  emlearn-micropython's module, which is not on PyPI);
- native_floor: the stand-in module's noop(x), a native function that takes the array and returns
  a small int: what calling a native function costs (measured on digits_rf only; the stand-in's
  predict, a method, costs more to call, microlearn's, the model object called, less);
- mltrees_py: device/mltrees_py.py, the same model file read and evaluated in plain Python;
- m2cgen: `m2cgen.export_to_python` -> `score(x)`, label = index of the largest score;
- everywhereml: `RandomForestClassifier.to_micropython()` -> `.predict(x)`.
Python modules are deployed compiled by mpy-cross (.mpy, what a user should copy); the .py source
(compiled by the device when imported) is measured for RAM too.

Figures:
- predictions of every implementation against scikit-learn's, on the whole test split;
- cost per inference, as a ratio to a builtin call (`len(x)`) timed in the same run, loop
  overhead removed from both: on the unix port (wall clock, best of 5), on x64 under callgrind
  (instructions: a script with K inferences minus the same script with an empty loop, over K),
  and on the emulated Cortex-M3 and Cortex-M0 (instructions: qemu -icount shift=0, read from
  the board's timer through mlclock; each board boot measured twice for repeatability);
- RAM: heap growth (gc.mem_alloc) of import and of load on every target; on the unix port the
  smallest `-X heapsize` at which import + load + predict succeeds (bisection); on the emulated
  boards (256 kB heap on the Cortex-M3, 216 kB on the Cortex-M0) whether it fits. microlearn's
  binary model is used in place on the boards (their files come as a ROMFS image); on the unix
  port it is read from a file, and used in place from a build of the port with the models
  frozen in (frozen_unix; variant "frozen" of the rows; --no-frozen leaves it out);
- flash: bytes of trees.mpy per architecture, model files, generated modules (.py, .mpy);
- scaling with the number of trees and the depth; the cost of the call itself.
"""

import argparse
import csv
import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


import numpy as np

from microlearn import paths, targets

from . import common, trees_gen

IMPLS = ("microlearn", "microlearn_many", "microlearn_i16", "microlearn_many_i16",
         "emlearn_standin", "native_floor", "mltrees_py", "m2cgen", "everywhereml")
FLOOR_MODEL = "digits_rf"  # native_floor does not read the model: measured once
IMPL_TITLES = {
    "microlearn": "microlearn `predict`",
    "microlearn_many": "microlearn `predict_many` (per sample)",
    "microlearn_i16": "microlearn `predict`, int16 samples",
    "microlearn_many_i16": "microlearn `predict_many` (per sample), int16 samples",
    "native_floor": "a native no-op taking the array (the floor)",
    "emlearn_standin": "emlearn stand-in `predict(x, out)`, int16 samples",
    "mltrees_py": "plain Python (mltrees_py)",
    "m2cgen": "m2cgen",
    "everywhereml": "everywhereml",
}
SCALING_IMPLS = ("microlearn", "mltrees_py", "m2cgen")
BATCH = 32  # samples per predict_many call
QEMU_TARGETS = ("cortex-m3", "cortex-m0", "cortex-m4f", "cortex-m7", "riscv32")

# --------------------------------------------------------------------------------------------
# Device scripts

# Runs on every target. Measures, in this order: the heap growth of the import and of the load
# (after gc.collect), the predictions on the test samples, the heap a prediction allocates, and
# the cost of one prediction, of `len(x)` and of an empty loop iteration. Prints "R ..." lines.
# In both kernels, the timed calls cycle through the first BATCH test samples (views into one
# buffer, made before timing): always the same sample would favour the branch predictor of a
# real CPU. predict_many gets all BATCH in one call, into `out`.
SAMPLES = r'''
def samples():
    X = array.array(TC, bytes(SIZE * NF * BATCH))
    with open(MODEL + XFILE, 'rb') as fx:
        fx.readinto(X)
    mv = memoryview(X)
    return X, [mv[i * NF:(i + 1) * NF] for i in range(BATCH)], array.array('i', bytes(4 * BATCH))
'''

KERNEL = r'''
import gc, array, mlclock
MODEL, NF, N = {model!r}, {nf}, {n}
MIN, KMAX, TRIALS, BATCH, CHECK, TIMING = {min_ticks}, {kmax}, {trials}, {batch}, {check}, {timing}
TC, SIZE, XFILE = {tc!r}, {size}, {xfile!r}
{prelude}
{samples}
def loop0(k):
    for _ in range(k):
        pass
def loop10(f, a, k):
    for _ in range(k):
        f(a)
        f(a)
        f(a)
        f(a)
        f(a)
        f(a)
        f(a)
        f(a)
        f(a)
        f(a)
def loop2(f, a, b, k):
    for _ in range(k):
        f(a, b)
def loopS(f, xs, k):
    for _ in range(k):
        for a in xs:
            f(a)
def loopS2(f, xs, out, k):
    for _ in range(k):
        for a in xs:
            f(a, out)
def loopS0(xs, k):
    for _ in range(k):
        for a in xs:
            pass
def per_call(run, kmin=1):
    # ticks per call: k grows x4 until a run lasts MIN ticks and has at least kmin calls;
    # best of TRIALS runs
    k = 1
    while True:
        gc.collect()
        t0 = mlclock.ticks()
        run(k)
        dt = mlclock.diff(mlclock.ticks(), t0)
        if (dt >= MIN and k >= kmin) or k >= KMAX:
            break
        k *= 4
    best = dt
    for _ in range(TRIALS - 1):
        gc.collect()
        t0 = mlclock.ticks()
        run(k)
        best = min(best, mlclock.diff(mlclock.ticks(), t0))
    return best / k, best, k
def main():
    global stage
    x = array.array(TC, bytes(SIZE * NF))
    with open(MODEL + XFILE, 'rb') as fx:
        fx.readinto(x)
    gc.collect()
    f0 = gc.mem_free()
    a0 = gc.mem_alloc()
    t0 = mlclock.ticks()
{imp}
    t1 = mlclock.ticks()
    ti = mlclock.to_unit(mlclock.diff(t1, t0))
    gc.collect()
    a1 = gc.mem_alloc()
    stage = 'load'
    t1 = mlclock.ticks()
{load}
    t2 = mlclock.ticks()
    gc.collect()
    a2 = gc.mem_alloc()
    print('R ram', a1 - a0, a2 - a1, f0, ti, mlclock.to_unit(mlclock.diff(t2, t1)))
    stage = 'predict'
{fn}
    r = f(x, array.array('i', bytes(4))) if MANY else f(x)
    print('R unit', mlclock.UNIT)
    if CHECK:
        E = array.array('i', bytes(4 * N))
        with open(MODEL + '_E.bin', 'rb') as fe:
            fe.readinto(E)
        same = 0
        n = min(N, CHECK)
        with open(MODEL + XFILE, 'rb') as fx:
            if MANY:
                X = array.array(TC, bytes(SIZE * NF * BATCH))
                out = array.array('i', bytes(4 * BATCH))
                i = 0
                while i < n:
                    k = min(BATCH, n - i)
                    fx.readinto(memoryview(X)[:k * NF])
                    f(memoryview(X)[:k * NF], memoryview(out)[:k])
                    for j in range(k):
                        same += idx(out[j]) == E[i + j]
                    i += k
            else:
                for i in range(n):
                    fx.readinto(x)
                    same += idx(f(x)) == E[i]
        print('R agree', same, n)
        E = None
        with open(MODEL + XFILE, 'rb') as fx:
            fx.readinto(x)
    X, xs, out = samples()
    gc.collect()
    a = gc.mem_alloc()
    if MANY:
        f(X, out)
    elif TWO:
        f2(x, out2)
    else:
        f(x)
    al = gc.mem_alloc() - a
    print('R alloc', al)
    if not TIMING:
        return
    # Code that allocates is timed in the steady state: over at least 3 garbage collections.
    # (k counts rounds over the BATCH samples, or predict_many calls on them)
    gc.collect()
    kmin = 3 * gc.mem_free() // (al * BATCH) + 1 if al > 0 else 1
    stage = 'time'
    e, eb, ek = per_call(lambda k: loop0(k))
    b, bb, bk = per_call(lambda k: loop10(len, x, k))
    if MANY:
        v, vb, vk = per_call(lambda k: loop2(f, X, out, k), kmin)
        v -= e
    else:
        es, _, _ = per_call(lambda k: loopS0(xs, k))
        if TWO:
            v, vb, vk = per_call(lambda k: loopS2(f2, xs, out2, k), kmin)
        else:
            v, vb, vk = per_call(lambda k: loopS(f, xs, k), kmin)
        v -= es
    u = mlclock.to_unit
    print('R time', u(v) / BATCH, u(b - e) / 10, u(e))
    print('R ticks', vb, vk * BATCH, bb, bk, eb, ek)
stage = 'import'
try:
    main()
except MemoryError as e:
    print('R fail', stage, 'MemoryError', repr(str(e)))
'''

# callgrind: the same import, load and first prediction, then K predictions (or K empty
# iterations: the baseline). The difference over K is the cost of one prediction. Each
# iteration starts with gc.collect(), in the baseline too: the count is that of a prediction
# on a clean heap. (Code that allocates gets slower as garbage fills the heap, since
# MicroPython's allocator scans past it, until a collection; the boards and the unix-port
# timing include that, amortized, instead.) LOOP is a variable, not a literal in `if`: the
# compiler drops a branch under a constant false condition, so the two scripts would differ
# by the compilation of the loops, counted as prediction cost (about 1,000 instructions per
# call over K = 32 predictions).
CG_KERNEL = r'''
import gc, array
LOOP = {loop}
MODEL, NF, BATCH = {model!r}, {nf}, {batch}
TC, SIZE, XFILE = {tc!r}, {size}, {xfile!r}
{prelude}
x = array.array(TC, bytes(SIZE * NF))
with open(MODEL + XFILE, 'rb') as fx:
    fx.readinto(x)
{samples}
def main():
{imp}
{load}
{fn}
    X, xs, out = samples()
    r = f(X, out) if MANY else f(x)
    collect = gc.collect
    if LOOP:
        if MANY:
            for _ in range({k}):
                collect()
                f(X, out)
        elif TWO:
            for _ in range({k}):
                for a in xs:
                    collect()
                    f2(a, out2)
        else:
            for _ in range({k}):
                for a in xs:
                    collect()
                    f(a)
    elif MANY:
        for _ in range({k}):
            collect()
    else:
        for _ in range({k}):
            for a in xs:
                collect()
main()
'''

# A builtin call alone under callgrind (10 K calls of len(x), or K empty iterations).
CG_BUILTIN = r'''
import array
LOOP = {loop}
x = array.array('f', bytes(256))
def main():
    f = len
    if LOOP:
        for _ in range({k}):
            f(x)
            f(x)
            f(x)
            f(x)
            f(x)
            f(x)
            f(x)
            f(x)
            f(x)
            f(x)
    else:
        for _ in range({k}):
            pass
main()
'''

# For the heap bisection: import, load and one prediction must succeed.
HEAP_KERNEL = r'''
import gc, array
MODEL, NF = {model!r}, {nf}
TC, SIZE, XFILE = {tc!r}, {size}, {xfile!r}
{prelude}
def main():
    x = array.array(TC, bytes(SIZE * NF))
    with open(MODEL + XFILE, 'rb') as fx:
        fx.readinto(x)
{imp}
{load}
{fn}
    f(x)
main()
print('BENCH-OK')
'''
HEAP_BASELINE = r'''
import gc, array
MODEL, NF = {model!r}, {nf}
def main():
    x = array.array('f', bytes(4 * NF))
    with open(MODEL + '_X.bin', 'rb') as fx:
        fx.readinto(x)
main()
print('BENCH-OK')
'''

# On the emulated boards: copy a module into a file written on the device, so that importing
# it reads it like a file on a board's littlefs/FAT (into RAM) rather than in place from ROMFS.
COPY_PRELUDE = r'''
def _copy(src, dst):
    b = bytearray(256)
    with open(src, 'rb') as fi, open(dst, 'wb') as fo:
        while True:
            n = fi.readinto(b)
            if not n:
                break
            fo.write(b if n == len(b) else b[:n])
_copy({src!r}, {dst!r})
_copy = None
'''


def standin_mpy(arch):
    """The emlearn stand-in built for arch by `make bench` (benchmarks/emlearn_standin)."""
    return paths.build() / "bench-natmod" / arch / "emlearn_standin.mpy"


def module_name(impl, model, variant):
    """The module a Python implementation imports. variant: 'mpy' (mpy-cross), 'py' (source,
    compiled on the device) or 'fs' (the .mpy copied into a file the device wrote)."""
    base = {"mltrees_py": "mltrees", "m2cgen": f"m2c_{model}", "everywhereml": f"ewml_{model}"}[
        impl]
    if impl == "mltrees_py" and variant == "mpy":
        return "mltrees_py"  # the device helper module every target has (build/device-mpy)
    return {"mpy": base, "py": base + "_src", "fs": base + "_fs"}[variant]


INT16_IMPLS = ("microlearn_i16", "microlearn_many_i16", "emlearn_standin", "native_floor")
MANY_IMPLS = ("microlearn_many", "microlearn_many_i16")


def sample_format(impl):
    """(typecode, bytes per value, file suffix) of the samples an implementation takes."""
    return ("h", 2, "_Xh.bin") if impl in INT16_IMPLS else ("f", 4, "_X.bin")


def impl_code(impl, model, variant="mpy"):
    """(import, load, fn) code, indented for the body of main(). fn defines f (a prediction
    call returning the label), idx (label -> class index), MANY, and TWO: the call timed is
    f2(x, out2) (the stand-in's bare predict) rather than f(x)."""
    ind = "    "
    if impl in ("microlearn", "microlearn_i16") + MANY_IMPLS:
        imp = "from microlearn import trees"
        load = f"m = trees.load({model + '.bin'!r})"
        if variant == "frozen":
            # the module frozen into the unix port (frozen_unix): its bytes constant, in place
            imp += f"\nimport {frozen_module(model)} as Q"
            load = "m = trees.load(Q.MODEL)"
        many = impl in MANY_IMPLS
        fn = (f"print('R inplace', int(m.in_place))\n"
              f"f = m.{'predict_many' if many else 'predict'}\nidx = m.classes.index\n"
              f"MANY = {many}\nTWO = False")
    elif impl == "emlearn_standin":
        imp = "import emlearn_standin as E"
        load = f"m = E.load({model + '_em.csv'!r})"
        fn = ("out2 = array.array('f', bytes(4 * m.outputs()))\nf2 = m.predict\n"
              "def f(x):\n    f2(x, out2)\n    b = 0\n    for i in range(1, len(out2)):\n"
              "        if out2[i] > out2[b]:\n            b = i\n    return b\n"
              "idx = lambda i: i\nMANY = False\nTWO = True")
    elif impl == "native_floor":
        imp = "import emlearn_standin as E"
        load = "pass"
        fn = "f = E.noop\nidx = lambda i: i\nMANY = False\nTWO = False"
    elif impl == "mltrees_py":
        imp = f"import {module_name(impl, model, variant)} as P"
        load = f"m = P.load({model + '.csv'!r})"
        fn = "f = m.predict\nidx = m.labels.index\nMANY = False\nTWO = False"
    elif impl == "m2cgen":
        imp = f"import {module_name(impl, model, variant)} as G"
        load = "pass"
        fn = ("def f(x):\n    s = G.score(x)\n    return s.index(max(s))\n"
              "idx = lambda i: i\nMANY = False\nTWO = False")
    elif impl == "everywhereml":
        imp = f"import {module_name(impl, model, variant)} as G"
        load = "c = G.RandomForestClassifier()"
        fn = "f = c.predict\nidx = lambda i: i\nMANY = False\nTWO = False"
    else:
        raise ValueError(impl)
    return tuple(textwrap.indent(s, ind) for s in (imp, load, fn))


def kernel(b, impl, variant, target_kind, check, timing, quick=False):
    imp, load, fn = impl_code(impl, b.spec.name, variant)
    prelude = ""
    if variant == "fs":
        src = ("lib/mltrees_py.mpy" if impl == "mltrees_py"
               else module_name(impl, b.spec.name, "mpy") + ".mpy")
        prelude = COPY_PRELUDE.format(src=src, dst=module_name(impl, b.spec.name, "fs") + ".mpy")
    if target_kind == "unix":
        min_ticks, kmax, trials = (5000 if quick else 10000), 1 << 20, (3 if quick else 5)
    else:
        min_ticks, kmax, trials = 25000, 1 << 16, 1  # 1 M instructions on M3, 1.6 M on M0
    tc, size, xfile = sample_format(impl)
    return KERNEL.format(model=b.spec.name, nf=b.X.shape[1], n=len(b.X), min_ticks=min_ticks,
                         kmax=kmax, trials=trials, batch=BATCH, check=check,
                         timing=int(timing), prelude=prelude, samples=SAMPLES, imp=imp, load=load,
                         fn=fn, tc=tc, size=size, xfile=xfile)


def cg_kernel(b, impl, k, loop):
    imp, load, fn = impl_code(impl, b.spec.name, "mpy")
    ind = "    "
    imp, load, fn = (textwrap.indent(textwrap.dedent(s), ind) for s in (imp, load, fn))
    tc, size, xfile = sample_format(impl)
    return CG_KERNEL.format(model=b.spec.name, nf=b.X.shape[1], batch=BATCH, prelude="",
                            samples=SAMPLES, imp=imp, load=load, fn=fn, loop=int(loop), k=k,
                            tc=tc, size=size, xfile=xfile)


def heap_kernel(b, impl, variant):
    imp, load, fn = impl_code(impl, b.spec.name, variant)
    imp, load, fn = (textwrap.indent(textwrap.dedent(s), "    ") for s in (imp, load, fn))
    tc, size, xfile = sample_format(impl)
    return HEAP_KERNEL.format(model=b.spec.name, nf=b.X.shape[1], prelude="", imp=imp,
                              load=load, fn=fn, tc=tc, size=size, xfile=xfile)


def parse(output):
    """{key: [values]} of the "R key values..." lines."""
    res = {}
    for line in output.splitlines():
        p = line.split()
        if len(p) >= 2 and p[0] == "R":
            vals = []
            for v in p[2:]:
                try:
                    vals.append(float(v))
                except ValueError:
                    vals.append(v)
            res[p[1]] = vals
    return res


# --------------------------------------------------------------------------------------------
# Files


class Workspace:
    """A folder with every model's files, as the unix port reads them; and per session on the
    emulated boards, the subset a run needs."""

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.built = {}  # name -> trees_gen.Built
        self.notes = {}  # (impl, model) -> note (e.g. mpy-cross needed a larger heap)
        self.mpy_failed = {}  # (impl, model) -> reason
        shutil.copyfile(paths.root() / "device" / "mltrees_py.py", self.root / "mltrees_src.py")
        (self.root / "time_shim.py").write_text(trees_gen.everywhereml_time_shim())

    def add(self, b):
        name = b.spec.name
        self.built[name] = b
        (self.root / f"{name}.csv").write_text(b.model_text)
        (self.root / f"{name}.bin").write_bytes(b.model_bin)
        b.X.tofile(self.root / f"{name}_X.bin")
        # int16 samples (the digits are pixel counts: exact), for the int16 implementations
        np.clip(np.round(b.X), -32768, 32767).astype("<i2").tofile(self.root / f"{name}_Xh.bin")
        b.expected.astype("<i4").tofile(self.root / f"{name}_E.bin")
        for impl, g in b.gen.items():
            if g.code is None:
                continue
            if impl == "emlearn_standin":
                (self.root / f"{name}_em.csv").write_text(g.code)
                continue
            src = self.root / (module_name(impl, name, "py") + ".py")
            src.write_text(g.code)
            try:
                note = trees_gen.mpy_cross(src, self.root / (module_name(impl, name, "mpy")
                                                             + ".mpy"))
                if note:
                    self.notes[(impl, name)] = note
            except RuntimeError as e:
                self.mpy_failed[(impl, name)] = str(e)

    def has(self, impl, model, variant="mpy"):
        b = self.built[model]
        if impl == "native_floor":
            return variant == "mpy" and model == FLOOR_MODEL and standin_mpy("x64").exists()
        if impl == "emlearn_standin":
            g = b.gen.get(impl)
            return variant == "mpy" and g is not None and g.code is not None \
                and standin_mpy("x64").exists()
        if impl in ("m2cgen", "everywhereml"):
            g = b.gen.get(impl)
            if g is None or g.code is None:
                return False
            if variant in ("mpy", "fs") and (impl, model) in self.mpy_failed:
                return False
        return True

    def files_for(self, impl, model, variant, arch=None):
        """{name: bytes} a session on an emulated board needs for one run."""
        names = [f"{model}.csv", f"{model}.bin", f"{model}{sample_format(impl)[2]}",
                 f"{model}_E.bin"]
        if impl == "emlearn_standin":
            names.append(f"{model}_em.csv")
        if impl == "mltrees_py" and variant == "py":
            names.append("mltrees_src.py")
        elif impl in ("m2cgen", "everywhereml"):
            base = module_name(impl, model, "mpy")
            names.append(module_name(impl, model, "py") + ".py" if variant == "py"
                         else base + ".mpy")
        files = {n: (self.root / n).read_bytes() for n in names}
        if impl in ("emlearn_standin", "native_floor"):
            files["lib/emlearn_standin.mpy"] = standin_mpy(arch).read_bytes()
        if impl == "everywhereml":
            files["time.py"] = (self.root / "time_shim.py").read_bytes()
        return files

    def size(self, name):
        p = self.root / name
        return p.stat().st_size if p.exists() else None


# --------------------------------------------------------------------------------------------
# Results


class Results:
    """Rows of the CSV: section, target, model, impl, variant, metric, value, unit, note."""

    FIELDS = ["section", "target", "model", "impl", "variant", "metric", "value", "unit", "note"]

    def __init__(self):
        self.rows = []

    def add(self, section, target, model, impl, variant, metric, value, unit="", note=""):
        self.rows.append(dict(section=section, target=target, model=model, impl=impl,
                              variant=variant, metric=metric, value=value, unit=unit,
                              note=note))

    def get(self, **kw):
        for r in self.rows:
            if all(r[k] == v for k, v in kw.items()):
                return r["value"]
        return None

    def find(self, **kw):
        return [r for r in self.rows if all(r[k] == v for k, v in kw.items())]

    def write_csv(self, path):
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=self.FIELDS)
            w.writeheader()
            for r in self.rows:
                v = r["value"]
                w.writerow({**r, "value": f"{v:.6g}" if isinstance(v, float) else v})


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Runs


def record_kernel(res, target, b, impl, variant, out, timing):
    """Parses a KERNEL run into rows. Returns the parsed dict."""
    name = b.spec.name
    p = parse(out)
    if "fail" in p:
        line = next(ln for ln in out.splitlines() if ln.startswith("R fail"))
        stage, why = line.split(None, 3)[2:]
        res.add("ram", target, name, impl, variant, "fits", 0, "", f"{stage}: {why}")
        return p
    if "ram" not in p:
        res.add("ram", target, name, impl, variant, "fits", 0, "",
                "script failed: " + out.strip().splitlines()[-1][:200] if out.strip() else "")
        return p
    imp, load, free0, t_imp, t_load = p["ram"]
    res.add("ram", target, name, impl, variant, "fits", 1)
    if "inplace" in p:
        res.add("ram", target, name, impl, variant, "in_place", int(p["inplace"][0]), "",
                "model.in_place after the load")
    if impl not in MANY_IMPLS + ("native_floor",):
        res.add("ram", target, name, impl, variant, "import_bytes", int(imp), "B")
        res.add("ram", target, name, impl, variant, "load_bytes", int(load), "B")
        res.add("ram", target, name, impl, variant, "heap_free_before", int(free0), "B")
        unit = p.get("unit", ["us"])[0]
        res.add("ram", target, name, impl, variant, "import_cost", t_imp, unit)
        res.add("ram", target, name, impl, variant, "load_cost", t_load, unit)
    if "alloc" in p:
        res.add("ram", target, name, impl, variant, "alloc_per_call", int(p["alloc"][0]), "B")
    if "agree" in p:
        same, n = p["agree"]
        res.add("agree", target, name, impl, variant, "agree", int(same), "samples",
                f"of {int(n)}")
        res.add("agree", target, name, impl, variant, "n", int(n), "samples")
    if timing and "time" in p:
        unit = p["unit"][0]
        v, builtin, empty = p["time"]
        res.add("time", target, name, impl, variant, "per_call", v, unit)
        res.add("time", target, name, impl, variant, "builtin_call", builtin, unit)
        res.add("time", target, name, impl, variant, "empty_iter", empty, unit)
        if builtin > 0:
            res.add("time", target, name, impl, variant, "ratio_builtin", v / builtin)
        if "ticks" in p:
            res.add("time", target, name, impl, variant, "ticks_total", int(p["ticks"][0]),
                    "ticks", f"{int(p['ticks'][1])} calls")
    return p


def unix_runs(res, ws, plan, quick, binary=None, path=None):
    """plan: [(model, impl, variant, check, timing)]; binary, path: another build of the unix
    port and its MICROPYPATH (frozen_unix)."""
    for model, impl, variant, check, timing in plan:
        b = ws.built[model]
        script = kernel(b, impl, variant, "unix", check, timing, quick)
        rc, out = common.run_unix(script, ws.root, path=path, timeout=600, binary=binary)
        if rc != 0 and "R fail" not in out:
            log(f"unix {model} {impl} {variant}: failed:\n{out[-1500:]}")
        record_kernel(res, "unix", b, impl, variant, out, timing)


def qemu_runs(res, ws, target, plan, repeat=()):
    """One board boot per run (a clean heap each time). `repeat`: (model, impl) measured in a
    second boot too, for the repeatability of the counts."""
    t = targets.get(target)
    for model, impl, variant, check, timing in plan:
        b = ws.built[model]
        files = ws.files_for(impl, model, variant, t.arch)
        size = sum(len(v) for v in files.values())
        if size > t.files_region[1] - (1 << 17):
            res.add("ram", target, model, impl, variant, "fits", 0, "",
                    f"not run: {size // 1024} kB of files exceed the emulated board's "
                    f"{t.files_region[1] >> 10} kB of storage")
            continue
        script = kernel(b, impl, variant, "qemu", check, timing)
        runs = 2 if (model, impl) in repeat and variant == "mpy" else 1
        for i in range(runs):
            try:
                with t.session(files, timeout=600) as s:
                    r = s.exec(script)
                out = r.output
            except targets.TargetError as e:
                out = f"TargetError: {e}"
            if i == 0:
                p = record_kernel(res, target, b, impl, variant, out, timing)
                if "ram" not in p and "fail" not in p:
                    log(f"{target} {model} {impl} {variant}: failed:\n{out[-1500:]}")
            else:
                p = parse(out)
            if runs == 2 and "ticks" in p:
                res.add("repeat", target, model, impl, variant, f"boot{i + 1}_ticks",
                        int(p["ticks"][0]), "ticks", f"{int(p['ticks'][1])} calls")


def callgrind_runs(res, ws, plan, builtin_k=20000, jobs=2):
    """plan: [(model, impl, k)]; each is two callgrind runs (K predictions, K empty)."""
    tmp = ws.root

    def one(item):
        kind, model, impl, k = item
        if kind == "builtin":
            a = common.callgrind_count(CG_BUILTIN.format(loop=1, k=k), tmp,
                                             name="cg_builtin_1.py")
            z = common.callgrind_count(CG_BUILTIN.format(loop=0, k=k), tmp,
                                             name="cg_builtin_0.py")
            return item, (a - z) / (10 * k), None
        b = ws.built[model]
        # A count below any native call's (a builtin call is about 250) means the two runs did
        # not differ by the predictions (seen once for the stand-in on large_rf: 7.7 per call):
        # measured again, and reported as failed if it stays so.
        for _ in range(2):
            try:
                a = common.callgrind_count(cg_kernel(b, impl, k, True), tmp,
                                                 name=f"cg_{model}_{impl}_{k}_1.py")
                z = common.callgrind_count(cg_kernel(b, impl, k, False), tmp,
                                                 name=f"cg_{model}_{impl}_{k}_0.py")
            except RuntimeError as e:
                return item, None, str(e).strip().splitlines()[-1][:200]
            v = (a - z) / k / BATCH
            if v >= 100:
                return item, v, None
        return item, None, f"implausible count: {v:.1f} instructions per call"

    items = [("builtin", "-", "len", builtin_k)] + [("model", m, i, k) for m, i, k in plan]
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        results = list(ex.map(one, items))
    builtin = results[0][1]
    res.add("time", "x64-callgrind", "-", "builtin", "-", "builtin_call", builtin, "Ir",
            "len(x)")
    for (kind, model, impl, k), v, err in results[1:]:
        if v is None:
            res.add("time", "x64-callgrind", model, impl, "mpy", "failed", 0, "", err)
            continue
        res.add("time", "x64-callgrind", model, impl, "mpy", "per_call", v, "Ir",
                f"{k * BATCH} predictions")
        res.add("time", "x64-callgrind", model, impl, "mpy", "builtin_call", builtin, "Ir")
        res.add("time", "x64-callgrind", model, impl, "mpy", "ratio_builtin", v / builtin)


def heap_runs(res, ws, plan, resolution, binary=None, path=None):
    """Smallest unix-port heap for import + load + predict, minus that of the same script
    without them (the interpreter, the test sample), both on the same build (binary)."""
    base = {}
    for model, impl, variant in plan:
        b = ws.built[model]
        if model not in base:
            base[model] = common.min_heap(
                HEAP_BASELINE.format(model=model, nf=b.X.shape[1]), ws.root, path=path,
                resolution=resolution, binary=binary)
        h = common.min_heap(heap_kernel(b, impl, variant), ws.root, path=path,
                            resolution=resolution, binary=binary)
        if h is None:
            res.add("ram", "unix", model, impl, variant, "min_heap", 0, "B", "fails at 64 MB")
            continue
        res.add("ram", "unix", model, impl, variant, "min_heap", h - base[model], "B",
                f"-X heapsize bisection to {resolution} B, minus {base[model]} B of baseline")


def flash_rows(res, ws):
    for arch in ("x64", "x86", "armv6m", "armv7m", "armv7emsp", "armv7emdp"):
        p = paths.natmod() / arch / "microlearn" / "trees.mpy"
        if p.exists():
            res.add("flash", arch, "-", "microlearn", "mpy", "bytes", p.stat().st_size, "B",
                    "trees.mpy")
    src = paths.root() / "device" / "mltrees_py.py"
    res.add("flash", "-", "-", "mltrees_py", "py", "bytes", src.stat().st_size, "B")
    mpy = paths.device_mpy() / "mltrees_py.mpy"
    if mpy.exists():
        res.add("flash", "-", "-", "mltrees_py", "mpy", "bytes", mpy.stat().st_size, "B")
    for arch in ("x64", "armv6m", "armv7m"):
        p = standin_mpy(arch)
        if p.exists():
            res.add("flash", arch, "-", "emlearn_standin", "mpy", "bytes", p.stat().st_size, "B",
                    "emlearn_standin.mpy")
    for name, b in ws.built.items():
        res.add("flash", "-", name, "model_file", "csv", "bytes", len(b.model_text.encode()),
                "B")
        res.add("flash", "-", name, "model_file", "bin", "bytes", len(b.model_bin), "B")
        g = b.gen.get("emlearn_standin")
        if g is not None and g.code is not None:
            res.add("flash", "-", name, "emlearn_standin", "csv", "bytes", len(g.code.encode()),
                    "B")
        for impl in ("m2cgen", "everywhereml"):
            if not ws.has(impl, name, "py"):
                continue
            for variant, ext in (("py", ".py"), ("mpy", ".mpy")):
                size = ws.size(module_name(impl, name, variant) + ext)
                if size is not None:
                    res.add("flash", "-", name, impl, variant, "bytes", size, "B",
                            ws.notes.get((impl, name), "") if variant == "mpy" else "")


# --------------------------------------------------------------------------------------------
# The unix port with the models frozen in: microlearn's models in place on x64
#
# The unix port maps no ROMFS image; a model is used in place there the way a user who builds
# firmware does it on any port: a module holding the binary model as a bytes constant
# (`model.save(file="model_x.py")`), frozen in by the build's manifest. The constant is then in
# the executable's read-only data and `trees.load(model_x.MODEL)` uses it where it lies, if its
# address is 4-byte aligned (model.in_place says so; the rows record it). mpy-tool writes the
# constant as a C string literal: at -Os GCC aligns it to 1 byte, and consecutive ones lie at
# offsets 1 apart (each has its NUL), so most models would be copied. FROZEN_ALIGN_MK compiles
# the frozen modules' file, and only it, at -O2, where GCC aligns a string literal of 31 bytes
# or more to 8 bytes on x64 (to the word on ARM); the interpreter is the port's usual -Os build.

FROZEN_BUILD = "build-bench-frozen"  # BUILD folder under ports/unix of the MicroPython tree


def frozen_module(model):
    return f"model_{model}"


def unix_make_options():
    """The top Makefile's MP_UNIX_OPTS (how `make` builds the unix port), without its
    FROZEN_MANIFEST."""
    text = (paths.root() / "Makefile").read_text()
    m = re.search(r"^MP_UNIX_OPTS\s*:=(.*)$", text, re.M)
    if not m:
        raise RuntimeError("no MP_UNIX_OPTS in the Makefile")
    return [o for o in m.group(1).split() if not o.startswith("FROZEN_MANIFEST=")]


FROZEN_ALIGN_MK = """\
# Frozen modules compiled at -O2, the rest of the port at -Os: GCC aligns string literals
# (the models' bytes constants) when not optimizing for size. private: not passed on to what
# the object depends on (the generated headers).
$(BUILD)/frozen_content.o: private CFLAGS += -O2
"""


def frozen_manifest(names):
    """The manifest freezing the modules model_<name>.py of its own folder."""
    return ("# The benchmark's models, frozen into the unix port (benchmarks/trees.py)\n"
            + "".join(f'module("{frozen_module(n)}.py")\n' for n in names))


def frozen_unix(ws, names):
    """Builds the unix port (standard variant, MP_UNIX_OPTS) with the models `names` frozen in,
    from modules and a manifest written into the work folder. A stamp of their content (and of
    the options) skips the build when nothing changed; a changed set of models rebuilds the
    frozen modules and relinks. Returns (binary, MICROPYPATH), or (None, why)."""
    src = ws.root / "frozen"
    src.mkdir(exist_ok=True)
    texts = []
    for n in names:
        text = ws.built[n].model_py
        (src / f"{frozen_module(n)}.py").write_text(text)
        texts.append(text)
    manifest = src / "manifest.py"
    manifest.write_text(frozen_manifest(names))
    # The build refuses a manifest without micropython-lib's README.md, which Debian's source
    # leaves out; this manifest uses no micropython-lib package: point it here.
    (src / "README.md").write_text("The benchmark's frozen models (benchmarks/trees.py).\n")
    align_mk = src / "frozen-align.mk"
    align_mk.write_text(FROZEN_ALIGN_MK)
    opts = unix_make_options()
    digest = hashlib.sha256("\0".join([" ".join(opts), paths.micropython_version(),
                                       FROZEN_ALIGN_MK, manifest.read_text()]
                                      + texts).encode()).hexdigest()
    port = paths.micropython() / "ports" / "unix"
    binary = port / FROZEN_BUILD / "micropython"
    stamp = port / FROZEN_BUILD / "bench-frozen.stamp"
    # .frozen first, as in the port's default path; then the usual folders (natmod x64 ...)
    path = ".frozen:" + common.micropypath()
    if binary.exists() and stamp.exists() and stamp.read_text() == digest:
        log(f"unix port with the {len(names)} models frozen in: up to date "
            f"(ports/unix/{FROZEN_BUILD})")
        return binary, path
    stamp.unlink(missing_ok=True)
    # make does not track flags: the frozen modules' object is compiled again every build
    (port / FROZEN_BUILD / "frozen_content.o").unlink(missing_ok=True)
    log_file = paths.build() / ("log" + paths.micropython().name[len("micropython"):]) \
        / "unix-bench-frozen.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["make", "-s", "-C", str(port), "-f", "Makefile", "-f", str(align_mk),
           f"-j{os.cpu_count() or 1}", *opts,
           f"BUILD={FROZEN_BUILD}", f"FROZEN_MANIFEST={manifest}", f"MPY_LIB_DIR={src}"]
    log(f"building the unix port with the {len(names)} models frozen in "
        f"(ports/unix/{FROZEN_BUILD}, log {log_file}): the whole port the first time (about "
        "30 s on 2 cores), then only the frozen modules")
    # as the Makefile does: MicroPython's version from its own tree, not microlearn's git
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=str(paths.build()))
    t0 = time.monotonic()
    with open(log_file, "w") as f:
        p = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        while True:
            try:
                rc = p.wait(timeout=30)
                break
            except subprocess.TimeoutExpired:
                log(f"  still building ({time.monotonic() - t0:.0f} s)")
    if rc != 0 or not binary.exists():
        tail = log_file.read_text().strip().splitlines()[-20:]
        log("the frozen build failed:\n" + "\n".join(tail))
        return None, f"the unix build with frozen models failed (see {log_file})"
    stamp.write_text(digest)
    log(f"unix port with the models frozen in built in {time.monotonic() - t0:.0f} s")
    return binary, path


# --------------------------------------------------------------------------------------------
# The run


def plan_main(ws, models, qemu):
    """(model, impl, variant, check, timing) for the comparison tables. Models with their own
    list of implementations (the auxiliary ones) get no .py and written-file variants."""
    out = []
    for m in models:
        spec = ws.built[m].spec
        for impl in spec.impls or IMPLS:
            if not ws.has(impl, m):
                continue
            check = 0 if impl == "native_floor" else 100 if spec.group == "anatomy" else 10**9
            out.append((m, impl, "mpy", check, True))
            if impl in ("mltrees_py", "m2cgen", "everywhereml") and spec.impls is None:
                if ws.has(impl, m, "py"):
                    out.append((m, impl, "py", 0, False))
                if qemu and ws.has(impl, m, "fs"):
                    out.append((m, impl, "fs", 0, False))
    return out


FROZEN_IMPLS = ("microlearn", "microlearn_i16")


def frozen_plan(ws, models):
    """microlearn's load with its model frozen into the unix port (frozen_unix): predictions
    checked, RAM; not timed (the same predict as from a file)."""
    return [(m, i, "frozen", 10**9, False) for m in models for i in FROZEN_IMPLS
            if i in (ws.built[m].spec.impls or IMPLS) and ws.has(i, m)]


def plan_scaling(ws, models, check):
    return [(m, impl, "mpy", check, True) for m in models for impl in SCALING_IMPLS
            if ws.has(impl, m)]


def cg_k(res, model, impl):
    """K for callgrind: rounds over the 32 samples, or predict_many calls (the counts are
    exact and repeatable, so a few suffice)."""
    return {"microlearn": 10, "microlearn_many": 20, "microlearn_many_i16": 20,
            "native_floor": 10}.get(impl, 1)


def run(args):
    t_start = time.monotonic()
    quick = args.quick
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work) if args.work else paths.build() / ("bench-quick" if quick else "bench")
    if work.exists():
        shutil.rmtree(work)
    ws = Workspace(work)
    res = Results()
    qemu_targets = [t for t in args.targets.split(",") if t in QEMU_TARGETS]

    # Models
    if quick:
        main_specs = [s for s in trees_gen.MAIN if s.name == "small_rf"]
        scaling = trees_gen.scaling_specs(trees=(1, 5), depths=(2, 6))
    else:
        main_specs = list(trees_gen.MAIN)
        scaling = trees_gen.scaling_specs()
    overhead = list(trees_gen.OVERHEAD)
    anatomy = trees_gen.anatomy_specs()
    log(f"training and converting {len(main_specs) + len(scaling) + len(overhead)} models, "
        f"running the code generators; {len(anatomy)} synthetic models")
    for s in main_specs + overhead + scaling + anatomy:
        ws.add(trees_gen.build(s))
    main_names = [s.spec.name for s in ws.built.values() if s.spec.group == "main"]
    ov_names = [s.name for s in overhead]
    an_names = [s.name for s in anatomy]
    sc_names = [s.name for s in scaling]
    for name, b in ws.built.items():
        res.add("model", "-", name, "-", "-", "n_trees", b.n_trees)
        res.add("model", "-", name, "-", "-", "n_nodes", b.n_nodes)
        res.add("model", "-", name, "-", "-", "depth", b.depth)
        res.add("model", "-", name, "-", "-", "model_memory", b.model_memory, "B",
                "binary form read from a file")
        res.add("model", "-", name, "-", "-", "model_memory_text", b.model_memory_text, "B")
        res.add("model", "-", name, "-", "-", "model_memory_in_place", b.model_memory_in_place,
                "B")
        res.add("model", "-", name, "-", "-", "visits", b.visits, "nodes",
                "decision nodes visited per inference, test mean")
        if b.majority is not None:
            res.add("model", "-", name, "-", "-", "majority_timed",
                    float(np.mean(b.majority[:BATCH])), "trees",
                    "trees until a class holds a majority, mean over the timed samples")
            res.add("model", "-", name, "-", "-", "majority_all", float(np.mean(b.majority)),
                    "trees", "the same over the whole test split")
            res.add("model", "-", name, "-", "-", "leaf_classes_timed",
                    float(np.mean(b.leaf_classes[:BATCH])), "classes",
                    "classes in a sample's leaf, mean over the trees and the timed samples")
        for impl, g in b.gen.items():
            if g.code is None:
                res.add("model", "-", name, impl, "-", "unsupported", 1, "", g.reason)
        for (impl, m), why in ws.mpy_failed.items():
            if m == name:
                res.add("model", "-", name, impl, "mpy", "unsupported", 1, "", why)

    def reduce(plan):
        """--quick: the .py and written-file variants of one case only (their code paths)."""
        if not quick:
            return plan
        return [p for p in plan if p[2] == "mpy" or (p[0], p[1]) == ("small_rf", "m2cgen")]

    stage_t = [time.monotonic()]

    def done(what):
        now = time.monotonic()
        log(f"{what} done in {now - stage_t[0]:.0f} s")
        stage_t[0] = now

    # unix port: timing, predictions, RAM
    plan = reduce(plan_main(ws, main_names + ov_names, qemu=False))
    log(f"unix port: {len(plan)} runs (predictions, RAM, time) on {', '.join(main_names)} "
        f"and {', '.join(ov_names)}")
    unix_runs(res, ws, plan, quick)
    splan = plan_scaling(ws, sc_names, check=50)
    log(f"unix port: scaling, {len(splan)} runs")
    unix_runs(res, ws, splan, quick)
    aplan = plan_main(ws, an_names, qemu=False)
    log(f"unix port: anatomy (synthetic models), {len(aplan)} runs")
    unix_runs(res, ws, aplan, quick)
    done("unix port")

    # unix port, microlearn's models in place: the port built with them frozen in
    fplan = []
    if args.frozen:
        fplan = frozen_plan(ws, main_names + ov_names)
        binary, fpath = frozen_unix(ws, sorted({m for m, *_ in fplan}))
        if binary is None:
            for m, i, v, _, _ in fplan:
                res.add("ram", "unix", m, i, v, "fits", 0, "", f"not run: {fpath}")
            fplan = []
        else:
            log(f"unix port, models frozen in: {len(fplan)} runs (predictions, RAM)")
            unix_runs(res, ws, fplan, quick, binary=binary, path=fpath)
        done("frozen build and runs")

    # unix port: smallest heap
    hplan = [(m, i, v) for m, i, v, _, _ in plan if i not in MANY_IMPLS + ("native_floor",)]
    if not quick:
        hplan += [(m, i, "mpy") for m, i, _, _, _ in splan]
    log(f"unix port: smallest heap by bisection, {len(hplan) + len(fplan)} cases")
    heap_runs(res, ws, hplan, resolution=1024 if quick else 256)
    if fplan:
        heap_runs(res, ws, [(m, i, v) for m, i, v, _, _ in fplan],
                  resolution=1024 if quick else 256, binary=binary, path=fpath)
    done("heap bisection")

    # callgrind
    if args.callgrind and common.callgrind_available():
        if quick:
            cplan = [(m, i, cg_k(res, m, i)) for m in ov_names for i in ("microlearn",
                                                                          "mltrees_py")]
            cplan += [("small_rf", i, cg_k(res, "small_rf", i)) for i in ("microlearn",
                                                                          "m2cgen")
                      if ws.has(i, "small_rf")]
            cplan += [(m, "microlearn", cg_k(res, m, "microlearn")) for m in an_names]
        else:
            cplan = [(m, i, cg_k(res, m, i)) for m in main_names + ov_names
                     for i in ws.built[m].spec.impls or IMPLS if ws.has(i, m)]
            cplan += [(m, i, cg_k(res, m, i)) for m in sc_names for i in SCALING_IMPLS
                      if ws.has(i, m)]
            cplan += [(m, i, cg_k(res, m, i)) for m in an_names
                      for i in ws.built[m].spec.impls]
        log(f"x64 callgrind: {len(cplan)} cases, 2 runs each")
        callgrind_runs(res, ws, cplan)
        done("callgrind")
    elif args.callgrind:
        log("valgrind not found: no callgrind counts")

    # emulated boards
    for t in qemu_targets:
        tplan = reduce(plan_main(ws, main_names + ov_names, qemu=True))
        if not quick:
            tplan += plan_main(ws, an_names, qemu=True)
        if t == "cortex-m3":
            tplan += plan_scaling(ws, sc_names, check=20)
        repeat = {(m, i) for m in ("digits_rf", "small_rf") for i in ("microlearn",
                                                                      "mltrees_py")}
        log(f"{t}: {len(tplan)} runs, one board boot each")
        qemu_runs(res, ws, t, tplan, repeat)
        done(t)

    flash_rows(res, ws)
    elapsed = time.monotonic() - t_start
    command = "python -m benchmarks.trees" + (" --quick" if quick else "")
    version = paths.micropython_version()
    res.add("run", "-", "-", "-", "-", "elapsed", round(elapsed), "s", command)
    res.add("run", "-", "-", "-", "-", "micropython", 0, "", version)
    res.write_csv(out / "benchmarks.csv")
    from . import trees_report

    trees_report.write(res, ws, out, command, version, elapsed, quick)
    log(f"wrote {out}/benchmarks.md, benchmarks.csv, benchmarks-*.png in {elapsed:.0f} s")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return res


def subset(args):
    """--models: only those models and implementations, on the unix port (RAM, agreement),
    under callgrind and on the --targets boards; prints the rows, writes no report (for
    comparing while changing the code; the docs come from a full run)."""
    work = Path(args.work) if args.work else paths.build() / "bench-subset"
    shutil.rmtree(work, ignore_errors=True)
    ws = Workspace(work)
    res = Results()
    names = args.models.split(",")
    specs = {s.name: s for s in trees_gen.MAIN + trees_gen.OVERHEAD}
    for n in names:
        if n not in specs:
            raise SystemExit(f"--models: {n!r} is not one of {', '.join(specs)}")
        ws.add(trees_gen.build(specs[n]))
    impls = args.impls.split(",") if args.impls else list(IMPLS)
    if FLOOR_MODEL not in names:
        impls = [i for i in impls if i != "native_floor"]
    plan = [p for p in plan_main(ws, names, qemu=False) if p[1] in impls and p[2] == "mpy"]
    unix_runs(res, ws, [(m, i, v, c, False) for m, i, v, c, _ in plan], False)
    fplan = [p for p in frozen_plan(ws, names) if p[1] in impls] if args.frozen else []
    if fplan:
        binary, fpath = frozen_unix(ws, sorted({m for m, *_ in fplan}))
        if binary is None:
            raise SystemExit(fpath)
        unix_runs(res, ws, fplan, False, binary=binary, path=fpath)
    if args.callgrind and common.callgrind_available():
        callgrind_runs(res, ws, [(m, i, cg_k(res, m, i)) for m, i, _, _, _ in plan],
                       builtin_k=200)
    for t in [t for t in args.targets.split(",") if t]:
        qemu_runs(res, ws, t, plan)
    for r in res.rows:
        if r["metric"] in ("per_call", "load_bytes", "agree", "fits", "failed", "in_place"):
            print(f"{r['target']:14} {r['model']:10} {r['impl']:20} {r['variant']:7} "
                  f"{r['metric']:10} {r['value']:>12.6g} {r['unit']} {r['note']}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def render(args):
    """--from-csv: the report again from a CSV of an earlier run (the models are rebuilt for
    their descriptions; nothing is measured)."""
    res = Results()
    with open(args.from_csv, newline="") as f:
        for r in csv.DictReader(f):
            v = r["value"]
            try:
                v = int(v)
            except ValueError:
                v = float(v)
            res.add(r["section"], r["target"], r["model"], r["impl"], r["variant"], r["metric"],
                    v, r["unit"], r["note"])
    quick = any(r["note"].endswith("--quick") for r in res.find(section="run", metric="elapsed"))
    work = Path(args.work) if args.work else paths.build() / "bench-render"
    shutil.rmtree(work, ignore_errors=True)
    ws = Workspace(work)
    names = {r["model"] for r in res.rows if r["section"] == "model"}
    specs = (trees_gen.MAIN + trees_gen.OVERHEAD + trees_gen.anatomy_specs()
             + trees_gen.scaling_specs())
    for s in specs:
        if s.name in names:
            ws.add(trees_gen.build(s))
    run_row = res.find(section="run", metric="elapsed")
    version = (res.find(section="run", metric="micropython")
               or [{"note": paths.micropython_version()}])[0]["note"]
    command = run_row[0]["note"] if run_row else "python -m benchmarks.trees"
    elapsed = run_row[0]["value"] if run_row else float("nan")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from . import trees_report

    if Path(args.from_csv).resolve() != (out / "benchmarks.csv").resolve():
        res.write_csv(out / "benchmarks.csv")
    trees_report.write(res, ws, out, command, version, elapsed, quick)
    shutil.rmtree(work, ignore_errors=True)
    log(f"wrote {out}/benchmarks.md and plots from {args.from_csv}")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.trees", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="reduced run for CI (about a minute): a small model, the stumps, 4 "
                        "scaling points, unix and cortex-m3, few callgrind and .py cases")
    p.add_argument("--out", default=str(paths.root() / "docs"),
                   help="folder for benchmarks.md, benchmarks.csv, benchmarks-*.png")
    p.add_argument("--targets", default=None,
                   help="emulated boards, comma-separated (default cortex-m3,cortex-m0; "
                        "cortex-m3 with --quick)")
    p.add_argument("--no-callgrind", dest="callgrind", action="store_false")
    p.add_argument("--no-frozen", dest="frozen", action="store_false",
                   help="no unix build with the models frozen in (microlearn in place on x64)")
    p.add_argument("--work", default=None, help="scratch folder (default build/bench)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--from-csv", default=None, metavar="CSV",
                   help="measure nothing: write the report and plots again from the CSV of an "
                        "earlier run")
    p.add_argument("--models", default=None, metavar="M1,M2",
                   help="measure only these models (of the main and overhead ones): print the "
                        "figures, write no report")
    p.add_argument("--impls", default=None, metavar="I1,I2",
                   help="with --models: only these implementations (default all)")
    args = p.parse_args(argv)
    if args.from_csv:
        render(args)
        return 0
    if args.targets is None:
        args.targets = "cortex-m3" if args.quick else "cortex-m3,cortex-m0"
    for t in args.targets.split(","):
        if t and t not in QEMU_TARGETS:
            p.error(f"--targets: {t!r} is not one of {', '.join(QEMU_TARGETS)}")
    if args.models:
        subset(args)
        return 0
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
