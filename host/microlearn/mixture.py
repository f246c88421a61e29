"""Convert scikit-learn's GaussianMixture (core/ml_mixture.h) for microlearn.mixture."""

import math

import numpy as np

from . import blob
from .estimators import INT_PREDICT, ConversionError, EstimatorModel, f64

SUPPORTED = ("GaussianMixture",)
TYPES = ("full", "tied", "diag", "spherical")


def convert(est, steps, name):
    from sklearn.mixture._gaussian_mixture import _compute_log_det_cholesky

    n = int(est.n_features_in_)
    n_features = steps[0][1] if steps else n
    cov = est.covariance_type
    if cov not in TYPES:
        raise ConversionError(f"GaussianMixture: covariance_type {cov!r} is not supported")
    means = np.asarray(est.means_, dtype=np.float64)
    k = len(means)
    pc = np.asarray(est.precisions_cholesky_, dtype=np.float64)
    log_det = np.broadcast_to(np.asarray(_compute_log_det_cholesky(pc, cov, n), float), (k,))
    secs = [(b"gmmw", f64(np.log(est.weights_))), (b"gmmd", f64(log_det)),
            (b"gmmc", f64([n * math.log(2 * math.pi)]))]
    if cov == "full":
        mu_pc = np.array([means[c] @ pc[c] for c in range(k)])
        secs += [(b"gmmp", f64(pc)), (b"gmmu", f64(mu_pc))]
    elif cov == "tied":
        secs += [(b"gmmp", f64(pc)), (b"gmmu", f64(np.array([means[c] @ pc
                                                              for c in range(k)])))]
    elif cov == "diag":
        prec = pc ** 2
        secs += [(b"gmma", f64(np.sum(means ** 2 * prec, axis=1))),
                 (b"gmmb", f64(means * prec)), (b"gmmp", f64(prec))]
    else:
        prec = pc ** 2
        secs += [(b"gmma", f64(np.sum(means ** 2, axis=1) * prec)), (b"gmmb", f64(means)),
                 (b"gmmp", f64(prec))]
    return EstimatorModel(
        blob.MIXTURE, name, n_features, n, variant=TYPES.index(cov), flags=INT_PREDICT,
        steps=steps, sections=[(sid, v.tobytes()) for sid, v in secs],
        widths={"predict": 1, "predict_proba": k, "score_samples": 1}, scratch=k + n)
