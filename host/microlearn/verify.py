"""Run a converted model on a target and compare it with the original estimator.

    report = verify.verify(estimator, model, X, "cortex-m3")

The host computes what the estimator predicts; the device reads the samples one at a time from a
file (so the data never has to fit in RAM), calls predict and predict_proba on each and
predict_many on batches, compares with the expected results it was given, and sends back only
the summary and the first mismatches (the emulated serial line is slow).
"""

from dataclasses import dataclass, field

import numpy as np

from . import targets

# Parts of both device scripts, filled in by format (so without braces of their own): the first
# batch's samples and the heap mark the allocation check starts from; the time of one call.
_FIRST_BATCH = """\
with open("X.bin", "rb") as f:
    f.readinto(x)
    f.seek(0)
    k = f.readinto(X) // (nf * SIZE)
Xk, outk = memoryview(X)[:k * nf], memoryview(out)[:k]
gc.collect()
a0 = gc.mem_alloc()"""
_TIMED = """\
def timed(fn, arg, *rest):
    t0 = mlclock.ticks()
    for _ in range(REPEAT):
        fn(arg, *rest)
    return mlclock.to_unit(mlclock.diff(mlclock.ticks(), t0)) / REPEAT"""

_SCRIPT = r"""
import array, gc, mlclock
from microlearn import trees
TC, SIZE, BATCH, REPEAT, TOL, MODEL = {tc!r}, {size}, {batch}, {repeat}, {tol}, {model!r}
gc.collect()
a0 = gc.mem_alloc()
m = trees.load(MODEL)
gc.collect()
print("mem", gc.mem_alloc() - a0, m.memory, int(m.in_place))
nf, nc = m.n_features, m.n_classes
cls = m.classes
INT_LABELS = all(isinstance(c, int) and not isinstance(c, bool) for c in cls)
x = array.array(TC, bytes(nf * SIZE))
p = array.array("f", bytes(4 * max(nc, 1)))
e = array.array("f", bytes(4 * max(nc, 1)))
gc.collect()
X = array.array(TC, bytes(nf * SIZE * BATCH))
out = array.array("i" if nc else "f", bytes(4 * BATCH))
ye = array.array("i" if nc else "f", bytes(4))
n = same = shown = 0
worst = 0.0
with open("X.bin", "rb") as fx, open("E.bin", "rb") as fe:
    while fx.readinto(x) == nf * SIZE:
        fe.readinto(ye)
        y = m.predict(x)
        if nc:
            fe.readinto(e)
            m.predict_proba(x, p)
            for k in range(nc):
                worst = max(worst, abs(p[k] - e[k]))
            ok = cls.index(y) == ye[0]
        else:
            d = abs(y - ye[0]) / max(abs(ye[0]), 1e-12)
            worst = max(worst, d)
            ok = d <= TOL
        same += ok
        if not ok and shown < 10:
            shown += 1
            print("mismatch", n, y, ye[0])
        n += 1
print("agree", same, n, worst)
# predict_many gives what predict gives, batch by batch (it writes integer labels only).
batch_same = i = 0
with open("X.bin", "rb") as fx, open("E.bin", "rb") as fe:
    while INT_LABELS or not nc:
        k = fx.readinto(X) // (nf * SIZE)
        if not k:
            break
        m.predict_many(memoryview(X)[:k * nf], memoryview(out)[:k])
        for j in range(k):
            fe.readinto(ye)
            if nc:
                fe.readinto(e)
                batch_same += cls.index(out[j]) == ye[0]
            else:
                batch_same += abs(out[j] - ye[0]) <= TOL * max(abs(ye[0]), 1e-12)
        i += k
print("batch", batch_same, i if INT_LABELS or not nc else -1)
# Allocation and time of a prediction, on the first samples.
{first_batch}
if nc:
    m.predict(x)
    m.predict_proba(x, p)
if INT_LABELS or not nc:
    m.predict_many(Xk, outk)
print("alloc", gc.mem_alloc() - a0)
{timed}
print("time", timed(m.predict, x),
      timed(m.predict_many, Xk, outk) / k if INT_LABELS or not nc else 0, mlclock.UNIT)
"""


# The same for the binary-file families (microlearn.linear_model, svm, ...): predict, then
# every other method the model has, each compared within TOL relative.
_EST_SCRIPT = r"""
import array, gc, mlclock
from microlearn import {module} as fam
TC, SIZE, BATCH, REPEAT, TOL, INT = {tc!r}, {size}, {batch}, {repeat}, {tol}, {int_predict}
METHODS = {methods!r}
gc.collect()
a0 = gc.mem_alloc()
try:
    # On a board the file is in flash (ROMFS): the model is used in place.
    m = fam.load(memoryview(open("model.mlb", "rb")))
except (TypeError, OSError):
    m = fam.load("model.mlb")
gc.collect()
print("mem", gc.mem_alloc() - a0, m.memory)
{setup}
nf = m.n_features
W = max([w for _, w in METHODS] + [1])
x = array.array(TC, bytes(nf * SIZE))
buf = array.array("f", bytes(4 * W))
e = array.array("f", bytes(4 * W))
gc.collect()
X = array.array(TC, bytes(nf * SIZE * BATCH))
out = array.array("i" if INT else "f", bytes(4 * BATCH))
ye = array.array("i" if INT else "f", bytes(4))
fns = [(getattr(m, name), memoryview(buf)[:w], memoryview(e)[:w]) for name, w in METHODS]
def rel(a, b):
    return abs(a - b) / max(abs(b), 1e-12)
n = same = shown = 0
worst = 0.0
with open("X.bin", "rb") as fx, open("E.bin", "rb") as fe:
    while fx.readinto(x) == nf * SIZE:
        fe.readinto(ye)
        y = m.predict(x)
        if INT:
            ok = y == ye[0]
        else:
            d = rel(y, ye[0])
            worst = max(worst, d)
            ok = d <= TOL
        for fn, got, want in fns:
            fn(x, got)
            fe.readinto(want)
            for k in range(len(got)):
                d = rel(got[k], want[k])
                worst = max(worst, d)
                if d > TOL:
                    ok = False
        same += ok
        if not ok and shown < 10:
            shown += 1
            print("mismatch", n, y, ye[0])
        n += 1
print("agree", same, n, worst)
SKIP = sum(w for _, w in METHODS)
skip = array.array("f", bytes(4 * max(SKIP, 1)))
batch_same = i = 0
with open("X.bin", "rb") as fx, open("E.bin", "rb") as fe:
    while True:
        k = fx.readinto(X) // (nf * SIZE)
        if not k:
            break
        m.predict_many(memoryview(X)[:k * nf], memoryview(out)[:k])
        for j in range(k):
            fe.readinto(ye)
            if SKIP:
                fe.readinto(skip)
            batch_same += out[j] == ye[0] if INT else rel(out[j], ye[0]) <= TOL
        i += k
print("batch", batch_same, i)
{first_batch}
if INT:
    m.predict(x)
for fn, got, _ in fns:
    fn(x, got)
m.predict_many(Xk, outk)
print("alloc", gc.mem_alloc() - a0)
{timed}
print("time", timed(m.predict, x), timed(m.predict_many, Xk, outk) / k, mlclock.UNIT)
"""


def run_script(target, files, script, session=None):
    """Runs `script` on `target` with `files` (name: bytes) beside it: in a session of its own,
    or in the open `session`, from which the files are removed afterwards."""
    if session is None:
        with target.session(files) as s:
            return s.exec(script)
    for name, data in files.items():
        session.put(name, data)
    res = session.exec(script)
    for name in reversed(list(files)):  # last put, first removed: the space is reused
        session.remove(name)
    return res


@dataclass
class Report:
    target: str
    n: int = 0  # samples
    agree: int = 0  # samples whose label is identical (classifiers) or value within tolerance
    worst: float = 0.0  # max |p_device - p_expected| (classifiers) or max relative difference
    batch_agree: int = 0  # samples where predict_many agrees with the expected result (all of
    # them when the labels are not integers: predict_many refuses those models)
    mismatches: list = field(default_factory=list)  # (index, device, expected), first 10
    load_bytes: int = 0  # heap growth of trees.load
    model_bytes: int = 0  # model.memory
    in_place: bool = False  # a binary model used where it lies (model_bytes: its workspace)
    predict_alloc: int = 0  # heap growth of predict + predict_proba + predict_many
    predict_time: float = 0.0  # one predict() call, in `unit`
    many_time: float = 0.0  # per sample within predict_many()
    unit: str = ""
    is_classifier: bool = True
    scores_compared: bool = False  # worst is the relative difference of every method's values
    output: str = field(default="", repr=False)

    @property
    def agreement(self):
        return self.agree / self.n if self.n else 0.0

    def ok(self, proba_tol=1e-6):
        worst_ok = self.worst <= proba_tol if self.is_classifier else True
        if self.scores_compared:
            worst_ok = self.worst <= 1e-5
        return self.n > 0 and self.agree == self.n and self.batch_agree == self.n and worst_ok

    def summary(self):
        if self.scores_compared:
            what = (f"{'labels' if self.is_classifier else 'predictions'} and scores "
                    f"{self.agree}/{self.n} agree, max relative diff {self.worst:.2g}")
        elif self.is_classifier:
            what = (f"labels {self.agree}/{self.n} identical, probabilities max |diff| "
                    f"{self.worst:.2g}")
        else:
            what = f"values {self.agree}/{self.n} within tolerance, max relative diff {self.worst:.2g}"
        return (f"{self.target}: {what}; predict_many {self.batch_agree}/{self.n}; "
                f"{self.predict_time:.1f} {self.unit} per predict(); model {self.model_bytes} "
                f"bytes; predict allocates {self.predict_alloc} bytes")


def reference_input(X):
    """What the estimator sees for the device's input: the float32 (or int16) values."""
    X = np.asarray(X)
    return X if X.dtype == np.int16 else X.astype(np.float32)


def expected_bytes(estimator, X):
    """Per sample: the class index (int32) and the probabilities (float32), or the value
    (float32). The device compares model.classes.index(label) with the index."""
    Xr = reference_input(X)
    y = estimator.predict(Xr)
    if hasattr(estimator, "predict_proba"):
        y = np.searchsorted(np.asarray(estimator.classes_), y)
        proba = estimator.predict_proba(Xr).astype("<f4")
        labels = np.asarray(y).astype("<i4").reshape(-1, 1).view("<f4")
        return np.hstack([labels, proba]).tobytes()
    return np.asarray(y, dtype="<f4").tobytes()


def estimator_methods(model):
    """(method, width) the device compares besides predict, in ml_method_t order."""
    from .estimators import METHODS

    return [(name, model.widths[name]) for name in METHODS[1:] if name in model.widths]


def expected_estimator_bytes(estimator, model, X):
    """Per sample: predict (int32 label/cluster/sign, or float32 value), then each method's
    values (float32), for a model of the binary-file families."""
    Xr = X if np.asarray(X).dtype == np.float64 else reference_input(X)
    try:
        y = np.asarray(estimator.predict(Xr))
    except ValueError:
        # scikit-learn 1.9's KMeans fitted on float64 refuses float32 input (a dtype mismatch
        # in its Cython helper): compare with the same values in float64, as the device does.
        Xr = np.asarray(X, dtype=np.float64)
        y = np.asarray(estimator.predict(Xr))
    if model.is_classifier and model.labels is None:
        y = np.searchsorted(np.asarray(_final(estimator).classes_), y)
    cols = [y.astype("<i4").reshape(-1, 1).view("<f4") if model.int_predict
            else y.astype("<f4").reshape(-1, 1)]
    for name, w in estimator_methods(model):
        v = np.asarray(getattr(estimator, name)(Xr), dtype=np.float64).reshape(len(Xr), -1)
        if v.shape[1] != w:
            raise ValueError(f"{name}: scikit-learn gives {v.shape[1]} values, the model {w}")
        cols.append(v.astype("<f4"))
    return np.hstack(cols).tobytes()


def _final(estimator):
    return estimator.steps[-1][1] if type(estimator).__name__ == "Pipeline" else estimator


def run(model, X, expected, target, session=None, batch=32, repeat=20, tol=1e-5, text=None,
        setup="", files=None, format="bin"):
    """Runs `model` on every row of X on `target`, comparing with `expected` (expected_bytes);
    a tree model in its binary form (format 'bin', what a board is given) or its text form
    ('csv'). Binary-file families: `setup`, code run after the model is loaded as `m` (tests
    that learn on the device replace or change it), and `files`, more files it reads."""
    X = np.asarray(X)
    dtype = np.int16 if X.dtype == np.int16 else np.float32
    X = np.ascontiguousarray(X, dtype=dtype)
    tc, size = ("h", 2) if dtype == np.int16 else ("f", 4)
    # A batch buffer of at most 4 kB: a board's heap (tens of kB, shared with the model and
    # fragmented by earlier tests in the session) may have no larger free block.
    batch = max(1, min(batch, 4096 // (size * max(1, X.shape[-1]))))
    target = targets.get(target) if isinstance(target, str) else target
    if hasattr(model, "to_bytes"):
        script = _EST_SCRIPT.format(tc=tc, size=size, batch=batch, repeat=repeat, tol=tol,
                                    module=model.module, int_predict=model.int_predict,
                                    methods=estimator_methods(model), setup=setup,
                                    first_batch=_FIRST_BATCH, timed=_TIMED)
        files = {"model.mlb": model.to_bytes(), "X.bin": X.tobytes(), "E.bin": expected,
                 **(files or {})}
    else:
        name = "model.bin" if format == "bin" else "model.csv"
        script = _SCRIPT.format(tc=tc, size=size, batch=batch, repeat=repeat, tol=tol,
                                model=name, first_batch=_FIRST_BATCH, timed=_TIMED)
        data = model.to_bin() if format == "bin" else (text or model.to_text()).encode()
        files = {name: data, "X.bin": X.tobytes(), "E.bin": expected}
    res = run_script(target, files, script, session)
    if not res.ok:
        raise targets.TargetError(f"{target.name}: the device script failed:\n{res.output}")
    rep = parse(res.output, target.name, model.is_classifier)
    rep.scores_compared = hasattr(model, "to_bytes")
    return rep


def verify(estimator, model, X, target, **kw):
    if hasattr(model, "to_bytes"):
        return run(model, X, expected_estimator_bytes(estimator, model, X), target, **kw)
    return run(model, X, expected_bytes(estimator, X), target, **kw)


def parse(output, target_name, is_classifier):
    r = Report(target_name, is_classifier=is_classifier, output=output)
    for line in output.splitlines():
        p = line.split()
        if not p:
            continue
        if p[0] == "mismatch":
            r.mismatches.append(tuple(p[1:]))
        elif p[0] == "agree":
            r.agree, r.n, r.worst = int(p[1]), int(p[2]), float(p[3])
        elif p[0] == "batch":
            r.batch_agree = int(p[1]) if int(p[2]) >= 0 else r.n
        elif p[0] == "mem":
            r.load_bytes, r.model_bytes = int(p[1]), int(p[2])
            r.in_place = p[3:4] == ["1"]
        elif p[0] == "alloc":
            r.predict_alloc = int(p[1])
        elif p[0] == "time":
            r.predict_time, r.many_time, r.unit = float(p[1]), float(p[2]), p[3]
    return r
