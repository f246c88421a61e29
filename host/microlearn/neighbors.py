"""Convert scikit-learn's nearest-neighbour models (core/ml_neighbors.h) for
microlearn.neighbors: KNeighborsClassifier, KNeighborsRegressor, NearestCentroid."""

import struct

import numpy as np

from . import blob
from .estimators import CLASSIFIER, INT_PREDICT, ConversionError, EstimatorModel, classes_and_labels, f64

SUPPORTED = ("KNeighborsClassifier", "KNeighborsRegressor", "NearestCentroid",
             "LocalOutlierFactor")

KNN_CLASSIFIER, KNN_REGRESSOR, NEAREST_CENTROID, LOF = 0, 1, 2, 3
EUCLIDEAN, EUCLIDEAN_GEMM, MANHATTAN, MINKOWSKI, CHEBYSHEV = 0, 1, 2, 3, 4
METRICS = ("euclidean", "manhattan", "minkowski", "chebyshev")


def _metric(est, brute):
    """(metric code, p) of scikit-learn's effective metric."""
    metric = getattr(est, "effective_metric_", est.metric)
    params = getattr(est, "effective_metric_params_", None) or {}
    p = float(params.get("p", getattr(est, "p", 2) or 2))
    if metric == "minkowski":
        metric = {1.0: "manhattan", 2.0: "euclidean"}.get(p, metric)
    if metric in ("l2",):
        metric = "euclidean"
    if metric in ("l1", "cityblock"):
        metric = "manhattan"
    if metric == "infinity":
        metric = "chebyshev"
    if metric not in METRICS or (metric == "minkowski" and not p >= 1):
        raise ConversionError(f"{type(est).__name__}: metric {metric!r} is not supported "
                              f"(supported: {', '.join(METRICS)} with p >= 1)")
    if getattr(est, "metric_params", None) and set(est.metric_params) - {"p"}:
        raise ConversionError(f"{type(est).__name__}: metric_params {est.metric_params} are not "
                              "supported")
    code = {"euclidean": EUCLIDEAN_GEMM if brute else EUCLIDEAN, "manhattan": MANHATTAN,
            "minkowski": MINKOWSKI, "chebyshev": CHEBYSHEV}[metric]
    return code, p


def _samples(fit_x):
    """The samples as float32 when that is exact (half the flash), else float64."""
    x = np.asarray(fit_x, dtype=np.float64)
    x32 = x.astype(np.float32)
    if np.array_equal(x32.astype(np.float64), x):
        return 1, (b"fx32", np.ascontiguousarray(x32, dtype="<f4").tobytes())
    return 0, (b"fx64", f64(x).tobytes())


def convert(est, steps, name):
    kind = type(est).__name__
    n_inputs = int(est.n_features_in_)
    n_features = steps[0][1] if steps else n_inputs
    if kind == "NearestCentroid":
        prior = np.asarray(est.class_prior_)
        if not np.isclose(prior, 1 / len(est.classes_)).all():
            raise ConversionError("NearestCentroid with non-uniform priors is not supported "
                                  "(priors='uniform' is)")
        fit_x, k, weights, variant = est.centroids_, 1, 0, NEAREST_CENTROID
        metric, p = _metric(est, brute=True)
        fit_y = np.arange(len(est.classes_))
        n_classes, labels = classes_and_labels(est)
    elif kind == "LocalOutlierFactor":
        if not est.novelty:
            raise ConversionError("LocalOutlierFactor needs novelty=True to predict new "
                                  "samples (as in scikit-learn)")
        fit_x, k, weights, variant = est._fit_X, int(est.n_neighbors_), 0, LOF
        metric, p = _metric(est, brute=est._fit_method == "brute")
        fit_y, n_classes, labels = None, 0, None
    else:
        if est._fit_method not in ("brute", "kd_tree", "ball_tree"):
            raise ConversionError(f"{kind}: algorithm {est._fit_method!r} is not supported")
        if est.weights not in ("uniform", "distance"):
            raise ConversionError(f"{kind}: weights={est.weights!r} is not supported "
                                  "('uniform' and 'distance' are)")
        fit_x, k = est._fit_X, int(est.n_neighbors)
        weights = int(est.weights == "distance")
        metric, p = _metric(est, brute=est._fit_method == "brute")
        if kind == "KNeighborsClassifier":
            if getattr(est, "outputs_2d_", False):
                raise ConversionError(f"{kind} with several outputs is not supported")
            variant, fit_y = KNN_CLASSIFIER, np.asarray(est._y)
            n_classes, labels = classes_and_labels(est)
        else:
            y = np.asarray(est._y, dtype=np.float64)
            if y.ndim != 1:
                raise ConversionError(f"{kind} with several targets is not supported")
            variant, fit_y, n_classes, labels = KNN_REGRESSOR, y, 0, None
    n_samples = len(fit_x)
    if k > min(n_samples, 1024):
        raise ConversionError(f"{kind}: n_neighbors={k} is above the samples or 1024")
    f32, xsec = _samples(fit_x)
    sections = [(b"nbrs", struct.pack("<5I", n_samples, k, metric, weights, f32)), xsec]
    if metric == MINKOWSKI:
        sections.append((b"mink", f64([p]).tobytes()))
    if metric == EUCLIDEAN_GEMM:
        x = np.frombuffer(xsec[1], "<f4" if f32 else "<f8").astype(np.float64)
        x = x.reshape(n_samples, n_inputs)
        sections.append((b"fxnn", f64(np.einsum("ij,ij->i", x, x)).tobytes()))
    if variant == KNN_REGRESSOR:
        sections.append((b"fyvl", f64(fit_y).tobytes()))
    elif variant == LOF:
        sections += [(b"lofk", f64(est._distances_fit_X_[:, k - 1]).tobytes()),
                     (b"lofr", f64(est._lrd).tobytes()), (b"lofo", f64([est.offset_]).tobytes())]
    else:
        sections.append((b"fycl", np.asarray(fit_y, dtype="<u4").tobytes()))
    widths = {"predict": 1}
    if variant == KNN_CLASSIFIER:
        widths["predict_proba"] = n_classes
    if variant == LOF:
        widths["decision_function"] = widths["score_samples"] = 1
    flags = {KNN_CLASSIFIER: CLASSIFIER, NEAREST_CENTROID: CLASSIFIER, KNN_REGRESSOR: 0,
             LOF: INT_PREDICT}[variant]
    return EstimatorModel(
        blob.NEIGHBORS, name, n_features, n_inputs, n_classes=n_classes, variant=variant,
        flags=flags, labels=labels, steps=steps,
        sections=sections, widths=widths, scratch=2 * k + n_classes)


def learner_memory(n_features, capacity, n_neighbors=5, metric="minkowski", p=2):
    """Bytes of RAM of neighbors.KNeighborsClassifier(n_features, capacity, ...) made on the
    board (ml_neighbors_learner_size): work memory for capacity classes, the samples as
    float32, their squared norms (euclidean), their classes and the sorted labels."""
    def align8(n):
        return (n + 7) // 8 * 8

    euclidean = metric == "euclidean" or (metric == "minkowski" and p == 2)
    size = 8 * (2 * n_features + capacity + 2 * n_neighbors + capacity)
    size += 8 * capacity if euclidean else 0
    return size + align8(4 * capacity * n_features) + 2 * align8(4 * capacity)
