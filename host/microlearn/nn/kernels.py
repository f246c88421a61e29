"""The numpy reference of every operator of the C core (core/ml_nn_ops.c), with the same
precomputed parameters. int8 results are bit-exact with the C core and with TFLite's reference
kernels (the tests check both); float32 results agree within float rounding (the summation
order differs).
"""

import ctypes
import ctypes.util

import numpy as np

from . import fixedpoint as fp
from . import model as M

_libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
_libm.expf.restype = _libm.tanhf.restype = ctypes.c_float
_libm.expf.argtypes = _libm.tanhf.argtypes = [ctypes.c_float]


def _f32(x):
    return np.float32(x)


def _lut_from(values_fn, tx):
    """A 256-entry table indexed by the input byte (int8 values cast to uint8)."""
    out = np.zeros(256, np.uint8)
    lo, hi = (-128, 127) if tx.type == M.T_INT8 else (0, 255)
    for v in range(lo, hi + 1):
        out[v & 0xFF] = np.int64(values_fn(v)) & 0xFF
    return out


def activation_lut(kind, tx, ty, alpha=0.0):
    """The int8 -> int8 table of an activation, computed as TFLite computes it."""
    zx, zy = tx.zero_point, ty.zero_point
    if kind in ("logistic", "tanh"):
        # LUTPopulate: float32 dequantize, libm's expf/tanhf, float32 rescale, round.
        inv = _f32(_f32(1.0) / _f32(ty.scale))

        def f(v):
            d = _f32(_f32(tx.scale) * _f32(v - zx))
            if kind == "logistic":
                t = _f32(_f32(1.0) / _f32(_f32(1.0) + _f32(_libm.expf(float(-d)))))
            else:
                t = _f32(_libm.tanhf(float(d)))
            r = fp.round_half_away_f32(_f32(t * inv))
            qv = int(_f32(r + _f32(zy)))
            return min(max(qv, -128), 127)
        return _lut_from(f, tx)
    if kind in ("relu", "relu6"):
        mult, shift = fp.quantize_multiplier(float(_f32(tx.scale)) / float(_f32(ty.scale)))
        lo = max(-128, zy + int(fp.round_half_away(float(_f32(0.0) / _f32(ty.scale)))))
        hi = 127 if kind == "relu" else min(
            127, zy + int(fp.round_half_away(float(_f32(6.0) / _f32(ty.scale)))))

        def f(v):
            r = zy + int(fp.mbqm(v - zx, mult, shift))
            return min(max(r, lo), hi)
        return _lut_from(f, tx)
    if kind == "leaky_relu":
        ma, sa = fp.quantize_multiplier(float(_f32(tx.scale)) * float(_f32(alpha))
                                        / float(_f32(ty.scale)))
        mi, si = fp.quantize_multiplier(float(_f32(tx.scale)) / float(_f32(ty.scale)))

        def f(v):
            d = v - zx
            r = zy + int(fp.mbqm(d, mi, si) if d >= 0 else fp.mbqm(d, ma, sa))
            return min(max(r, -128), 127)
        return _lut_from(f, tx)
    if kind == "hard_swish":
        return hard_swish_lut(tx, ty)
    raise ValueError(kind)


# -- int16 fixed point, as TFLite's quantized HARD_SWISH computes ----------------------------

def _wrap16(x):
    return ((int(x) + (1 << 15)) & 0xFFFF) - (1 << 15)


def _srdhm16(a, b):
    """SaturatingRoundingDoublingHighMul on int16: round(a * b / 2**15)."""
    if a == b == -(1 << 15):
        return (1 << 15) - 1
    ab = a * b
    nudge = (1 << 14) if ab >= 0 else 1 - (1 << 14)
    return _wrap16(int((ab + nudge) / (1 << 15)))  # C division truncates toward zero


def _sdhm16(a, b):
    """The same, truncating instead of rounding."""
    if a == b == -(1 << 15):
        return (1 << 15) - 1
    return _wrap16(int(a * b / (1 << 15)))


def _sat_shift16(x, n):
    return min(max(x * (1 << n), -(1 << 15)), (1 << 15) - 1)


def _rdbpot(x, e):
    mask = (1 << e) - 1
    return (x >> e) + ((x & mask) > (mask >> 1) + (x < 0))


def _multiplier16(m):
    """DownScaleInt32ToInt16Multiplier: a Q31 multiplier rounded to Q15."""
    if m >= (1 << 31) - 1 - (1 << 15):
        return (1 << 15) - 1
    return (m + (1 << 15)) >> 16


def hard_swish_lut(tx, ty):
    """The int8 table of HARD_SWISH: x * relu6(x + 3) / 6 in TFLite's int16 fixed point, from
    multipliers it derives in float32 from the scales."""
    hires = _f32(_f32(1.0 / 128.0) * _f32(tx.scale))
    out_m, out_e = fp.quantize_multiplier(float(_f32(hires / _f32(ty.scale))))
    if out_e > 0:
        raise ValueError("the output scale is below 1/128 of the input scale (TFLite requires "
                         "it to be at least that)")
    relu_m, relu_e = fp.quantize_multiplier(float(_f32(hires / _f32(_f32(3.0) / _f32(32768.0)))))
    out_m, relu_m = _multiplier16(out_m), _multiplier16(relu_m)

    def f(v):
        hi_res = (v - tx.zero_point) * 128  # fits int16: |v - zp| <= 255
        on_output_scale = _srdhm16(hi_res, out_m)
        r = hi_res
        if relu_e > 0:
            r = _sat_shift16(r, relu_e - 1)
        r = _srdhm16(r, relu_m)
        if relu_e > 0:
            r = _sat_shift16(r, 1)
        if relu_e < 0:
            r = _rdbpot(r, -relu_e)
        r = (r + (1 << 15)) >> 1  # [-1, 1] to [0, 1]
        out = _wrap16(_rdbpot(_sdhm16(r, on_output_scale), -out_e) + ty.zero_point)
        return min(max(out, -128), 127)
    return _lut_from(f, tx)


def requantize_lut(tx, ty):
    """QUANTIZE between 8-bit types: Requantize with a quantized multiplier."""
    mult, shift = fp.quantize_multiplier(float(_f32(tx.scale)) / float(_f32(ty.scale)))

    def f(v):
        r = int(fp.mbqm(v - tx.zero_point, mult, shift)) + ty.zero_point
        return min(max(r, -128), 127)
    return _lut_from(f, tx)


# ---------------------------------------------------------------------------------------------

def _requant_out(acc, aux, n_out, lo, hi, zp_out, single=False):
    mult, shift = aux[:n_out].astype(np.int64), aux[n_out:2 * n_out].astype(np.int64)
    r = (fp.mbqm_single if single else fp.mbqm)(acc, mult, shift) + zp_out
    return np.clip(r, lo, hi).astype(np.int8)


def _windows(x, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, fill):
    """(n, oh, ow, kh, kw, c) windows of x padded with `fill`, and a validity mask."""
    n, ih, iw, c = x.shape
    ys = np.arange(oh)[:, None] * sh - pt + np.arange(kh)[None, :] * dh  # (oh, kh)
    xs = np.arange(ow)[:, None] * sw - pl + np.arange(kw)[None, :] * dw  # (ow, kw)
    vy, vx = (ys >= 0) & (ys < ih), (xs >= 0) & (xs < iw)
    win = x[:, np.clip(ys, 0, ih - 1)[:, None, :, None], np.clip(xs, 0, iw - 1)[None, :, None, :], :]
    valid = vy[:, None, :, None] & vx[None, :, None, :]  # (oh, ow, kh, kw)
    win = np.where(valid[None, :, :, :, :, None], win, fill)
    return win, valid


def _conv(m, op, depthwise):
    x, w, b = (m.tensors[i] for i in op.inputs)
    y = m.tensors[op.output]
    sh, sw, dh, dw, pt, pl, lo, hi = op.params
    n, oh, ow, oc = y.shape
    xv = _values[op.inputs[0]]
    q = y.type == M.T_INT8
    if depthwise:
        _, kh, kw, _ = w.shape
    else:
        _, kh, kw, _ = w.shape
    fill = x.zero_point if q else 0
    win, _ = _windows(xv, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, fill)
    if q:
        win = win.astype(np.int64) - x.zero_point
        wt = w.data.astype(np.int64)
        bias = b.data.astype(np.int64)
    else:
        win = win.astype(np.float64)
        wt = w.data.astype(np.float64)
        bias = b.data.astype(np.float64)
    if depthwise:
        dm = oc // x.shape[3]
        win = np.repeat(win, dm, axis=5)  # (n, oh, ow, kh, kw, oc)
        acc = np.einsum("nyxhwc,hwc->nyxc", win, wt[0]) + bias
    else:
        acc = np.einsum("nyxhwi,ohwi->nyxo", win, wt) + bias
    if q:
        return _requant_out(acc, op.aux, oc, lo, hi, y.zero_point)
    return np.clip(acc.astype(np.float32), M.bits_f32(lo), M.bits_f32(hi))


def _fully_connected(m, op):
    x, w, b = (m.tensors[i] for i in op.inputs)
    y = m.tensors[op.output]
    lo, hi = op.params[6], op.params[7]
    n_out, n_in = w.shape
    xv = _values[op.inputs[0]].reshape(-1, n_in)
    if y.type == M.T_INT8:
        acc = (xv.astype(np.int64) - x.zero_point) @ w.data.astype(np.int64).T \
            + b.data.astype(np.int64)
        return _requant_out(acc, op.aux, n_out, lo, hi, y.zero_point, single=True)
    acc = xv.astype(np.float64) @ w.data.astype(np.float64).T + b.data.astype(np.float64)
    return np.clip(acc.astype(np.float32), M.bits_f32(lo), M.bits_f32(hi))


def _pool(m, op, is_max):
    x, y = m.tensors[op.inputs[0]], m.tensors[op.output]
    sh, sw, fh, fw, pt, pl, lo, hi = op.params
    n, oh, ow, c = y.shape
    q = y.type == M.T_INT8
    xv = _values[op.inputs[0]]
    win, valid = _windows(xv, fh, fw, sh, sw, 1, 1, pt, pl, oh, ow, 0)
    mask = valid[None, :, :, :, :, None]
    if is_max:
        low = -128 if q else -np.inf
        r = np.where(mask, win, low).max(axis=(3, 4))
    else:
        count = valid.sum(axis=(2, 3))[None, :, :, None]
        if q:
            s = np.where(mask, win.astype(np.int64), 0).sum(axis=(3, 4))
            # round half away from zero, with C's truncating division
            r = np.where(s > 0, (s + count // 2) // count, -((-(s) + count // 2) // count))
        else:
            # float32 sum in window order, then one division, as the C core
            r = np.zeros((n, oh, ow, c), np.float32)
            for ky in range(fh):
                for kx in range(fw):
                    r = np.where(mask[:, :, :, ky, kx], r + win[:, :, :, ky, kx, :], r)
            r = (r / count.astype(np.float32)).astype(np.float32)
    if q:
        return np.clip(r, lo, hi).astype(np.int8)
    return np.clip(r.astype(np.float32), M.bits_f32(lo), M.bits_f32(hi))


def _mean(m, op):
    x, y = m.tensors[op.inputs[0]], m.tensors[op.output]
    xv = _values[op.inputs[0]]
    n, h, w, c = x.shape
    if y.type == M.T_INT8:
        count, mult, shift = op.params[:3]
        s = xv.astype(np.int64).reshape(n, h * w, c).sum(axis=1) - x.zero_point * count
        r = fp.mbqm(s, mult, shift) + y.zero_point
        return np.clip(r, -128, 127).astype(np.int8)
    s = np.zeros((n, c), np.float32)
    for i in range(h * w):
        s = (s + xv.reshape(n, h * w, c)[:, i, :]).astype(np.float32)
    return (s / np.float32(h * w)).astype(np.float32)


def _softmax(m, op):
    x, y = m.tensors[op.inputs[0]], m.tensors[op.output]
    depth = op.params[0]
    xv = _values[op.inputs[0]].reshape(-1, depth)
    if y.type == M.T_INT8:
        _, mult, shift, diff_min = op.params[:4]
        d = xv.astype(np.int64) - xv.max(axis=1, keepdims=True)
        ok = d >= diff_min
        scaled = fp.srdhm(fp.wrap32(d << shift), mult)
        e = fp.exp_on_negative_values(scaled, 5)
        total = np.where(ok, fp.rdbpot(e, 12), 0).sum(axis=1, dtype=np.int64)
        total = fp.wrap32(total)
        recip, bits_over_unit = fp.reciprocal(total, 12)
        exponent = (bits_over_unit + 31 - 8)[:, None]
        out = fp.rdbpot(fp.srdhm(recip[:, None], e), exponent) - 128
        out = np.where(ok, np.clip(out, -128, 127), -128)
        return out.astype(np.int8)
    beta = np.float32(M.bits_f32(op.params[1]))
    xv = xv.astype(np.float32)
    e = np.exp(((xv - xv.max(axis=1, keepdims=True)) * beta).astype(np.float64))
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def _quantize(m, op):
    y = m.tensors[op.output]
    scale = float(np.float32(M.bits_f32(op.params[0])))
    xv = _values[op.inputs[0]].astype(np.float64)
    q = np.vectorize(lambda v: fp.round_half_away(v / scale), otypes=[np.int64])(xv)
    return np.clip(q + op.params[1], -128, 127).astype(np.int8)


def _dequantize(m, op):
    scale = float(np.float32(M.bits_f32(op.params[0])))
    xv = _values[op.inputs[0]].astype(np.int64)
    return (scale * (xv - op.params[1]).astype(np.float64)).astype(np.float32)


def _operand(m, i):
    """An operator input's values: computed, or a constant."""
    t = m.tensors[i]
    return t.data.reshape(t.shape) if t.storage == M.CONST else _values[i]


def _binary(m, op):
    ta, tb, y = m.tensors[op.inputs[0]], m.tensors[op.inputs[1]], m.tensors[op.output]
    a, b = _operand(m, op.inputs[0]), _operand(m, op.inputs[1])
    p = op.params
    if y.type == M.T_INT8:
        va = a.astype(np.int64) - ta.zero_point
        vb = b.astype(np.int64) - tb.zero_point
        if op.code == M.OP_ADD:
            sa = fp.mbqm(va << M.ADD_LEFT_SHIFT, p[0], p[1])
            sb = fp.mbqm(vb << M.ADD_LEFT_SHIFT, p[2], p[3])
            r = fp.mbqm(sa + sb, p[4], p[5])
        else:
            r = fp.mbqm(va * vb, p[0], p[1])
        return np.clip(r + y.zero_point, p[6], p[7]).astype(np.int8)
    a, b = a.astype(np.float32), b.astype(np.float32)
    r = a + b if op.code == M.OP_ADD else a * b
    return np.clip(r, M.bits_f32(p[6]), M.bits_f32(p[7])).astype(np.float32)


def _concatenation(m, op):
    y = m.tensors[op.output]
    rows, in_row, out_row, offset = op.params[:4]
    out = _values.get(op.output)
    out = np.zeros(y.count, y.dtype) if out is None else out.reshape(-1).copy()
    out.reshape(rows, out_row)[:, offset:offset + in_row] = \
        _values[op.inputs[0]].reshape(rows, in_row)
    return out


def _pad(m, op):
    x, y = m.tensors[op.inputs[0]], m.tensors[op.output]
    xv = _values[op.inputs[0]].reshape((1,) * (4 - len(x.shape)) + tuple(x.shape))
    value = y.zero_point if y.type == M.T_INT8 else 0
    return np.pad(xv, np.reshape(op.params, (4, 2)), constant_values=value)


def _activation(m, op):
    x = _values[op.inputs[0]].astype(np.float32)
    kind = op.params[0]
    K = M.ACT_KINDS
    if kind == K["relu"]:
        return np.maximum(x, np.float32(0))
    if kind == K["relu6"]:
        return np.clip(x, np.float32(0), np.float32(6))
    if kind == K["leaky_relu"]:
        return np.where(x > 0, x, x * np.float32(M.bits_f32(op.params[1])))
    if kind == K["logistic"]:
        return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)
    if kind == K["tanh"]:
        return np.tanh(x.astype(np.float64)).astype(np.float32)
    if kind == K["hard_swish"]:
        return x * np.clip(x + np.float32(3), np.float32(0), np.float32(6)) / np.float32(6)
    raise ValueError(f"unknown activation kind {kind}")


def _lut(m, op):
    xv = _values[op.inputs[0]]
    out = op.aux[xv.astype(np.uint8)]
    return out.view(np.int8)


_values = {}


def run(model, x):
    """Runs the model on one input; returns the output array (the output tensor's shape)."""
    global _values
    t_in = model.input
    x = np.asarray(x)
    if x.size != t_in.count:
        raise ValueError(f"x has {x.size} values, expected {t_in.count} {t_in.shape}")
    _values = {model.input_index: x.reshape(t_in.shape).astype(t_in.dtype)}
    for op in model.ops:
        y = model.tensors[op.output]
        if op.code == M.OP_CONV_2D:
            r = _conv(model, op, False)
        elif op.code == M.OP_DEPTHWISE_CONV_2D:
            r = _conv(model, op, True)
        elif op.code == M.OP_FULLY_CONNECTED:
            r = _fully_connected(model, op)
        elif op.code == M.OP_MAX_POOL_2D:
            r = _pool(model, op, True)
        elif op.code == M.OP_AVERAGE_POOL_2D:
            r = _pool(model, op, False)
        elif op.code == M.OP_MEAN:
            r = _mean(model, op)
        elif op.code == M.OP_SOFTMAX:
            r = _softmax(model, op)
        elif op.code == M.OP_COPY:
            r = _values[op.inputs[0]]
        elif op.code == M.OP_QUANTIZE:
            r = _quantize(model, op)
        elif op.code == M.OP_DEQUANTIZE:
            r = _dequantize(model, op)
        elif op.code == M.OP_LUT:
            r = _lut(model, op)
        elif op.code in (M.OP_ADD, M.OP_MUL):
            r = _binary(model, op)
        elif op.code == M.OP_CONCATENATION:
            r = _concatenation(model, op)
        elif op.code == M.OP_PAD:
            r = _pad(model, op)
        elif op.code == M.OP_ACTIVATION:
            r = _activation(model, op)
        elif op.code in (M.OP_GRU, M.OP_LSTM):
            from . import rnn
            r = rnn.run_op(model, op, _values[op.inputs[0]])[0]
        else:
            raise ValueError(f"unknown operator code {op.code}")
        _values[op.output] = np.asarray(r).reshape(y.shape).astype(y.dtype)
    out = _values[model.output_index]
    _values = {}
    return out
