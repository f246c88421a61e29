"""Writes the seed corpus of the tree-loader fuzzer (tests/fuzz/corpus/trees/).

Run once by hand when the model format changes (the output is committed):

    .venv/bin/python tests/fuzz/make_seeds.py

Seeds are small on purpose (well under 1 kB each): libFuzzer mutates them, so a seed only has to
reach each kind of record and each header combination once. They are: models from
the converter (every aggregate/link/flag combination it writes), hand-written emlearn tree CSVs,
and a few broken files that stop at different places of the loader.
"""

from pathlib import Path

import numpy as np
from sklearn import ensemble, tree

import microlearn
from microlearn import trees_bin

OUT = Path(__file__).resolve().parent / "corpus" / "trees"
OUT_BIN = Path(__file__).resolve().parent / "corpus" / "trees_bin"
MAX_SEED = 6000  # bytes; the fuzzer runs with -max_len=8192


def data(n_classes, seed=0, nan=False, labels=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 3)).astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) if n_classes == 2 else \
        np.digitize(X[:, 0], np.linspace(-1, 1, n_classes - 1))
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    if labels is not None:
        y = np.asarray(labels)[y]
    return X, y


def regression(seed=0, nan=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 2)).astype(np.float32)
    y = X[:, 0] * 3.0 - X[:, 1]
    if nan:
        X[rng.random(X.shape) < 0.1] = np.nan
    return X, y


def converted():
    rs = dict(random_state=0)
    yield "dt_classifier", tree.DecisionTreeClassifier(max_depth=3, **rs), data(3)
    yield "dt_labels", tree.DecisionTreeClassifier(max_depth=2, **rs), data(3, labels=[-7, 10, 300])
    yield "dt_regressor", tree.DecisionTreeRegressor(max_depth=3, **rs), regression()
    yield "rf_classifier", ensemble.RandomForestClassifier(3, max_depth=2, **rs), data(2)
    yield "et_regressor", ensemble.ExtraTreesRegressor(2, max_depth=2, **rs), regression(1)
    yield "gb_binary", ensemble.GradientBoostingClassifier(n_estimators=3, max_depth=2, **rs), \
        data(2, labels=[3, 5])
    yield "gb_softmax", ensemble.GradientBoostingClassifier(n_estimators=2, max_depth=2, **rs), \
        data(3)
    yield "gb_regressor", ensemble.GradientBoostingRegressor(n_estimators=3, max_depth=2, **rs), \
        regression(2)
    yield "hgb_binary_nan", ensemble.HistGradientBoostingClassifier(
        max_iter=3, max_leaf_nodes=4, **rs), data(2, nan=True)
    yield "hgb_softmax_nan", ensemble.HistGradientBoostingClassifier(
        max_iter=2, max_leaf_nodes=3, **rs), data(3, nan=True)
    yield "hgb_regressor", ensemble.HistGradientBoostingRegressor(
        max_iter=3, max_leaf_nodes=4, **rs), regression(3, nan=True)


def binary_only():
    """Models whose binary form has what the text form does not: string, float and boolean
    labels, integer thresholds (int16 tables), many features (16-bit record fields)."""
    rs = dict(random_state=0)
    yield "rf_str_labels", ensemble.RandomForestClassifier(3, max_depth=3, **rs), \
        data(3, labels=["walk", "run", "sit"])
    yield "dt_float_labels", tree.DecisionTreeClassifier(max_depth=2, **rs), \
        data(2, labels=[-1.0, 3.0])
    yield "dt_bool_labels", tree.DecisionTreeClassifier(max_depth=2, **rs), \
        data(2, labels=[False, True])
    rng = np.random.default_rng(3)
    Xi = rng.integers(-200, 200, size=(120, 4)).astype(np.float32)
    yield "rf_int_data", ensemble.RandomForestClassifier(4, max_depth=3, **rs), \
        (Xi, (Xi[:, 0] + Xi[:, 1] > 0).astype(int))
    # a forest of one tree on integer data: ml_trees_predict_class_i16 reads its leaf alone
    yield "rf1_int_data", ensemble.RandomForestClassifier(1, max_depth=3, **rs), \
        (Xi, np.digitize(Xi[:, 0] + 0.5 * Xi[:, 1], [-100, 0, 100]))
    Xw = rng.normal(size=(60, 300)).astype(np.float32)
    yield "dt_300_features", tree.DecisionTreeClassifier(max_depth=3, **rs), \
        (Xw, (Xw[:, 7] > 0).astype(int))
    # 5 classes and many distinct leaf fractions: sparse entries of 9-15 bits, padded to 16
    # (the halfword path of add_sparse)
    Xs = np.random.default_rng(4).normal(size=(150, 3)).astype(np.float32)
    yield "rf_entries16", ensemble.RandomForestClassifier(3, max_depth=4, **rs), \
        (Xs, np.digitize(Xs[:, 0] + 0.3 * Xs[:, 2], [-1, -0.3, 0.3, 1]))
    # two classes in sparse entries of fewer than 9 bits, unpacked as bits (the converter
    # would choose leaf runs, as for the models above)
    yield "rf_sparse", ensemble.RandomForestClassifier(3, max_depth=3, **rs), \
        (Xs, (Xs[:, 0] + 0.3 * Xs[:, 2] > 0).astype(int))
    # leaf spans (the converter's choice): rf_int_data's model (in leaf runs there)
    yield "rf_spans", ensemble.RandomForestClassifier(4, max_depth=3, **rs), \
        (Xi, (Xi[:, 0] + Xi[:, 1] > 0).astype(int))
    # spans whose class predict may take from 32-bit sums of the values' upper halfwords (on
    # 32-bit processors; forest_span32_*): 8 trees of int32 units in 8-bit lists, and 10 trees
    # of uint32 units (fractions of 1000 samples) in 16-bit lists
    Xl = np.random.default_rng(5).integers(-200, 200, size=(1000, 4)).astype(np.float32)
    yl = np.digitize(Xl[:, 0] + 0.5 * Xl[:, 1], [-150, -50, 50, 150])
    yield "rf_spans_i32", ensemble.RandomForestClassifier(8, max_depth=2, **rs), \
        (Xl[:150], yl[:150])
    yield "rf_spans_u32", ensemble.RandomForestClassifier(10, max_depth=3, **rs), (Xl, yl)
    # (class, value index) pairs: rf_entries16's model, and one on integer data
    yield "rf_pairs", ensemble.RandomForestClassifier(3, max_depth=4, **rs), \
        (Xs, np.digitize(Xs[:, 0] + 0.3 * Xs[:, 2], [-1, -0.3, 0.3, 1]))
    yield "rf_pairs_int", ensemble.RandomForestClassifier(3, max_depth=3, **rs), \
        (Xi, np.digitize(Xi[:, 1] - 0.5 * Xi[:, 3], [-100, 0, 100]))


# Seeds kept in sparse entries (the converter's leaf spans would hide that path), in leaf runs
# ended by a bit (leaf kind 2, as older converters wrote them: they still load), and in pairs.
SPARSE = {"rf_entries16", "rf_sparse"}
ENDED = {"rf_classifier", "rf_int_data"}
PAIRS = {"rf_pairs", "rf_pairs_int"}


# emlearn tree CSVs: f (features), c (classes), lb (leaf bits), l (leaf), r (root), n (node:
# feature, threshold, left, right; children relative jumps >= 1, or -(leaf + 1)).
EMLEARN = {
    "emlearn_classifier.csv": "f,2\nc,3\nlb,0\nl,0\nl,1\nl,2\nr,0\nr,2\n"
                              "n,0,5,1,-1\nn,1,-3,-2,-3\nn,1,0.5,-3,-1\n",
    "emlearn_regressor.csv": "f,1\nc,0\nlb,32\nl,1.5\nl,-2.25\nr,0\nn,0,100,-1,-2\n",
    "emlearn_extra_records.csv": "# an emlearn file\nf,3\nc,2\nlb,0\nv,1,2,3\nl,1\nl,0\n"
                                 "r,-1\nr,0\nn,2,-32768.5,-2,1\nn,0,40000,-1,-2\n",
}

BROKEN = {
    "broken_truncated.csv": "microlearn-trees,1\nh,2,2,2,1,1,2,2,mean,none,0\nt,0,0\nn,0,0x1p-1,-1,",
    "broken_counts.csv": "microlearn-trees,1\nh,1,0,1,2,1,2,1,mean,none,2\nt,0,0\nn,0,1.5,-1,-2\n"
                         "l,1\nl,2\n",
    "broken_cycle.csv": "microlearn-trees,1\nh,1,0,1,1,2,1,1,sum,none,3\nb,0\nt,0,0\n"
                        "n,0,1,1,-1\nn,0,2,0,-1\nl,0x1.8p+0\n",
    "broken_emlearn_jump0.csv": "f,1\nc,2\nlb,0\nl,0\nl,1\nr,0\nn,0,1,0,-2\n",
    "broken_version.csv": "microlearn-trees,2\nh,1,0,1,1,0,1,1,mean,none,0\nt,-1,0\nl,1\n",
}


def main():
    # Only the seeds below are (re)written: inputs merged in from fuzzing runs (README.md) stay.
    OUT.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, est, (X, y) in converted():
        est.fit(X, y)
        text = microlearn.convert(est).to_text()
        # Keep the repr comment short: it is skipped by the loader, only the format matters.
        lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
        text = "\n".join(lines[:1] + ["# " + name] + lines[1:]) + "\n"
        if len(text) > MAX_SEED:
            raise SystemExit(f"{name}: {len(text)} bytes, make it smaller")
        (OUT / f"{name}.csv").write_text(text)
        total += len(text)
    for name, text in {**EMLEARN, **BROKEN}.items():
        (OUT / name).write_text(text)
        total += len(text)
    # The binary form of the same models, and a few with other labels and layouts.
    OUT_BIN.mkdir(parents=True, exist_ok=True)
    for name, est, (X, y) in list(converted()) + list(binary_only()):
        est.fit(X, y)
        runs = False if name in SPARSE else "ended" if name in ENDED else \
            "pairs" if name in PAIRS else None
        data = microlearn.convert(est).to_bin() if runs is None else \
            trees_bin.Encoding(microlearn.convert(est), runs=runs).to_bytes()
        if len(data) > MAX_SEED:
            raise SystemExit(f"{name}: {len(data)} bytes, make it smaller")
        (OUT_BIN / f"{name}.bin").write_bytes(data)
        total += len(data)
    print(f"wrote {total} bytes of seeds into {OUT}")


if __name__ == "__main__":
    main()
