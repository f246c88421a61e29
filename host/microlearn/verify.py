"""Run a converted model on a target and compare it with the original estimator.

    result = verify.run_model(model, X, "cortex-m3")   # what the device predicted, and how fast
    report = verify.compare(estimator, model, X, result)

The device reads the samples one at a time from a file (so the data never has to fit in RAM),
calls predict and predict_proba on each, and predict_many on batches; all results travel back
as exact float32 bytes.
"""

import binascii
from dataclasses import dataclass, field

import numpy as np

from . import targets

_SCRIPT = r"""
import array, binascii, gc, mlclock
from microlearn import trees
TC, SIZE, BATCH, REPEAT = {tc!r}, {size}, {batch}, {repeat}
gc.collect()
a0 = gc.mem_alloc()
m = trees.load("model.csv")
gc.collect()
print("mem", gc.mem_alloc() - a0, m.memory)
nf, nc = m.n_features, m.n_classes
x = array.array(TC, bytes(nf * SIZE))
p = array.array("f", bytes(4 * max(nc, 1)))
X = array.array(TC, bytes(nf * SIZE * BATCH))
out = array.array("i" if nc else "f", bytes(4 * BATCH))
with open("X.bin", "rb") as f:
    while f.readinto(x) == nf * SIZE:
        if nc:
            y = m.predict(x)
            m.predict_proba(x, p)
            print("s", y, binascii.hexlify(p).decode())
        else:
            print("s", repr(m.predict(x)))
with open("X.bin", "rb") as f:
    while True:
        k = f.readinto(X) // (nf * SIZE)
        if not k:
            break
        m.predict_many(memoryview(X)[:k * nf], memoryview(out)[:k])
        print("b", binascii.hexlify(memoryview(out)[:k]).decode())
# Allocation and time of a prediction, on the first sample.
with open("X.bin", "rb") as f:
    f.readinto(x)
    f.seek(0)
    k = f.readinto(X) // (nf * SIZE)
Xk, outk = memoryview(X)[:k * nf], memoryview(out)[:k]
gc.collect()
a0 = gc.mem_alloc()
if nc:
    m.predict(x)
    m.predict_proba(x, p)
m.predict_many(Xk, outk)
print("alloc", gc.mem_alloc() - a0)
def timed(fn, arg, *rest):
    t0 = mlclock.ticks()
    for _ in range(REPEAT):
        fn(arg, *rest)
    return mlclock.to_unit(mlclock.diff(mlclock.ticks(), t0)) / REPEAT
print("time", timed(m.predict, x), timed(m.predict_many, Xk, outk) / k, mlclock.UNIT)
"""


@dataclass
class DeviceResult:
    target: str
    labels: np.ndarray = None  # classifiers: predict() per sample
    proba: np.ndarray = None  # classifiers: predict_proba() per sample
    values: np.ndarray = None  # regressors: predict() per sample
    batch: np.ndarray = None  # predict_many() per sample
    load_bytes: int = 0  # heap growth of trees.load
    model_bytes: int = 0  # model.memory
    predict_alloc: int = 0  # heap growth of predict + predict_proba + predict_many
    predict_time: float = 0.0  # one predict() call, in `unit`
    many_time: float = 0.0  # per sample within predict_many()
    unit: str = ""
    output: str = field(default="", repr=False)


def run_model(model, X, target, session=None, batch=32, repeat=20, text=None):
    """Runs `model` (a TreesModel) on every row of X on `target` (a name or Target)."""
    X = np.asarray(X)
    dtype = np.int16 if X.dtype == np.int16 else np.float32
    X = np.ascontiguousarray(X, dtype=dtype)
    tc, size = ("h", 2) if dtype == np.int16 else ("f", 4)
    script = _SCRIPT.format(tc=tc, size=size, batch=batch, repeat=repeat)
    target = targets.get(target) if isinstance(target, str) else target
    own = session is None
    session = session or target.session()
    try:
        session.put("model.csv", (text or model.to_text()).encode())
        session.put("X.bin", X.tobytes())
        res = session.exec(script)
        session.remove("X.bin")
        session.remove("model.csv")
    finally:
        if own:
            session.close()
    if not res.ok:
        raise targets.TargetError(f"{target.name}: the device script failed:\n{res.output}")
    return parse(res.output, target.name, model.is_classifier)


def parse(output, target_name, is_classifier):
    r = DeviceResult(target_name, output=output)
    labels, proba, values, batch = [], [], [], []
    for line in output.splitlines():
        parts = line.split()
        if not parts:
            continue
        tag = parts[0]
        if tag == "s" and is_classifier:
            labels.append(int(parts[1]))
            proba.append(np.frombuffer(binascii.unhexlify(parts[2]), dtype="<f4"))
        elif tag == "s":
            values.append(float(parts[1]))
        elif tag == "b":
            raw = binascii.unhexlify(parts[1]) if len(parts) > 1 else b""
            batch.append(np.frombuffer(raw, dtype="<i4" if is_classifier else "<f4"))
        elif tag == "mem":
            r.load_bytes, r.model_bytes = int(parts[1]), int(parts[2])
        elif tag == "alloc":
            r.predict_alloc = int(parts[1])
        elif tag == "time":
            r.predict_time, r.many_time, r.unit = float(parts[1]), float(parts[2]), parts[3]
    if is_classifier:
        r.labels = np.array(labels)
        r.proba = np.array(proba)
    else:
        r.values = np.array(values)
    r.batch = np.concatenate(batch) if batch else np.array([])
    return r


@dataclass
class Report:
    n: int
    label_agreement: float = None  # fraction of identical labels (classifiers)
    proba_max_diff: float = None  # largest |p_device - p_sklearn|
    value_max_rel: float = None  # largest relative difference (regressors)
    batch_agreement: bool = True  # predict_many == predict

    def ok(self, proba_tol=1e-6, rel_tol=1e-5):
        if self.label_agreement is not None:
            return (self.label_agreement == 1.0 and self.proba_max_diff <= proba_tol
                    and self.batch_agreement)
        return self.value_max_rel <= rel_tol and self.batch_agreement


def reference_input(X):
    """What the estimator sees for the device's input: the float32 (or int16) values."""
    X = np.asarray(X)
    return X if X.dtype == np.int16 else X.astype(np.float32)


def compare(estimator, X, result):
    Xr = reference_input(X)
    rep = Report(len(Xr))
    if result.labels is not None:
        expect = estimator.predict(Xr)
        rep.label_agreement = float(np.mean(result.labels == expect))
        rep.proba_max_diff = float(np.max(np.abs(result.proba - estimator.predict_proba(Xr))))
        rep.batch_agreement = bool(np.array_equal(result.batch, result.labels))
    else:
        expect = estimator.predict(Xr)
        scale = np.maximum(np.abs(expect), 1e-12)
        rep.value_max_rel = float(np.max(np.abs(result.values - expect) / scale))
        rep.batch_agreement = bool(np.max(np.abs(result.batch - result.values.astype(np.float32))
                                          / np.maximum(np.abs(result.values), 1e-12)) <= 1e-6)
    return rep
