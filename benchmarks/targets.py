"""One figure per target: the same two workloads on every architecture microlearn runs on here.

- digits forest: RandomForestClassifier(10 trees, max_leaf_nodes=100) on scikit-learn's digits,
  its binary model file, one `predict` of a float32 sample (mean over the 450 test samples, by
  microlearn.verify, which also checks every label against scikit-learn's);
- gesture window: the gesture application (device/mlhar.py) on the gesture recordings, one
  window of 128 frames: read, decode, features (36), 100 trees (median over all windows).

On the unix port (x64, x86) in microseconds of this machine; on the emulated boards in
instructions (qemu -icount shift=0, read by device/mlclock.py), repeatable. Plus the size of
every native module per architecture (build/natmod) and the heap `import microlearn.trees` takes.

    .venv/bin/python -m benchmarks.targets              # writes docs/targets.md and .csv
    .venv/bin/python -m benchmarks.targets --targets unix,riscv32 --out /tmp/t
"""

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from microlearn import convert, dist, har, paths, targets, verify

ALL = ("unix", "x86", "cortex-m0", "cortex-m3", "cortex-m4f", "cortex-m7", "riscv32")
BUILD_ONLY = ("xtensa",)  # no emulator here
# every native module, in the Makefile's order
MODULES = ("trees", "dsp", "nn", "linear_model", "neighbors", "naive_bayes", "cluster", "mixture",
           "svm", "ensemble", "covariance")


def log(text):
    print(f"targets benchmark: {text}", file=sys.stderr, flush=True)


def digits_forest():
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.25, random_state=0)
    est = RandomForestClassifier(n_estimators=10, max_leaf_nodes=100, random_state=0)
    return est.fit(Xtr, ytr), Xte.astype(np.float32)


_IMPORT_HEAP = """
import gc
gc.collect()
a = gc.mem_alloc()
import microlearn.trees
gc.collect()
print("HEAP", gc.mem_alloc() - a)
"""


def run(names, out):
    rows = []
    est, X = digits_forest()
    model = convert(est)
    work = Path(tempfile.mkdtemp(prefix="bench-targets-"))
    log("training the gesture model")
    har.train(paths.gestures(), work, log=lambda s: None)
    for name in names:
        t = targets.get(name)
        t0 = time.monotonic()
        rep = verify.verify(est, model, X, t)
        rows.append((name, "digits_predict", rep.predict_time, rep.unit,
                     f"{rep.agree}/{rep.n} labels as scikit-learn"))
        r = har.run_device(work, paths.gestures(), t, log=lambda s: None)
        rows.append((name, "gesture_window", statistics.median(r.latency), r.unit,
                     f"{r.agree}/{r.windows} windows as the host pipeline"))
        with t.session() as s:
            heap = int(s.exec(_IMPORT_HEAP).output.split("HEAP")[1])
        rows.append((name, "import_trees_heap", heap, "B", ""))
        log(f"{name}: {time.monotonic() - t0:.0f} s")
    for arch in sorted({targets.get(n).arch for n in names} | set(BUILD_ONLY)):
        for m in MODULES:
            p = paths.natmod() / arch / "microlearn" / f"{m}.mpy"
            if p.exists():
                rows.append((arch, f"{m}_mpy", p.stat().st_size, "B",
                             f"ABI {dist.mpy_abi(p)}"))
    return rows


def write(rows, out, command, elapsed):
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "targets.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["target", "metric", "value", "unit", "note"])
        w.writerows(rows)
    get = {(r[0], r[1]): r for r in rows}
    lines = [
        "# One figure per target",
        "",
        f"`{command}` ({paths.micropython_version()}, {elapsed:.0f} s). Unix port targets in "
        "microseconds on the machine that ran it; emulated boards in instructions under "
        "`qemu -icount shift=0` (repeatable; a lower bound on cycles). The code is "
        "`benchmarks/targets.py`.",
        "",
        "| target | arch | digits forest `predict` (binary model) | gesture window | heap of "
        "`import microlearn.trees` | `trees.mpy` | `dsp.mpy` |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]

    def fig(key):
        r = get.get(key)
        if r is None:
            return "–"
        v, unit = r[2], r[3]
        return f"{v:,.1f} µs" if unit == "us" else f"{v:,.0f} instr"

    def size(arch, m):
        r = get.get((arch, f"{m}_mpy"))
        return f"{r[2] / 1024:.1f} kB" if r else "–"

    archs = []
    for name in ALL:
        if (name, "digits_predict") not in get:
            continue
        arch = targets.get(name).arch
        archs.append(arch)
        heap = get[(name, "import_trees_heap")][2]
        lines.append(f"| {name} | {arch} | {fig((name, 'digits_predict'))} | "
                     f"{fig((name, 'gesture_window'))} | {heap / 1024:.1f} kB | "
                     f"{size(arch, 'trees')} | {size(arch, 'dsp')} |")
    for arch in BUILD_ONLY:
        lines.append(f"| (build only) | {arch} | – | – | – | {size(arch, 'trees')} | "
                     f"{size(arch, 'dsp')} |")
    # every module's .mpy, one column per architecture
    all_archs = archs + list(BUILD_ONLY)
    lines += ["", "Every native module's `.mpy` (build/natmod/<arch>/microlearn), kB = 1024 bytes. "
              "A native module's machine code is copied into the heap when it is imported "
              "(about its size, as the heap column above shows for trees); built into the "
              "firmware it stays in flash. Each keeps only the code its functions reach (the link drops "
              "the rest, bindings/micropython/natmod_link.sh), except on xtensa, which has no "
              "emulator here to run a module linked differently from MicroPython's own build.",
              "",
              "| module | " + " | ".join(all_archs) + " |",
              "| --- |" + " ---: |" * len(all_archs)]
    for m in MODULES:
        lines.append(f"| `{m}` | " + " | ".join(size(a, m) for a in all_archs) + " |")
    lines += ["", "Checks made on the way (every label compared):", ""]
    lines += [f"- {r[0]}, {r[1]}: {r[4]}" for r in rows if r[4] and r[1] in
              ("digits_predict", "gesture_window")]
    (out / "targets.md").write_text("\n".join(lines) + "\n")


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.targets", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--targets", default=",".join(ALL))
    p.add_argument("--out", default=None, help="folder for targets.md/.csv (default docs/)")
    a = p.parse_args(argv)
    t0 = time.monotonic()
    names = [n for n in a.targets.split(",") if n]
    rows = run(names, a.out)
    out = Path(a.out) if a.out else paths.root() / "docs"
    command = "python -m benchmarks.targets" + (
        f" --targets {a.targets}" if a.targets != ",".join(ALL) else "")
    write(rows, out, command, time.monotonic() - t0)
    log(f"wrote {out / 'targets.md'}")


if __name__ == "__main__":
    main()
