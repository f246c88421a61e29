"""Run a converted network on a target and compare it with TensorFlow Lite.

    report = verify("model.tflite", X, "cortex-m3")
    print(report.summary())

TFLite's interpreter with its reference kernels (`ai-edge-litert`, OpResolverType.BUILTIN_REF,
what microlearn is bit-exact with) computes the expected output of every sample on the host.
The device reads the samples and the expected outputs one at a time from files (so they never
have to fit in RAM), runs the model on each, compares, and sends back only the summary, the
first mismatches, the memory, the allocation and the time per inference.
"""

from dataclasses import dataclass, field

import numpy as np

from .. import targets
from ..verify import run_script

TOLERANCE = 1e-5  # float32 outputs: relative to the sample's largest output magnitude

_SCRIPT = r"""
import array, gc, mlclock
from microlearn import nn
TX, TY, FLOAT, TOL, REPEAT, BUDGET, LABELS = {tx!r}, {ty!r}, {is_float}, {tol}, {repeat}, {budget}, {labels}
SIZE = {{"b": 1, "B": 1, "f": 4}}
gc.collect()
a0 = gc.mem_alloc()
m = nn.load("model.nn")
gc.collect()
print("mem", gc.mem_alloc() - a0, m.memory, m.arena)
def count(shape):
    n = 1
    for d in shape:
        n *= d
    return n
nx, ny = count(m.input_shape), count(m.output_shape)
x = array.array(TX, bytes(nx * SIZE[TX]))
y = array.array(TY, bytes(ny * SIZE[TY]))
e = array.array(TY, bytes(ny * SIZE[TY]))
def argmax(a):
    k = 0
    for i in range(1, len(a)):
        if a[i] > a[k]:
            k = i
    return k
n = same = labels = shown = 0
worst = 0.0
lab = array.array("i", [0])
fl = open("L.bin", "rb") if LABELS else None
with open("X.bin", "rb") as fx, open("E.bin", "rb") as fe:
    while fx.readinto(x) == nx * SIZE[TX]:
        fe.readinto(e)
        m.run(x, y)
        if FLOAT:
            big = 1.0
            d = 0.0
            for i in range(ny):
                big = max(big, abs(e[i]))
                d = max(d, abs(y[i] - e[i]))
            d /= big
            worst = max(worst, d)
            ok = d <= TOL
        else:
            d = 0
            for i in range(ny):
                d = max(d, abs(y[i] - e[i]))
            worst = max(worst, d)
            ok = d == 0
        kd, ke = argmax(y), argmax(e)
        if LABELS:
            # the label predict gives, against the original estimator's predict
            fl.readinto(lab)
            kd, ke = m.predict(x), lab[0]
        same += ok
        labels += kd == ke
        if not ok and shown < 10:
            shown += 1
            print("mismatch", n, kd, ke, d)
        n += 1
print("agree", same, labels, n, worst)
gc.collect()
a0 = gc.mem_alloc()
m.run(x, y)
m.predict(x)
print("alloc", gc.mem_alloc() - a0)
# Time: one inference first, then as many as fit the budget (the boards' timers wrap).
t0 = mlclock.ticks()
m.run(x, y)
one = mlclock.to_unit(mlclock.diff(mlclock.ticks(), t0))
k = max(1, min(REPEAT, int(BUDGET // max(one, 1))))
t0 = mlclock.ticks()
for _ in range(k):
    m.run(x, y)
print("time", mlclock.to_unit(mlclock.diff(mlclock.ticks(), t0)) / k, mlclock.UNIT, k)
"""


@dataclass
class Report:
    target: str
    quantized: bool = True
    n: int = 0  # samples
    agree: int = 0  # samples whose output is TFLite's (int8: every byte; float32: within TOLERANCE)
    labels: int = 0  # samples whose largest output is at TFLite's
    worst: float = 0.0  # largest difference (int8: in quantized steps; float32: relative)
    mismatches: list = field(default_factory=list)  # (sample, device label, TFLite label, diff)
    load_bytes: int = 0  # heap growth of nn.load (the file is read into RAM)
    model_bytes: int = 0  # model.memory
    arena: int = 0  # model.arena
    alloc: int = 0  # heap growth of run + predict
    time: float = 0.0  # one inference, in `unit`
    unit: str = ""
    repeats: int = 0
    macs: int = 0
    output: str = field(default="", repr=False)

    def ok(self):
        return self.n > 0 and self.agree == self.n and self.labels == self.n and self.alloc == 0

    def summary(self):
        what = ("outputs identical to TFLite" if self.quantized
                else f"outputs within {TOLERANCE:g} of TFLite")
        per_mac = ""
        if self.macs and self.unit == "instr":
            per_mac = f" ({self.time / self.macs:.2f} per MAC)"
        return (f"{self.target}: {what} {self.agree}/{self.n}, labels {self.labels}/{self.n}; "
                f"{self.time:,.1f} {self.unit} per inference{per_mac}; arena {self.arena} "
                f"bytes; run allocates {self.alloc} bytes")


def tflite_outputs(tflite_bytes, X):
    """TFLite's outputs for the samples X (already of the model's input type), with the
    reference kernels."""
    try:
        from ai_edge_litert.interpreter import Interpreter, OpResolverType
    except ImportError:
        raise RuntimeError("verifying a .tflite model needs TFLite's interpreter: pip install "
                           "ai-edge-litert") from None
    it = Interpreter(model_content=bytes(tflite_bytes),
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    out = []
    for x in X:
        it.set_tensor(i["index"], x.reshape(i["shape"]).astype(i["dtype"]))
        it.invoke()
        out.append(it.get_tensor(o["index"]).copy())
    return np.stack(out)


def device_inputs(model, X):
    """The samples as the model's input type, one per row: float samples are quantized with the
    input's scale and zero point (as TFLite users do, and nn's quantize does on the board)."""
    X = np.asarray(X)
    t = model.input
    if X.ndim == 0 or X.size % t.count or (X.ndim > 1 and np.prod(X.shape[1:]) != t.count):
        raise ValueError(f"X of shape {X.shape}: expected samples of {t.count} values "
                         f"{t.shape}")
    X = X.reshape(-1, t.count)
    want = np.dtype(t.dtype)
    if X.dtype == want:
        return X
    if want.kind == "f":
        return X.astype(np.float32)
    if X.dtype.kind in "iu":
        raise ValueError(f"X is {X.dtype}, the model takes {want}: give float samples to "
                         f"quantize, or {want} ones")
    v = X.astype(np.float64) / float(np.float32(t.scale))
    q = np.sign(v) * np.floor(np.abs(v) + 0.5) + t.zero_point  # round half away from zero
    info = np.iinfo(want)
    return np.clip(np.nan_to_num(q, nan=t.zero_point), info.min, info.max).astype(want)


def verify(model, X, target, session=None, repeat=20, tol=TOLERANCE, expected=None,
           labels=None):
    """Runs the converted `model` (an NNModel from a .tflite file) on every sample of X on
    `target` and compares with TFLite's reference kernels, or with `expected` outputs (one row
    per sample) and, when given, the int32 `labels` predict must give (a converted
    scikit-learn MLP: see sklearn_expected)."""
    Xd = device_inputs(model, X)
    if expected is None:
        if getattr(model, "tflite", None) is None:
            raise ValueError("the model has no .tflite file to compare with")
        expected = tflite_outputs(model.tflite, Xd)
    expected = np.asarray(expected)
    if expected.reshape(len(Xd), -1).shape[1] != model.output.count:
        raise ValueError("TFLite's output does not have the converted model's size")
    codes = {"int8": "b", "uint8": "B", "float32": "f"}
    if str(expected.dtype) not in codes:
        raise ValueError(f"TFLite's output is {expected.dtype}; int8 and float32 are supported")
    target = targets.get(target) if isinstance(target, str) else target
    budget = 200_000 if not target.is_qemu else 300_000_000  # microseconds, instructions
    script = _SCRIPT.format(tx=codes[model.input_type], ty=codes[str(expected.dtype)],
                            is_float=expected.dtype.kind == "f", tol=tol, repeat=repeat,
                            budget=budget, labels=labels is not None)
    files = {"model.nn": model.to_bytes(), "X.bin": np.ascontiguousarray(Xd).tobytes(),
             "E.bin": np.ascontiguousarray(expected).tobytes()}
    if labels is not None:
        files["L.bin"] = np.asarray(labels, dtype="<i4").tobytes()
    res = run_script(target, files, script, session)
    if not res.ok:
        raise targets.TargetError(f"{target.name}: the device script failed:\n{res.output}")
    r = parse(res.output, target.name)
    r.quantized = expected.dtype.kind != "f"
    r.macs = model.macs()
    return r


def sklearn_expected(estimator, model, X):
    """(outputs, labels) of a scikit-learn MLP (or pipeline) for the samples X as the board
    sees them (float32): predict_proba and predict for a classifier (labels as the board's
    predict gives them: the label, or the class index for labels that are not integers),
    predict for a regressor (labels None)."""
    X = np.asarray(X, dtype=np.float32).reshape(len(X), -1)
    if not hasattr(estimator, "predict_proba"):
        return np.asarray(estimator.predict(X), dtype=np.float32).reshape(len(X), -1), None
    y = np.asarray(estimator.predict(X))
    if model.labels is None:
        y = np.searchsorted(np.asarray(estimator.classes_), y)
    return estimator.predict_proba(X).astype(np.float32), y.astype(np.int64)


def parse(output, target_name):
    r = Report(target_name, output=output)
    for line in output.splitlines():
        p = line.split()
        if not p:
            continue
        if p[0] == "mismatch":
            r.mismatches.append((int(p[1]), int(p[2]), int(p[3]), float(p[4])))
        elif p[0] == "agree":
            r.agree, r.labels, r.n, r.worst = int(p[1]), int(p[2]), int(p[3]), float(p[4])
        elif p[0] == "mem":
            r.load_bytes, r.model_bytes, r.arena = int(p[1]), int(p[2]), int(p[3])
        elif p[0] == "alloc":
            r.alloc = int(p[1])
        elif p[0] == "time":
            r.time, r.unit, r.repeats = float(p[1]), p[2], int(p[3])
    return r
