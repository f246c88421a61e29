"""Convert scikit-learn's GaussianNB (core/ml_naive_bayes.h) for microlearn.naive_bayes."""

import numpy as np

from . import blob
from .estimators import CLASSIFIER, EstimatorModel, classes_and_labels, f64

SUPPORTED = ("GaussianNB",)


def convert(est, steps, name):
    n_inputs = int(est.n_features_in_)
    n_features = steps[0][1] if steps else n_inputs
    n_classes, labels = classes_and_labels(est)
    # The per-class constants as scikit-learn computes them in _joint_log_likelihood.
    consts = np.array([[np.log(est.class_prior_[i]),
                        -0.5 * np.sum(np.log(2.0 * np.pi * est.var_[i, :]))]
                       for i in range(n_classes)])
    # What partial_fit on the device continues from (core/ml_naive_bayes.h).
    learn = [float(est.var_smoothing), float(est.epsilon_), float(est.priors is not None)]
    learn += list(np.asarray(est.class_count_, dtype=np.float64))
    return EstimatorModel(
        blob.NAIVE_BAYES, name, n_features, n_inputs, n_classes=n_classes, flags=CLASSIFIER,
        labels=labels, steps=steps,
        sections=[(b"gnbc", f64(consts).tobytes()), (b"gnbm", f64(est.theta_).tobytes()),
                  (b"gnbv", f64(est.var_).tobytes()), (b"gnbn", f64(learn).tobytes())],
        widths={"predict": 1, "predict_proba": n_classes}, scratch=n_classes + 2 * n_inputs)
