"""Tree CSV files written by emlearn (`emlearn.convert(...).save(format='csv')`) load unchanged
and predict what emlearn predicts: its compiled C model on the host is the reference (int16
features, `x < int(threshold)`, majority vote), so existing emlearn-micropython users can switch."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_digits
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

# emlearn's bayes module calls numpy.seterr(all='raise') when imported, which would make
# scikit-learn fits of every later test in this process fail on a harmless underflow.
_numpy_errors = np.geterr()
emlearn = pytest.importorskip("emlearn")
np.seterr(**_numpy_errors)

from conftest import run  # noqa: E402

# The file is read by the shared model-file parser: the reference targets suffice.
pytestmark = pytest.mark.reference


@pytest.fixture(autouse=True)
def _scratch_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # emlearn compiles its reference model in ./tmp


def emlearn_csv(est, tmp_path):
    c = emlearn.convert(est, method="loadable")
    path = tmp_path / "em.csv"
    c.save(file=str(path), name="model", format="csv")
    return c, path.read_bytes()


def device_outputs(session, csv, X, n_out):
    session.put("em.csv", csv)
    session.put("X.bin", X.astype("<i2").tobytes())
    out = run(session, f"""
import array, binascii
from microlearn import trees
m = trees.load('em.csv')
nf = m.n_features
x = array.array('h', bytes(2 * nf))
p = array.array('f', bytes(4 * {n_out}))
with open('X.bin', 'rb') as f:
    while f.readinto(x) == 2 * nf:
        if m.n_classes:
            m.predict_proba(x, p)
            print('P', m.predict(x), binascii.hexlify(p).decode())
        else:
            print('V', repr(m.predict(x)))
""")
    return [l.split() for l in out.splitlines() if l[:2] in ("P ", "V ")]


def test_emlearn_classifier_csv(session, tmp_path):
    X, y = load_digits(return_X_y=True)
    X = X.astype(np.int16)
    est = RandomForestClassifier(10, max_depth=8, random_state=0).fit(X[:1400], y[:1400])
    c, csv = emlearn_csv(est, tmp_path)
    Xt = X[1400:1500]
    rows = device_outputs(session, csv, Xt, 10)
    labels = np.array([int(r[1]) for r in rows])
    proba = np.array([np.frombuffer(bytes.fromhex(r[2]), dtype="<f4") for r in rows])
    assert np.array_equal(labels, c.predict(Xt))
    assert np.max(np.abs(proba - c.predict_proba(Xt))) <= 1e-6


def test_emlearn_regressor_csv(session, tmp_path):
    X, y = load_diabetes(return_X_y=True)
    X = np.round(X * 1000).astype(np.int16)  # emlearn's loadable trees take int16 features
    est = RandomForestRegressor(5, max_depth=6, random_state=0).fit(X[:380], y[:380])
    c, csv = emlearn_csv(est, tmp_path)
    Xt = X[380:]
    rows = device_outputs(session, csv, Xt, 1)
    got = np.array([float(r[1]) for r in rows])
    want = c.predict(Xt)
    assert np.max(np.abs(got - want) / np.abs(want)) <= 1e-5
