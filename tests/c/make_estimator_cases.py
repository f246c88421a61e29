"""Writes the test cases of tests/c/test_estimators.c (tests/c/estimators/*.case) and the seeds
of the fuzz harness tests/fuzz/fuzz_estimators.c (tests/fuzz/corpus/estimators/): small models
of every family from the converter, with samples and what scikit-learn gives for them.

Run by hand when a model layout changes (the output is committed):

    .venv/bin/python tests/c/make_estimator_cases.py

A case file: "MLCASE01", u32 model size, the model (padded to 8), u32 samples, u32 features,
u32 values per sample, float32 samples, then per sample float64: predict (the class index for
classifiers), then the values of decision_function, predict_proba, score_samples, transform
(those the model has, in that order). A model that learns on the device has more: u32 batch
samples, the batch (float32), its targets (float64), then the values as above after
partial_fit of the batch (scikit-learn's partial_fit with shuffle=False).
"""

import struct
import warnings
from pathlib import Path

import numpy as np
from sklearn import (cluster, covariance, datasets, decomposition, ensemble, linear_model,
                     mixture, naive_bayes, neighbors, pipeline, preprocessing, svm)

import microlearn
from microlearn.cluster import KMeansDetector
from microlearn.estimators import METHODS

HERE = Path(__file__).resolve().parent
CASES = HERE / "estimators"
SEEDS = HERE.parent / "fuzz" / "corpus" / "estimators"


def models():
    X, y = datasets.load_iris(return_X_y=True)
    X, y = X[::3], y[::3]  # 50 samples keep the files small
    Xr, yr = X[:, 1:], X[:, 0]
    sc = preprocessing.StandardScaler
    yield "logistic_multinomial", pipeline.make_pipeline(
        sc(), linear_model.LogisticRegression()).fit(X, y)
    yield "logistic_binary", linear_model.LogisticRegression().fit(X, y == 1)
    yield "sgd_huber_pca", pipeline.make_pipeline(
        sc(), decomposition.PCA(3, whiten=True),
        linear_model.SGDClassifier(loss="modified_huber", random_state=0)).fit(X, y)
    yield "ridge", pipeline.make_pipeline(preprocessing.MinMaxScaler(),
                                          linear_model.Ridge()).fit(Xr, yr)
    yield "svc_rbf_proba", pipeline.make_pipeline(
        sc(), svm.SVC(probability=True, random_state=0)).fit(X, y)
    yield "svc_poly_ovo", svm.SVC(kernel="poly", decision_function_shape="ovo").fit(X, y)
    yield "svr_sigmoid", svm.SVR(kernel="sigmoid", gamma=0.1).fit(Xr, yr)
    yield "one_class_svm", svm.OneClassSVM(gamma=0.3).fit(X)
    yield "knn_distance", neighbors.KNeighborsClassifier(
        4, weights="distance", algorithm="brute").fit(X.astype(np.float32), y)
    yield "knn_minkowski_regressor", neighbors.KNeighborsRegressor(3, p=3).fit(Xr, yr)
    yield "nearest_centroid", neighbors.NearestCentroid().fit(X, y)
    yield "gaussian_nb", naive_bayes.GaussianNB().fit(X, y)
    for cov in ("full", "tied", "diag", "spherical"):
        yield f"gmm_{cov}", mixture.GaussianMixture(2, covariance_type=cov,
                                                    random_state=0).fit(X)
    yield "kmeans", cluster.KMeans(3, n_init=1, random_state=0).fit(X)
    yield "kmeans_detector", pipeline.make_pipeline(sc(), KMeansDetector(3, 0.9)).fit(X)
    yield "isolation_forest", ensemble.IsolationForest(
        n_estimators=4, max_samples=16, max_features=0.75, random_state=0).fit(X)
    yield "elliptic_envelope", covariance.EllipticEnvelope(random_state=0).fit(X)
    yield "lof_novelty", neighbors.LocalOutlierFactor(5, novelty=True).fit(X)
    # partial_fit on the device
    yield "sgd_log_elasticnet", pipeline.make_pipeline(sc(), linear_model.SGDClassifier(
        loss="log_loss", penalty="elasticnet", learning_rate="invscaling", eta0=0.1,
        shuffle=False, random_state=0)).fit(X, y)
    yield "sgd_regressor_huber_l1", pipeline.make_pipeline(sc(), linear_model.SGDRegressor(
        loss="huber", penalty="l1", shuffle=False, random_state=0)).fit(Xr, yr)
    yield "perceptron_binary", linear_model.Perceptron(shuffle=False).fit(X, y == 2)


LEARNS = ("sgd_huber_pca", "gaussian_nb", "sgd_log_elasticnet", "sgd_regressor_huber_l1",
          "perceptron_binary")


def values(est, model, Xs, name):
    """Per sample: predict (class index for classifiers), then the other methods' values."""
    # as in tests/device/test_probabilistic.py: scikit-learn's float64 computation
    ref = Xs.astype(np.float64) if name in ("kmeans", "gmm_spherical") else Xs
    y = np.asarray(est.predict(ref))
    if model.is_classifier:
        y = np.searchsorted(np.asarray(est.classes_ if not hasattr(est, "steps")
                                       else est.steps[-1][1].classes_), y)
    cols = [y.astype(np.float64).reshape(-1, 1)]
    for m in METHODS[1:]:
        if m in model.widths:
            cols.append(np.asarray(getattr(est, m)(ref), dtype=np.float64)
                        .reshape(len(Xs), -1))
    return np.hstack(cols)


def learned(est, name, X, y):
    """The learning part of a case: the batch, its targets, the values after partial_fit."""
    import copy

    Xb = X[::7].astype(np.float32)
    yb = {"sgd_regressor_huber_l1": X[::7, 0], "perceptron_binary": y[::7] == 2}.get(name, y[::7])
    Xb = Xb[:, 1:] if name == "sgd_regressor_huber_l1" else Xb
    after = copy.deepcopy(est)
    steps, final = (after[:-1], after[-1]) if hasattr(after, "steps") else (None, after)
    if hasattr(final, "shuffle"):
        final.set_params(shuffle=False)  # the device learns in the batch's order
    final.partial_fit((steps.transform(Xb) if steps is not None else Xb).astype(np.float64),
                      np.asarray(yb, dtype=np.float64) if name == "sgd_regressor_huber_l1"
                      else yb)
    return after, Xb, np.asarray(yb, dtype=np.float64)


def main():
    warnings.simplefilter("ignore")
    X, _ = datasets.load_iris(return_X_y=True)
    samples = X[1::5].astype(np.float32)  # 30 samples
    CASES.mkdir(exist_ok=True)
    SEEDS.mkdir(parents=True, exist_ok=True)
    names = []
    Xall, yall = datasets.load_iris(return_X_y=True)
    for name, est in models():
        model = microlearn.convert(est)
        Xs = samples[:, :model.n_features]
        expected = values(est, model, Xs, name)
        data = model.to_bytes()
        body = (b"MLCASE01" + struct.pack("<I", len(data)) + data + b"\0" * (-len(data) % 8)
                + struct.pack("<3I", len(Xs), Xs.shape[1], expected.shape[1])
                + Xs.astype("<f4").tobytes() + expected.astype("<f8").tobytes())
        if name in LEARNS:
            after, Xb, yb = learned(est, name, Xall, yall)
            if model.is_classifier:
                yb = np.searchsorted(np.asarray(after[-1].classes_ if hasattr(after, "steps")
                                                else after.classes_), yb).astype(np.float64)
                if model.labels is not None:
                    yb = np.asarray(model.labels, dtype=np.float64)[yb.astype(int)]
            body += (struct.pack("<I", len(Xb)) + Xb.astype("<f4").tobytes()
                     + yb.astype("<f8").tobytes()
                     + values(after, model, Xs, name).astype("<f8").tobytes())
        (CASES / f"{name}.case").write_bytes(body)
        (SEEDS / f"{name}.mlb").write_bytes(data)
        names.append(name)
    (CASES / "index.txt").write_text("\n".join(names) + "\n")
    print(f"{len(names)} cases in {CASES}, seeds in {SEEDS}")


if __name__ == "__main__":
    main()
