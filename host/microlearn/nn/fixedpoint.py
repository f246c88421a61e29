"""TFLite's integer arithmetic (gemmlowp fixed point, quantized multipliers) on numpy int64
arrays, operation for operation as the C core does it, so that both give the same bits. The
facts (rounding, saturation, constants) are those of TFLite's reference kernels; the code is
microlearn's own.
"""

import math

import numpy as np

INT32_MIN, INT32_MAX = -(1 << 31), (1 << 31) - 1


def i64(x):
    return np.asarray(x, dtype=np.int64)


def wrap32(x):
    """x as int32 would hold it (two's complement wrap), kept in int64."""
    x = i64(x)
    return ((x + (1 << 31)) & 0xFFFFFFFF) - (1 << 31)


def _trunc_div_pow2(x, n):
    """x / 2**n rounded toward zero, as C's integer division."""
    return np.where(x >= 0, x >> n, -((-x) >> n))


def srdhm(a, b):
    """SaturatingRoundingDoublingHighMul: round(a * b / 2**31), the one overflow saturated."""
    a, b = i64(a), i64(b)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    r = _trunc_div_pow2(ab + nudge, 31)
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, r)


def rdbpot(x, exponent):
    """RoundingDivideByPOT: x / 2**exponent rounded to nearest, ties away from zero."""
    x, e = i64(x), i64(exponent)
    mask = (i64(1) << e) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> e) + (remainder > threshold)


def sat_shift_left(x, e):
    """SaturatingRoundingMultiplyByPOT with a positive exponent: x * 2**e, saturated to int32."""
    x = i64(x)
    threshold = (1 << (31 - e)) - 1
    return np.where(x > threshold, INT32_MAX, np.where(x < -threshold, INT32_MIN, x << e))


def mbqm(x, multiplier, shift):
    """MultiplyByQuantizedMultiplier (double rounding): x * multiplier * 2**shift / 2**31."""
    shift = i64(shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rdbpot(srdhm(wrap32(i64(x) << left), multiplier), right)


def mbqm_single(x, multiplier, shift):
    """The single-rounding form (TFLite's FULLY_CONNECTED goes through it): round half up of
    x * multiplier / 2**(31 - shift), in 64 bits."""
    total = 31 - i64(shift)
    return (i64(x) * i64(multiplier) + (i64(1) << (total - 1))) >> total


def quantize_multiplier(real):
    """QuantizeMultiplier: (int32 multiplier in [2**30, 2**31), shift) with real ~= m * 2**shift
    / 2**31; real is a Python float (double)."""
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)
    q_fixed = round_half_away(q * (1 << 31))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    return int(q_fixed), int(shift)


def round_half_away(x):
    """TfLiteRound / std::round of a double: ties away from zero."""
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def round_half_away_f32(x):
    """std::round of a float32 array (ties away from zero), exact in float32."""
    x = np.asarray(x, np.float32)
    t = np.trunc(x)
    frac = np.abs(x - t)
    r = np.where(frac >= np.float32(0.5), np.abs(t) + 1, np.abs(t))
    return np.copysign(r, x).astype(np.float32)


# -- gemmlowp fixed-point functions (raw int32 values in int64 arrays) ------------------------

def exp_on_interval(a):
    """exp(a) for a in [-1/4, 0), Q0.31 in and out."""
    constant_term = 1895147668  # exp(-1/8)
    one_third = 715827883
    x = i64(a) + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbpot(x4, 2)
    poly = rdbpot(srdhm(x4_over_4 + x3, one_third) + x2, 1)
    return constant_term + srdhm(constant_term, x + poly)


_EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308),
               (2, 39332535), (3, 720401), (4, 242))


def exp_on_negative_values(a, integer_bits):
    """exp(a) for a <= 0 in Q(integer_bits).(31 - integer_bits); result Q0.31."""
    a = i64(a)
    frac_bits = 31 - integer_bits
    one_quarter = 1 << (frac_bits - 2)
    a_mod = (a & (one_quarter - 1)) - one_quarter
    result = exp_on_interval(sat_shift_left(a_mod, integer_bits) if integer_bits else a_mod)
    remainder = a_mod - a
    for exponent, multiplier in _EXP_BARREL:
        if integer_bits > exponent:
            bit = 1 << (frac_bits + exponent)
            result = np.where(remainder & bit, srdhm(result, multiplier), result)
    if integer_bits > 5:
        clamp = -(1 << (36 - integer_bits))
        result = np.where(a < clamp, 0, result)
    return np.where(a == 0, INT32_MAX, result)


def rounding_half_sum(a, b):
    s = i64(a) + i64(b)
    return _trunc_div_pow2(s + np.where(s >= 0, 1, -1), 1)


def one_over_one_plus_x(a):
    """1 / (1 + a) for a in [0, 1), Q0.31 in and out."""
    half_denominator = rounding_half_sum(a, INT32_MAX)
    x = 1515870810 + srdhm(half_denominator, -1010580540)  # 48/17 - 32/17 * d, Q2.29
    for _ in range(3):
        one_minus = (1 << 29) - srdhm(half_denominator, x)
        x = x + sat_shift_left(srdhm(x, one_minus), 2)
    return sat_shift_left(x, 1)


def clz32(x):
    """Leading zeros of x as a uint32 (32 for 0); float64 holds any 32-bit integer exactly."""
    x = np.asarray(x, np.int64) & 0xFFFFFFFF
    _, bit_length = np.frexp(x.astype(np.float64))
    return 32 - bit_length.astype(np.int64)


def reciprocal(x, integer_bits):
    """GetReciprocal: (Q0.31 of 1/x scaled, num_bits_over_unit) for positive Q(integer_bits) x."""
    x = i64(x)
    headroom_plus_one = clz32(x)
    bits_over_unit = integer_bits - headroom_plus_one
    shifted_minus_one = wrap32(((x << headroom_plus_one) & 0xFFFFFFFF) - (1 << 31))
    return one_over_one_plus_x(shifted_minus_one), bits_over_unit


def input_radius(integer_bits, left_shift, total_bits=31):
    """CalculateInputRadius."""
    return int(math.floor(((1 << integer_bits) - 1) * float(1 << (total_bits - integer_bits))
                          / float(1 << left_shift)))
