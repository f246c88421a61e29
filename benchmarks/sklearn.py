"""Cost of the scikit-learn family modules: per representative model, the time of one
predict() and of the model's richest method on each target (us on the unix port, instructions
under qemu -icount on the boards), the model's RAM, its file, and the .mpy sizes.

    .venv/bin/python -m benchmarks.sklearn [--targets unix,cortex-m3,cortex-m0] [--out docs/sklearn-benchmarks.md]

and against m2cgen's generated Python where m2cgen exports the estimator
(benchmarks/sklearn_m2cgen.py): cost per call under callgrind and on the boards, RAM, code
size, labels equal to scikit-learn's.
"""

import argparse
import warnings
from pathlib import Path

import numpy as np
from sklearn import (cluster, covariance, datasets, ensemble, linear_model, mixture,
                     naive_bayes, neighbors, pipeline, preprocessing, svm)
from sklearn.model_selection import train_test_split

import microlearn
from microlearn import paths, targets, verify

from . import sklearn_m2cgen

ROOT = Path(__file__).resolve().parent.parent


def models():
    def split(name):
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        return train_test_split(X, y, test_size=0.25, random_state=0)

    sc = preprocessing.StandardScaler
    Xtr, Xte, ytr, _ = split("iris")
    yield "iris", "LogisticRegression", pipeline.make_pipeline(
        sc(), linear_model.LogisticRegression()).fit(Xtr, ytr), Xte
    yield "iris", "SVC rbf (probability)", pipeline.make_pipeline(
        sc(), svm.SVC(probability=True, random_state=0)).fit(Xtr, ytr), Xte
    yield "iris", "KNeighborsClassifier", neighbors.KNeighborsClassifier(
        algorithm="brute").fit(Xtr.astype(np.float32), ytr), Xte
    yield "iris", "GaussianNB", naive_bayes.GaussianNB().fit(Xtr, ytr), Xte
    yield "iris", "GaussianMixture full", mixture.GaussianMixture(
        3, random_state=0).fit(Xtr), Xte
    yield "iris", "KMeans", cluster.KMeans(3, n_init=1, random_state=0).fit(Xtr), Xte
    yield "iris", "IsolationForest (100 trees)", ensemble.IsolationForest(
        random_state=0).fit(Xtr), Xte
    yield "iris", "EllipticEnvelope", covariance.EllipticEnvelope(random_state=0).fit(Xtr), Xte
    Xtr, Xte, ytr, _ = split("digits")
    yield "digits", "LogisticRegression", linear_model.LogisticRegression(
        max_iter=3000).fit(Xtr, ytr), Xte
    yield "digits", "SVC rbf", pipeline.make_pipeline(sc(), svm.SVC()).fit(Xtr, ytr), Xte


def mpy_sizes():
    out = {}
    for arch in ("x64", "armv7m", "armv6m"):
        d = paths.natmod() / arch / "microlearn"
        out[arch] = {p.stem: p.stat().st_size for p in sorted(d.glob("*.mpy"))}
    return out


def m2cgen_table(m2c_rows, refused, rows, boards):
    """The comparison with m2cgen's generated Python (benchmarks.sklearn_m2cgen)."""
    from . import trees_gen

    def cost(v, unit):
        return "–" if v is None else f"{v:,.0f} {unit}"

    out = ["", f"## Against m2cgen's generated Python (m2cgen {trees_gen.m2cgen_version()})", "",
           "The same fitted models exported by `m2cgen.export_to_python` (one `score(input)` "
           "function), compiled by mpy-cross, on the same test samples. Of a pipeline m2cgen "
           "exports the final estimator only: its input is scaled on the host, so its figures "
           "leave out the scaling microlearn's include. Cost of one call: instructions under "
           "callgrind on the x64 unix port and under qemu -icount on the boards (a call's "
           "overhead, an empty function's, subtracted). RAM: heap growth of `load` for "
           "microlearn (the module's own code, once per program, is in the `.mpy` table below), "
           "of importing the generated module for m2cgen (its code is the model). Code: the "
           "model file for microlearn; the `.py` and the `.mpy` for m2cgen.", "",
           "| data | model | implementation | x64 callgrind | " + " | ".join(boards)
           + " | RAM (bytes) | code (bytes) | labels equal to scikit-learn |",
           "| --- | --- | --- | ---: | " + " | ".join("---:" for _ in boards)
           + " | ---: | ---: | ---: |"]
    for r in m2c_rows:
        key = (r["data"], r["model"])
        mine = rows[key]
        m = mine["model"]
        reps = [mine[b] for b in boards]
        out.append(f"| {r['data']} | {r['model']} | microlearn `predict` | "
                   f"{cost(r['microlearn_callgrind'], 'instr')} | "
                   + " | ".join(cost(p.predict_time, p.unit) for p in reps)
                   + f" | {max(p.load_bytes for p in reps):,} | {len(m.to_bytes()):,} | "
                   + ", ".join(sorted({f'{p.agree}/{p.n}' for p in reps})) + " |")
        t = r["targets"]
        agree = sorted({f"{t[b]['agree']}/{r['n']}" if "agree" in t[b] else t[b].get("error")
                        for b in boards})
        rams = [t[b]["ram"] for b in boards if "ram" in t[b]]
        costs = [cost(t[b]["cost"], t[b]["unit"]) if "cost" in t[b] else t[b].get("error", "?")
                 for b in boards]
        x64 = r.get("m2cgen_callgrind_error") or cost(r.get("m2cgen_callgrind"), "instr")
        out.append(f"| | | m2cgen `score` | {x64} | "
                   + " | ".join(costs) + f" | {max(rams) if rams else 0:,} | "
                   f"{r['py']:,} .py, {r['mpy']:,} .mpy | " + ", ".join(agree) + " |")
    if refused:
        out += ["", "m2cgen does not export the others (its error, with microlearn's cost per "
                "`predict` under callgrind beside it):", "",
                "| data | model | m2cgen | microlearn, x64 callgrind |", "| --- | --- | --- | ---: |"]
        for ds, label, reason, ml in refused:
            out.append(f"| {ds} | {label} | {reason} | {cost(ml, 'instr')} |")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", default="unix,cortex-m3,cortex-m0")
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--out", default=str(ROOT / "docs" / "sklearn-benchmarks.md"))
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    cases = list(models())
    rows = {}
    for name in args.targets.split(","):
        target = targets.get(name)
        for ds, label, est, Xte in cases:
            # One session per model: a native module's code stays in the heap once imported.
            with target.session() as s:
                model = microlearn.convert(est)
                X = Xte[:args.samples].astype(np.float32)
                rep = verify.verify(est, model, X, target, session=s, repeat=5)
                assert rep.ok(), rep.summary()
                rows.setdefault((ds, label), {"model": model})[name] = rep
                print(name, ds, label, f"{rep.predict_time:.1f} {rep.unit}", flush=True)
    lines = ["# scikit-learn families: cost per prediction, RAM, flash", "",
             f"Measured with `python -m benchmarks.sklearn --targets {args.targets}` (part of "
             "`make bench`) "
             f"(first {args.samples} test samples, float32 input; every sample agreed with "
             "scikit-learn). Time of one `predict(x)` call from MicroPython: microseconds on "
             "the unix port (x64), instructions on the boards (qemu -icount).", "",
             "| data | model | module | file bytes | RAM from file / in place | "
             + " | ".join(args.targets.split(",")) + " |",
             "| --- | --- | --- | ---: | ---: | " + " | ".join("---:" for _ in
                                                              args.targets.split(",")) + " |"]
    for (ds, label), r in rows.items():
        m = r["model"]
        cells = [f"{r[t].predict_time:,.0f} {r[t].unit}" if r[t].unit != "us" else
                 f"{r[t].predict_time:.1f} us" for t in args.targets.split(",")]
        lines.append(f"| {ds} | {label} | `{m.module}` | {len(m.to_bytes()):,} | "
                     f"{m.memory_size():,} / {m.work_size():,} | " + " | ".join(cells) + " |")
    boards = [t for t in args.targets.split(",") if t != "unix"]
    m2c_rows, refused = sklearn_m2cgen.compare(cases, boards, args.samples)
    lines += m2cgen_table(m2c_rows, refused, rows, boards)
    sizes = mpy_sizes()
    mods = [k for k in sizes["x64"] if k not in ("trees", "dsp")]
    lines += ["", "`.mpy` sizes (bytes):", "", "| module | " + " | ".join(sizes) + " |",
              "| --- | " + " | ".join("---:" for _ in sizes) + " |"]
    for mod in mods:
        lines.append(f"| `{mod}` | " + " | ".join(f"{sizes[a].get(mod, 0):,}" for a in sizes)
                     + " |")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
