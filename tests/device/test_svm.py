"""microlearn.svm gives what scikit-learn (libsvm) gives, on every target: labels identical,
decision values and probabilities (Platt scaling, pairwise coupling) within 1e-5 relative."""

import numpy as np
import pytest
from sklearn import pipeline, preprocessing, svm

import microlearn
from sklearn_cases import boards_run, check, split

KERNELS = {
    "linear": dict(kernel="linear"),
    "rbf": dict(kernel="rbf"),
    "poly": dict(kernel="poly", degree=3, coef0=1.0),
    "sigmoid": dict(kernel="sigmoid", gamma=0.01, coef0=0.5),
}


def scaled(est):
    return pipeline.make_pipeline(preprocessing.StandardScaler(), est)


@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer", "digits"])
@pytest.mark.parametrize("kernel", list(KERNELS))
def test_svc(session, kernel, dataset):
    boards_run(session, dataset == "wine" or (dataset == "digits" and kernel == "rbf"))
    Xtr, Xte, ytr, _ = split(dataset)
    est = scaled(svm.SVC(probability=dataset != "digits", random_state=0,
                         **KERNELS[kernel])).fit(Xtr, ytr)
    model = microlearn.convert(est)
    assert model.module == "svm"
    check(est, model, Xte.astype(np.float32), session)
    if dataset == "digits":
        check(est, model, Xte.astype(np.int16), session)


def test_svc_ovo_nusvc(session):
    Xtr, Xte, ytr, _ = split("wine")
    for est in (scaled(svm.SVC(decision_function_shape="ovo")),
                scaled(svm.NuSVC(probability=True, random_state=0))):
        est.fit(Xtr, ytr)
        check(est, microlearn.convert(est), Xte.astype(np.float32), session)


@pytest.mark.parametrize("kernel", list(KERNELS))
def test_svr_diabetes(session, kernel):
    boards_run(session, kernel == "rbf")
    Xtr, Xte, ytr, _ = split("diabetes")
    est = scaled(svm.SVR(C=50, **KERNELS[kernel])).fit(Xtr, ytr)
    check(est, microlearn.convert(est), Xte.astype(np.float32), session)
    est = scaled(svm.NuSVR(C=50)).fit(Xtr, ytr)
    check(est, microlearn.convert(est), Xte.astype(np.float32), session)
