"""Convert scikit-learn's kernel SVMs (core/ml_svm.h) for microlearn.svm: SVC, NuSVC, SVR,
NuSVR, OneClassSVM with linear, poly, rbf and sigmoid kernels."""

import struct

import numpy as np

from . import blob
from .estimators import CLASSIFIER, INT_PREDICT, ConversionError, EstimatorModel, \
    classes_and_labels, f64

CLASSIFIERS = ("SVC", "NuSVC")
REGRESSORS = ("SVR", "NuSVR")
SUPPORTED = CLASSIFIERS + REGRESSORS + ("OneClassSVM",)
KERNELS = ("linear", "poly", "rbf", "sigmoid")


def convert(est, steps, name):
    kind = type(est).__name__
    n_inputs = int(est.n_features_in_)
    n_features = steps[0][1] if steps else n_inputs
    if est.kernel not in KERNELS:
        raise ConversionError(f"{kind}: kernel {est.kernel!r} is not supported "
                              f"(supported: {', '.join(KERNELS)})")
    if est.kernel == "poly" and not 0 <= est.degree <= 64:
        raise ConversionError(f"{kind}: degree {est.degree} is not supported (0 to 64 is)")
    sv = np.asarray(est.support_vectors_, dtype=np.float64)
    n_sv = len(sv)
    dual = np.asarray(est._dual_coef_, dtype=np.float64)
    intercept = np.asarray(est._intercept_, dtype=np.float64)
    n_classes, labels, flags = 0, None, 0
    widths, sections = {"predict": 1}, []
    if kind in CLASSIFIERS:
        variant, flags = 0, CLASSIFIER
        n_classes, labels = classes_and_labels(est)
        if getattr(est, "break_ties", False) and n_classes > 2:
            raise ConversionError(f"{kind}(break_ties=True) is not supported")
        ovr = int(est.decision_function_shape == "ovr")
        pairs = n_classes * (n_classes - 1) // 2
        widths["decision_function"] = 1 if n_classes == 2 else n_classes if ovr else pairs
        sections.append((b"svns", np.asarray(est._n_support, dtype="<u4").tobytes()))
        if np.size(est._probA) and np.size(est._probB):
            widths["predict_proba"] = n_classes
            sections += [(b"svpa", f64(est._probA).tobytes()),
                         (b"svpb", f64(est._probB).tobytes())]
    elif kind in REGRESSORS:
        variant, ovr, pairs = 1, 0, 1
    else:
        variant, ovr, pairs, flags = 2, 0, 1, INT_PREDICT
        widths["decision_function"] = widths["score_samples"] = 1
        sections.append((b"svof", f64([est.offset_[0] if np.ndim(est.offset_) else
                                       est.offset_]).tobytes()))
    gamma = est._gamma if est.kernel != "linear" else 0.0
    sections = [(b"svmh", struct.pack("<4I", KERNELS.index(est.kernel), int(est.degree),
                                      n_sv, ovr)),
                (b"svmk", f64([gamma, est.coef0]).tobytes()),
                (b"svsv", f64(sv).tobytes()), (b"svdc", f64(dual).tobytes()),
                (b"svic", f64(intercept).tobytes())] + sections
    nc = n_classes
    return EstimatorModel(
        blob.SVM, name, n_features, n_inputs, n_classes=n_classes, variant=variant, flags=flags,
        labels=labels, steps=steps, sections=sections, widths=widths,
        scratch=n_sv + pairs + 2 * nc + 2 * nc * nc + nc)
