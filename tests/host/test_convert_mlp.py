"""scikit-learn's MLPClassifier / MLPRegressor as microlearn.nn float32 networks: the host
reference of the board (NNModel.run) gives predict_proba within 1e-5 and predict's labels;
refusals name what is supported; the CLI converts and verifies them."""

import pickle

import numpy as np
import pytest
from sklearn import datasets, decomposition, neural_network, pipeline, preprocessing

import microlearn
from microlearn import blob, cli
from microlearn.nn import NNModel
from microlearn.trees import ConversionError

X, y = datasets.load_iris(return_X_y=True)
X32 = X.astype(np.float32)


def mlp(**kw):
    return neural_network.MLPClassifier(max_iter=300, random_state=0, **kw)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("est", [
    mlp(hidden_layer_sizes=(8,)),
    mlp(hidden_layer_sizes=(8, 5), activation="tanh"),
    pipeline.make_pipeline(preprocessing.StandardScaler(), mlp(activation="logistic")),
    pipeline.make_pipeline(preprocessing.MinMaxScaler(clip=True), preprocessing.RobustScaler(),
                           mlp(activation="identity")),
    pipeline.make_pipeline(decomposition.PCA(3, whiten=True), preprocessing.MaxAbsScaler(),
                           mlp()),
], ids=["relu", "tanh-2-layers", "standard-logistic", "minmax-clip-robust", "pca-maxabs"])
def test_classifier_matches_predict_proba(est):
    est.fit(X, y + 3)  # labels 3, 4, 5: the board's predict gives them
    model = microlearn.convert(est)
    assert isinstance(model, NNModel) and model.input_type == "float32"
    out = np.array([model.run(x).ravel() for x in X32])
    assert np.abs(out - est.predict_proba(X32)).max() <= 1e-5
    assert [model.predict(x) for x in X32] == list(est.predict(X32))
    kind, _, sections = blob.unpack(model.to_bytes())
    assert kind == blob.NN and list(np.frombuffer(sections[b"labl"], "<i4")) == [3, 4, 5]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_binary_and_regressor():
    yb = (y > 0).astype(int)
    est = mlp(hidden_layer_sizes=(4,)).fit(X, yb)
    model = microlearn.convert(est)
    assert model.output_shape == (1, 2)  # (1 - expit(z), expit(z)), as predict_proba
    out = np.array([model.run(x).ravel() for x in X32])
    assert np.abs(out - est.predict_proba(X32)).max() <= 1e-5
    assert [model.predict(x) for x in X32] == list(est.predict(X32))
    reg = neural_network.MLPRegressor(hidden_layer_sizes=(6,), max_iter=500, random_state=0)
    reg.fit(X[:, :3], X[:, 3])
    model = microlearn.convert(reg)
    out = np.array([model.run(x).ravel()[0] for x in X32[:, :3]])
    ref = reg.predict(X32[:, :3])
    assert np.abs(out - ref).max() <= 1e-5 * max(1, np.abs(ref).max())
    assert model.labels is None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("make,fragment", [
    (lambda: mlp().fit(X, np.stack([y == 0, y == 1], axis=1)), "multilabel"),
    (lambda: neural_network.MLPRegressor(loss="poisson", max_iter=50).fit(X, X[:, 0]),
     "output activation 'exp'"),
    (lambda: pipeline.make_pipeline(preprocessing.Normalizer(), mlp()).fit(X, y),
     "Supported steps: StandardScaler, MinMaxScaler"),
    (lambda: mlp(), "not fitted"),
])
def test_refusals(make, fragment):
    with pytest.raises(ConversionError, match=fragment):
        microlearn.convert(make())


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_cli_convert_and_verify(tmp_path, capsys):
    est = pipeline.make_pipeline(preprocessing.StandardScaler(), mlp()).fit(X, y)
    (tmp_path / "m.pkl").write_bytes(pickle.dumps(est))
    np.save(tmp_path / "X.npy", X[:20])
    assert cli.main(["convert", str(tmp_path / "m.pkl"), "-o", str(tmp_path / "m.nn")]) == 0
    assert (tmp_path / "m.nn").read_bytes() == microlearn.convert(est).to_bytes()
    assert cli.main(["verify", str(tmp_path / "m.pkl"), str(tmp_path / "X.npy")]) == 0
    out = capsys.readouterr().out
    assert "labels identical: 20/20" in out and "verify: OK" in out
    assert "MLPClassifier" in microlearn.supported()
