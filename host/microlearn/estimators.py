"""What the converters of scikit-learn's model families share (core/ml_estimator.h): the
binary model file with its common sections, and the preprocessing steps of a pipeline.

    model = microlearn.convert(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y))
    model.save("model.mlb")              # binary (format="bin"); load on the device with microlearn.linear_model.load

A pipeline's scalers and PCA become preprocessing steps run in float64 by the device, with
float32 rounding where scikit-learn keeps float32 inputs float32, so that the estimator sees
the values it sees in scikit-learn. They are kept as steps, not folded into the estimator's
coefficients: folding changes the rounding, which moves scores in their last bits and can
flip a label at a near tie.
"""

import struct

import numpy as np

from . import blob
from .trees import ConversionError

FORMAT_VERSION = 1

# Methods, in the order of ml_method_t (core/ml_estimator.h).
METHODS = ("predict", "decision_function", "predict_proba", "score_samples", "transform")

CLASSIFIER, INT_PREDICT = 1, 2
SUB, DIV, MUL, ADD, MATMUL = 1, 2, 3, 4, 5
F32_RESULT, F32_VALUES = 1, 2

SCALERS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler", "PCA")


def f64(values):
    return np.ascontiguousarray(values, dtype="<f8").ravel()


class EstimatorModel:
    """A converted scikit-learn estimator (or pipeline) of one of the binary-file families."""

    def __init__(self, kind, name, n_features, n_inputs, n_classes=0, variant=0, flags=0,
                 labels=None, steps=(), sections=(), widths=None, scratch=0):
        self.kind = kind
        self.module = blob.KIND_NAMES[kind]  # the device module that loads it
        self.name = name
        self.n_features = n_features
        self.n_inputs = n_inputs
        self.n_classes = n_classes
        self.variant = variant
        self.flags = flags
        self.labels = labels
        self.steps = list(steps)  # (op, n_in, n_out, flags, float64 values)
        self.sections = list(sections)  # the family's (id, bytes)
        self.widths = dict(widths or {})  # method name -> values per sample
        self.scratch = scratch  # float64 values of work the family needs

    @property
    def is_classifier(self):
        return bool(self.flags & CLASSIFIER)

    @property
    def int_predict(self):
        return bool(self.flags & (CLASSIFIER | INT_PREDICT))

    def to_bytes(self):
        secs = [(b"estm", struct.pack("<5I", self.n_features, self.n_inputs, self.n_classes,
                                      self.variant, self.flags))]
        if self.labels is not None:
            secs.append((b"labl", np.asarray(self.labels, dtype="<i4").tobytes()))
        secs.append((b"name", self.name.encode()[:256]))
        if self.steps:
            secs.append((b"prep", b"".join(struct.pack("<4I", op, a, b, fl)
                                           for op, a, b, fl, _ in self.steps)))
            secs.append((b"prpv", b"".join(f64(v).tobytes() for *_, v in self.steps)))
        return blob.pack(self.kind, FORMAT_VERSION, secs + self.sections)

    def work_size(self):
        """Bytes of RAM the model needs besides its file (ml_est_work_size)."""
        width = max([self.n_features] + [b for _, _, b, _, _ in self.steps])
        out = max([1] + list(self.widths.values()))
        return 8 * (2 * width + out + self.scratch)

    def memory_size(self):
        """Bytes of RAM when loaded from a file (the file's block and the work memory); a
        model used in place from flash takes only work_size()."""
        return len(self.to_bytes()) + self.work_size()

    def describe(self):
        return (f"{self.name} for microlearn.{self.module}, {self.n_features} features"
                + (f", {self.n_classes} classes" if self.n_classes else ""))

    def save(self, file=None, name=None, format="bin"):
        """Writes the binary model file (format="bin"), or a C header with it (format="c");
        returns the bytes written."""
        data = self.to_bytes()
        if format == "c":
            try:
                data = blob.c_array(data, name or "model",
                                    f"{name or 'model'}: {self.describe()}, converted by "
                                    "microlearn.").encode()
            except ValueError as e:
                raise ConversionError(str(e)) from None
        elif format != "bin":
            raise ConversionError(f"format must be 'bin' or 'c', got {format!r}")
        if file is None:
            return data
        if hasattr(file, "write"):
            file.write(data)
        else:
            with open(file, "wb") as f:
                f.write(data)
        return data


# ---------------------------------------------------------------------------------------------
# Pipelines


def _steps_of(t):
    """Preprocessing steps of one fitted transformer, as numpy applies them to float32 input:
    the scalers transform in place (float32 stays float32), PCA multiplies by float64
    components (the result is float64)."""
    kind = type(t).__name__
    nf = int(t.n_features_in_)
    if kind == "StandardScaler":
        # X -= mean.astype(X.dtype); X /= scale.astype(X.dtype)
        s = []
        if t.with_mean:
            s.append((SUB, nf, nf, F32_RESULT | F32_VALUES, t.mean_))
        if t.with_std:
            s.append((DIV, nf, nf, F32_RESULT | F32_VALUES, t.scale_))
        return s
    if kind == "MinMaxScaler":
        if t.clip:
            raise ConversionError("MinMaxScaler(clip=True) is not supported (clip=False is)")
        return [(MUL, nf, nf, F32_RESULT, t.scale_), (ADD, nf, nf, F32_RESULT, t.min_)]
    if kind == "MaxAbsScaler":
        return [(DIV, nf, nf, F32_RESULT, t.scale_)]
    if kind == "RobustScaler":
        s = []
        if t.with_centering:
            s.append((SUB, nf, nf, F32_RESULT, t.center_))
        if t.with_scaling:
            s.append((DIV, nf, nf, F32_RESULT, t.scale_))
        return s
    if kind == "PCA":
        comp = np.asarray(t.components_)
        keep = F32_RESULT if comp.dtype == np.float32 else 0
        nc = comp.shape[0]
        s = [(MATMUL, nf, nc, keep, comp), (SUB, nc, nc, keep, t.mean_ @ comp.T)]
        if t.whiten:
            scale = np.sqrt(t.explained_variance_)
            scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
            s.append((DIV, nc, nc, keep, scale))
        return s
    raise ConversionError(f"pipeline step {kind} is not supported. Supported steps: "
                          f"{', '.join(SCALERS)}")


def split_pipeline(estimator):
    """(preprocessing steps, final estimator, name) of an estimator or a fitted Pipeline."""
    if type(estimator).__name__ != "Pipeline":
        return [], estimator, type(estimator).__name__
    steps, names = [], []
    *transformers, (_, final) = estimator.steps
    for _, t in transformers:
        if t is None or t == "passthrough":
            continue
        steps += _steps_of(t)
        names.append(type(t).__name__)
    if type(final).__name__ == "Pipeline":
        raise ConversionError("a Pipeline inside a Pipeline is not supported")
    names.append(type(final).__name__)
    return steps, final, "+".join(names)


def classes_and_labels(est):
    """(n_classes, int32 labels or None): integer labels as they are, others by index."""
    classes = np.asarray(est.classes_)
    labels = classes.astype(np.int64) if classes.dtype.kind in "iub" else None
    if labels is not None and (labels.min() < -2**31 or labels.max() >= 2**31):
        labels = None
    return len(classes), labels
