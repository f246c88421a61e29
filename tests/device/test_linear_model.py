"""microlearn.linear_model predicts what scikit-learn predicts, on every target: labels
identical, decision values and probabilities within 1e-5 relative, on real datasets, with
pipelines of scalers and PCA, float32 and int16 inputs."""

import numpy as np
import pytest
from sklearn import decomposition, linear_model, multiclass, pipeline, preprocessing, svm

import microlearn
from sklearn_cases import boards_run, check, split

CLASSIFIERS = {
    "LogisticRegression": lambda: linear_model.LogisticRegression(max_iter=5000),
    "Scaled+LogisticRegression": lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), linear_model.LogisticRegression(max_iter=2000)),
    "OneVsRest(LogisticRegression)": lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(),
        multiclass.OneVsRestClassifier(linear_model.LogisticRegression())),
    "MinMax+SGD(log_loss)": lambda: pipeline.make_pipeline(
        preprocessing.MinMaxScaler(), linear_model.SGDClassifier(loss="log_loss",
                                                                 random_state=0)),
    "MaxAbs+SGD(modified_huber)": lambda: pipeline.make_pipeline(
        preprocessing.MaxAbsScaler(), linear_model.SGDClassifier(loss="modified_huber",
                                                                 random_state=0)),
    "Robust+Perceptron": lambda: pipeline.make_pipeline(
        preprocessing.RobustScaler(), linear_model.Perceptron(random_state=0)),
    "Scaled+LinearSVC": lambda: pipeline.make_pipeline(preprocessing.StandardScaler(),
                                                       svm.LinearSVC()),
    "PCA(whiten)+LogisticRegression": lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), decomposition.PCA(3, whiten=True),
        linear_model.LogisticRegression()),
    "RidgeClassifier": lambda: linear_model.RidgeClassifier(),
}

REGRESSORS = {
    "LinearRegression": lambda: linear_model.LinearRegression(),
    "Ridge": lambda: linear_model.Ridge(),
    "Lasso": lambda: linear_model.Lasso(0.1),
    "ElasticNet": lambda: linear_model.ElasticNet(0.01),
    "Scaled+SGDRegressor": lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), linear_model.SGDRegressor(random_state=0)),
    "Scaled+LinearSVR": lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), svm.LinearSVR(random_state=0)),
    "PCA+LinearRegression": lambda: pipeline.make_pipeline(
        preprocessing.StandardScaler(), decomposition.PCA(6), linear_model.LinearRegression()),
}


@pytest.mark.parametrize("dataset", ["iris", "wine", "breast_cancer", "digits"])
@pytest.mark.parametrize("name", list(CLASSIFIERS))
def test_classifier(session, name, dataset):
    boards_run(session, dataset == "wine" or (dataset == "digits"
                                              and name == "Scaled+LogisticRegression"))
    Xtr, Xte, ytr, _ = split(dataset)
    est = CLASSIFIERS[name]().fit(Xtr, ytr)
    model = microlearn.convert(est)
    assert model.module == "linear_model"
    check(est, model, Xte.astype(np.float32), session)
    if dataset == "digits":  # pixel counts: exact as int16, the natural type of sensor data
        check(est, model, Xte.astype(np.int16), session)


@pytest.mark.parametrize("name", list(REGRESSORS))
def test_regressor_diabetes(session, name):
    boards_run(session, name in ("LinearRegression", "Scaled+SGDRegressor",
                                 "PCA+LinearRegression"))
    Xtr, Xte, ytr, _ = split("diabetes")
    est = REGRESSORS[name]().fit(Xtr, ytr)
    check(est, microlearn.convert(est), Xte.astype(np.float32), session)
