"""Convert scikit-learn's linear models (core/ml_linear.h) for microlearn.linear_model."""

import numpy as np

from . import blob
from .estimators import CLASSIFIER, ConversionError, EstimatorModel, classes_and_labels, f64

CLASSIFIERS = ("LogisticRegression", "SGDClassifier", "Perceptron", "LinearSVC",
               "RidgeClassifier", "OneVsRestClassifier")
REGRESSORS = ("LinearRegression", "Ridge", "Lasso", "ElasticNet", "SGDRegressor", "LinearSVR")
SUPPORTED = CLASSIFIERS + REGRESSORS

PROBA_NONE, PROBA_LOGISTIC, PROBA_OVR_LOGISTIC, PROBA_MODIFIED_HUBER = 0, 1, 2, 3

# Learning on the device (core/ml_linear.h, section 'sgdl'): scikit-learn's SGD settings.
SGD_LOSSES = {"hinge": 1, "squared_hinge": 2, "perceptron": 3, "log_loss": 4,
              "modified_huber": 5, "squared_error": 6, "huber": 7, "epsilon_insensitive": 8,
              "squared_epsilon_insensitive": 9}
SGD_PENALTIES = {None: 0, "none": 0, "l1": 1, "l2": 2, "elasticnet": 3}
SGD_RATES = {"constant": 1, "optimal": 2, "invscaling": 3, "adaptive": 4}


def _sgd_section(est):
    """The state partial_fit continues from on the device, for the SGD models that can
    (average=False, early_stopping=False); None for the others."""
    if type(est).__name__ not in ("SGDClassifier", "SGDRegressor", "Perceptron"):
        return None
    if est.average or est.early_stopping or not hasattr(est, "t_"):
        return None
    loss = SGD_LOSSES.get(est.loss)
    penalty = SGD_PENALTIES.get(est.penalty if est.penalty is None else str(est.penalty).lower())
    rate = SGD_RATES.get(est.learning_rate)
    if loss is None or penalty is None or rate is None:
        return None
    head = [loss, penalty, rate, float(bool(est.fit_intercept)), float(est.t_),
            float(est.alpha), float(est.l1_ratio or 0.0), float(est.eta0), float(est.power_t),
            float(getattr(est, "epsilon", 0.0))]
    weights = list(np.asarray(getattr(est, "_expanded_class_weight", []), dtype=np.float64))
    return (b"sgdl", f64(head + weights).tobytes())


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
        sections = [(b"coef", f64(coef).tobytes()), (b"icpt", f64(intercept).tobytes())]
        sgd = _sgd_section(est)
        return EstimatorModel(
            blob.LINEAR, name, n_features, n_inputs, steps=steps,
            sections=sections + ([sgd] if sgd else []), widths={"predict": 1},
            scratch=1 + (2 * n_inputs if sgd else 0))
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
    sgd = _sgd_section(est)
    return EstimatorModel(
        blob.LINEAR, name, n_features, n_inputs, n_classes=n_classes, variant=proba,
        flags=CLASSIFIER, labels=labels, steps=steps,
        sections=[(b"coef", f64(coef).tobytes()), (b"icpt", f64(intercept).tobytes())]
        + ([sgd] if sgd else []), widths=widths, scratch=rows + (2 * n_inputs if sgd else 0))
