// The operators of ml_nn. int8 arithmetic is TensorFlow Lite's, step for step (the facts:
// gemmlowp's fixed-point rounding and saturation, the quantized multipliers and their double
// rounding, the single rounding of FULLY_CONNECTED, the order of clamps), so that every output
// byte equals what TFLite's reference kernels give. Shapes and parameters were validated by
// ml_nn_open: nothing here can go out of bounds.
#include <string.h>

#include "ml_math.h"
#include "ml_nn_ops.h"

#define T(m, i) (&(m)->tensors[(i)])
#define AT(m, t) ((m)->arena + (t)->offset)
#define CONST_AT(m, t) ((m)->data + (t)->offset)

// ---------------------------------------------------------------------------------------------
// Fixed-point helpers

// round(a * b / 2**31), saturating the one overflow (gemmlowp's SaturatingRoundingDoublingHighMul).
static inline int32_t srdhm(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));  // C division truncates, as gemmlowp's
}

// x / 2**e rounded to nearest, ties away from zero (RoundingDivideByPOT), e in 0..31.
static inline int32_t rdbpot(int32_t x, int e) {
    int32_t mask = (int32_t)((1u << e) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0);
    return (x >> e) + (remainder > threshold);
}

// x * 2**e saturated to int32, e in 1..30.
static inline int32_t sat_shift_left(int32_t x, int e) {
    int32_t threshold = (int32_t)((1u << (31 - e)) - 1u);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << e);
}

// MultiplyByQuantizedMultiplier, double rounding: the left shift wraps as TFLite's does.
int32_t ml_nn_requantize(int32_t acc, int32_t multiplier, int32_t shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return rdbpot(srdhm((int32_t)((uint32_t)acc << left), multiplier), right);
}

// The single-rounding form FULLY_CONNECTED goes through: round half up in 64 bits.
int32_t ml_nn_requantize_single(int32_t acc, int32_t multiplier, int32_t shift) {
    int total = 31 - shift;
    int64_t r = (int64_t)acc * multiplier + ((int64_t)1 << (total - 1));
    return (int32_t)(r >> total);
}

// int32 addition that wraps (as the int32 accumulators of TFLite do in practice) instead of
// being undefined: a model file can hold any bias.
static inline int32_t wrap_add(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int8_t clamp8(int32_t v, int32_t lo, int32_t hi) {
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

static inline float clampf(float v, float lo, float hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static inline float param_f(int32_t bits) {
    return ml_float_from_bits((uint32_t)bits);
}

// ---------------------------------------------------------------------------------------------
// Convolutions

typedef struct {
    uint32_t n, ih, iw, ic, oh, ow, oc, kh, kw;
    int32_t sh, sw, dh, dw, pt, pl;
} geometry_t;

static void conv_geometry(const ml_nn_t *m, const ml_nn_op_t *op, geometry_t *g) {
    const ml_nn_tensor_t *x = T(m, op->inputs[0]), *w = T(m, op->inputs[1]);
    const ml_nn_tensor_t *y = T(m, op->output);
    g->n = x->dims[0];
    g->ih = x->dims[1];
    g->iw = x->dims[2];
    g->ic = x->dims[3];
    g->oh = y->dims[1];
    g->ow = y->dims[2];
    g->oc = y->dims[3];
    g->kh = w->dims[1];
    g->kw = w->dims[2];
    g->sh = op->params[0];
    g->sw = op->params[1];
    g->dh = op->params[2];
    g->dw = op->params[3];
    g->pt = op->params[4];
    g->pl = op->params[5];
}

// Whether the window at (iy0, ix0) lies wholly inside the input.
static inline int window_inside(const geometry_t *g, int32_t iy0, int32_t ix0) {
    return iy0 >= 0 && ix0 >= 0 && iy0 + (int32_t)(g->kh - 1) * g->dh < (int32_t)g->ih
           && ix0 + (int32_t)(g->kw - 1) * g->dw < (int32_t)g->iw;
}

// Dot product of n int8 values, unrolled by four.
static inline int32_t dot_i8(const int8_t *a, const int8_t *b, uint32_t n) {
    int32_t acc = 0;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        acc += a[i] * b[i] + a[i + 1] * b[i + 1] + a[i + 2] * b[i + 2] + a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) {
        acc += a[i] * b[i];
    }
    return acc;
}

static void conv_i8(ml_nn_t *m, const ml_nn_op_t *op) {
    geometry_t g;
    conv_geometry(m, op, &g);
    const int8_t *x = (const int8_t *)AT(m, T(m, op->inputs[0]));
    const int8_t *w = (const int8_t *)CONST_AT(m, T(m, op->inputs[1]));
    const int32_t *bias = (const int32_t *)CONST_AT(m, T(m, op->inputs[2]));
    const ml_nn_tensor_t *ty = T(m, op->output);
    int8_t *y = (int8_t *)AT(m, ty);
    const int32_t *mult = (const int32_t *)(m->data + op->aux);
    const int32_t *shift = mult + g.oc, *folded = shift + g.oc;
    const int32_t zx = T(m, op->inputs[0])->zero_point, zy = ty->zero_point;
    const int32_t lo = op->params[6], hi = op->params[7];
    const uint32_t wstride = g.kh * g.kw * g.ic;
    // Without dilation a kernel row is one run of kw * ic values in the input and the weights:
    // one dot product per row (bounded like a pixel's, so int32 cannot overflow).
    const uint32_t row_len = g.kw * g.ic;
    const int rows_contiguous = g.dw == 1 && row_len <= 65535;
    for (uint32_t b = 0; b < g.n; b++) {
        const int8_t *xb = x + (size_t)b * g.ih * g.iw * g.ic;
        for (uint32_t oy = 0; oy < g.oh; oy++) {
            int32_t iy0 = (int32_t)oy * g.sh - g.pt;
            for (uint32_t ox = 0; ox < g.ow; ox++, y += g.oc) {
                int32_t ix0 = (int32_t)ox * g.sw - g.pl;
                int inside = window_inside(&g, iy0, ix0);
                for (uint32_t c = 0; c < g.oc; c++) {
                    const int8_t *wc = w + (size_t)c * wstride;
                    int32_t acc;
                    if (inside) {
                        // The input offset is folded into the bias: sum(x * w) only.
                        acc = folded[c];
                        for (uint32_t ky = 0; ky < g.kh; ky++) {
                            const int8_t *row = xb + ((size_t)(iy0 + (int32_t)ky * g.dh) * g.iw
                                                      + ix0) * g.ic;
                            if (rows_contiguous) {
                                acc = wrap_add(acc, dot_i8(row, wc + ky * row_len, row_len));
                                continue;
                            }
                            for (uint32_t kx = 0; kx < g.kw; kx++) {
                                acc = wrap_add(acc, dot_i8(row + (size_t)kx * g.dw * g.ic,
                                    wc + (ky * g.kw + kx) * g.ic, g.ic));
                            }
                        }
                    } else {
                        // At the borders, padded pixels are skipped (they hold the zero point).
                        acc = bias[c];
                        for (uint32_t ky = 0; ky < g.kh; ky++) {
                            int32_t iy = iy0 + (int32_t)ky * g.dh;
                            if (iy < 0 || iy >= (int32_t)g.ih) {
                                continue;
                            }
                            for (uint32_t kx = 0; kx < g.kw; kx++) {
                                int32_t ix = ix0 + (int32_t)kx * g.dw;
                                if (ix < 0 || ix >= (int32_t)g.iw) {
                                    continue;
                                }
                                const int8_t *px = xb + ((size_t)iy * g.iw + ix) * g.ic;
                                const int8_t *pw = wc + (ky * g.kw + kx) * g.ic;
                                int32_t dot = 0;  // at most 65535 * 255 * 128: no overflow
                                for (uint32_t i = 0; i < g.ic; i++) {
                                    dot += (px[i] - zx) * pw[i];
                                }
                                acc = wrap_add(acc, dot);
                            }
                        }
                    }
                    y[c] = clamp8(wrap_add(ml_nn_requantize(acc, mult[c], shift[c]), zy), lo, hi);
                }
            }
        }
    }
}

static void depthwise_i8(ml_nn_t *m, const ml_nn_op_t *op) {
    geometry_t g;
    conv_geometry(m, op, &g);
    const int8_t *x = (const int8_t *)AT(m, T(m, op->inputs[0]));
    const int8_t *w = (const int8_t *)CONST_AT(m, T(m, op->inputs[1]));
    const int32_t *bias = (const int32_t *)CONST_AT(m, T(m, op->inputs[2]));
    const ml_nn_tensor_t *ty = T(m, op->output);
    int8_t *y = (int8_t *)AT(m, ty);
    const int32_t *mult = (const int32_t *)(m->data + op->aux);
    const int32_t *shift = mult + g.oc, *folded = shift + g.oc;
    const int32_t zx = T(m, op->inputs[0])->zero_point, zy = ty->zero_point;
    const int32_t lo = op->params[6], hi = op->params[7];
    const uint32_t dm = g.oc / g.ic;
    for (uint32_t b = 0; b < g.n; b++) {
        const int8_t *xb = x + (size_t)b * g.ih * g.iw * g.ic;
        for (uint32_t oy = 0; oy < g.oh; oy++) {
            int32_t iy0 = (int32_t)oy * g.sh - g.pt;
            for (uint32_t ox = 0; ox < g.ow; ox++, y += g.oc) {
                int32_t ix0 = (int32_t)ox * g.sw - g.pl;
                int inside = window_inside(&g, iy0, ix0);
                for (uint32_t c = 0; c < g.oc; c++) {
                    uint32_t ci = c / dm;
                    int32_t acc = inside ? folded[c] : bias[c];
                    for (uint32_t ky = 0; ky < g.kh; ky++) {
                        int32_t iy = iy0 + (int32_t)ky * g.dh;
                        if (iy < 0 || iy >= (int32_t)g.ih) {
                            continue;
                        }
                        for (uint32_t kx = 0; kx < g.kw; kx++) {
                            int32_t ix = ix0 + (int32_t)kx * g.dw;
                            if (ix < 0 || ix >= (int32_t)g.iw) {
                                continue;
                            }
                            int32_t v = xb[((size_t)iy * g.iw + ix) * g.ic + ci];
                            acc = wrap_add(acc, (inside ? v : v - zx) * w[(ky * g.kw + kx) * g.oc + c]);
                        }
                    }
                    y[c] = clamp8(wrap_add(ml_nn_requantize(acc, mult[c], shift[c]), zy), lo, hi);
                }
            }
        }
    }
}

static void conv_f32(ml_nn_t *m, const ml_nn_op_t *op, int depthwise) {
    geometry_t g;
    conv_geometry(m, op, &g);
    const float *x = (const float *)AT(m, T(m, op->inputs[0]));
    const float *w = (const float *)CONST_AT(m, T(m, op->inputs[1]));
    const float *bias = (const float *)CONST_AT(m, T(m, op->inputs[2]));
    float *y = (float *)AT(m, T(m, op->output));
    const float lo = param_f(op->params[6]), hi = param_f(op->params[7]);
    const uint32_t dm = depthwise ? g.oc / g.ic : 1;
    for (uint32_t b = 0; b < g.n; b++) {
        const float *xb = x + (size_t)b * g.ih * g.iw * g.ic;
        for (uint32_t oy = 0; oy < g.oh; oy++) {
            int32_t iy0 = (int32_t)oy * g.sh - g.pt;
            for (uint32_t ox = 0; ox < g.ow; ox++, y += g.oc) {
                int32_t ix0 = (int32_t)ox * g.sw - g.pl;
                for (uint32_t c = 0; c < g.oc; c++) {
                    float acc = 0.0f;
                    for (uint32_t ky = 0; ky < g.kh; ky++) {
                        int32_t iy = iy0 + (int32_t)ky * g.dh;
                        if (iy < 0 || iy >= (int32_t)g.ih) {
                            continue;
                        }
                        for (uint32_t kx = 0; kx < g.kw; kx++) {
                            int32_t ix = ix0 + (int32_t)kx * g.dw;
                            if (ix < 0 || ix >= (int32_t)g.iw) {
                                continue;
                            }
                            const float *px = xb + ((size_t)iy * g.iw + ix) * g.ic;
                            if (depthwise) {
                                acc += px[c / dm] * w[(ky * g.kw + kx) * g.oc + c];
                            } else {
                                const float *pw = w + ((size_t)c * g.kh * g.kw + ky * g.kw + kx)
                                                  * g.ic;
                                for (uint32_t i = 0; i < g.ic; i++) {
                                    acc += px[i] * pw[i];
                                }
                            }
                        }
                    }
                    y[c] = clampf(acc + bias[c], lo, hi);
                }
            }
        }
    }
}

static void fully_connected(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]), *tw = T(m, op->inputs[1]);
    const ml_nn_tensor_t *ty = T(m, op->output);
    const uint32_t n_out = tw->dims[0], n_in = tw->dims[1], batches = tx->count / n_in;
    if (ty->type == ML_NN_INT8) {
        const int8_t *x = (const int8_t *)AT(m, tx);
        const int8_t *w = (const int8_t *)CONST_AT(m, tw);
        int8_t *y = (int8_t *)AT(m, ty);
        const int32_t *mult = (const int32_t *)(m->data + op->aux);
        const int32_t *shift = mult + n_out, *folded = shift + n_out;
        for (uint32_t b = 0; b < batches; b++, x += n_in, y += n_out) {
            for (uint32_t o = 0; o < n_out; o++) {
                int32_t acc = wrap_add(folded[o], dot_i8(x, w + (size_t)o * n_in, n_in));
                y[o] = clamp8(wrap_add(ml_nn_requantize_single(acc, mult[o], shift[o]),
                    ty->zero_point),
                    op->params[6], op->params[7]);
            }
        }
        return;
    }
    const float *x = (const float *)AT(m, tx);
    const float *w = (const float *)CONST_AT(m, tw);
    const float *bias = (const float *)CONST_AT(m, T(m, op->inputs[2]));
    float *y = (float *)AT(m, ty);
    const float lo = param_f(op->params[6]), hi = param_f(op->params[7]);
    for (uint32_t b = 0; b < batches; b++, x += n_in, y += n_out) {
        for (uint32_t o = 0; o < n_out; o++) {
            const float *wo = w + (size_t)o * n_in;
            float acc = 0.0f;
            for (uint32_t i = 0; i < n_in; i++) {
                acc += x[i] * wo[i];
            }
            y[o] = clampf(acc + bias[o], lo, hi);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Pooling and mean

static void pool(ml_nn_t *m, const ml_nn_op_t *op, int is_max) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]), *ty = T(m, op->output);
    const uint32_t n = tx->dims[0], ih = tx->dims[1], iw = tx->dims[2], ch = tx->dims[3];
    const uint32_t oh = ty->dims[1], ow = ty->dims[2];
    const int32_t sh = op->params[0], sw = op->params[1], fh = op->params[2];
    const int32_t fw = op->params[3], pt = op->params[4], pl = op->params[5];
    const int q = ty->type == ML_NN_INT8;
    for (uint32_t b = 0; b < n; b++) {
        for (uint32_t oy = 0; oy < oh; oy++) {
            int32_t y0 = (int32_t)oy * sh - pt;
            int32_t ys = y0 < 0 ? 0 : y0, ye = y0 + fh > (int32_t)ih ? (int32_t)ih : y0 + fh;
            for (uint32_t ox = 0; ox < ow; ox++) {
                int32_t x0 = (int32_t)ox * sw - pl;
                int32_t xs = x0 < 0 ? 0 : x0, xe = x0 + fw > (int32_t)iw ? (int32_t)iw : x0 + fw;
                size_t out = (((size_t)b * oh + oy) * ow + ox) * ch;
                int32_t count = (ye - ys) * (xe - xs);
                for (uint32_t c = 0; c < ch; c++) {
                    if (q) {
                        const int8_t *x = (const int8_t *)AT(m, tx);
                        int32_t acc = is_max ? -128 : 0;
                        for (int32_t iy = ys; iy < ye; iy++) {
                            for (int32_t ix = xs; ix < xe; ix++) {
                                int32_t v = x[(((size_t)b * ih + iy) * iw + ix) * ch + c];
                                acc = is_max ? (v > acc ? v : acc) : acc + v;
                            }
                        }
                        if (!is_max) {
                            acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                        }
                        ((int8_t *)AT(m, ty))[out + c] = clamp8(acc, op->params[6],
                            op->params[7]);
                    } else {
                        const float *x = (const float *)AT(m, tx);
                        float acc = is_max ? -3.402823466e38f : 0.0f;
                        for (int32_t iy = ys; iy < ye; iy++) {
                            for (int32_t ix = xs; ix < xe; ix++) {
                                float v = x[(((size_t)b * ih + iy) * iw + ix) * ch + c];
                                acc = is_max ? (v > acc ? v : acc) : acc + v;
                            }
                        }
                        if (!is_max) {
                            acc = acc / (float)count;
                        }
                        ((float *)AT(m, ty))[out + c] = clampf(acc, param_f(op->params[6]),
                            param_f(op->params[7]));
                    }
                }
            }
        }
    }
}

static void mean(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]), *ty = T(m, op->output);
    const uint32_t n = tx->dims[0], hw = (uint32_t)tx->dims[1] * tx->dims[2], ch = tx->dims[3];
    for (uint32_t b = 0; b < n; b++) {
        for (uint32_t c = 0; c < ch; c++) {
            if (ty->type == ML_NN_INT8) {
                const int8_t *x = (const int8_t *)AT(m, tx) + (size_t)b * hw * ch + c;
                uint32_t sum = 0;
                for (uint32_t i = 0; i < hw; i++) {
                    sum += (uint32_t)(int32_t)x[(size_t)i * ch];
                }
                sum -= (uint32_t)tx->zero_point * hw;
                int32_t v = wrap_add(ml_nn_requantize((int32_t)sum, op->params[1], op->params[2]),
                    ty->zero_point);
                ((int8_t *)AT(m, ty))[b * ch + c] = clamp8(v, -128, 127);
            } else {
                const float *x = (const float *)AT(m, tx) + (size_t)b * hw * ch + c;
                float sum = 0.0f;
                for (uint32_t i = 0; i < hw; i++) {
                    sum += x[(size_t)i * ch];
                }
                ((float *)AT(m, ty))[b * ch + c] = sum / (float)hw;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Softmax: int8 in gemmlowp fixed point (exp in Q5.26, sums in Q12.19)

// exp(a) for a in [-1/4, 0), Q0.31.
static int32_t exp_on_interval(int32_t a) {
    const int32_t constant_term = 1895147668;  // exp(-1/8)
    const int32_t one_third = 715827883;
    int32_t x = a + (1 << 28);
    int32_t x2 = srdhm(x, x);
    int32_t x3 = srdhm(x2, x);
    int32_t x4 = srdhm(x2, x2);
    int32_t x4_over_4 = rdbpot(x4, 2);
    int32_t poly = rdbpot(srdhm(x4_over_4 + x3, one_third) + x2, 1);
    return constant_term + srdhm(constant_term, x + poly);
}

// exp(a) for a <= 0 in Q5.26, result Q0.31.
static int32_t exp_on_negative_q5(int32_t a) {
    static const int32_t barrel[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242,
    };
    const int frac_bits = 26;
    const int32_t one_quarter = 1 << (frac_bits - 2);
    int32_t a_mod = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = exp_on_interval(sat_shift_left(a_mod, 5));
    int32_t remainder = a_mod - a;
    for (int e = -2; e <= 4; e++) {
        if (remainder & (1 << (frac_bits + e))) {
            result = srdhm(result, barrel[e + 2]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

// 1 / (1 + a) for a in [0, 1), Q0.31.
static int32_t one_over_one_plus_x(int32_t a) {
    int64_t sum = (int64_t)a + INT32_MAX;
    int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + srdhm(half_denominator, -1010580540);
    for (int i = 0; i < 3; i++) {
        int32_t one_minus = (1 << 29) - srdhm(half_denominator, x);
        x = x + sat_shift_left(srdhm(x, one_minus), 2);
    }
    return sat_shift_left(x, 1);
}

static int clz32(uint32_t x) {
    int n = 0;
    if (!x) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
}

static void softmax_i8(const int8_t *x, int8_t *y, uint32_t depth, const int32_t *p) {
    const int32_t mult = p[1], shift = p[2], diff_min = p[3];
    int32_t max = -128;
    for (uint32_t i = 0; i < depth; i++) {
        max = x[i] > max ? x[i] : max;
    }
    int32_t sum = 0;  // Q12.19
    for (uint32_t i = 0; i < depth; i++) {
        int32_t d = x[i] - max;
        if (d >= diff_min) {
            int32_t scaled = srdhm((int32_t)((uint32_t)d << shift), mult);
            sum = wrap_add(sum, rdbpot(exp_on_negative_q5(scaled), 12));
        }
    }
    int headroom_plus_one = clz32((uint32_t)sum);
    int bits_over_unit = 12 - headroom_plus_one;
    int32_t shifted = (int32_t)(((uint32_t)sum << headroom_plus_one) - (1u << 31));
    int32_t recip = one_over_one_plus_x(shifted);
    int exponent = bits_over_unit + 31 - 8;
    for (uint32_t i = 0; i < depth; i++) {
        int32_t d = x[i] - max;
        if (d >= diff_min) {
            int32_t scaled = srdhm((int32_t)((uint32_t)d << shift), mult);
            int32_t e = exp_on_negative_q5(scaled);
            y[i] = clamp8(rdbpot(srdhm(recip, e), exponent) - 128, -128, 127);
        } else {
            y[i] = -128;
        }
    }
}

static void softmax(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]), *ty = T(m, op->output);
    const uint32_t depth = (uint32_t)op->params[0], rows = tx->count / depth;
    for (uint32_t r = 0; r < rows; r++) {
        if (ty->type == ML_NN_INT8) {
            softmax_i8((const int8_t *)AT(m, tx) + (size_t)r * depth,
                (int8_t *)AT(m, ty) + (size_t)r * depth, depth, op->params);
            continue;
        }
        const float *x = (const float *)AT(m, tx) + (size_t)r * depth;
        float *y = (float *)AT(m, ty) + (size_t)r * depth;
        const float beta = param_f(op->params[1]);
        float max = x[0], sum = 0.0f;
        for (uint32_t i = 1; i < depth; i++) {
            max = x[i] > max ? x[i] : max;
        }
        for (uint32_t i = 0; i < depth; i++) {
            y[i] = ml_expf((x[i] - max) * beta);
            sum += y[i];
        }
        for (uint32_t i = 0; i < depth; i++) {
            y[i] = y[i] / sum;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Element-wise

// std::round of a double (ties away from zero), saturated far beyond the int8 range.
static int32_t round_away(double v) {
    if (v > 1.0e9) {
        return 1000000000;
    }
    if (v < -1.0e9) {
        return -1000000000;
    }
    int32_t t = (int32_t)v;  // truncates toward zero
    double frac = v - (double)t;
    if (frac >= 0.5) {
        t++;
    } else if (frac <= -0.5) {
        t--;
    }
    return t;
}

void ml_nn_quantize(const float *x, int8_t *q, size_t n, float scale, int32_t zero_point) {
    for (size_t i = 0; i < n; i++) {
        // TFLite's reference divides in double; NaN goes to the zero point.
        double v = (double)x[i] / (double)scale;
        int32_t r = v == v ? round_away(v) : 0;
        q[i] = clamp8(r + zero_point, -128, 127);
    }
}

void ml_nn_dequantize(const int8_t *q, float *x, size_t n, float scale, int32_t zero_point) {
    for (size_t i = 0; i < n; i++) {
        x[i] = (float)((double)scale * (double)(q[i] - zero_point));
    }
}

// ---------------------------------------------------------------------------------------------
// ADD, MUL: numpy broadcasting over the output's 4-D shape

// The bytes of a tensor, in the arena or in the constant data.
static inline const uint8_t *tensor_data(const ml_nn_t *m, const ml_nn_tensor_t *t) {
    return t->storage == ML_NN_CONST ? CONST_AT(m, t) : AT(m, t);
}

// Dimension d of the 4-D shape a tensor's shape aligns to at the right.
static inline uint32_t dim4(const ml_nn_tensor_t *t, int d) {
    int k = d - (4 - t->ndim);
    return k >= 0 ? t->dims[k] : 1;
}

// Element strides of t seen with the output's 4-D shape: 0 along its axes of size 1.
static void broadcast_strides(const ml_nn_tensor_t *t, uint32_t s[4]) {
    uint32_t stride = 1;
    for (int d = 3; d >= 0; d--) {
        uint32_t n = dim4(t, d);
        s[d] = n == 1 ? 0 : stride;
        stride *= n;
    }
}

// TFLite's int8 ADD: both inputs on a common scale with 20 bits of headroom, summed, rescaled.
static inline int8_t add_i8(int32_t a, int32_t b, const int32_t *p, int32_t zy) {
    int32_t sa = ml_nn_requantize((int32_t)((uint32_t)a << ML_NN_ADD_LEFT_SHIFT), p[0], p[1]);
    int32_t sb = ml_nn_requantize((int32_t)((uint32_t)b << ML_NN_ADD_LEFT_SHIFT), p[2], p[3]);
    return clamp8(wrap_add(ml_nn_requantize(sa + sb, p[4], p[5]), zy), p[6], p[7]);
}

static inline int8_t mul_i8(int32_t a, int32_t b, const int32_t *p, int32_t zy) {
    return clamp8(wrap_add(ml_nn_requantize(a * b, p[0], p[1]), zy), p[6], p[7]);
}

static void binary(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *ta = T(m, op->inputs[0]), *tb = T(m, op->inputs[1]);
    const ml_nn_tensor_t *ty = T(m, op->output);
    const int add = op->code == ML_NN_OP_ADD, q = ty->type == ML_NN_INT8;
    const int32_t *p = op->params;
    const int32_t za = ta->zero_point, zb = tb->zero_point, zy = ty->zero_point;
    const float lo = param_f(p[6]), hi = param_f(p[7]);
    uint32_t sa[4], sb[4], n[4];
    broadcast_strides(ta, sa);
    broadcast_strides(tb, sb);
    for (int d = 0; d < 4; d++) {
        n[d] = dim4(ty, d);
    }
    const uint8_t *a = tensor_data(m, ta), *b = tensor_data(m, tb);
    uint8_t *y = AT(m, ty);
    size_t i = 0;
    for (uint32_t i0 = 0; i0 < n[0]; i0++) {
        for (uint32_t i1 = 0; i1 < n[1]; i1++) {
            for (uint32_t i2 = 0; i2 < n[2]; i2++) {
                size_t ja = (size_t)i0 * sa[0] + (size_t)i1 * sa[1] + (size_t)i2 * sa[2];
                size_t jb = (size_t)i0 * sb[0] + (size_t)i1 * sb[1] + (size_t)i2 * sb[2];
                for (uint32_t i3 = 0; i3 < n[3]; i3++, i++, ja += sa[3], jb += sb[3]) {
                    if (q) {
                        int32_t va = ((const int8_t *)a)[ja] - za;
                        int32_t vb = ((const int8_t *)b)[jb] - zb;
                        ((int8_t *)y)[i] = add ? add_i8(va, vb, p, zy) : mul_i8(va, vb, p, zy);
                    } else {
                        float va = ((const float *)a)[ja], vb = ((const float *)b)[jb];
                        ((float *)y)[i] = clampf(add ? va + vb : va * vb, lo, hi);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CONCATENATION, PAD: moving bytes

// One input of a concatenation, row by row into its columns of the output.
static void concatenation(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]), *ty = T(m, op->output);
    const uint32_t size = ml_nn_tensor_bytes(tx) / tx->count;
    const size_t in_row = (size_t)op->params[1] * size, out_row = (size_t)op->params[2] * size;
    const uint8_t *x = AT(m, tx);
    uint8_t *y = AT(m, ty) + (size_t)op->params[3] * size;
    for (int32_t r = 0; r < op->params[0]; r++, x += in_row, y += out_row) {
        memmove(y, x, in_row);  // memmove: a model file may let them overlap
    }
}

static void pad(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]), *ty = T(m, op->output);
    const int32_t *p = op->params;
    uint8_t *y = AT(m, ty);
    if (ty->type == ML_NN_INT8) {
        memset(y, (uint8_t)ty->zero_point, ty->count);
    } else {
        for (uint32_t i = 0; i < ty->count; i++) {
            ((float *)y)[i] = 0.0f;
        }
    }
    uint32_t nx[4], ny[4];
    for (int d = 0; d < 4; d++) {
        nx[d] = dim4(tx, d);
        ny[d] = dim4(ty, d);
    }
    const uint32_t size = ml_nn_tensor_bytes(tx) / tx->count;
    const size_t row = (size_t)nx[3] * size;
    const uint8_t *x = AT(m, tx);
    for (uint32_t i0 = 0; i0 < nx[0]; i0++) {
        for (uint32_t i1 = 0; i1 < nx[1]; i1++) {
            for (uint32_t i2 = 0; i2 < nx[2]; i2++, x += row) {
                size_t at = (((size_t)(i0 + p[0]) * ny[1] + i1 + p[2]) * ny[2] + i2 + p[4])
                            * ny[3] + p[6];
                memmove(y + at * size, x, row);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// float32 element-wise activations (int8 ones are LUT)

static void activation_f32(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]);
    const float *x = (const float *)AT(m, tx);
    float *y = (float *)AT(m, T(m, op->output));
    const float alpha = param_f(op->params[1]);
    for (uint32_t i = 0; i < tx->count; i++) {
        float v = x[i], r;
        switch (op->params[0]) {
            case ML_NN_ACT_RELU:
                r = v > 0.0f ? v : 0.0f;
                break;
            case ML_NN_ACT_RELU6:
                r = clampf(v, 0.0f, 6.0f);
                break;
            case ML_NN_ACT_LEAKY_RELU:
                r = v > 0.0f ? v : v * alpha;
                break;
            case ML_NN_ACT_LOGISTIC:
                r = ml_sigmoidf(v);
                break;
            case ML_NN_ACT_TANH:
                r = ml_tanhf(v);
                break;
            default:  // ML_NN_ACT_HARD_SWISH, as TFLite orders it: x * relu6(x + 3) / 6
                r = v * clampf(v + 3.0f, 0.0f, 6.0f) / 6.0f;
                break;
        }
        y[i] = r;
    }
}

static void lut(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]);
    const uint8_t *x = AT(m, tx);
    const uint8_t *table = m->data + op->aux;
    uint8_t *y = (uint8_t *)AT(m, T(m, op->output));
    for (uint32_t i = 0; i < tx->count; i++) {
        y[i] = table[x[i]];
    }
}

void ml_nn_run_op(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]), *ty = T(m, op->output);
    int q = ty->type == ML_NN_INT8;
    switch (op->code) {
        case ML_NN_OP_CONV_2D:
            q ? conv_i8(m, op) : conv_f32(m, op, 0);
            break;
        case ML_NN_OP_DEPTHWISE_CONV_2D:
            q ? depthwise_i8(m, op) : conv_f32(m, op, 1);
            break;
        case ML_NN_OP_FULLY_CONNECTED:
            fully_connected(m, op);
            break;
        case ML_NN_OP_MAX_POOL_2D:
        case ML_NN_OP_AVERAGE_POOL_2D:
            pool(m, op, op->code == ML_NN_OP_MAX_POOL_2D);
            break;
        case ML_NN_OP_MEAN:
            mean(m, op);
            break;
        case ML_NN_OP_SOFTMAX:
            softmax(m, op);
            break;
        case ML_NN_OP_COPY:
            if (tx->offset != ty->offset) {
                memmove(AT(m, ty), AT(m, tx), ml_nn_tensor_bytes(ty));
            }
            break;
        case ML_NN_OP_QUANTIZE:
            ml_nn_quantize((const float *)AT(m, tx), (int8_t *)AT(m, ty), tx->count,
                param_f(op->params[0]), op->params[1]);
            break;
        case ML_NN_OP_DEQUANTIZE:
            ml_nn_dequantize((const int8_t *)AT(m, tx), (float *)AT(m, ty), tx->count,
                param_f(op->params[0]), op->params[1]);
            break;
        case ML_NN_OP_LUT:
            lut(m, op);
            break;
        case ML_NN_OP_ADD:
        case ML_NN_OP_MUL:
            binary(m, op);
            break;
        case ML_NN_OP_CONCATENATION:
            concatenation(m, op);
            break;
        case ML_NN_OP_PAD:
            pad(m, op);
            break;
        case ML_NN_OP_ACTIVATION:
            activation_f32(m, op);
            break;
    }
}
