"""Benchmarks of microlearn.nn: int8 networks and single operators on every target.

    .venv/bin/python -m benchmarks.nn                  # docs/nn-benchmarks.{md,csv}
    .venv/bin/python -m benchmarks.nn --quick --out D  # reduced run (CI), into folder D

Models (int8, built with Keras and quantized by TensorFlow's converter; cached in build/):
- the MNIST CNN of `make demo` (microlearn.mnist.train_cnn), trained on the shipped data;
- a CNN of the shape of emlearn-micropython's MNIST example (three 3x3 stride-2 convolutions
  with 8, 12, 18 channels, global average, dense; 51,228 MACs), untrained, for the comparison
  with its TinyMaix-based module;
- single operators: 3x3 convolution, 3x3 depthwise, 1x1 (pointwise) convolution, dense.

Figures:
- instructions per inference and per multiply-accumulate: on the emulated Cortex-M3 and
  Cortex-M0 (qemu -icount shift=0, the board's timer read through device/mlclock.py) and on
  x64 under callgrind (a script with K inferences minus the same script with none, over K).
  An inference is `model.run(x, out)` called from MicroPython: the call, the copy of the input
  into the arena and of the output out of it are included;
- time per inference on the unix port (x64), and TensorFlow Lite's own interpreter for the same
  .tflite file on the same machine (ai-edge-litert, default kernels, one thread), as a ratio;
- RAM: the arena, and what loading took (`model.memory`) with the model used in place (from a
  bytes object) and copied (from a file);
- flash: nn.mpy per architecture and the model files.
Every output of every target is compared with TFLite's reference kernels (BUILTIN_REF).
"""

import argparse
import csv
import hashlib
import inspect
import json
import os
import pickle
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from microlearn import paths, targets

from . import common

QEMU_TARGETS = ("cortex-m3", "cortex-m0")
ARCHS = ("x64", "x86", "armv6m", "armv7m", "armv7emsp", "armv7emdp")
# TinyMaix-based emlearn-micropython on the same emulated Cortex-M3 (issue 9's figures).
EMLEARN_M3 = dict(instructions=760040, macs=51228, ram=15.8 * 1024)
# The kernels before the work on instructions per MAC (docs/nn-benchmarks-baseline.csv).
BASELINE_COMMIT = "4122cc0"

TITLES = {
    "mnist_cnn": "MNIST CNN (make demo)",
    "emlearn_shape": "CNN of emlearn's MNIST example shape",
    "conv3x3": "CONV_2D 3x3, 16x16x16 -> 16, SAME",
    "depthwise3x3": "DEPTHWISE_CONV_2D 3x3, 16x16x32, SAME",
    "pointwise1x1": "CONV_2D 1x1, 16x16x32 -> 32",
    "dense": "FULLY_CONNECTED 256 -> 64",
}


def log(msg):
    print(f"nn benchmark: {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Models


def _keras_cases():
    import keras

    L = keras.layers

    def seq(shape, *layers):
        return lambda: keras.Sequential([keras.Input(shape)] + list(layers))

    def emlearn_shape():
        layers = []
        for c in (8, 12, 18):
            layers += [L.Conv2D(c, 3, strides=2), L.BatchNormalization(), L.ReLU()]
        return seq((28, 28, 1), *layers, L.GlobalAveragePooling2D(), L.Dense(10), L.Softmax())()

    return {
        "emlearn_shape": emlearn_shape,
        "conv3x3": seq((16, 16, 16), L.Conv2D(16, 3, padding="same", activation="relu")),
        "depthwise3x3": seq((16, 16, 32), L.DepthwiseConv2D(3, padding="same",
                                                            activation="relu")),
        "pointwise1x1": seq((16, 16, 32), L.Conv2D(32, 1, activation="relu")),
        "dense": seq((256,), L.Dense(64, activation="relu")),
    }


def _cache_key():
    import importlib.metadata as md

    src = inspect.getsource(_keras_cases) + inspect.getsource(build_models)
    versions = [md.version(p) for p in ("tensorflow-cpu", "keras", "ai-edge-litert", "numpy")]
    return hashlib.sha256((src + json.dumps(versions)).encode()).hexdigest()[:16]


def build_models(names):
    """{name: dict(tflite=bytes, x=one int8 input)}, the Keras ones cached in build/bench-nn."""
    from microlearn import mnist

    models = {}
    if "mnist_cnn" in names:
        from microlearn.nn import convert_tflite

        tfl = mnist.train_cnn(log=lambda s: log("mnist: " + s))["tflite"]
        (_, _), (Xte, _) = mnist.split()
        models["mnist_cnn"] = dict(tflite=tfl,
                                   x=mnist.int8_inputs(convert_tflite(tfl), Xte[:1])[0])
    rest = [n for n in names if n != "mnist_cnn"]
    if not rest:
        return models
    cache = paths.build() / "bench-nn" / f"models-{_cache_key()}.pkl"
    built = pickle.loads(cache.read_bytes()) if cache.exists() else {}
    missing = [n for n in rest if n not in built]
    if missing:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import keras

        from microlearn.nn.from_keras import to_tflite

        cases = _keras_cases()
        (Xtr, _), _ = mnist.split()
        for name in missing:
            log(f"building {name} with Keras")
            keras.utils.set_random_seed(0)
            rng = np.random.default_rng(0)
            model = cases[name]()
            shape = tuple(model.inputs[0].shape[1:])
            if name == "emlearn_shape":
                calib = Xtr[:200, :, :, None].astype(np.float32) / 255
            else:
                calib = rng.normal(size=(200,) + shape).astype(np.float32)
            built[name] = dict(tflite=to_tflite(model, "int8", calib),
                               x=rng.integers(-128, 128, size=shape).astype(np.int8))
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_bytes(pickle.dumps(built))
    models.update({n: built[n] for n in rest})
    return models


def tflite_reference(tfl, x):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=tfl, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(i["index"], x.reshape(i["shape"]).astype(i["dtype"]))
    it.invoke()
    return it.get_tensor(o["index"]).reshape(-1).copy()


def tflite_time(tfl, x, min_seconds, reference=False):
    """Seconds per inference of TFLite's interpreter (default kernels, or its reference kernels,
    one thread): set the input, invoke, read the output, as the MicroPython side does; best of
    3."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kw = dict(experimental_op_resolver_type=OpResolverType.BUILTIN_REF) if reference else {}
    it = Interpreter(model_content=tfl, num_threads=1, **kw)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    xi = x.reshape(i["shape"]).astype(i["dtype"])

    def run(k):
        t0 = time.perf_counter()
        for _ in range(k):
            it.set_tensor(i["index"], xi)
            it.invoke()
            it.get_tensor(o["index"])
        return time.perf_counter() - t0

    k = 1
    while run(k) < min_seconds / 3 and k < 1 << 20:
        k *= 4
    return min(run(k) for _ in range(3)) / k


# --------------------------------------------------------------------------------------------
# Device scripts

# Every target: load each model in place (from a bytes object) and copied (from the file), run
# once and print the output, then time K runs against an empty loop of K. On the boards the
# counts are exact (qemu -icount), so K is small; on the unix port K grows until a run takes
# MIN microseconds, best of 3.
DEVICE = r'''
import array, gc, mlclock
from microlearn import nn
TC = {'int8': 'b', 'uint8': 'B', 'float32': 'f'}
def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n
def runs(m, x, y, k):
    for _ in range(k):
        m.run(x, y)
def empty(m, x, y, k):
    for _ in range(k):
        pass
def per_run(m, x, y):
    k = K
    while True:
        best = None
        for _ in range(TRIALS):
            gc.collect()
            t0 = mlclock.ticks()
            runs(m, x, y, k)
            t1 = mlclock.ticks()
            empty(m, x, y, k)
            t2 = mlclock.ticks()
            d = mlclock.diff(t1, t0) - mlclock.diff(t2, t1)
            best = d if best is None else min(best, d)
        if mlclock.to_unit(best) >= MIN or k >= 1 << 16:
            return mlclock.to_unit(best) / k
        k *= 4
for name in NAMES:
    with open(name + '.nn', 'rb') as f:
        data = f.read()
    gc.collect()
    a0 = gc.mem_alloc()
    m = nn.load(data)
    gc.collect()
    inplace = gc.mem_alloc() - a0
    mem_inplace = m.memory
    c = nn.load(name + '.nn')
    mem_copied = c.memory
    c = None
    x = array.array(TC[m.input_type], bytes(count(m.input_shape)))
    y = array.array(TC[m.output_type], bytes(count(m.output_shape)))
    with open(name + '.x', 'rb') as f:
        f.readinto(x)
    m.run(x, y)
    print('R', name, 'out', bytes(y).hex())
    print('R', name, 'ram', m.arena, mem_inplace, mem_copied, inplace)
    if TIME:
        print('R', name, 'time', per_run(m, x, y), mlclock.UNIT)
    m = data = None
    gc.collect()
'''

# callgrind: load every model, run each once, then K runs of each (or none: the baseline).
CALLGRIND = r'''
import array
from microlearn import nn
TC = {{'int8': 'b', 'uint8': 'B', 'float32': 'f'}}
def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n
m = nn.load({name!r} + '.nn')
x = array.array(TC[m.input_type], bytes(count(m.input_shape)))
y = array.array(TC[m.output_type], bytes(count(m.output_shape)))
with open({name!r} + '.x', 'rb') as f:
    f.readinto(x)
m.run(x, y)
for _ in range({k}):
    m.run(x, y)
'''


def device_script(names, timing, quick, qemu):
    head = (f"NAMES = {names!r}\nTIME = {timing}\nK = {2 if qemu else 1}\n"
            f"TRIALS = {1 if qemu else 3}\nMIN = {0 if qemu else (20000 if quick else 200000)}\n")
    return head + DEVICE


def parse(out):
    got = {}
    for line in out.splitlines():
        if line.startswith("R "):
            _, name, what, *rest = line.split()
            got.setdefault(name, {})[what] = rest
    return got


# --------------------------------------------------------------------------------------------
# The run


class Results:
    FIELDS = ["section", "target", "model", "metric", "value", "unit", "note"]

    def __init__(self):
        self.rows = []

    def add(self, section, target, model, metric, value, unit="", note=""):
        self.rows.append(dict(section=section, target=target, model=model, metric=metric,
                              value=value, unit=unit, note=note))

    def get(self, **kw):
        for r in self.rows:
            if all(str(r[k]) == str(v) for k, v in kw.items()):
                return r["value"]
        return None

    def write_csv(self, path):
        with open(path, "w", newline="") as f:
            w = csv.DictWriter(f, self.FIELDS)
            w.writeheader()
            for r in self.rows:
                w.writerow(r)

    @classmethod
    def read_csv(cls, path):
        res = cls()
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                r["value"] = float(r["value"])
                res.rows.append(r)
        return res


def run_targets(res, files, converted, refs, target_names, quick):
    """Every model on every target: on the unix port in one process, on the boards one boot per
    model (a fresh heap: the larger arenas need one contiguous block)."""
    names = list(converted)
    for tname in target_names:
        t = targets.get(tname)
        log(f"running on {tname}")
        batches = [[n] for n in names] if t.is_qemu else [names]
        got, outs = {}, []
        for batch in batches:
            script = device_script(batch, True, quick, t.is_qemu)
            mine = {k: v for k, v in files.items() if k.rsplit(".", 1)[0] in batch}
            try:
                with t.session(mine, timeout=900) as s:
                    out = s.exec(script).output
            except targets.TargetError as e:
                out = f"TargetError: {e}"
            got.update(parse(out))
            outs.append(out)
        out = "\n".join(outs)
        for name in names:
            g = got.get(name)
            if not g or "time" not in g:
                res.add("fail", tname, name, "failed", 1, "", out[-300:].replace("\n", " | "))
                log(f"{tname} {name}: failed:\n{out[-1500:]}")
                continue
            y = np.frombuffer(bytes.fromhex(g["out"][0]), refs[name].dtype)
            res.add("agree", tname, name, "same_as_tflite", int(np.array_equal(y, refs[name])))
            arena, mem_inplace, mem_copied, grew = map(int, g["ram"])
            res.add("ram", tname, name, "arena", arena, "B")
            res.add("ram", tname, name, "memory_in_place", mem_inplace, "B")
            res.add("ram", tname, name, "memory_copied", mem_copied, "B")
            res.add("ram", tname, name, "heap_growth_in_place", grew, "B")
            per, unit = float(g["time"][0]), g["time"][1]
            n_macs = macs(converted[name])
            if unit == "instr":
                res.add("time", tname, name, "instructions", per, "instr")
                res.add("time", tname, name, "per_mac", per / n_macs, "instr")
            else:
                res.add("time", tname, name, "microseconds", per, "us")


def run_callgrind(res, files, converted, k=3):
    import tempfile

    for name in converted:
        with tempfile.TemporaryDirectory(prefix="microlearn-bench-nn-") as tmp:
            for fname, data in files.items():
                if fname.startswith(name + "."):
                    (Path(tmp) / fname).write_bytes(data)
            log(f"callgrind {name}")
            a = common.callgrind_count(CALLGRIND.format(name=name, k=k), tmp)
            z = common.callgrind_count(CALLGRIND.format(name=name, k=0), tmp)
        per = (a - z) / k
        res.add("time", "x64-callgrind", name, "instructions", per, "Ir")
        res.add("time", "x64-callgrind", name, "per_mac", per / macs(converted[name]), "Ir")


def run(args):
    from microlearn.nn import convert_tflite

    t_start = time.monotonic()
    names = ["mnist_cnn", "emlearn_shape", "conv3x3", "depthwise3x3", "pointwise1x1", "dense"]
    if args.models:
        names = args.models.split(",")
    models = build_models(names)
    res = Results()
    files, converted, refs = {}, {}, {}
    for name in names:
        m = models[name]
        c = convert_tflite(m["tflite"])
        converted[name] = c
        files[name + ".nn"] = c.to_bytes()
        files[name + ".x"] = m["x"].tobytes()
        refs[name] = tflite_reference(m["tflite"], m["x"])
        res.add("model", "-", name, "macs", macs(c))
        res.add("model", "-", name, "constant_data", c.weights_size, "B",
                "weights, biases, requantization parameters")
        res.add("model", "-", name, "weights", sum(
            t.nbytes for t in c.tensors if t.storage == 1 and t.type == 1), "B", "int8 weights")
        res.add("model", "-", name, "file", len(files[name + ".nn"]), "B")
        res.add("model", "-", name, "arena", c.arena_size, "B")
        res.add("model", "-", name, "tflite_file", len(m["tflite"]), "B")
        res.add("model", "-", name, "operators", len(c.ops), "",
                " ".join(sorted({_op_name(o) for o in c.ops})))
        log(f"{name}: {macs(c):,} MACs, file {len(files[name + '.nn']):,} B, "
            f"arena {c.arena_size:,} B")
    boards = [t for t in args.targets.split(",") if t]
    run_targets(res, files, converted, refs, boards, args.quick)
    if not args.no_callgrind and common.callgrind_available():
        run_callgrind(res, files, converted, k=1 if args.quick else 3)
    elif not args.no_callgrind:
        res.add("fail", "x64-callgrind", "-", "failed", 1, "", "valgrind not found")
    for name in names if args.tflite else ():
        log(f"timing TFLite's interpreter on {name}")
        s = tflite_time(models[name]["tflite"], models[name]["x"],
                        0.05 if args.quick else 0.5)
        res.add("time", "x64-tflite", name, "microseconds", s * 1e6, "us",
                "ai-edge-litert Interpreter, default kernels, num_threads=1")
        s = tflite_time(models[name]["tflite"], models[name]["x"],
                        0.05 if args.quick else 0.5, reference=True)
        res.add("time", "x64-tflite-ref", name, "microseconds", s * 1e6, "us",
                "ai-edge-litert Interpreter, BUILTIN_REF kernels, num_threads=1")
    for arch in ARCHS:
        p = paths.natmod() / arch / "microlearn" / "nn.mpy"
        if p.exists():
            res.add("flash", arch, "-", "nn_mpy", p.stat().st_size, "B")
    res.add("run", "-", "-", "seconds", round(time.monotonic() - t_start), "s")
    return res


def macs(model):
    """Multiply-accumulates of the convolutions and dense layers (pooling and means are not
    counted), the figure per-MAC costs are given against."""
    return sum(op.macs for op in model.ops if op.code in (1, 2, 3))


def _op_name(op):
    from microlearn.nn.model import OP_NAMES

    return OP_NAMES[op.code]


# --------------------------------------------------------------------------------------------
# Report


def fmt(v, digits=0):
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def render(res, command, version, baseline=None):
    g = res.get
    names = [r["model"] for r in res.rows if r["section"] == "model" and r["metric"] == "macs"]
    boards = [t for t in ("cortex-m3", "cortex-m0")
              if any(r["target"] == t for r in res.rows)]
    out = [
        "# microlearn.nn benchmarks",
        "",
        f"Measured with `{command}` (MicroPython {version}, {time.strftime('%Y-%m-%d')}; "
        f"{fmt(g(section='run', metric='seconds'))} s). Models are int8 (Keras -> TFLite "
        "full-integer quantization -> `microlearn.convert`); an inference is `model.run(x, "
        "out)` called from MicroPython, the call and the copies in and out included. Every "
        "output of every target was compared with TFLite's reference kernels: "
        + ("all identical." if all(r["value"] == 1 for r in res.rows
                                     if r["metric"] == "same_as_tflite")
           else "**some differ** (see the CSV).")
        + " Instructions on the boards are qemu's (`-icount shift=0`, read through "
          "`device/mlclock.py`); on x64, callgrind's count of the unix port (K inferences "
          "minus none, over K).",
        "",
        "## Instructions per inference and per multiply-accumulate",
        "",
        "| model | MACs | " + " | ".join(f"{b} per inference | per MAC" for b in boards)
        + " | x64 (callgrind) per inference | per MAC |",
        "| --- | ---: | " + " | ".join("---: | ---:" for _ in boards) + " | ---: | ---: |",
    ]
    for n in names:
        cells = [TITLES.get(n, n), fmt(g(section="model", model=n, metric="macs"))]
        for t in boards + ["x64-callgrind"]:
            cells.append(fmt(g(section="time", target=t, model=n, metric="instructions")))
            cells.append(fmt(g(section="time", target=t, model=n, metric="per_mac"), 2))
        out.append("| " + " | ".join(cells) + " |")
    em = g(section="time", target="cortex-m3", model="emlearn_shape", metric="instructions")
    if em:
        out += ["", f"For scale: emlearn-micropython's TinyMaix-based module runs its MNIST example "
                f"CNN (the same shape, {EMLEARN_M3['macs']:,} MACs) in "
                f"{EMLEARN_M3['instructions']:,} instructions per image on the same emulated "
                f"Cortex-M3 ({EMLEARN_M3['instructions'] / EMLEARN_M3['macs']:.1f} per MAC) with "
                f"{EMLEARN_M3['ram'] / 1024:.1f} kB of RAM; microlearn takes {fmt(em)} "
                f"({em / EMLEARN_M3['instructions'] * 100:.0f}% of that) with "
                f"{fmt(g(section='ram', target='cortex-m3', model='emlearn_shape', metric='memory_in_place'))}"
                " bytes (arena and object, weights in place)."]
    out += [
        "",
        "## Time on x64: microlearn on the unix port and TensorFlow Lite's interpreter",
        "",
        "Wall clock on this (shared, 2-core) machine, best of 3; TFLite is ai-edge-litert's "
        "`Interpreter` with its default kernels and one thread, called from CPython (set the "
        "input, invoke, get the output).",
        "",
        "| model | microlearn (unix port) µs | TFLite µs | microlearn / TFLite | TFLite "
        "reference kernels µs | microlearn / reference |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n in names:
        a = g(section="time", target="unix", model=n, metric="microseconds")
        b = g(section="time", target="x64-tflite", model=n, metric="microseconds")
        c = g(section="time", target="x64-tflite-ref", model=n, metric="microseconds")
        out.append(f"| {TITLES.get(n, n)} | {fmt(a, 1)} | {fmt(b, 1)} | "
                   f"{fmt(a / b if a and b else None, 2)} | {fmt(c, 1)} | "
                   f"{fmt(a / c if a and c else None, 2)} |")
    out += ["", "TFLite's default kernels are vectorized (XNNPACK, SSE/AVX) for x64; microlearn's "
            "are scalar C written for microcontrollers without SIMD, built with -Os as every "
            "native module is: the unix-port figure is there for the ratio to TFLite's reference "
            "kernels, which compute the same bytes."]
    out += [
        "",
        "## RAM and flash",
        "",
        "The arena holds every activation (planned on the host from the tensors' lifetimes). "
        "Used in place (`nn.load(bytes_or_romfs_buffer)`), a model takes its arena and a small "
        "object; loaded from a file (`nn.load(path)`) it also takes the file, copied once.",
        "",
        "| model | int8 weights | constant data | model file | .tflite file | arena | "
        "RAM in place | RAM copied |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    ram_target = boards[0] if boards else "unix"
    for n in names:
        out.append("| " + " | ".join([
            TITLES.get(n, n),
            fmt(g(section="model", model=n, metric="weights")),
            fmt(g(section="model", model=n, metric="constant_data")),
            fmt(g(section="model", model=n, metric="file")),
            fmt(g(section="model", model=n, metric="tflite_file")),
            fmt(g(section="model", model=n, metric="arena")),
            fmt(g(section="ram", target=ram_target, model=n, metric="memory_in_place")),
            fmt(g(section="ram", target=ram_target, model=n, metric="memory_copied")),
        ]) + " |")
    flash = [(r["target"], r["value"]) for r in res.rows if r["section"] == "flash"]
    if flash:
        out += ["", "`nn.mpy` (the native module): " + ", ".join(
            f"{a} {v / 1024:.1f} kB" for a, v in flash) + "."]
    if baseline is not None:
        out += ["", "## Before and after the kernel work", "",
                f"Instructions per MAC before ({BASELINE_COMMIT}, the first C core: one output "
                "channel at a time, the zero point tested per tap, the requantization as "
                "gemmlowp writes it) and now, same models, same harness "
                "(`docs/nn-benchmarks-baseline.csv`).", "",
                "| model | " + " | ".join(f"{t} before | now" for t in boards + ["x64-callgrind"])
                + " |",
                "| --- | " + " | ".join("---: | ---:" for _ in boards + ["x64-callgrind"]) + " |"]
        for n in names:
            cells = [TITLES.get(n, n)]
            for t in boards + ["x64-callgrind"]:
                cells.append(fmt(baseline.get(section="time", target=t, model=n,
                                              metric="per_mac"), 2))
                cells.append(fmt(g(section="time", target=t, model=n, metric="per_mac"), 2))
            out.append("| " + " | ".join(cells) + " |")
    fails = [r for r in res.rows if r["section"] == "fail"]
    if fails:
        out += ["", "## Not measured", ""]
        out += [f"- {r['target']} {r['model']}: {r['note']}" for r in fails]
    return "\n".join(out) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.nn", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="the single operators and the emlearn-shape CNN only, shorter timings, "
                        "callgrind K=1")
    p.add_argument("--targets", default="unix,cortex-m3,cortex-m0")
    p.add_argument("--models", default=None, help="comma-separated subset")
    p.add_argument("--no-callgrind", action="store_true")
    p.add_argument("--no-tflite", dest="tflite", action="store_false",
                   help="do not time TFLite's interpreter")
    p.add_argument("--out", default=None,
                   help="folder for nn-benchmarks.md/.csv (default docs/, with --quick "
                        "build/bench-nn-quick/)")
    p.add_argument("--from-csv", default=None, help="render the report of an earlier run")
    args = p.parse_args(argv)
    if args.quick and not args.models:
        args.models = "emlearn_shape,conv3x3,depthwise3x3,pointwise1x1,dense"
    command = "python -m benchmarks.nn" + (" --quick" if args.quick else "")
    out = Path(args.out) if args.out else (
        paths.build() / "bench-nn-quick" if args.quick else paths.root() / "docs")
    out.mkdir(parents=True, exist_ok=True)
    if args.from_csv:
        res = Results.read_csv(args.from_csv)
    else:
        res = run(args)
        res.write_csv(out / "nn-benchmarks.csv")
    base = paths.root() / "docs" / "nn-benchmarks-baseline.csv"
    baseline = Results.read_csv(base) if base.exists() and not args.quick else None
    (out / "nn-benchmarks.md").write_text(render(res, command, paths.micropython_version(),
                                                 baseline))
    log(f"wrote {out}/nn-benchmarks.md, .csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
