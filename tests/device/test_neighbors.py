"""microlearn.neighbors predicts what scikit-learn predicts, on every target.

Of samples at exactly the same distance at the k-th place, microlearn takes the one stored
first, as scikit-learn's brute-force search does when the query has the fitted data's dtype.
scikit-learn takes another route for other queries (a float32 query against float64 data, an
int16 query: numpy's argpartition, whose choice among equal values depends on the host CPU's
SIMD code) and its k-d tree follows the tree's order. So these tests fit float32 data and
compare int16 queries with scikit-learn's answer for the same values as float32; the k-d tree
case uses a dataset without such ties."""

import numpy as np
import pytest
from sklearn import neighbors, pipeline, preprocessing

import microlearn
from sklearn_cases import boards_run, check, split

CLASSIFIERS = {
    "KNN": lambda: neighbors.KNeighborsClassifier(algorithm="brute"),
    "KNN(distance)": lambda: neighbors.KNeighborsClassifier(7, weights="distance",
                                                            algorithm="brute"),
    "KNN(manhattan)": lambda: neighbors.KNeighborsClassifier(3, metric="manhattan",
                                                             algorithm="brute"),
    "Scaled+KNN": lambda: pipeline.make_pipeline(preprocessing.StandardScaler(),
                                                 neighbors.KNeighborsClassifier()),
    "NearestCentroid": lambda: neighbors.NearestCentroid(),
}


def without_ties(est, X):
    """X without the samples whose k-th and (k+1)-th nearest stored samples are at exactly the
    same distance: which of the two scikit-learn keeps there depends on its thread count (on
    digits, test sample 122 is a 3 with one OpenMP thread and a 6 with two), so no answer is
    the reference."""
    knn = est.steps[-1][1] if hasattr(est, "steps") else est
    if not isinstance(knn, neighbors.KNeighborsClassifier):
        return X
    Xt = est[:-1].transform(X) if hasattr(est, "steps") else X
    d, _ = knn.kneighbors(np.asarray(Xt, dtype=np.float64), knn.n_neighbors + 1)
    return X[d[:, -2] != d[:, -1]]


@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer", "digits"])
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classifier(session, name, dataset):
    boards_run(session, dataset == "wine" or (dataset == "digits" and name == "KNN"))
    Xtr, Xte, ytr, _ = split(dataset, f32_train=True)
    est = CLASSIFIERS[name]().fit(Xtr, ytr)
    model = microlearn.convert(est)
    assert model.module == "neighbors"
    # digits: 1347 stored samples of 64 values, 17 M instructions a prediction on a Cortex-M0
    n = 15 if dataset == "digits" else 60
    Xte = without_ties(est, Xte.astype(np.float32))
    check(est, model, Xte, session, board_samples=n)
    if dataset == "digits":
        X16 = Xte.astype(np.int16)
        check(est, model, X16, session, reference_X=X16.astype(np.float32), board_samples=n)


@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer"])
def test_minkowski(session, dataset):
    boards_run(session, dataset == "iris")
    Xtr, Xte, ytr, _ = split(dataset, f32_train=True)
    est = neighbors.KNeighborsClassifier(4, p=3, algorithm="brute").fit(Xtr, ytr)
    check(est, microlearn.convert(est), Xte.astype(np.float32), session, board_samples=30)


def test_kd_tree_wine(session):
    Xtr, Xte, ytr, _ = split("wine")
    est = neighbors.KNeighborsClassifier().fit(Xtr, ytr)
    assert est._fit_method == "kd_tree"
    check(est, microlearn.convert(est), Xte.astype(np.float32), session)


@pytest.mark.parametrize("name,make", [
    ("KNN", lambda: neighbors.KNeighborsRegressor()),
    ("KNN(distance)", lambda: neighbors.KNeighborsRegressor(7, weights="distance")),
    ("Scaled+KNN(manhattan)", lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), neighbors.KNeighborsRegressor(5, p=1))),
])
def test_regressor_diabetes(session, name, make):
    boards_run(session, name == "KNN(distance)")
    Xtr, Xte, ytr, _ = split("diabetes")
    est = make().fit(Xtr, ytr)
    check(est, microlearn.convert(est), Xte.astype(np.float32), session)
