"""The converters of the scikit-learn families: every supported estimator converts, the model
file is a valid container of its kind, unsupported estimators and options are refused with a
message naming what is supported, and the CLI converts and verifies them."""

import pickle

import numpy as np
import pytest
from sklearn import (cluster, covariance, datasets, decomposition, ensemble, linear_model,
                     mixture, multiclass, naive_bayes, neighbors, pipeline, preprocessing, svm,
                     tree)

import microlearn
from microlearn import blob, cli
from microlearn.trees import ConversionError

X, y = datasets.load_iris(return_X_y=True)

FITTED = [
    (linear_model.LogisticRegression(), "linear_model"),
    (linear_model.LinearRegression(), "linear_model"),
    (linear_model.Ridge(), "linear_model"),
    (linear_model.Lasso(), "linear_model"),
    (linear_model.ElasticNet(), "linear_model"),
    (linear_model.SGDClassifier(random_state=0), "linear_model"),
    (linear_model.SGDRegressor(random_state=0), "linear_model"),
    (linear_model.Perceptron(), "linear_model"),
    (svm.LinearSVC(), "linear_model"),
    (svm.LinearSVR(), "linear_model"),
    (multiclass.OneVsRestClassifier(linear_model.LogisticRegression()), "linear_model"),
    (svm.SVC(), "svm"), (svm.NuSVC(), "svm"), (svm.SVR(), "svm"), (svm.NuSVR(), "svm"),
    (svm.OneClassSVM(), "svm"),
    (neighbors.KNeighborsClassifier(), "neighbors"), (neighbors.KNeighborsRegressor(), "neighbors"),
    (neighbors.NearestCentroid(), "neighbors"),
    (neighbors.LocalOutlierFactor(novelty=True), "neighbors"),
    (naive_bayes.GaussianNB(), "naive_bayes"),
    (mixture.GaussianMixture(2, random_state=0), "mixture"),
    (cluster.KMeans(3, n_init=1, random_state=0), "cluster"),
    (cluster.MiniBatchKMeans(3, n_init=1, random_state=0), "cluster"),
    (ensemble.IsolationForest(n_estimators=5, random_state=0), "ensemble"),
    (covariance.EllipticEnvelope(random_state=0), "covariance"),
]


def fit(est):
    regressor = type(est).__name__ in ("LinearRegression", "Ridge", "Lasso", "ElasticNet",
                                       "SGDRegressor", "LinearSVR", "SVR", "NuSVR",
                                       "KNeighborsRegressor")
    return est.fit(X, X[:, 0] if regressor else y)


@pytest.mark.parametrize("est,module", FITTED, ids=lambda v: type(v).__name__
                         if not isinstance(v, str) else v)
def test_every_estimator_converts(est, module):
    model = microlearn.convert(fit(est))
    assert model.module == module
    kind, version, sections = blob.unpack(model.to_bytes())
    assert blob.KIND_NAMES[kind] == module and version == 1
    assert b"estm" in sections and bytes(sections[b"name"]).decode() == type(est).__name__
    assert type(est).__name__ in microlearn.supported()


def test_pipeline_steps_and_name():
    est = pipeline.make_pipeline(preprocessing.StandardScaler(), decomposition.PCA(2),
                                 svm.SVC()).fit(X, y)
    model = microlearn.convert(est)
    assert model.name == "StandardScaler+PCA+SVC"
    assert [s[0] for s in model.steps] == [1, 2, 5, 1]  # sub, div, matmul, sub
    assert model.n_features == 4 and model.n_inputs == 2


@pytest.mark.parametrize("est,fragment", [
    (tree.ExtraTreeClassifier(), "Supported estimators"),
    (pipeline.make_pipeline(preprocessing.Normalizer(), svm.SVC()), "Supported steps"),
    (pipeline.make_pipeline(preprocessing.MinMaxScaler(clip=True), svm.SVC()), "clip=False"),
    (pipeline.make_pipeline(preprocessing.StandardScaler(), tree.DecisionTreeClassifier()),
     "before a tree model"),
    (svm.SVC(kernel="precomputed"), "kernel 'precomputed'"),
    (neighbors.KNeighborsClassifier(metric="cosine"), "metric 'cosine'"),
    (neighbors.LocalOutlierFactor(), "novelty=True"),
])
def test_refused_with_what_is_supported(est, fragment):
    if type(est).__name__ == "SVC" and est.kernel == "precomputed":
        est.fit(X @ X.T, y)
    else:
        fit(est)
    with pytest.raises(ConversionError, match=fragment):
        microlearn.convert(est)


def test_multi_target_refused():
    est = linear_model.Ridge().fit(X[:, :2], X[:, 2:])
    with pytest.raises(ConversionError, match="one target is"):
        microlearn.convert(est)


def test_c_header():
    model = microlearn.convert(naive_bayes.GaussianNB().fit(X, y))
    text = model.save(format="c", name="nb_model").decode()
    assert "static const uint8_t nb_model[" in text and "aligned(8)" in text


def test_cli_convert_and_verify(tmp_path, capsys):
    est = pipeline.make_pipeline(preprocessing.StandardScaler(),
                                 linear_model.LogisticRegression()).fit(X, y)
    pkl, out, xs = tmp_path / "m.pkl", tmp_path / "m.mlb", tmp_path / "X.npy"
    pkl.write_bytes(pickle.dumps(est))
    np.save(xs, X[::5].astype(np.float32))
    assert cli.main(["convert", str(pkl), "-o", str(out)]) == 0
    assert "microlearn.linear_model.load" in capsys.readouterr().out
    assert blob.is_blob(out.read_bytes())
    assert cli.main(["verify", str(pkl), str(xs), "--target", "unix"]) == 0
    text = capsys.readouterr().out
    assert "verify: OK" in text and "scores: max relative difference" in text


def test_learning_sections():
    """The models that can learn on the device carry what partial_fit continues from."""
    sgd = linear_model.SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    _, _, sec = blob.unpack(microlearn.convert(sgd).to_bytes())
    v = np.frombuffer(sec[b"sgdl"], "<f8")
    assert list(v[:4]) == [4, 2, 2, 1] and v[4] == sgd.t_ and list(v[10:]) == [1, 1, 1]
    for cannot in (linear_model.SGDClassifier(average=True, random_state=0),
                   linear_model.SGDRegressor(early_stopping=True, random_state=0),
                   linear_model.LogisticRegression()):
        model = microlearn.convert(fit(cannot))
        assert b"sgdl" not in blob.unpack(model.to_bytes())[2]
    gnb = naive_bayes.GaussianNB().fit(X, y)
    v = np.frombuffer(blob.unpack(microlearn.convert(gnb).to_bytes())[2][b"gnbn"], "<f8")
    assert v[0] == gnb.var_smoothing and v[1] == gnb.epsilon_ and list(v[3:]) == [50, 50, 50]
