"""Convert scikit-learn's linear models (core/ml_linear.h) for microlearn.linear_model."""

import numpy as np

from . import blob
from .estimators import CLASSIFIER, ConversionError, EstimatorModel, classes_and_labels, f64

CLASSIFIERS = ("LogisticRegression", "SGDClassifier", "Perceptron", "LinearSVC",
               "RidgeClassifier", "OneVsRestClassifier")
REGRESSORS = ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor", "LinearSVR")
SUPPORTED = CLASSIFIERS + REGRESSORS

PROBA_NONE, PROBA_LOGISTIC, PROBA_OVR_LOGISTIC, PROBA_MODIFIED_HUBER = 0, 1, 2, 3


def _proba_of(est, multiclass_softmax):
    kind = type(est).__name__
    if kind == "LogisticRegression":
        return PROBA_LOGISTIC if multiclass_softmax else PROBA_OVR_LOGISTIC
    if kind == "SGDClassifier":
        return {"log_loss": PROBA_OVR_LOGISTIC,
                "modified_huber": PROBA_MODIFIED_HUBER}.get(est.loss, PROBA_NONE)
    return PROBA_NONE


def convert(est, steps, name):
    kind = type(est).__name__
    n_inputs = int(est.n_features_in_)
    n_features = steps[0][1] if steps else n_inputs
    if kind in REGRESSORS:
        coef = np.asarray(est.coef_, dtype=np.float64)
        if coef.ndim != 1 and coef.shape[0] != 1:
            raise ConversionError(f"{kind} with {coef.shape[0]} targets is not supported "
                                  "(one target is)")
        coef = coef.reshape(1, -1)
        intercept = np.asarray(est.intercept_, dtype=np.float64).reshape(1)
        return EstimatorModel(
            blob.LINEAR, name, n_features, n_inputs, steps=steps,
            sections=[(b"coef", f64(coef).tobytes()), (b"icpt", f64(intercept).tobytes())],
            widths={"predict": 1}, scratch=1)
    if kind == "OneVsRestClassifier":
        n_classes, labels = classes_and_labels(est)
        inner = est.estimators_
        names = {type(e).__name__ for e in inner}
        if len(names) != 1 or not names <= set(CLASSIFIERS[:-1]):
            raise ConversionError(f"OneVsRestClassifier of {', '.join(sorted(names))} is not "
                                  f"supported (of {', '.join(CLASSIFIERS[:-1])} it is)")
        if n_classes == 2:
            model = convert(inner[0], steps, name)
            model.labels = labels
            return model
        if getattr(est, "label_binarizer_", None) is not None and \
                est.label_binarizer_.y_type_ != "multiclass":
            raise ConversionError("OneVsRestClassifier: multilabel targets are not supported")
        coef = np.vstack([np.asarray(e.coef_, dtype=np.float64).reshape(1, -1) for e in inner])
        intercept = np.array([np.ravel(e.intercept_)[0] for e in inner], dtype=np.float64)
        proba = _proba_of(inner[0], multiclass_softmax=False)
        if proba == PROBA_LOGISTIC:
            proba = PROBA_OVR_LOGISTIC
    elif kind in CLASSIFIERS:
        n_classes, labels = classes_and_labels(est)
        coef = np.asarray(est.coef_, dtype=np.float64)
        coef = coef.reshape(1, -1) if coef.ndim == 1 else coef
        intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))
        if np.ndim(est.intercept_) == 0:
            intercept = np.full(coef.shape[0], float(est.intercept_))
        proba = _proba_of(est, multiclass_softmax=True)
    else:
        raise ConversionError(f"{kind} is not a linear model")
    rows = coef.shape[0]
    if coef.shape[1] != n_inputs or rows != (1 if n_classes == 2 else n_classes):
        raise ConversionError(f"{kind}: coef_ has shape {coef.shape}, expected "
                              f"({1 if n_classes == 2 else n_classes}, {n_inputs})")
    widths = {"predict": 1, "decision_function": rows}
    if proba != PROBA_NONE:
        widths["predict_proba"] = n_classes
    return EstimatorModel(
        blob.LINEAR, name, n_features, n_inputs, n_classes=n_classes, variant=proba,
        flags=CLASSIFIER, labels=labels, steps=steps,
        sections=[(b"coef", f64(coef).tobytes()), (b"icpt", f64(intercept).tobytes())],
        widths=widths, scratch=rows)
