"""Convert scikit-learn's EllipticEnvelope (core/ml_covariance.h) for microlearn.covariance."""

from . import blob
from .estimators import INT_PREDICT, EstimatorModel, f64

SUPPORTED = ("EllipticEnvelope",)


def convert(est, steps, name):
    n = int(est.n_features_in_)
    n_features = steps[0][1] if steps else n
    sections = [(b"covl", f64(est.location_).tobytes()),
                (b"covp", f64(est.get_precision()).tobytes()),
                (b"covo", f64([est.offset_]).tobytes())]
    return EstimatorModel(
        blob.COVARIANCE, name, n_features, n, flags=INT_PREDICT, steps=steps, sections=sections,
        widths={"predict": 1, "decision_function": 1, "score_samples": 1}, scratch=n)
