"""Recurrent networks (Keras GRU and LSTM) for microlearn.nn, converted from the Keras model
itself: TFLite's converter turns a GRU into a while loop and an LSTM into its own fused
operator, while the Keras layer's three weight arrays are all the C core needs. A sequential
model of GRU, LSTM, Dense, Dropout and Activation layers becomes GRU/LSTM operators
(core/ml_nn_rnn.c) followed by FULLY_CONNECTED, ACTIVATION and SOFTMAX (float32).

quantize="q15" (or "int8"): the recurrent layers get int8 weights (one scale per gate unit)
with q15 state and activations; the Dense layers stay float32. This module also holds the
numpy reference of the GRU and LSTM operators, bit-exact with the C core for q15.
"""

import math

import numpy as np

from . import fixedpoint as fp
from . import model as M

Q12 = 4096  # gate pre-activations have 12 fractional bits
LIM24 = 1 << 24
# tanh(i / 32) in q15, i = 0..256: the table of core/ml_nn_rnn.c
TANH_TABLE = np.array([min(round(math.tanh(i / 32) * 32768), 32767) for i in range(257)],
                      np.int64)

_RECURRENT = ("GRU", "LSTM")


def is_recurrent(model):
    """Whether a Keras model has a GRU or LSTM layer (converted here, not through TFLite)."""
    return any(type(layer).__name__ in _RECURRENT for layer in model.layers)


# ---------------------------------------------------------------------------------------------
# Conversion


def _act_name(layer):
    a = getattr(layer, "activation", None)
    return getattr(a, "__name__", str(a))


def convert_keras(model, quantize=None, representative_data=None):
    """A Keras sequential stack of GRU/LSTM, Dense, Dropout, Activation layers as an
    NNModel."""
    if quantize not in (None, "q15", "int8"):
        raise M.ConversionError(f"quantize must be None, 'q15' or 'int8' for a recurrent "
                                f"model, got {quantize!r}")
    q15 = quantize is not None
    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) != 2 or shape[1] is None:
        raise M.ConversionError(f"the input shape {shape} must be (time steps, features), "
                                "e.g. keras.Input((49, 40)), or keras.Input((None, 40)) for a "
                                "model that streams frames with step()")
    # No fixed length (None): a model of one frame, whose arena holds one frame, not a sequence.
    steps, n_in = int(shape[0] or 1), int(shape[1])
    inv_scale = None
    if q15:
        if representative_data is None:
            raise M.ConversionError("quantize='q15' needs representative_data: typical input "
                                    "sequences, to set the input's scale")
        peak = float(np.max(np.abs(np.asarray(representative_data, np.float32))))
        inv_scale = np.float32(32767.0 / peak if peak > 0 else 1.0)
    tensors = [M.Tensor("input", M.T_FLOAT32, (steps, n_in))]
    ops = []
    cur, cur_shape = 0, (steps, n_in)

    def new(name, shape, ttype=M.T_FLOAT32, storage=M.ARENA, data=None):
        tensors.append(M.Tensor(name, ttype, tuple(shape), storage, data=data))
        return len(tensors) - 1

    for layer in model.layers:
        kind = type(layer).__name__
        name = layer.name
        if kind in ("InputLayer", "Dropout"):
            continue
        if kind in _RECURRENT:
            if len(cur_shape) != 2:
                raise M.ConversionError(f"layer {name} ({kind}): its input has shape "
                                        f"{cur_shape}, expected (time steps, features) (a "
                                        "recurrent layer before it needs return_sequences=True)")
            op, out_shape = _recurrent(layer, kind, cur, cur_shape, new, q15,
                                       inv_scale if not ops else np.float32(32768.0))
            ops.append(op)
            cur, cur_shape = op.output, out_shape
        elif kind == "Dense":
            kernel, *rest = layer.get_weights()
            bias = rest[0] if rest else np.zeros(kernel.shape[1], np.float32)
            n_out = kernel.shape[1]
            out_shape = cur_shape[:-1] + (n_out,)
            w = new(f"{name}/kernel", kernel.shape[::-1], storage=M.CONST,
                    data=np.ascontiguousarray(kernel.T, np.float32))
            b = new(f"{name}/bias", (n_out,), storage=M.CONST, data=bias.astype(np.float32))
            y = new(name, out_shape)
            act = _act_name(layer)
            lo, hi = -np.finfo(np.float32).max, np.finfo(np.float32).max
            if act == "relu":
                lo = 0.0
            elif act not in ("linear", "softmax", "sigmoid", "tanh"):
                raise M.ConversionError(f"layer {name} (Dense): activation {act} is not "
                                        "supported (linear, relu, softmax, sigmoid, tanh are)")
            p = [0] * 6 + [M.f32_bits(lo), M.f32_bits(hi)]
            ops.append(M.Op(M.OP_FULLY_CONNECTED, [cur, w, b], y, p, source=f"Dense {name}",
                            macs=int(np.prod(cur_shape)) * n_out))
            cur, cur_shape = y, out_shape
            if act in ("softmax", "sigmoid", "tanh"):
                cur = _activation(act, cur, cur_shape, new, ops, name)
        elif kind in ("Activation", "Softmax", "ReLU"):
            act = "softmax" if kind == "Softmax" else "relu" if kind == "ReLU" else _act_name(layer)
            if act == "linear":
                continue
            if act not in ("softmax", "sigmoid", "tanh", "relu"):
                raise M.ConversionError(f"layer {name}: activation {act} is not supported")
            cur = _activation(act, cur, cur_shape, new, ops, name)
        else:
            raise M.ConversionError(f"layer {name}: {kind} is not supported in a recurrent "
                                    "model (GRU, LSTM, Dense, Dropout, Activation are)")
    if not ops:
        raise M.ConversionError("the model has no layer to convert")
    return M.NNModel(tensors, ops, 0, cur)


def _activation(act, cur, shape, new, ops, name):
    y = new(f"{name}/{act}", shape)
    if act == "softmax":
        ops.append(M.Op(M.OP_SOFTMAX, [cur], y, [shape[-1], M.f32_bits(1.0)] + [0] * 6,
                        source=f"softmax {name}"))
    else:
        ops.append(M.Op(M.OP_ACTIVATION, [cur], y, [M.ACT_KINDS[act if act != "sigmoid"
                                                                 else "logistic"]] + [0] * 7,
                        source=f"{act} {name}"))
    return y


def _recurrent(layer, kind, cur, cur_shape, new, q15, inv_scale):
    name = layer.name
    cfg = layer.get_config()
    for key, want in (("activation", "tanh"), ("recurrent_activation", "sigmoid"),
                      ("go_backwards", False), ("stateful", False), ("return_state", False)):
        if cfg.get(key, want) != want:
            raise M.ConversionError(f"layer {name} ({kind}): {key}={cfg.get(key)!r} is not "
                                    f"supported ({want!r} is)")
    lstm = kind == "LSTM"
    G = 4 if lstm else 3
    U = int(cfg["units"])
    steps, n_in = cur_shape
    weights = layer.get_weights()
    kernel, rec = weights[0].astype(np.float64), weights[1].astype(np.float64)
    bias = weights[2] if len(weights) > 2 else np.zeros(G * U)
    reset_after = (not lstm) and bool(cfg.get("reset_after", True))
    if reset_after and np.ndim(bias) == 2:
        b_in, b_rec = bias[0], bias[1]
    else:
        b_in, b_rec = np.reshape(bias, -1), np.zeros(G * U)
    b_in, b_rec = np.asarray(b_in, np.float64), np.asarray(b_rec, np.float64)
    sequences = bool(cfg.get("return_sequences", False))
    flags = (M.RNN_RESET_AFTER if reset_after else 0) | (M.RNN_RETURN_SEQUENCES if sequences
                                                          else 0)
    W, R = kernel.T, rec.T  # a row per gate unit
    if q15:
        if n_in > M.RNN_MAX_Q15 or U > M.RNN_MAX_Q15:
            raise M.ConversionError(f"layer {name} ({kind}): {n_in} inputs, {U} units; q15 "
                                    f"takes at most {M.RNN_MAX_Q15} of each")
        aux = _q15_weights(W, R, b_in, b_rec, float(np.float32(1.0) / inv_scale), name)
        state_type, params = M.T_INT16, [U, flags, M.f32_bits(inv_scale)]
    else:
        aux = np.concatenate([W.reshape(-1), R.reshape(-1), b_in, b_rec]).astype(np.float32)
        state_type, params = M.T_FLOAT32, [U, flags]
    state = new(f"{name}/state", ((2 if lstm else 1) * U,), state_type)
    scratch = new(f"{name}/scratch", (n_in + 2 * U,), state_type)
    out_shape = (steps, U) if sequences else (U,)
    y = new(name, out_shape)
    op = M.Op(M.OP_LSTM if lstm else M.OP_GRU, [cur, state, scratch], y,
              params + [0] * (M.N_PARAMS - len(params)), aux,
              source=f"{kind} {name}" + (" q15" if q15 else ""),
              macs=steps * G * U * (n_in + U))
    return op, out_shape


def _q15_weights(W, R, b_in, b_rec, x_scale, name):
    """int8 W and R (a symmetric scale per row), then int32 b_in, b_rec (Q12), multipliers and
    shifts of W and R: the aux layout of core/ml_nn.h."""
    def rows_q(A):
        s = np.max(np.abs(A), axis=1) / 127.0
        s[s == 0] = 1.0
        return np.clip(np.round(A / s[:, None]), -127, 127).astype(np.int8), s

    Wq, sw = rows_q(W)
    Rq, sr = rows_q(R)
    mx, sx, mh, sh = [], [], [], []
    for j in range(len(sw)):
        for real, ms, ss in ((x_scale * sw[j] * Q12, mx, sx), (sr[j] / 32768.0 * Q12, mh, sh)):
            m, s = fp.quantize_multiplier(real)
            if s > 30:
                raise M.ConversionError(f"layer {name}: a weight scale of {real:g} is too large "
                                        "for q15")
            ms.append(m)
            ss.append(s)

    def bq(b):
        return np.clip(np.round(b * Q12), -LIM24, LIM24).astype(np.int64)

    w8 = np.concatenate([Wq.reshape(-1), Rq.reshape(-1)]).view(np.uint8)
    w8 = np.concatenate([w8, np.zeros(-len(w8) % 4, np.uint8)])
    ints = np.concatenate([bq(b_in), bq(b_rec), mx, sx, mh, sh]).astype("<i4")
    return np.concatenate([w8, ints.view(np.uint8)])


# ---------------------------------------------------------------------------------------------
# The numpy reference of the GRU and LSTM operators


class _Weights:
    def __init__(self, model, op):
        x = model.tensors[op.inputs[0]]
        self.F, self.U = x.shape[-1], op.params[0]
        self.G = 4 if op.code == M.OP_LSTM else 3
        self.flags = op.params[1]
        self.q15 = model.tensors[op.inputs[1]].type == M.T_INT16
        rows, F, U = self.G * self.U, self.F, self.U
        a = op.aux
        if not self.q15:
            f = a.astype(np.float32)
            self.W = f[:rows * F].reshape(rows, F).astype(np.float64)
            self.R = f[rows * F:rows * (F + U)].reshape(rows, U).astype(np.float64)
            self.bi = f[rows * (F + U):rows * (F + U + 1)].astype(np.float64)
            self.br = f[rows * (F + U + 1):].astype(np.float64)
            return
        raw = a.view(np.uint8)
        n = rows * (F + U)
        self.W = raw[:rows * F].view(np.int8).reshape(rows, F).astype(np.int64)
        self.R = raw[rows * F:n].view(np.int8).reshape(rows, U).astype(np.int64)
        ints = raw[(n + 3) // 4 * 4:].view("<i4").astype(np.int64).reshape(6, rows)
        self.bi, self.br, self.mx, self.sx, self.mh, self.sh = ints
        self.inv = np.float32(M.bits_f32(op.params[2]))


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def _step_f(w, lstm, x, h, c):
    px = w.W @ x + w.bi
    ph = w.R @ h + w.br
    U = w.U
    if lstm:
        i, f = _sigmoid(px[:U] + ph[:U]), _sigmoid(px[U:2 * U] + ph[U:2 * U])
        g, o = np.tanh(px[2 * U:3 * U] + ph[2 * U:3 * U]), _sigmoid(px[3 * U:] + ph[3 * U:])
        c = f * c + i * g
        return o * np.tanh(c), c
    z = _sigmoid(px[:U] + ph[:U])
    r = _sigmoid(px[U:2 * U] + ph[U:2 * U])
    if w.flags & M.RNN_RESET_AFTER:
        hh = np.tanh(px[2 * U:] + r * ph[2 * U:])
    else:
        hh = np.tanh(px[2 * U:] + w.R[2 * U:] @ (r * h) + w.br[2 * U:])
    return z * h + (1 - z) * hh, c


def tanh_q15(x, frac):
    """ml_nn_tanh_q15: x (int64 array) with frac fractional bits -> q15."""
    x = fp.i64(x)
    a = np.abs(x)
    s = frac - 5
    i = a >> s
    ic = np.minimum(i, 255)
    f = a & ((1 << s) - 1)
    r = TANH_TABLE[ic] + (((TANH_TABLE[ic + 1] - TANH_TABLE[ic]) * f + (1 << (s - 1))) >> s)
    r = np.where(i >= 256, TANH_TABLE[256], r)
    return np.where(x < 0, -r, r)


def sigmoid_q15(x):
    return (32768 + tanh_q15(x, 13)) >> 1


def quantize_q15(x, inv):
    """x / scale rounded half away from zero in float32, saturated to int16 (as the C)."""
    v = np.asarray(x, np.float32) * np.float32(inv)
    half = np.where(v >= 0, np.float32(0.5), np.float32(-0.5)).astype(np.float32)
    with np.errstate(invalid="ignore"):
        t = np.trunc((v + half).astype(np.float32))
        q = np.where(v >= 32767, 32767, np.where(v > -32768, t, -32768))
    return q.astype(np.int64)


def _mul_q15(a, b):
    return (a * b + (1 << 14)) >> 15


def _requant(acc, m, s):
    return np.clip(fp.wrap32(fp.mbqm_single(acc, m, s)), -LIM24, LIM24)


def _step_q(w, lstm, x, h, c):
    U = w.U
    xq = quantize_q15(x, w.inv)
    px = _requant(w.W @ xq, w.mx, w.sx) + w.bi
    ph = _requant(w.R @ h, w.mh, w.sh) + w.br
    if lstm:
        i, f = sigmoid_q15(px[:U] + ph[:U]), sigmoid_q15(px[U:2 * U] + ph[U:2 * U])
        g = tanh_q15(px[2 * U:3 * U] + ph[2 * U:3 * U], 12)
        o = sigmoid_q15(px[3 * U:] + ph[3 * U:])
        c = np.clip(_mul_q15(f, c) + ((i * g + (1 << 18)) >> 19), -32768, 32767)
        return _mul_q15(o, tanh_q15(c, 11)), c
    z = sigmoid_q15(px[:U] + ph[:U])
    r = sigmoid_q15(px[U:2 * U] + ph[U:2 * U])
    if w.flags & M.RNN_RESET_AFTER:
        hh = tanh_q15(px[2 * U:] + ((r * ph[2 * U:] + (1 << 14)) >> 15), 12)
    else:
        rh = _mul_q15(r, h)
        hh = tanh_q15(px[2 * U:] + _requant(w.R[2 * U:] @ rh, w.mh[2 * U:], w.sh[2 * U:])
                      + w.br[2 * U:], 12)
    return (z * h + (32768 - z) * hh + (1 << 14)) >> 15, c


def run_op(model, op, x, state=None):
    """The operator over the frames x (T, F); returns (output, final state). state: the
    (h, c) to start from (None: zero)."""
    w = _Weights(model, op)
    lstm = op.code == M.OP_LSTM
    x = np.asarray(x, np.float32).reshape(-1, w.F)
    dtype = np.int64 if w.q15 else np.float64
    h, c = (np.zeros(w.U, dtype), np.zeros(w.U, dtype)) if state is None else state
    rows = []
    for t in range(len(x)):
        if w.q15:
            h, c = _step_q(w, lstm, x[t], h, c)
            rows.append(h.astype(np.float32) / np.float32(32768))
        else:
            h, c = _step_f(w, lstm, x[t].astype(np.float64), h, c)
            rows.append(h.astype(np.float32))
    y = np.array(rows) if op.params[1] & M.RNN_RETURN_SEQUENCES else rows[-1]
    return y, (h, c)
