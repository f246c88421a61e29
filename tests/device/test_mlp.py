"""scikit-learn's MLPClassifier and MLPRegressor through microlearn.nn, on every target: the
board's labels are scikit-learn's predict, its outputs predict_proba (or predict) within 1e-5,
for pipelines of scalers and PCA before the network, every activation; run and predict
allocate nothing."""

import numpy as np
import pytest
from sklearn import decomposition, neural_network, pipeline, preprocessing

import microlearn
from microlearn.nn.verify import sklearn_expected, verify
from sklearn_cases import BOARD_SAMPLES, boards_run, split

MLP = neural_network.MLPClassifier

CASES = {
    # name: (dataset, estimator, run on the boards too)
    "iris": ("iris", lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), MLP((16,), max_iter=2000, random_state=0)), False),
    "breast_cancer (binary, tanh)": ("breast_cancer", lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(),
        MLP((20, 10), activation="tanh", max_iter=2000, random_state=0)), True),
    "wine (MinMax clip, logistic)": ("wine", lambda: pipeline.make_pipeline(
        preprocessing.MinMaxScaler(clip=True),
        MLP((20,), activation="logistic", max_iter=3000, random_state=0)), False),
    "digits (PCA whiten, relu)": ("digits", lambda: pipeline.make_pipeline(
        decomposition.PCA(20, whiten=True, random_state=0),
        MLP((32,), max_iter=1000, random_state=0)), True),
    "digits (identity, MaxAbs)": ("digits", lambda: pipeline.make_pipeline(
        preprocessing.MaxAbsScaler(),
        MLP((24,), activation="identity", max_iter=500, random_state=0)), False),
    "diabetes (regressor, Robust)": ("diabetes", lambda: pipeline.make_pipeline(
        preprocessing.RobustScaler(), neural_network.MLPRegressor(
            hidden_layer_sizes=(32,), max_iter=3000, random_state=0)), True),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", list(CASES))
def test_mlp(session, name):
    dataset, make, on_boards = CASES[name]
    boards_run(session, on_boards)
    Xtr, Xte, ytr, _ = split(dataset)
    est = make().fit(Xtr, ytr)
    model = microlearn.convert(est)
    X = Xte.astype(np.float32)
    if session.target.is_qemu:
        X = X[:BOARD_SAMPLES // 2]  # the C is nn's, tested operator by operator in test_nn
    expected, labels = sklearn_expected(est, model, X)
    rep = verify(model, X, session.target, session=session, repeat=3, expected=expected,
                 labels=labels)
    assert rep.n == len(X), rep.output
    assert rep.agree == rep.n, rep.summary() + "\n" + rep.output
    if labels is not None:
        assert rep.labels == rep.n, rep.summary()  # predict gives scikit-learn's labels
    assert rep.worst <= 1e-5, rep.summary()
    assert rep.alloc == 0, f"run and predict allocated {rep.alloc} bytes"
    assert rep.arena == model.arena_size


def test_string_classes_and_bad_input(session):
    """Classes that are not integers: predict gives the class index and there is no
    `classes`; a wrong input is refused naming it."""
    from conftest import expect_error

    Xtr, Xte, ytr, _ = split("iris")
    names = np.array(["setosa", "versicolor", "virginica"])[ytr]
    est = MLP((8,), max_iter=3000, random_state=0).fit(Xtr, names)
    model = microlearn.convert(est)
    session.put("s.nn", model.to_bytes())
    x = ", ".join(repr(float(v)) for v in Xte[0].astype(np.float32))
    setup = (f"import array\nfrom microlearn import nn\nm = nn.load('s.nn')\n"
             f"x = array.array('f', [{x}])\n"
             f"print('LABEL', m.predict(x), hasattr(m, 'classes'))")
    want = int(np.searchsorted(est.classes_, est.predict(Xte[:1].astype(np.float32))[0]))
    out = expect_error(session, setup, "m.predict(array.array('f', [1.0, 2.0]))", "ValueError",
                       "x has 2 values, expected 4")
    assert f"LABEL {want} False" in session.exec(setup).output
    session.remove("s.nn")
