"""scikit-learn's MLPClassifier and MLPRegressor as float32 microlearn.nn models.

    m = microlearn.convert(make_pipeline(StandardScaler(), MLPClassifier()).fit(X, y))
    m.save("mlp.nn")           # on the board: nn.load("mlp.nn"); model.run(x, proba)

Each layer is a FULLY_CONNECTED operator (weights coefs_[i].T, bias intercepts_[i]) with its
activation: relu fused into the operator's clamp, tanh and logistic as an ACTIVATION operator,
identity as nothing. The output is what scikit-learn's predict_proba gives: SOFTMAX over the
classes; for two classes, SOFTMAX over (0, z), which is (1 - expit(z), expit(z)). A regressor's
output is the last layer's values. Integer class labels are stored, so that nn's predict gives
the label. scikit-learn computes in float64, the board in float32: probabilities agree within
1e-5 (tests/device/test_nn_sklearn.py).

Scalers before the network become element-wise operators (ADD of -mean, MUL by 1/scale, in
the scaler's order, so a feature far from zero is centred before it is scaled, as in
scikit-learn); PCA becomes a FULLY_CONNECTED operator (components, -mean @ components.T,
whitening folded into both).
"""

import numpy as np

from .model import (ACT_KINDS, ARENA, CONST, OP_ACTIVATION, OP_ADD, OP_FULLY_CONNECTED, OP_MUL,
                    OP_SOFTMAX, T_FLOAT32, ConversionError, NNModel, Op, Tensor, f32_bits)

SUPPORTED = ("MLPClassifier", "MLPRegressor")
STEPS = ("StandardScaler", "MinMaxScaler", "MaxAbsScaler", "RobustScaler", "PCA")
NO_CLAMP = (f32_bits(-np.finfo(np.float32).max), f32_bits(np.finfo(np.float32).max))


class _Builder:
    def __init__(self, n_features):
        self.tensors = [Tensor("input", T_FLOAT32, (1, n_features))]
        self.ops = []
        self.x = 0  # the tensor holding the current values

    def const(self, name, values):
        values = np.ascontiguousarray(values, dtype=np.float32)
        self.tensors.append(Tensor(name, T_FLOAT32, values.shape, CONST, data=values))
        return len(self.tensors) - 1

    def emit(self, code, inputs, width, params, source, macs=0):
        self.tensors.append(Tensor(source, T_FLOAT32, (1, width), ARENA))
        y = len(self.tensors) - 1
        params = [int(p) for p in params] + [0] * (8 - len(params))
        self.ops.append(Op(code, [self.x] + inputs, y, params, source=source, macs=macs))
        self.x = y

    def width(self):
        return self.tensors[self.x].shape[1]

    def elementwise(self, code, values, source, clamp=NO_CLAMP):
        c = self.const(source, np.reshape(values, (1, -1)))
        self.emit(code, [c], self.width(), [0] * 6 + list(clamp), source)

    def dense(self, weights, bias, source, clamp=NO_CLAMP):
        """y = weights @ x + bias; weights (n_out, n_in)."""
        w = self.const(source + "/weights", weights)
        b = self.const(source + "/bias", np.reshape(bias, -1))
        n_out, n_in = np.shape(weights)
        self.emit(OP_FULLY_CONNECTED, [w, b], n_out, [0] * 6 + list(clamp), source,
                  n_in * n_out)


def _reciprocal(scale):
    return 1.0 / np.asarray(scale, dtype=np.float64)


def _add_step(b, t):
    kind = type(t).__name__
    if kind == "StandardScaler":
        if t.with_mean:
            b.elementwise(OP_ADD, -np.asarray(t.mean_), "StandardScaler mean")
        if t.with_std:
            b.elementwise(OP_MUL, _reciprocal(t.scale_), "StandardScaler scale")
    elif kind == "MinMaxScaler":
        b.elementwise(OP_MUL, t.scale_, "MinMaxScaler scale")
        lo, hi = t.feature_range
        clamp = (f32_bits(lo), f32_bits(hi)) if t.clip else NO_CLAMP
        b.elementwise(OP_ADD, t.min_, "MinMaxScaler min", clamp)
    elif kind == "MaxAbsScaler":
        b.elementwise(OP_MUL, _reciprocal(t.scale_), "MaxAbsScaler scale")
    elif kind == "RobustScaler":
        if t.with_centering:
            b.elementwise(OP_ADD, -np.asarray(t.center_), "RobustScaler center")
        if t.with_scaling:
            b.elementwise(OP_MUL, _reciprocal(t.scale_), "RobustScaler scale")
    elif kind == "PCA":
        comp = np.asarray(t.components_, dtype=np.float64)
        bias = -(np.asarray(t.mean_, dtype=np.float64) @ comp.T)
        if t.whiten:
            scale = np.sqrt(np.asarray(t.explained_variance_, dtype=np.float64))
            scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
            comp, bias = comp / scale[:, None], bias / scale
        b.dense(comp, bias, "PCA")
    else:
        raise ConversionError(f"pipeline step {kind} is not supported before an MLP. "
                              f"Supported steps: {', '.join(STEPS)}")


def _labels(est):
    classes = np.asarray(est.classes_)
    if classes.dtype.kind not in "iub" or classes.min() < -2**31 or classes.max() >= 2**31:
        return None  # the board gives class indices
    return classes.astype(np.int64)


def convert(estimator):
    """An MLPClassifier / MLPRegressor, or a Pipeline of scalers and PCA before one, as an
    NNModel (float32)."""
    steps, final = [], estimator
    if type(estimator).__name__ == "Pipeline":
        *steps, (_, final) = estimator.steps
        steps = [t for _, t in steps if t is not None and t != "passthrough"]
    kind = type(final).__name__
    if kind not in SUPPORTED:
        raise ConversionError(f"{kind} is not a multi-layer perceptron")
    if not hasattr(final, "coefs_"):
        raise ConversionError(f"{kind} is not fitted")
    n_in = steps[0].n_features_in_ if steps else final.n_features_in_
    b = _Builder(int(n_in))
    for t in steps:
        _add_step(b, t)
    if b.width() != final.n_features_in_:
        raise ConversionError(f"the pipeline gives {b.width()} values, {kind} takes "
                              f"{final.n_features_in_}")
    hidden = final.activation
    if hidden not in ("relu", "tanh", "logistic", "identity"):
        raise ConversionError(f"{kind}: activation {hidden!r} is not supported (relu, tanh, "
                              "logistic, identity are)")
    out = final.out_activation_
    if kind == "MLPClassifier" and out == "logistic" and final.n_outputs_ > 1:
        raise ConversionError("MLPClassifier with several labels per sample (multilabel) is "
                              "not supported (binary and multiclass are)")
    n_layers = len(final.coefs_)
    for i, (w, bias) in enumerate(zip(final.coefs_, final.intercepts_)):
        w = np.asarray(w, dtype=np.float64).T
        bias = np.asarray(bias, dtype=np.float64)
        last = i == n_layers - 1
        act = out if last else hidden
        if last and out == "logistic":
            # (1 - expit(z), expit(z)) = softmax(0, z)
            w = np.vstack([np.zeros_like(w), w])
            bias = np.concatenate([[0.0], bias])
        b.dense(w, bias, f"layer {i + 1}", (f32_bits(0.0), NO_CLAMP[1]) if act == "relu"
                else NO_CLAMP)
        if act in ("tanh", "logistic") and not (last and out == "logistic"):
            b.emit(OP_ACTIVATION, [], b.width(), [ACT_KINDS[act], 0], act)
        elif act in ("softmax", "logistic"):
            b.emit(OP_SOFTMAX, [], b.width(), [b.width(), f32_bits(1.0)], "softmax")
        elif act not in ("relu", "identity"):
            raise ConversionError(f"{kind}: output activation {act!r} is not supported")
    model = NNModel(b.tensors, b.ops, 0, b.x)
    if kind == "MLPClassifier":
        model.labels = _labels(final)
        model.n_classes = len(final.classes_)
    model.estimator = "+".join([type(t).__name__ for t in steps] + [kind])
    return model
