"""The recurrent layers of microlearn.nn: cost per step of a GRU of 40 inputs and 32 units (an
audio front end's 40 log-mel energies a frame), float32 and q15, on the emulated boards
(instructions, qemu -icount) and the unix port (callgrind); and the accuracy q15 costs against
float32 on a real sequence task, the gesture recordings of data/gestures.

    .venv/bin/python -m benchmarks.rnn                       # both
    .venv/bin/python -m benchmarks.rnn --no-accuracy --targets cortex-m3
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from microlearn import paths, targets

from . import common

STEP = r"""
import array, gc, mlclock
from microlearn import nn
def steps(m, f, s, k):
    for _ in range(k):
        m.step(f, s)
def empty(m, f, s, k):
    for _ in range(k):
        pass
for name in NAMES:
    m = nn.load(name + '.nn')
    f = array.array('f', [0.1 * ((i * 7) % 11 - 5) for i in range(m.frame_length)])
    s = array.array('f', bytes(4 * m.step_length))
    m.step(f, s)
    gc.collect()
    a0 = gc.mem_alloc()
    steps(m, f, s, K)
    alloc = gc.mem_alloc() - a0  # apart from the clock (its reads can make big ints)
    t0 = mlclock.ticks()
    steps(m, f, s, K)
    t1 = mlclock.ticks()
    empty(m, f, s, K)
    t2 = mlclock.ticks()
    d = mlclock.diff(t1, t0) - mlclock.diff(t2, t1)
    print('R', name, mlclock.to_unit(d) / K, mlclock.UNIT, m.state, m.arena, alloc)
"""

CALLGRIND = r"""
import array
from microlearn import nn
m = nn.load({name!r} + '.nn')
f = array.array('f', [0.1 * ((i * 7) % 11 - 5) for i in range(m.frame_length)])
s = array.array('f', bytes(4 * m.step_length))
m.step(f, s)
for _ in range({k}):
    m.step(f, s)
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def step_models():
    """GRU and LSTM of 40 inputs, 32 units (fixed random weights), float32 and q15."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from microlearn.nn import rnn

    rng = np.random.default_rng(0)
    out = {}
    for kind in ("GRU", "LSTM"):
        # a streaming model: the input of one frame (None), the arena of a frame and the state
        model = keras.Sequential([keras.Input((None, 40)), getattr(keras.layers, kind)(32)])
        for layer in model.layers:
            layer.set_weights([rng.normal(0, 0.3, w.shape).astype(np.float32)
                               for w in layer.get_weights()])
        calib = rng.normal(0, 1, (20, 49, 40)).astype(np.float32)
        out[f"{kind.lower()}40x32_f32"] = rnn.convert_keras(model)
        out[f"{kind.lower()}40x32_q15"] = rnn.convert_keras(model, "q15", calib)
    return out


def measure_steps(models, target_names, callgrind=True):
    files = {f"{n}.nn": m.to_bytes() for n, m in models.items()}
    rows = []
    for tname in target_names:
        t = targets.get(tname)
        log(f"steps on {tname}")
        # one boot per model on the boards: all four files overflow the Cortex-M0's files region
        batches = [[n] for n in models] if t.is_qemu else [list(models)]
        out = ""
        for batch in batches:
            script = f"NAMES = {batch!r}\nK = {4 if t.is_qemu else 2000}\n" + STEP
            mine = {f"{n}.nn": files[f"{n}.nn"] for n in batch}
            with t.session(mine, timeout=900) as s:
                out += s.exec(script).output + "\n"
        for line in out.splitlines():
            if line.startswith("R "):
                _, name, per, unit, state, arena, alloc = line.split()
                rows.append((tname, name, float(per), unit, int(state), int(arena), int(alloc)))
    if callgrind and common.callgrind_available():
        for name in models:
            with tempfile.TemporaryDirectory(prefix="microlearn-bench-rnn-") as tmp:
                (Path(tmp) / f"{name}.nn").write_bytes(files[f"{name}.nn"])
                log(f"callgrind {name}")
                k = 20
                a = common.callgrind_count(CALLGRIND.format(name=name, k=k), tmp)
                z = common.callgrind_count(CALLGRIND.format(name=name, k=0), tmp)
            rows.append(("x64-callgrind", name, (a - z) / k, "Ir", 0, 0, 0))
    return rows


# ---------------------------------------------------------------------------------------------
# Accuracy on the gesture recordings


def gesture_windows(length=100, hop=20):
    """(windows (N, length, 3) in g, labels, recording index) of every recording."""
    files = sorted((paths.root() / "data" / "gestures").glob("*.npy"))
    names = sorted({f.stem.rsplit("_", 1)[1] for f in files})
    X, y, g = [], [], []
    for i, f in enumerate(files):
        try:
            a = np.load(f).astype(np.float32) / 16384.0
        except ValueError:  # the 5 truncated recordings (data/gestures/README.md)
            continue
        label = names.index(f.stem.rsplit("_", 1)[1])
        for s in range(0, len(a) - length + 1, hop):
            X.append(a[s:s + length])
            y.append(label)
            g.append(i)
    return np.array(X), np.array(y), np.array(g), names


UNITS = 24


def accuracy(cells=("GRU", "LSTM")):
    """Train on two thirds of each class's recordings, test on the rest: Keras's accuracy, the
    converted float32 and q15 models' (the numpy reference, bit-exact with the boards for
    q15), and how often q15 and float32 agree."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    import microlearn

    X, y, g, names = gesture_windows()
    test = np.zeros(len(y), bool)
    for c in range(len(names)):
        recs = sorted(set(g[y == c]))
        test |= np.isin(g, recs[::3])
    # standardized per axis with the training windows' statistics
    mean, std = X[~test].mean(axis=(0, 1)), X[~test].std(axis=(0, 1))
    X = ((X - mean) / std).astype(np.float32)
    rows = []
    for cell in cells:
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input(X.shape[1:]), getattr(keras.layers, cell)(UNITS),
                                  keras.layers.Dense(len(names), activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(X[~test], y[~test], epochs=60, batch_size=16, verbose=0)
        pk = model.predict(X[test], verbose=0)
        f = microlearn.convert(model)
        q = microlearn.convert(model, quantize="q15", representative_data=X[~test])
        pf = np.array([f.run(x) for x in X[test]])
        pq = np.array([q.run(x) for x in X[test]])
        yt = y[test]
        rows.append(dict(cell=cell, n_test=int(test.sum()), n_train=int((~test).sum()),
                         keras=float(np.mean(pk.argmax(1) == yt)),
                         float32=float(np.mean(pf.argmax(1) == yt)),
                         q15=float(np.mean(pq.argmax(1) == yt)),
                         agree=float(np.mean(pq.argmax(1) == pf.argmax(1))),
                         float_err=float(np.abs(pf - pk).max()),
                         q15_err=float(np.abs(pq - pf).max()),
                         size_f=len(f.to_bytes()), size_q=len(q.to_bytes())))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", default="cortex-m3,cortex-m0")
    ap.add_argument("--no-accuracy", action="store_true")
    ap.add_argument("--no-steps", action="store_true")
    ap.add_argument("--no-callgrind", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.time()
    if not args.no_steps:
        rows = measure_steps(step_models(), args.targets.split(","), not args.no_callgrind)
        print("| model | target | per step | unit | state (B) | arena (B) | allocated |")
        print("| --- | --- | ---: | --- | ---: | ---: | ---: |")
        for tname, name, per, unit, state, arena, alloc in rows:
            print(f"| {name} | {tname} | {per:,.0f} | {unit} | {state} | {arena} | {alloc} |")
    if not args.no_accuracy:
        print("\n| cell | train / test windows | Keras | float32 | q15 | q15 = float32 labels | "
              "max abs prob. float32 vs Keras | q15 vs float32 | file f32 / q15 (B) |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for r in accuracy():
            print(f"| {r['cell']}({UNITS}) | {r['n_train']} / {r['n_test']} | {r['keras']:.3f} | "
                  f"{r['float32']:.3f} | {r['q15']:.3f} | {r['agree']:.3f} | "
                  f"{r['float_err']:.1e} | {r['q15_err']:.4f} | {r['size_f']} / {r['size_q']} |")
    log(f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
