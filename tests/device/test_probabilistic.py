"""microlearn.naive_bayes, microlearn.mixture and microlearn.cluster give what scikit-learn
gives, on every target: labels/components/clusters identical, probabilities, log-likelihoods
and distances within 1e-5 relative.

A KMeans fitted on float64 data cannot predict float32 input in scikit-learn 1.9 (its Cython
helper refuses the mixed dtypes); the device computes as for the same values in float64, which
is what these tests compare with."""

import numpy as np
import pytest
from sklearn import cluster, mixture, naive_bayes, pipeline, preprocessing

import microlearn
from sklearn_cases import boards_run, check, split


@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer", "digits"])
def test_gaussian_nb(session, dataset):
    boards_run(session, dataset in ("wine", "digits"))
    Xtr, Xte, ytr, _ = split(dataset)
    est = naive_bayes.GaussianNB().fit(Xtr, ytr)
    model = microlearn.convert(est)
    assert model.module == "naive_bayes"
    check(est, model, Xte.astype(np.float32), session)
    if dataset == "digits":
        check(est, model, Xte.astype(np.int16), session)


def test_gaussian_nb_pipeline(session):
    Xtr, Xte, ytr, _ = split("wine")
    est = pipeline.make_pipeline(preprocessing.StandardScaler(), naive_bayes.GaussianNB())
    est.fit(Xtr, ytr)
    check(est, microlearn.convert(est), Xte.astype(np.float32), session)


@pytest.mark.parametrize("cov", ["full", "tied", "diag"])
@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer"])
def test_gaussian_mixture(session, cov, dataset):
    boards_run(session, dataset == "wine")
    Xtr, Xte, _, _ = split(dataset)
    est = pipeline.make_pipeline(preprocessing.StandardScaler(),
                                 mixture.GaussianMixture(3, covariance_type=cov,
                                                         random_state=0))
    est.fit(Xtr)
    model = microlearn.convert(est)
    assert model.module == "mixture"
    check(est, model, Xte.astype(np.float32), session)


@pytest.mark.parametrize("make", [lambda: cluster.KMeans(8, n_init=3, random_state=0),
                                  lambda: cluster.MiniBatchKMeans(8, n_init=3, random_state=0)])
@pytest.mark.parametrize("dataset", ["iris", "wine", "digits"])
def test_kmeans(session, make, dataset):
    boards_run(session, dataset == "digits")
    Xtr, Xte, _, _ = split(dataset)
    est = make().fit(Xtr)
    model = microlearn.convert(est)
    assert model.module == "cluster"
    X = Xte.astype(np.float32)
    check(est, model, X, session, reference_X=X.astype(np.float64))
    if dataset == "digits":
        check(est, model, Xte.astype(np.int16), session)


@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer"])
def test_gaussian_mixture_spherical(session, dataset):
    boards_run(session, dataset == "wine")
    # scikit-learn sums |x|^2 of float32 input in float32, in numpy's SIMD order (which depends
    # on the host CPU); microlearn sums in float64, so it is compared with scikit-learn on the
    # same values in float64.
    Xtr, Xte, _, _ = split(dataset)
    est = mixture.GaussianMixture(3, covariance_type="spherical", random_state=0).fit(Xtr)
    X = Xte.astype(np.float32)
    check(est, microlearn.convert(est), X, session, reference_X=X.astype(np.float64))
