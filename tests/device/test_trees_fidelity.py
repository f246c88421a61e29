"""Converted tree models predict what scikit-learn predicts, on every target: identical labels,
probabilities within 1e-6, regression values within 1e-5 (relative), on real datasets; in the
text model file and in the binary form alike."""

import numpy as np
import pytest
from sklearn import datasets, ensemble, tree
from sklearn.model_selection import train_test_split

import microlearn
from microlearn import verify

CLASSIFICATION = ["digits", "iris", "wine", "breast_cancer"]


def estimators(kind):
    """Sizes chosen to fit a 140 kB heap on the emulated boards with room to spare."""
    rs = dict(random_state=0)
    if kind == "classifier":
        return {
            "DecisionTree": tree.DecisionTreeClassifier(**rs),
            "RandomForest": ensemble.RandomForestClassifier(10, max_leaf_nodes=100, **rs),
            # a small forest of shallow trees (leaf spans; on 32-bit boards predict takes its
            # class from 32-bit sums, and from the exact ones at near ties)
            "SmallRandomForest": ensemble.RandomForestClassifier(5, max_depth=4, **rs),
            "ExtraTrees": ensemble.ExtraTreesClassifier(10, max_leaf_nodes=100, **rs),
            "GradientBoosting": ensemble.GradientBoostingClassifier(n_estimators=20, **rs),
            "HistGradientBoosting": ensemble.HistGradientBoostingClassifier(
                max_iter=20, max_leaf_nodes=15, **rs),
        }
    return {
        "DecisionTree": tree.DecisionTreeRegressor(max_leaf_nodes=200, **rs),
        "RandomForest": ensemble.RandomForestRegressor(10, max_leaf_nodes=100, **rs),
        "ExtraTrees": ensemble.ExtraTreesRegressor(10, max_leaf_nodes=100, **rs),
        "GradientBoosting": ensemble.GradientBoostingRegressor(**rs),
        "HistGradientBoosting": ensemble.HistGradientBoostingRegressor(max_iter=50, **rs),
    }


def split(name):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0)


_fitted = {}


def fitted(kind, name, dataset):
    key = (kind, name, dataset)
    if key not in _fitted:
        Xtr, Xte, ytr, yte = split(dataset)
        est = estimators(kind)[name].fit(Xtr, ytr)
        _fitted[key] = est, Xte
    return _fitted[key]


FORMATS = ["csv", "bin"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("dataset", CLASSIFICATION)
@pytest.mark.parametrize("name", list(estimators("classifier")))
def test_classifier_float32(target, name, dataset, fmt):
    est, Xte = fitted("classifier", name, dataset)
    model = microlearn.convert(est)
    rep = verify.verify(est, model, Xte.astype(np.float32), target, format=fmt)
    assert rep.agree == rep.n == len(Xte), rep.summary()
    assert rep.worst <= 1e-6, rep.summary()
    assert rep.batch_agree == rep.n, rep.summary()
    assert rep.predict_alloc == 0, f"predict allocated {rep.predict_alloc} bytes"
    # A binary file in the emulated boards' ROMFS image is used in place when its address allows.
    assert rep.model_bytes == model.memory_size(fmt, in_place=rep.in_place)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(estimators("classifier")))
def test_classifier_int16_digits(target, name, fmt):
    # Digits are pixel counts 0..16: as int16 they are exact, the natural type of sensor data.
    est, Xte = fitted("classifier", name, "digits")
    model = microlearn.convert(est)
    rep = verify.verify(est, model, Xte.astype(np.int16), target, format=fmt)
    assert rep.ok(), rep.summary()
    assert rep.predict_alloc == 0


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(estimators("regressor")))
def test_regressor_diabetes(target, name, fmt):
    est, Xte = fitted("regressor", name, "diabetes")
    model = microlearn.convert(est)
    rep = verify.verify(est, model, Xte.astype(np.float32), target, format=fmt)
    assert rep.agree == rep.n == len(Xte), rep.summary()  # within 1e-5 relative
    assert rep.worst <= 1e-5, rep.summary()
    assert rep.batch_agree == rep.n, rep.summary()
    # predict() returns a float object; predict_many into an array allocates nothing.
    assert rep.predict_alloc == 0, rep.predict_alloc
