"""device/mltrees_py.py, the plain-Python reader of microlearn tree model files that the
benchmarks compare with, predicts what scikit-learn predicts: on the reference targets (plain
Python, so the architecture does not matter; single and double precision), small models of
every kind the format has (mean of class vectors, softmax and sigmoid boosting, regression,
missing values), on iris, digits, breast cancer and diabetes.

Labels must be identical on the whole test split. Probabilities: within 1e-6 on the unix port
(double floats, the sums in the C core's order); within 1e-5 on the emulated boards, whose
MicroPython computes in single precision. Regression values within 1e-5 (relative): the model
file holds float32 leaves, as for the C core."""

import math
import struct

import numpy as np
import pytest
from sklearn import datasets, ensemble, tree
from sklearn.model_selection import train_test_split

import microlearn
from conftest import run

pytestmark = pytest.mark.reference

# Runs on the device: loads the model with mltrees_py, predicts every sample of X.bin, prints
# the labels (or values) and the probabilities as text.
SCRIPT = r"""
import array, mltrees_py
NF, N, PROBA = {nf}, {n}, {proba}
m = mltrees_py.load('model.csv')
x = array.array('f', bytes(4 * NF))
with open('X.bin', 'rb') as f:
    for i in range(N):
        f.readinto(x)
        y = m.predict(x)
        if PROBA:
            print('P', y, ' '.join(repr(v) for v in m.predict_proba(x)))
        else:
            print('P', repr(y))
"""


def _split(name, rs=0):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=rs)


def _nan_digits():
    """Digits with a quarter of the values missing (HistGradientBoosting routes NaN)."""
    Xtr, Xte, ytr, yte = _split("digits")
    rng = np.random.default_rng(0)
    Xtr, Xte = Xtr.copy(), Xte[:150].copy()
    Xtr[rng.random(Xtr.shape) < 0.25] = np.nan
    Xte[rng.random(Xte.shape) < 0.25] = np.nan
    return Xtr, Xte, ytr, yte[:150]


CASES = {
    # name: (dataset split, estimator)
    "iris_rf": (lambda: _split("iris"),
                lambda: ensemble.RandomForestClassifier(5, max_depth=3, random_state=0)),
    "iris_tree": (lambda: _split("iris"), lambda: tree.DecisionTreeClassifier(random_state=0)),
    "iris_gb": (lambda: _split("iris"),  # softmax
                lambda: ensemble.GradientBoostingClassifier(n_estimators=10, random_state=0)),
    "digits_rf": (lambda: _split("digits"),
                  lambda: ensemble.RandomForestClassifier(10, max_leaf_nodes=30,
                                                          random_state=0)),
    "cancer_gb": (lambda: _split("breast_cancer"),  # sigmoid, score >= 0
                  lambda: ensemble.GradientBoostingClassifier(n_estimators=10,
                                                              random_state=0)),
    "cancer_hgb": (lambda: _split("breast_cancer"),  # sigmoid, score > 0
                   lambda: ensemble.HistGradientBoostingClassifier(max_iter=10,
                                                                   random_state=0)),
    "digits_hgb_nan": (_nan_digits,  # missing values, softmax
                       lambda: ensemble.HistGradientBoostingClassifier(
                           max_iter=5, max_leaf_nodes=8, random_state=0)),
    "diabetes_rf": (lambda: _split("diabetes"),  # regression, mean
                    lambda: ensemble.RandomForestRegressor(5, max_depth=4, random_state=0)),
    "diabetes_gb": (lambda: _split("diabetes"),  # regression, baseline + sum
                    lambda: ensemble.GradientBoostingRegressor(n_estimators=10,
                                                               random_state=0)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_predicts_as_sklearn(session, case):
    split, make = CASES[case]
    Xtr, Xte, ytr, _ = split()
    est = make().fit(Xtr, ytr)
    X = np.ascontiguousarray(Xte, dtype=np.float32)
    is_clf = hasattr(est, "predict_proba")
    session.put("model.csv", microlearn.convert(est).to_text().encode())
    session.put("X.bin", X.tobytes())
    out = run(session, SCRIPT.format(nf=X.shape[1], n=len(X), proba=int(is_clf)))
    rows = [line.split()[1:] for line in out.splitlines() if line.startswith("P ")]
    assert len(rows) == len(X)
    single = session.target.is_qemu  # MicroPython with single-precision floats
    if is_clf:
        labels = np.array([int(r[0]) for r in rows])
        assert (labels == est.predict(X)).all(), \
            f"{(labels != est.predict(X)).sum()} of {len(X)} labels differ"
        proba = np.array([[float(v) for v in r[1:]] for r in rows])
        worst = np.abs(proba - est.predict_proba(X)).max()
        assert worst <= (1e-5 if single else 1e-6), worst
    else:
        values = np.array([float(r[0]) for r in rows])
        expected = est.predict(X)
        rel = np.abs(values - expected) / np.maximum(np.abs(expected), 1e-12)
        # leaf values are float32 in the model file, as for the C core (test_trees_fidelity)
        assert rel.max() <= 1e-5, rel.max()


# Numbers as the model file writes them (hexadecimal, exact) and as a person might (decimal).
NUMBERS = ["0x1.8p-1", "-0x1.366666p+2", "0x0p+0", "-0x0p+0", "0x1p+0", "0x1.fffffep+127",
           "0x1p-126", "0x1.99999ap-4", "0X1.8P+1", "0x1.5555555555555p-2", "1.5", "-2",
           "1e-3", "0.1", "3"]


def test_number_parser(session):
    """Hexadecimal floats parse exactly (to the port's float, double or single precision);
    decimal ones as MicroPython's float() does, within an ulp. The values come back as their
    bytes, so printing does not round them."""
    single = session.target.is_qemu
    fmt = "<f" if single else "<d"
    names = ", ".join(repr(s) for s in NUMBERS)
    out = run(session, f"import mltrees_py, struct, binascii\nfor s in ({names},):\n"
                       f"    v = mltrees_py._float(s)\n"
                       f"    print('V', binascii.hexlify(struct.pack({fmt!r}, v)).decode())\n")
    got = [struct.unpack(fmt, bytes.fromhex(line.split()[1]))[0]
           for line in out.splitlines() if line.startswith("V ")]
    assert len(got) == len(NUMBERS)
    for s, g in zip(NUMBERS, got):
        w = float.fromhex(s) if "x" in s.lower() else float(s)
        if single:
            w = float(np.float32(w))
        if "x" in s.lower():
            assert g == w and math.copysign(1, g) == math.copysign(1, w), (s, g, w)
        else:
            assert math.isclose(g, w, rel_tol=2 ** -23 if single else 2 ** -52), (s, g, w)


def test_rejects_other_files(session):
    session.put("bad.csv", b"f,4\nc,3\n")
    out = run(session, "import mltrees_py\ntry:\n    mltrees_py.load('bad.csv')\n"
                       "    print('NO-ERROR')\nexcept ValueError as e:\n    print('ERR', e)\n")
    assert "ERR" in out and "unknown record" in out, out


def test_float32_thresholds_exact(session):
    """A float32 sample equal to a threshold goes left, one ulp above goes right."""
    est = tree.DecisionTreeClassifier(max_depth=1, random_state=0).fit(
        [[0.1], [0.2], [0.3], [0.4]], [0, 0, 1, 1])
    t = np.float32(est.tree_.threshold[0])
    if t > est.tree_.threshold[0]:
        t = np.nextafter(t, np.float32(-np.inf))
    X = np.array([[t], [np.nextafter(t, np.float32(np.inf))]], dtype=np.float32)
    session.put("model.csv", microlearn.convert(est).to_text().encode())
    session.put("X.bin", X.tobytes())
    out = run(session, SCRIPT.format(nf=1, n=2, proba=0))
    labels = [int(line.split()[1]) for line in out.splitlines() if line.startswith("P ")]
    assert labels == list(est.predict(X)) == [0, 1]
