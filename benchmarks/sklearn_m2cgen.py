"""The scikit-learn families against m2cgen's generated Python (benchmarks.sklearn).

m2cgen.export_to_python turns an estimator into one `score(input)` function of plain Python
arithmetic; a user copies the module (compiled by mpy-cross) to the board. Of a pipeline it
exports the final estimator only, so its input here is scaled on the host (the board would
have to scale it too: the m2cgen figures leave that cost out). Its output is turned into a
label as the estimator's `predict` does: the index of the largest score, or for an SVC
(whose output is the one-vs-one decision values) libsvm's vote.

Per exported model and target: the time of one `score` call (instructions under qemu -icount
on the boards, under callgrind on the x64 unix port), the heap growth of importing the module
(the model is its code), the bytes of the .py and the .mpy, and the labels equal to
scikit-learn's. microlearn's `predict` of the same model is measured the same way under
callgrind (the boards' figures are benchmarks.sklearn's).
"""

import tempfile
from pathlib import Path

import numpy as np

from microlearn import targets

from . import common, trees_gen

# Runs on every target: import (heap growth), labels, and the cost of score() per sample (each
# call timed alone, so that the Cortex-M0's 24-bit timer never wraps), minus an empty call.
DEVICE = r"""
import gc, array, mlclock
NF, N, KIND = {nf}, {n}, {kind!r}
gc.collect()
a0 = gc.mem_alloc()
import m2c_model
gc.collect()
print("ram", gc.mem_alloc() - a0)
X = array.array("f", bytes(4 * NF * N))
with open("X.bin", "rb") as f:
    f.readinto(X)
xs = [X[i * NF:(i + 1) * NF] for i in range(N)]
def label(s):
    if KIND == "ovo":  # libsvm's vote over the class pairs; ties to the lower class
        k = 0
        while k * (k - 1) // 2 < len(s):
            k += 1
        votes = [0] * k
        p = 0
        for i in range(k):
            for j in range(i + 1, k):
                votes[i if s[p] > 0 else j] += 1
                p += 1
        s = votes
    if not isinstance(s, list):
        return 1 if s > 0 else 0
    b = 0
    for i in range(len(s)):
        if s[i] > s[b]:
            b = i
    return b
print("labels", " ".join(str(label(m2c_model.score(x))) for x in xs))
def empty(x):
    return x
def cost(f):
    total = 0
    for x in xs:
        t0 = mlclock.ticks()
        f(x)
        total += mlclock.diff(mlclock.ticks(), t0)
    return total
score = m2c_model.score
c = min(cost(score) for _ in range(3))
e = min(cost(empty) for _ in range(3))
print("cost", mlclock.to_unit(c - e) / N, mlclock.UNIT)
"""

# callgrind on the unix port: K rounds over the samples, minus the same calling an empty
# function (as on the boards).
CALLGRIND = r"""
import array
NF, N, K = {nf}, {n}, {k}
X = array.array("f", bytes(4 * NF * N))
with open("X.bin", "rb") as f:
    f.readinto(X)
xs = [X[i * NF:(i + 1) * NF] for i in range(N)]
{setup}
def empty(x):
    return x
def run(k):
    for _ in range(k):
        for x in xs:
            {call}
run(K)
"""


EXPORT_SECONDS = 120  # m2cgen builds an expression tree per term: large SVMs take very long


def _export(final, queue):
    import m2cgen

    try:
        queue.put(("ok", m2cgen.export_to_python(final)))
    except Exception as e:
        queue.put(("error", f"{type(e).__name__}: {str(e).splitlines()[0]}"))


def exportable(est):
    """((code, input transform or None, label kind), "") or (None, reason)."""
    import multiprocessing

    try:
        import m2cgen  # noqa: F401
    except ImportError:
        return None, "m2cgen is not installed (requirements-bench.txt)"
    final = est.steps[-1][1] if hasattr(est, "steps") else est
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    proc = ctx.Process(target=_export, args=(final, queue))
    proc.start()
    try:
        status, code = queue.get(timeout=EXPORT_SECONDS)
    except Exception:
        proc.kill()
        status, code = "error", f"export_to_python did not finish in {EXPORT_SECONDS} s"
    proc.join()
    if status != "ok":
        return None, f"m2cgen {trees_gen.m2cgen_version()}: {code}"
    kind = "ovo" if type(final).__name__ in ("SVC", "NuSVC") else "argmax"
    pre = est[:-1] if hasattr(est, "steps") else None
    return (code, pre, kind), ""


def expected_labels(est, X):
    y = est.predict(X)
    classes = est.steps[-1][1].classes_ if hasattr(est, "steps") else est.classes_
    return np.searchsorted(classes, y)


def measure_device(code, X, kind, target, workdir):
    """Runs the generated module (compiled by mpy-cross) on a target: dict of ram, labels,
    cost, unit."""
    src = Path(workdir) / "m2c_model.py"
    src.write_text(code)
    mpy = Path(workdir) / "m2c_model.mpy"
    trees_gen.mpy_cross(src, mpy)
    files = {"m2c_model.mpy": mpy.read_bytes(),
             "X.bin": np.ascontiguousarray(X, dtype="<f4").tobytes()}
    t = targets.get(target)
    with t.session(files) as s:
        res = s.exec(DEVICE.format(nf=X.shape[1], n=len(X), kind=kind))
    if not res.ok:
        return {"error": res.output.strip().splitlines()[-1] if res.output.strip() else "?"}
    out = {"py": src.stat().st_size, "mpy": mpy.stat().st_size}
    for line in res.output.splitlines():
        p = line.split()
        if p and p[0] == "ram":
            out["ram"] = int(p[1])
        elif p and p[0] == "labels":
            out["labels"] = np.array(p[1:], dtype=int)
        elif p and p[0] == "cost":
            out["cost"], out["unit"] = float(p[1]), p[2]
    return out


def callgrind_per_call(setup, call, X, workdir, files=None, k=20):
    """Instructions of one call on the x64 unix port under callgrind."""
    Path(workdir, "X.bin").write_bytes(np.ascontiguousarray(X, dtype="<f4").tobytes())
    for name, data in (files or {}).items():
        Path(workdir, name).write_bytes(data)
    counts = []
    for c in (call, "empty(x)"):
        script = CALLGRIND.format(nf=X.shape[1], n=len(X), k=k, setup=setup, call=c)
        counts.append(common.callgrind_count(script, workdir, path=common.micropypath(
            [workdir])))
    return (counts[0] - counts[1]) / (k * len(X))


def compare(cases, target_names, samples, log=print):
    """Rows of the m2cgen comparison: one per case m2cgen exports, with microlearn's callgrind
    figure beside it; and (case, reason) for those it does not."""
    import microlearn

    rows, refused = [], []
    for ds, label, est, Xte in cases:
        X = Xte[:samples].astype(np.float32)
        got, reason = exportable(est)
        model = microlearn.convert(est)
        with tempfile.TemporaryDirectory() as d:
            ml = None
            if common.callgrind_available():
                ml = callgrind_per_call(
                    f"from microlearn import {model.module}\nm = {model.module}.load("
                    f"'model.mlb')", "m.predict(x)", X, d, {"model.mlb": model.to_bytes()})
            if got is None:
                refused.append((ds, label, reason, ml))
                log(f"m2cgen {ds} {label}: {reason}")
                continue
            code, pre, kind = got
            Xin = pre.transform(X).astype(np.float32) if pre is not None else X
            want = expected_labels(est, X)
            row = {"data": ds, "model": label, "microlearn_callgrind": ml, "targets": {}}
            for name in target_names:
                r = measure_device(code, Xin, kind, name, d)
                if "labels" in r:
                    r["agree"] = int(np.sum(r["labels"] == want))
                row["targets"][name] = r
                row["py"], row["mpy"] = r.get("py"), r.get("mpy")
                log(f"m2cgen {ds} {label} {name}: {r.get('cost', r.get('error'))}")
            row["n"] = len(X)
            if common.callgrind_available():
                Path(d, "m2c_model.mpy").exists() or trees_gen.mpy_cross(
                    Path(d, "m2c_model.py"), Path(d, "m2c_model.mpy"))
                try:
                    row["m2cgen_callgrind"] = callgrind_per_call(
                        "import m2c_model\nscore = m2c_model.score", "score(x)", Xin, d)
                except RuntimeError as e:
                    # a generated module too large for the unix port's heap (the boards import
                    # it in place from their ROMFS image): said in the table, not a crash
                    if "MemoryError" not in str(e):
                        raise
                    row["m2cgen_callgrind_error"] = "does not fit the unix port's heap (" + next(
                        line for line in str(e).splitlines() if "MemoryError" in line) + ")"
                    log(f"m2cgen {ds} {label} x64: {row['m2cgen_callgrind_error']}")
            rows.append(row)
    return rows, refused
