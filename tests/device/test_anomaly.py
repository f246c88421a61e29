"""The anomaly detectors give what scikit-learn gives, on every target: +1/-1 identical,
score_samples and decision_function within 1e-5 relative. Data: two Gaussian blobs with 10%
uniform outliers (seeded), and the wine dataset."""

import numpy as np
import pytest
from sklearn import covariance, datasets, ensemble, neighbors, pipeline, preprocessing, svm

import microlearn
from microlearn import targets
from microlearn.cluster import KMeansDetector
from sklearn_cases import boards_run, check, split


@pytest.fixture(params=__import__("conftest").TARGETS)
def session(request):
    """A session per test: the four detector modules together would not fit the boards' heap
    (a native module's code stays in it once imported)."""
    with targets.get(request.param).session() as s:
        yield s


def outlier_data():
    X, _ = datasets.make_blobs(300, n_features=4, centers=2, random_state=0)
    rng = np.random.default_rng(0)
    outliers = rng.uniform(X.min(0) - 3, X.max(0) + 3, size=(30, 4))
    X = np.vstack([X, outliers])
    idx = rng.permutation(len(X))
    return X[idx[:220]], X[idx[220:]]


DETECTORS = {
    "IsolationForest": lambda: ensemble.IsolationForest(n_estimators=25, max_samples=64,
                                                        random_state=0),
    "IsolationForest(max_features)": lambda: ensemble.IsolationForest(
        n_estimators=20, max_samples=64, max_features=0.5, contamination=0.1, random_state=0),
    "EllipticEnvelope": lambda: covariance.EllipticEnvelope(random_state=0),
    "OneClassSVM": lambda: pipeline.make_pipeline(preprocessing.StandardScaler(),
                                                  svm.OneClassSVM(nu=0.1, gamma=0.2)),
    "LocalOutlierFactor": lambda: neighbors.LocalOutlierFactor(20, novelty=True),
    "Scaled+LocalOutlierFactor": lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), neighbors.LocalOutlierFactor(10, novelty=True)),
    # microlearn's k-means distance detector (microlearn.cluster): transform too
    "Scaled+KMeansDetector": lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), KMeansDetector(2, quantile=0.9)),
}


@pytest.mark.parametrize("name", list(DETECTORS))
def test_outlier_data(session, name):
    Xtr, Xte = outlier_data()
    est = DETECTORS[name]().fit(Xtr)
    model = microlearn.convert(est)
    X = Xte.astype(np.float32)
    predicted = est.predict(X)
    assert (predicted == -1).any() and (predicted == 1).any()  # both kinds are tested
    check(est, model, X, session)


@pytest.mark.parametrize("name", ["IsolationForest", "EllipticEnvelope", "OneClassSVM"])
def test_wine(session, name):
    boards_run(session, False)
    Xtr, Xte, _, _ = split("wine")
    est = DETECTORS[name]().fit(Xtr)
    check(est, microlearn.convert(est), Xte.astype(np.float32), session)


def test_int16(session):
    Xtr, Xte, _, _ = split("digits")
    est = ensemble.IsolationForest(n_estimators=20, max_samples=64, random_state=0).fit(Xtr)
    check(est, microlearn.convert(est), Xte.astype(np.int16), session)


def test_lof_needs_novelty():
    est = neighbors.LocalOutlierFactor().fit(outlier_data()[0])
    with pytest.raises(ValueError, match="novelty=True"):
        microlearn.convert(est)
