// The operators of ml_nn. int8 arithmetic is TensorFlow Lite's, step for step (the facts:
// gemmlowp's fixed-point rounding and saturation, the quantized multipliers and their double
// rounding, the single rounding of FULLY_CONNECTED, the order of clamps), so that every output
// byte equals what TFLite's reference kernels give. Shapes and parameters were validated by
// ml_nn_open: nothing here can go out of bounds.
#include <string.h>

#include "ml_math.h"
#include "ml_nn_ops.h"

// The inner loops stay functions of their own: inlined into the loops around them, they would
// run out of registers and spill (as GCC does at -Os).
// And the requantization of each output is inlined where it is used.
#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define NOINLINE
#define ALWAYS_INLINE inline
#endif

// The kernels for cores with 8 registers for arithmetic and no 32x32->64 multiply (the
// Cortex-M0); ML_NN_SMALL_CORE=1 builds them anywhere (the C tests run them on x64 too).
#ifndef ML_NN_SMALL_CORE
#if defined(__ARM_ARCH_6M__)
#define ML_NN_SMALL_CORE 1
#else
#define ML_NN_SMALL_CORE 0
#endif
#endif

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

// MultiplyByQuantizedMultiplier, double rounding: the left shift wraps as TFLite's does. For a
// multiplier >= 0 (ml_nn_open checks it), gemmlowp's SaturatingRoundingDoublingHighMul never
// saturates and equals floor((a * m + 2^30) / 2^31): its nudge (1 - 2^30 below zero) and its
// truncating division give that floor on both signs. RoundingDivideByPOT by e >= 1 rounds
// half away from zero: done on the magnitude, which fits 32 unsigned bits with the half added.
// requant_channel prepares a channel's multiplier and shift once for requantize_with.
typedef struct {
    int32_t mult;
    uint32_t left, right, half;
} channel_t;

static ALWAYS_INLINE void requant_channel(channel_t *ch, int32_t multiplier, int32_t shift) {
    ch->mult = multiplier;
    ch->left = shift > 0 ? (uint32_t)shift : 0;
    ch->right = shift < 0 ? (uint32_t)-shift : 0;
    ch->half = ((uint32_t)1 << ch->right) >> 1;
}

static ALWAYS_INLINE int32_t requantize_with(const channel_t *ch, int32_t acc) {
    acc = (int32_t)((uint32_t)acc << ch->left);
    int32_t t = (int32_t)(((int64_t)acc * ch->mult + ((int64_t)1 << 30)) >> 31);
    uint32_t sign = (uint32_t)(t >> 31);  // all ones below zero
    uint32_t mag = ((uint32_t)t ^ sign) - sign;
    mag = (mag + ch->half) >> ch->right;
    return (int32_t)((mag ^ sign) - sign);
}

static ALWAYS_INLINE int32_t requantize(int32_t acc, int32_t multiplier, int32_t shift) {
    channel_t ch;
    requant_channel(&ch, multiplier, shift);
    return requantize_with(&ch, acc);
}

// The single-rounding form FULLY_CONNECTED goes through: round half up in 64 bits,
// floor((acc * m + 2^(s-1)) / 2^s) with s = 31 - shift. For s > 32 (the usual multipliers
// below 1/2) the low word cannot change the result: the high word alone, in 32 bits.
static ALWAYS_INLINE int32_t requantize_single(int32_t acc, int32_t multiplier, int32_t shift) {
    int total = 31 - shift;
    int64_t p = (int64_t)acc * multiplier;
    if (total > 32) {
        return ((int32_t)(p >> 32) + (1 << (total - 33))) >> (total - 32);
    }
    return (int32_t)((p + ((int64_t)1 << (total - 1))) >> total);
}

// The same for a right shift r = -shift >= 2 (a multiplier below 1/4: nearly every
// convolution's), in one rounding step. With t = floor((acc * m + 2^30) / 2^31) and h = 2^(r-1),
// the result floor((t + h - [t < 0]) / 2^r) is floor((P + 2^(30+r)) / 2^(31+r)), P = acc * m +
// 2^30 - [acc < 0] * 2^31 (integers added inside nested floors commute with them; t < 0 only
// when acc < 0, and acc < 0 with t = 0 gives 0 either way): (floor(P / 2^32) + 2^(r-2)) >>
// (r - 1), where |P| < 2^62. hh = 2^(r-2), rm1 = r - 1.
#if ML_NN_SMALL_CORE
// floor(P / 2^32) in 32-bit arithmetic, for cores without a 32x32->64 multiply (where the C
// compiler calls a 64x64 one): acc = ah * 2^16 + al, m = mh * 2^16 + ml (al, ml, mh >= 0, as
// m >= 0), each partial product within 32 bits, the carries of the low word counted.
static ALWAYS_INLINE int32_t high_word(int32_t acc, int32_t m) {
    int32_t ah = acc >> 16, mh = m >> 16;
    uint32_t al = (uint32_t)acc & 0xffffu, ml = (uint32_t)m & 0xffffu;
    int32_t mid1 = ah * (int32_t)ml, mid2 = (int32_t)(al * (uint32_t)mh);
    uint32_t lo = al * ml, add;
    int32_t hi = ah * mh + (acc >> 31) + (mid1 >> 16) + (mid2 >> 16);
    add = 0x40000000u | ((uint32_t)acc & 0x80000000u);  // 2^30 - [acc < 0] * 2^31, low word
    lo += add;
    hi += lo < add;
    add = (uint32_t)mid1 << 16;
    lo += add;
    hi += lo < add;
    add = (uint32_t)mid2 << 16;
    lo += add;
    hi += lo < add;
    return hi;
}
#else
static ALWAYS_INLINE int32_t high_word(int32_t acc, int32_t m) {
    uint64_t start = ((uint64_t)(uint32_t)(acc >> 31) << 32)
        | (0x40000000u | ((uint32_t)acc & 0x80000000u));  // 2^30 - [acc < 0] * 2^31
    return (int32_t)(((int64_t)acc * m + (int64_t)start) >> 32);
}
#endif

static ALWAYS_INLINE int32_t requantize_right(int32_t acc, int32_t mult, int32_t hh, int rm1) {
    return (high_word(acc, mult) + hh) >> rm1;
}

int32_t ml_nn_requantize(int32_t acc, int32_t multiplier, int32_t shift) {
    return requantize(acc, multiplier, shift);
}

int32_t ml_nn_requantize_single(int32_t acc, int32_t multiplier, int32_t shift) {
    return requantize_single(acc, multiplier, shift);
}

// int32 addition that wraps (as the int32 accumulators of TFLite do in practice) instead of
// being undefined: a model file can hold any bias.
static inline int32_t wrap_add(int32_t a, int32_t b) {
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int8_t clamp8(int32_t v, int32_t lo, int32_t hi) {
    v = v < lo ? lo : v;
    return (int8_t)(v > hi ? hi : v);
}

// *y = v clamped to [lo, hi] (lo <= hi, both int8): mostly v is within, and one unsigned
// comparison says so.
static ALWAYS_INLINE void store_clamped(uint8_t *y, int32_t v, int32_t lo, int32_t hi) {
    if ((uint32_t)v - (uint32_t)lo > (uint32_t)(hi - lo)) {
        v = v < lo ? lo : hi;
    }
    *y = (uint8_t)v;
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

// The part of a convolution window that lies inside the input, as the kernels walk it: `rows`
// rows of `runs` runs of `len` contiguous input bytes, rows row_step bytes apart, runs run_step
// apart. Each output channel's weights follow the same order, with w_skip weights to pass over
// after each row (the kernel columns a border window lacks; 0 inside).
typedef struct {
    const int8_t *x;
    uint32_t rows, runs, len, row_step, run_step, w_skip;
    uint32_t first_tap, cols;  // its first kernel tap (ky * kw + kx), its kernel columns
} window_t;

// The window of the output pixel whose kernel's top-left tap is at (iy0, ix0) of image xb,
// clipped to the input; returns whether it lies wholly inside (no padded pixel).
static int conv_window(const geometry_t *g, const int8_t *xb, int32_t iy0, int32_t ix0,
    window_t *win) {
    uint32_t ky0 = 0, ky1 = g->kh, kx0 = 0, kx1 = g->kw;
    if (iy0 >= 0 && ix0 >= 0 && iy0 + (int32_t)(g->kh - 1) * g->dh < (int32_t)g->ih
        && ix0 + (int32_t)(g->kw - 1) * g->dw < (int32_t)g->iw) {
        // Wholly inside (the common case): the window is the kernel's.
        win->rows = g->kh;
        win->cols = g->kw;
        win->first_tap = 0;
        win->w_skip = 0;
        win->x = xb + ((size_t)iy0 * g->iw + (size_t)ix0) * g->ic;
        win->row_step = (uint32_t)g->dh * g->iw * g->ic;
        win->run_step = (uint32_t)g->dw * g->ic;
        win->runs = g->dw == 1 ? 1 : g->kw;
        win->len = g->dw == 1 ? g->kw * g->ic : g->ic;
        return 1;
    }
    while (ky0 < ky1 && iy0 + (int32_t)ky0 * g->dh < 0) {
        ky0++;
    }
    while (ky1 > ky0 && iy0 + (int32_t)(ky1 - 1) * g->dh >= (int32_t)g->ih) {
        ky1--;
    }
    while (kx0 < kx1 && ix0 + (int32_t)kx0 * g->dw < 0) {
        kx0++;
    }
    while (kx1 > kx0 && ix0 + (int32_t)(kx1 - 1) * g->dw >= (int32_t)g->iw) {
        kx1--;
    }
    uint32_t cols = kx1 - kx0;
    win->rows = ky1 - ky0;
    win->runs = g->dw == 1 ? (cols ? 1 : 0) : cols;
    win->len = g->dw == 1 ? cols * g->ic : g->ic;
    win->row_step = (uint32_t)g->dh * g->iw * g->ic;
    win->run_step = (uint32_t)g->dw * g->ic;
    win->w_skip = (g->kw - cols) * g->ic;
    win->first_tap = ky0 * g->kw + kx0;
    win->cols = cols;
    if (!win->rows || !cols) {
        // Wholly in the padding (a file may ask for it): nothing to read.
        win->rows = win->runs = win->len = win->cols = 0;
        win->x = xb;
        return 0;
    }
    win->x = xb + ((size_t)(iy0 + (int32_t)ky0 * g->dh) * g->iw
                   + (size_t)(ix0 + (int32_t)kx0 * g->dw)) * g->ic;
    return ky0 == 0 && kx0 == 0 && ky1 == g->kh && kx1 == g->kw;
}

#if ML_NN_SMALL_CORE
// The sums over i < n of p[i] * w[i] (low word) and of p[i] * w[ws + i] (high word), n >= 1:
// with the index counting down to zero and the sums returned, every value fits the
// Cortex-M0's 8 registers (three bases, the index, two sums, two operands): 9 instructions
// for 2 MACs.
NOINLINE static uint64_t dot2_run(const int8_t *p, uint32_t n, const int8_t *w, uint32_t ws) {
    uint32_t a0 = 0, a1 = 0;
    const int8_t *w1 = w + ws;
    int32_t i = (int32_t)n - 1;
    do {
        int32_t v = p[i];
        a0 += (uint32_t)(v * w[i]);
        a1 += (uint32_t)(v * w1[i]);
    } while (--i >= 0);
    return (uint64_t)a1 << 32 | a0;
}

// acc[0], acc[1] += dot2_run.
static void dot2_add(uint32_t *acc, const int8_t *p, uint32_t n, const int8_t *w, uint32_t ws) {
    uint64_t s = dot2_run(p, n, w, ws);
    acc[0] += (uint32_t)s;
    acc[1] += (uint32_t)(s >> 32);
}
#endif

// acc[j] += sum over i < n of (p[i] - zx) * w[j * ws + i], n >= 1, for four output channels ws
// bytes apart: each input byte is loaded once for the four. The accumulators wrap (uint32_t) as
// TFLite's int32 ones do in practice. This loop is where the time goes; written so, without
// unrolling (which compilers at -Os reassociate into more instructions), it is 11 instructions
// for 4 MACs on a Cortex-M3 (5 loads, 4 multiply-accumulates, compare and branch). Inlined
// into both callers: with zx a constant 0 the subtraction is gone.
static ALWAYS_INLINE void dot4_loop(uint32_t *acc, const int8_t *p, uint32_t n, const int8_t *w,
    uint32_t ws, int32_t zx) {
    uint32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *w0 = w, *w1 = w0 + ws, *w2 = w1 + ws, *w3 = w2 + ws;
    const int8_t *end = p + n;
    do {
        int32_t v = *p++ - zx;
        a0 += (uint32_t)(v * *w0++);
        a1 += (uint32_t)(v * *w1++);
        a2 += (uint32_t)(v * *w2++);
        a3 += (uint32_t)(v * *w3++);
    } while (p != end);
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

NOINLINE static void dot4_run(uint32_t *acc, const int8_t *p, uint32_t n, const int8_t *w,
    uint32_t ws) {
    #if ML_NN_SMALL_CORE
    // Four sums do not fit the Cortex-M0's registers with their operands: two at a time.
    dot2_add(acc, p, n, w, ws);
    dot2_add(acc + 2, p, n, w + 2 * ws, ws);
    return;
    #endif
    dot4_loop(acc, p, n, w, ws, 0);
}

// The same with the input's zero point subtracted.
NOINLINE static void dot4_run_offset(uint32_t *acc, const int8_t *p, uint32_t n,
    const int8_t *w, uint32_t ws, int32_t zx) {
    dot4_loop(acc, p, n, w, ws, zx);
}

#if !ML_NN_SMALL_CORE
// Two pixels by two channels, n <= 255: acc[0], acc[1] += sum of p[i] * w[i], p[i] * w[ws + i];
// acc[4], acc[5] the same for u = p[xoff + i]. The two pixels share one word, x = v + u * 2^23
// (exact in 32 bits), and each product x * w accumulates in 64 bits (one multiply-accumulate
// instruction for two MACs): the sum is A + B * 2^23 with A = sum of v * w, B = sum of u * w.
// Each |v * w| <= 2^14, so over at most 255 terms |A| < 2^22: A is the sum's low 23 bits sign
// extended, and B = (sum - A) / 2^23. 9 instructions for 4 MACs on a Cortex-M3.
NOINLINE static void dot2x2_run(uint32_t *acc, const int8_t *p, ptrdiff_t xoff, uint32_t n,
    const int8_t *w, uint32_t ws) {
    const int8_t *w0 = w, *w1 = w + ws;
    const int8_t *end = p + n;
    int64_t s0 = 0, s1 = 0;
    do {
        int32_t x = *p + (int32_t)((uint32_t)p[xoff] << 23);
        p++;
        s0 += (int64_t)x * *w0++;
        s1 += (int64_t)x * *w1++;
    } while (p != end);
    int32_t a0 = (int32_t)((uint32_t)s0 << 9) >> 9, a1 = (int32_t)((uint32_t)s1 << 9) >> 9;
    acc[0] += (uint32_t)a0;
    acc[1] += (uint32_t)a1;
    acc[4] += (uint32_t)((s0 - a0) >> 23);
    acc[5] += (uint32_t)((s1 - a1) >> 23);
}
#endif

#if !ML_NN_SMALL_CORE
// The same two-pixel word prepared once per window and tap (x[i] = v + u * 2^23, n <= 255), for
// two channels: s[0], s[1] = the sums of v * w[i], v * w[ws + i]; s[2], s[3] those of u. Two
// taps an iteration: 11 instructions for 8 MACs on a Cortex-M3 (a double word, four weights,
// four 64-bit multiply-accumulates, the loop's compare and branch).
NOINLINE static void dot2x2_packed(int32_t *s, const int32_t *x, uint32_t n, const int8_t *w,
    uint32_t ws) {
    const int8_t *w1 = w + ws;
    const int32_t *end = x + n;
    int64_t s0 = 0, s1 = 0;
    if (n & 1) {
        int32_t v = *x++;
        s0 = (int64_t)v * *w++;
        s1 = (int64_t)v * *w1++;
    }
    if (x != end) {
        do {
            int32_t v = *x++;
            int32_t u = *x++;
            s1 += (int64_t)v * w[ws];
            s0 += (int64_t)v * *w++;
            s1 += (int64_t)u * w[ws];
            s0 += (int64_t)u * *w++;
        } while (x != end);
    }
    int32_t a0 = (int32_t)((uint32_t)s0 << 9) >> 9, a1 = (int32_t)((uint32_t)s1 << 9) >> 9;
    s[0] = a0;
    s[1] = a1;
    s[2] = (int32_t)((s0 - a0) >> 23);
    s[3] = (int32_t)((s1 - a1) >> 23);
}
#endif


// Two pixels (x0, x1: n contiguous bytes each) by four channels (weights w + j * ws): acc[4 * k
// + j] += sum of xk[i] * w[j * ws + i]. The Cortex-M0 has 8 registers for arithmetic and no
// 64-bit multiply-accumulate: four accumulators, a pixel at a time; the others two pixels by two
// channels, in runs of 255.
static void dot2x4(uint32_t *acc, const int8_t *x0, const int8_t *x1, uint32_t n,
    const int8_t *w, uint32_t ws) {
    #if ML_NN_SMALL_CORE
    dot2_add(acc, x0, n, w, ws);
    dot2_add(acc + 2, x0, n, w + 2 * ws, ws);
    dot2_add(acc + 4, x1, n, w, ws);
    dot2_add(acc + 6, x1, n, w + 2 * ws, ws);
    #else
    for (uint32_t i = 0; i < n; i += 255) {
        uint32_t m = n - i < 255 ? n - i : 255;
        dot2x2_run(acc, x0 + i, x1 - x0, m, w + i, ws);
        dot2x2_run(acc + 2, x0 + i, x1 - x0, m, w + 2 * ws + i, ws);
    }
    #endif
}

// acc[j] += the sum over a window of x * w_j (inside: the input offset is in the bias) or of
// (x - zx) * w_j (at the border: the padded pixels, which hold the zero point, add nothing),
// for the output channels whose weights start at w + j * ws.
static void dot4(const window_t *win, const int8_t *w, uint32_t ws, int inside, int32_t zx,
    uint32_t *acc) {
    const int8_t *row = win->x;
    if (!win->len) {
        return;
    }
    for (uint32_t r = 0; r < win->rows; r++, row += win->row_step, w += win->w_skip) {
        const int8_t *run = row;
        for (uint32_t k = 0; k < win->runs; k++, run += win->run_step, w += win->len) {
            if (inside) {
                dot4_run(acc, run, win->len, w, ws);
            } else {
                dot4_run_offset(acc, run, win->len, w, ws, zx);
            }
        }
    }
}

// The per-channel arrays ml_nn_open checked in aux: multipliers, shifts, and the biases with the
// input offset folded in (bias - x_zero_point * sum(weights)).
typedef struct {
    const int32_t *mult, *shift, *folded, *bias;
    int32_t zy, lo, hi;
} requant_t;

static void requant_params(const ml_nn_t *m, const ml_nn_op_t *op, uint32_t n, requant_t *q) {
    q->mult = (const int32_t *)(m->data + op->aux);
    q->shift = q->mult + n;
    q->folded = q->shift + n;
    q->bias = (const int32_t *)CONST_AT(m, T(m, op->inputs[2]));
    q->zy = T(m, op->output)->zero_point;
    q->lo = op->params[6];
    q->hi = op->params[7];
}

// A channel's requantization as conv_pair applies it: for right shifts r of 2 to 23, rm1 = r -
// 1 and hz = 2^(r-2) + zy * 2^(r-1), the output's zero point inside the rounding (exact: a
// multiple of 2^(r-1) added before the shift, and within int32 there); otherwise rm1 = 0 and
// hz = the shift, for requantize_with.
typedef struct {
    int32_t folded, mult, hz, rm1;
} qchan_t;

static void qchan(qchan_t *t, const requant_t *q, uint32_t c) {
    int32_t sh = q->shift[c];
    t->folded = q->folded[c];
    t->mult = q->mult[c];
    if (sh <= -2 && sh >= -23) {
        t->rm1 = -sh - 1;
        t->hz = ((int32_t)1 << (-sh - 2)) + (int32_t)((uint32_t)q->zy << (-sh - 1));
    } else {
        t->rm1 = 0;
        t->hz = sh;
    }
}

// requantize for a qchan_t, the output's zero point added.
static ALWAYS_INLINE int32_t requantize_q(const qchan_t *t, int32_t acc, int32_t zy) {
    if (t->rm1) {
        return requantize_right(acc, t->mult, t->hz, t->rm1);
    }
    return wrap_add(requantize(acc, t->mult, t->hz), zy);
}


// The outputs of channels c .. c + n - 1 from their accumulators, requantized and clamped.
static void outputs(const requant_t *q, uint32_t c, uint32_t n, const uint32_t *acc, int8_t *y) {
    const int32_t *mult = q->mult + c, *shift = q->shift + c;
    const int32_t zy = q->zy, lo = q->lo, hi = q->hi;
    for (y += c; n; n--) {
        *y++ = clamp8(wrap_add(requantize((int32_t)*acc++, *mult++, *shift++), zy), lo, hi);
    }
}

// The outputs of channels c .. c + n - 1 (n >= 1) of two pixels (accumulators acc[j],
// acc[4 + j]): each channel's requantization prepared once for both.
NOINLINE static void outputs2(const requant_t *q, uint32_t c, uint32_t n, const uint32_t *acc,
    int8_t *y0, int8_t *y1) {
    const int32_t zy = q->zy, lo = q->lo, hi = q->hi;
    for (uint32_t j = 0; j < n; j++) {
        qchan_t t;
        qchan(&t, q, c + j);
        store_clamped((uint8_t *)y0 + c + j, requantize_q(&t, (int32_t)acc[j], zy), lo, hi);
        store_clamped((uint8_t *)y1 + c + j, requantize_q(&t, (int32_t)acc[4 + j], zy), lo, hi);
    }
}

// The same with FULLY_CONNECTED's single rounding.
static void outputs_single(const requant_t *q, uint32_t c, uint32_t n, const uint32_t *acc,
    int8_t *y) {
    const int32_t *mult = q->mult + c, *shift = q->shift + c;
    const int32_t zy = q->zy, lo = q->lo, hi = q->hi;
    for (y += c; n; n--) {
        store_clamped((uint8_t *)y++,
            wrap_add(requantize_single((int32_t)*acc++, *mult++, *shift++), zy), lo, hi);
    }
}

// One output pixel of CONV_2D or FULLY_CONNECTED (single rounding) over a window; w: output
// channel 0's first weight the window uses, wstride bytes per channel. Output channels four at
// a time, the last group shifted back to end at the last channel; with fewer than four
// channels, one at a time (the four sums of one channel).
static void conv_pixel(const window_t *win, int inside, const int8_t *w, uint32_t wstride,
    uint32_t oc, int32_t zx, const requant_t *q, int single, int8_t *y) {
    const int32_t *bias = inside ? q->folded : q->bias;
    uint32_t acc[4];
    if (oc < 4) {
        for (uint32_t c = 0; c < oc; c++) {
            acc[0] = acc[1] = acc[2] = acc[3] = (uint32_t)bias[c];
            dot4(win, w + c * wstride, 0, inside, zx, acc);
            (single ? outputs_single : outputs)(q, c, 1, acc, y);
        }
        return;
    }
    for (uint32_t c = 0;;) {
        acc[0] = (uint32_t)bias[c];
        acc[1] = (uint32_t)bias[c + 1];
        acc[2] = (uint32_t)bias[c + 2];
        acc[3] = (uint32_t)bias[c + 3];
        if (inside && win->rows == 1 && win->runs == 1) {
            dot4_run(acc, win->x, win->len, w + c * wstride, wstride);  // 1x1, dense
        } else {
            dot4(win, w + c * wstride, wstride, inside, zx, acc);
        }
        (single ? outputs_single : outputs)(q, c, 4, acc, y);
        if (c + 4 == oc) {
            return;
        }
        c = c + 8 <= oc ? c + 4 : oc - 4;
    }
}

// Windows of up to this many bytes are gathered into contiguous buffers on the stack (two, for
// two output pixels at a time), the padded taps filled with the input's zero point.
#define GATHER_MAX (256)

// Copies n bytes, a word at a time where both are aligned (the rows of a window usually are).
static void copy_bytes(int8_t *dst, const int8_t *src, uint32_t n) {
    if (!(((uintptr_t)dst | (uintptr_t)src) & 3)) {
        for (; n >= 4; n -= 4, dst += 4, src += 4) {
            *(uint32_t *)dst = *(const uint32_t *)src;
        }
    }
    while (n--) {
        *dst++ = *src++;
    }
}

// The window of the output pixel whose top-left tap is at (iy0, ix0), as kh x kw x ic
// contiguous bytes in buf (padded taps hold zx); or, when it is one contiguous run of the
// input already (a 1x1 kernel), a pointer into the input; NULL if it would not fit the buffer.
static const int8_t *gather(const geometry_t *g, const int8_t *xb, int32_t iy0, int32_t ix0,
    int8_t zx, int8_t *buf) {
    const uint32_t row = g->kw * g->ic;
    if (g->kh == 1 && g->kw == 1 && iy0 >= 0 && ix0 >= 0 && iy0 < (int32_t)g->ih
        && ix0 < (int32_t)g->iw) {
        return xb + ((size_t)iy0 * g->iw + (size_t)ix0) * g->ic;
    }
    if (g->kh * row > GATHER_MAX) {
        return NULL;
    }
    int8_t *out = buf;
    for (uint32_t ky = 0; ky < g->kh; ky++, out += row) {
        int32_t iy = iy0 + (int32_t)ky * g->dh;
        if (iy < 0 || iy >= (int32_t)g->ih) {
            memset(out, zx, row);
            continue;
        }
        const int8_t *in = xb + (size_t)iy * g->iw * g->ic;
        if (g->dw == 1 && ix0 >= 0 && ix0 + (int32_t)g->kw <= (int32_t)g->iw) {
            copy_bytes(out, in + (size_t)ix0 * g->ic, row);
            continue;
        }
        for (uint32_t kx = 0; kx < g->kw; kx++) {
            int32_t ix = ix0 + (int32_t)kx * g->dw;
            if (ix < 0 || ix >= (int32_t)g->iw) {
                memset(out + kx * g->ic, zx, g->ic);
            } else {
                copy_bytes(out + kx * g->ic, in + (size_t)ix * g->ic, g->ic);
            }
        }
    }
    return buf;
}

// CONV_2D over gathered windows: two output pixels by four output channels at a time (the last
// pixel of an odd count paired with itself, the last channels with a group shifted back, or
// with fewer than four channels each channel alone). Every window holds its padded taps at the
// zero point, so the bias with the input offset folded in serves at the borders too.
static void conv_gathered(const geometry_t *g, const int8_t *x, const int8_t *w,
    const requant_t *q, int32_t zx, int8_t *y) {
    uint32_t buf[2][GATHER_MAX / 4];  // words: aligned
    const uint32_t k = g->kh * g->kw * g->ic, pixels = g->oh * g->ow, oc = g->oc;
    for (uint32_t b = 0; b < g->n; b++) {
        const int8_t *xb = x + (size_t)b * g->ih * g->iw * g->ic;
        int8_t *yb = y + (size_t)b * pixels * oc;
        for (uint32_t pix = 0; pix < pixels; pix += 2) {
            uint32_t p1 = pix + 1 < pixels ? pix + 1 : pix;
            const int8_t *x0 = gather(g, xb, (int32_t)(pix / g->ow) * g->sh - g->pt,
                (int32_t)(pix % g->ow) * g->sw - g->pl, (int8_t)zx, (int8_t *)buf[0]);
            const int8_t *x1 = gather(g, xb, (int32_t)(p1 / g->ow) * g->sh - g->pt,
                (int32_t)(p1 % g->ow) * g->sw - g->pl, (int8_t)zx, (int8_t *)buf[1]);
            int8_t *y0 = yb + (size_t)pix * oc, *y1 = yb + (size_t)p1 * oc;
            if (!x0 || !x1) {
                // A 1x1 window over more than GATHER_MAX channels partly in the padding.
                for (uint32_t p = pix; p <= p1; p++) {
                    window_t win;
                    int inside = conv_window(g, xb, (int32_t)(p / g->ow) * g->sh - g->pt,
                        (int32_t)(p % g->ow) * g->sw - g->pl, &win);
                    conv_pixel(&win, inside, w + win.first_tap * g->ic, k, oc, zx, q, 0,
                        yb + (size_t)p * oc);
                }
                continue;
            }
            // Both in the input or both in the buffers: the kernel reads x1 at x0 + (x1 - x0).
            if ((x0 == (int8_t *)buf[0]) != (x1 == (int8_t *)buf[1])) {
                if (x0 != (int8_t *)buf[0]) {
                    x0 = memcpy(buf[0], x0, k);
                } else {
                    x1 = memcpy(buf[1], x1, k);
                }
            }
            for (uint32_t c = 0; c < oc;) {
                uint32_t acc[8], ws = k, c0 = c + 4 <= oc ? c : oc - 4;
                if (oc < 4) {
                    c0 = c;  // one channel, four times
                    ws = 0;
                }
                for (int j = 0; j < 4; j++) {
                    acc[j] = acc[4 + j] = (uint32_t)q->folded[c0 + (ws ? j : 0)];
                }
                dot2x4(acc, x0, x1, k, w + (size_t)c0 * k, ws);
                uint32_t n = ws ? 4 : 1;
                outputs2(q, c0, n, acc, y0, y1);
                c = c0 + n;
            }
        }
    }
}

int32_t ml_nn_requantize_zy(int32_t acc, int32_t multiplier, int32_t shift, int32_t zy) {
    const int32_t zero = 0;
    requant_t q = { &multiplier, &shift, &zero, &zero, zy, -128, 127 };
    qchan_t t;
    qchan(&t, &q, 0);
    return requantize_q(&t, acc, zy);
}

#if !ML_NN_SMALL_CORE
// Windows of up to PACK_MAX taps are packed two pixels a word (dot2x2_packed) on the stack.
#define PACK_MAX (255)

// d[i] = a[i] + b[i] * 2^23 for i < n, for `rows` rows of n bytes each, step bytes apart.
NOINLINE static void pack_rows(int32_t *d, const int8_t *a, const int8_t *b, uint32_t n,
    uint32_t rows, uint32_t step) {
    do {
        const int8_t *end = a + n;
        do {
            *d++ = (int32_t)((uint32_t)(int32_t)*a++ + ((uint32_t)(int32_t)*b++ << 23));
        } while (a != end);
        a += step - n;
        b += step - n;
    } while (--rows);
}

// Adds the window of the output pixel whose top-left tap is at (iy0, ix0), padded taps at zx,
// to the packed words d, times 2^shift (0 or 23); set: write instead of add.
static void pack_pixel(const geometry_t *g, const int8_t *xb, int32_t iy0, int32_t ix0,
    int32_t zx, int32_t *d, int shift, int set) {
    for (uint32_t ky = 0; ky < g->kh; ky++) {
        int32_t iy = iy0 + (int32_t)ky * g->dh;
        for (uint32_t kx = 0; kx < g->kw; kx++, d += g->ic) {
            int32_t ix = ix0 + (int32_t)kx * g->dw;
            int inside = iy >= 0 && iy < (int32_t)g->ih && ix >= 0 && ix < (int32_t)g->iw;
            const int8_t *p = inside ? xb + ((size_t)iy * g->iw + (size_t)ix) * g->ic : NULL;
            for (uint32_t i = 0; i < g->ic; i++) {
                uint32_t v = (uint32_t)(p ? p[i] : zx) << shift;
                d[i] = (int32_t)(set ? v : (uint32_t)d[i] + v);
            }
        }
    }
}

// Output channels are taken QCHAN_MAX at a time, their qchan_t prepared on the stack.
#define QCHAN_MAX (32)

// What conv_pair needs of a layer.
typedef struct {
    const int32_t *x;  // the packed window of two pixels, k words
    const int8_t *w;   // weights, k per output channel
    uint32_t k;
    int32_t zy, lo, hi;
} pair_t;

// One channel's outputs of two pixels from their sums, requantized and clamped.
static ALWAYS_INLINE void pair_outputs(const qchan_t *t, int32_t zy, int32_t lo, int32_t hi,
    int32_t s0, int32_t s1, uint8_t *y0, uint8_t *y1) {
    int32_t v0, v1;
    s0 = wrap_add(s0, t->folded);
    s1 = wrap_add(s1, t->folded);
    if (t->rm1) {
        v0 = requantize_right(s0, t->mult, t->hz, t->rm1);
        v1 = requantize_right(s1, t->mult, t->hz, t->rm1);
    } else {
        channel_t ch;
        requant_channel(&ch, t->mult, t->hz);
        v0 = wrap_add(requantize_with(&ch, s0), zy);
        v1 = wrap_add(requantize_with(&ch, s1), zy);
    }
    store_clamped(y0, v0, lo, hi);
    store_clamped(y1, v1, lo, hi);
}

// Output channels c .. c + n - 1 (their qchan_t in t) of two pixels (y0, y1) from their packed
// window: two channels at a time (an odd last one alone, computed twice).
NOINLINE static void conv_pair(const pair_t *p, const qchan_t *t, uint32_t c, uint32_t n,
    int8_t *y0, int8_t *y1) {
    const int32_t zy = p->zy, lo = p->lo, hi = p->hi;
    const uint32_t k = p->k;
    const int8_t *w = p->w + (size_t)c * k;
    uint8_t *u0 = (uint8_t *)y0 + c, *u1 = (uint8_t *)y1 + c;
    for (const qchan_t *end = t + n; t != end; t += 2, w += 2 * k, u0 += 2, u1 += 2) {
        int32_t s[4];
        const int two = t + 1 != end;
        dot2x2_packed(s, p->x, k, w, two ? k : 0);
        pair_outputs(t, zy, lo, hi, s[0], s[2], u0, u1);
        if (!two) {
            break;
        }
        pair_outputs(t + 1, zy, lo, hi, s[1], s[3], u0 + 1, u1 + 1);
    }
}

// CONV_2D with windows of at most PACK_MAX taps: two output pixels at a time (the last of an
// odd count paired with itself), their windows packed into words once (padded taps at the
// zero point: the folded bias serves everywhere), then two output channels at a time (an odd
// last one paired with the one before it, recomputed).
static void conv_packed(const geometry_t *g, const int8_t *x, const int8_t *w,
    const requant_t *q, int32_t zx, int8_t *y) {
    int32_t buf[PACK_MAX];
    qchan_t chan[QCHAN_MAX];
    const uint32_t k = g->kh * g->kw * g->ic, pixels = g->oh * g->ow, oc = g->oc;
    const uint32_t row = g->kw * g->ic, row_step = (uint32_t)g->dh * g->iw * g->ic;
    const int32_t last_y = (int32_t)(g->kh - 1) * g->dh, last_x = (int32_t)(g->kw - 1);
    const pair_t pr = { buf, w, k, q->zy, q->lo, q->hi };
    uint32_t prepared = oc;  // the first channel of the chunk in chan
    for (uint32_t b = 0; b < g->n; b++) {
        const int8_t *xb = x + (size_t)b * g->ih * g->iw * g->ic;
        int8_t *yb = y + (size_t)b * pixels * oc;
        for (uint32_t pix = 0; pix < pixels; pix += 2) {
            uint32_t p1 = pix + 1 < pixels ? pix + 1 : pix;
            int32_t iy0 = (int32_t)(pix / g->ow) * g->sh - g->pt;
            int32_t ix0 = (int32_t)(pix % g->ow) * g->sw - g->pl;
            int32_t iy1 = (int32_t)(p1 / g->ow) * g->sh - g->pt;
            int32_t ix1 = (int32_t)(p1 % g->ow) * g->sw - g->pl;
            if (g->dw == 1 && iy0 >= 0 && ix0 >= 0 && iy1 >= 0 && ix1 >= 0
                && iy0 + last_y < (int32_t)g->ih && iy1 + last_y < (int32_t)g->ih
                && ix0 + last_x < (int32_t)g->iw && ix1 + last_x < (int32_t)g->iw) {
                // Both wholly inside: rows of contiguous bytes.
                const int8_t *r0 = xb + ((size_t)iy0 * g->iw + (size_t)ix0) * g->ic;
                const int8_t *r1 = xb + ((size_t)iy1 * g->iw + (size_t)ix1) * g->ic;
                pack_rows(buf, r0, r1, row, g->kh, row_step);
            } else {
                pack_pixel(g, xb, iy0, ix0, zx, buf, 0, 1);
                pack_pixel(g, xb, iy1, ix1, zx, buf, 23, 0);
            }
            for (uint32_t c = 0; c < oc; c += QCHAN_MAX) {
                uint32_t n = oc - c < QCHAN_MAX ? oc - c : QCHAN_MAX;
                if (prepared != c) {
                    for (uint32_t j = 0; j < n; j++) {
                        qchan(&chan[j], q, c + j);
                    }
                    prepared = c;
                }
                conv_pair(&pr, chan, c, n, yb + (size_t)pix * oc, yb + (size_t)p1 * oc);
            }
        }
    }
}
#endif

static void conv_i8(ml_nn_t *m, const ml_nn_op_t *op) {
    geometry_t g;
    conv_geometry(m, op, &g);
    const int8_t *x = (const int8_t *)AT(m, T(m, op->inputs[0]));
    const int8_t *w = (const int8_t *)CONST_AT(m, T(m, op->inputs[1]));
    int8_t *y = (int8_t *)AT(m, T(m, op->output));
    requant_t q;
    requant_params(m, op, g.oc, &q);
    const int32_t zx = T(m, op->inputs[0])->zero_point;
    const uint32_t wstride = g.kh * g.kw * g.ic;
    #if !ML_NN_SMALL_CORE
    if (wstride <= PACK_MAX) {
        conv_packed(&g, x, w, &q, zx, y);
        return;
    }
    #endif
    if (wstride <= GATHER_MAX || (g.kh == 1 && g.kw == 1 && !g.pt && !g.pl)) {
        conv_gathered(&g, x, w, &q, zx, y);
        return;
    }
    for (uint32_t b = 0; b < g.n; b++) {
        const int8_t *xb = x + (size_t)b * g.ih * g.iw * g.ic;
        for (uint32_t oy = 0; oy < g.oh; oy++) {
            int32_t iy0 = (int32_t)oy * g.sh - g.pt;
            for (uint32_t ox = 0; ox < g.ow; ox++, y += g.oc) {
                window_t win;
                int inside = conv_window(&g, xb, iy0, (int32_t)ox * g.sw - g.pl, &win);
                conv_pixel(&win, inside, w + win.first_tap * g.ic, wstride, g.oc, zx, &q, 0, y);
            }
        }
    }
}

// DEPTHWISE_CONV_2D with depth multiplier 1, four channels at a time: a tap of the window is
// four contiguous input bytes and four contiguous weights (weights: kh x kw x oc). Here the
// window's runs are its taps (kernel columns), run_step bytes apart, and w_skip counts weights.
NOINLINE static void depthwise4(const window_t *win, const int8_t *w, uint32_t oc,
    uint32_t *acc) {
    uint32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *row = win->x;
    for (uint32_t r = 0; r < win->rows; r++, row += win->row_step) {
        const int8_t *p = row;
        for (uint32_t k = win->runs; k; k--, p += win->run_step, w += oc) {
            a0 += (uint32_t)(p[0] * w[0]);
            a1 += (uint32_t)(p[1] * w[1]);
            a2 += (uint32_t)(p[2] * w[2]);
            a3 += (uint32_t)(p[3] * w[3]);
        }
        w += win->w_skip;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

// The same at the border, subtracting the input's zero point.
NOINLINE static void depthwise4_border(const window_t *win, const int8_t *w, uint32_t oc,
    int32_t zx, uint32_t *acc) {
    uint32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *row = win->x;
    for (uint32_t r = 0; r < win->rows; r++, row += win->row_step) {
        const int8_t *p = row;
        for (uint32_t k = win->runs; k; k--, p += win->run_step, w += oc) {
            a0 += (uint32_t)((p[0] - zx) * w[0]);
            a1 += (uint32_t)((p[1] - zx) * w[1]);
            a2 += (uint32_t)((p[2] - zx) * w[2]);
            a3 += (uint32_t)((p[3] - zx) * w[3]);
        }
        w += win->w_skip;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

// The window of a DEPTHWISE_CONV_2D output pixel in taps (see depthwise4); the weights of its
// first tap in *wt.
static int depthwise_window(const geometry_t *g, const int8_t *xb, uint32_t pixel,
    const int8_t *w, window_t *win, const int8_t **wt) {
    int inside = conv_window(g, xb, (int32_t)(pixel / g->ow) * g->sh - g->pt,
        (int32_t)(pixel % g->ow) * g->sw - g->pl, win);
    *wt = w + win->first_tap * g->oc;
    win->runs = win->cols;
    win->run_step = (uint32_t)g->dw * g->ic;
    win->w_skip = (g->kw - win->cols) * g->oc;
    return inside;
}

// DEPTHWISE_CONV_2D with depth multiplier 1, output channels 0 .. groups - 1 four at a time
// (their requantization prepared once per group), every pixel: windows wholly inside read in
// place from a window prepared once, the others clipped (depthwise_window).
static void depthwise_groups(const geometry_t *g, const int8_t *x, const int8_t *w,
    const requant_t *q, int32_t zx, uint32_t groups, int8_t *y) {
    const uint32_t pixels = g->oh * g->ow;
    const int32_t last_y = (int32_t)(g->kh - 1) * g->dh, last_x = (int32_t)(g->kw - 1) * g->dw;
    window_t inner = { x, g->kh, g->kw, 0, (uint32_t)g->dh * g->iw * g->ic,
                       (uint32_t)g->dw * g->ic, 0, 0, g->kw };
    for (uint32_t c = 0; c < groups; c += 4) {
        qchan_t t[4];
        for (uint32_t j = 0; j < 4; j++) {
            qchan(&t[j], q, c + j);
        }
        for (uint32_t b = 0; b < g->n; b++) {
            const int8_t *xb = x + (size_t)b * g->ih * g->iw * g->ic;
            int8_t *yc = y + (size_t)b * pixels * g->oc + c;
            int32_t iy0 = -g->pt;
            for (uint32_t oy = 0; oy < g->oh; oy++, iy0 += g->sh) {
                const int rows_inside = iy0 >= 0 && iy0 + last_y < (int32_t)g->ih;
                int32_t ix0 = -g->pl;
                for (uint32_t ox = 0; ox < g->ow; ox++, ix0 += g->sw, yc += g->oc) {
                    uint32_t acc[4];
                    if (rows_inside && ix0 >= 0 && ix0 + last_x < (int32_t)g->iw) {
                        inner.x = xb + ((size_t)iy0 * g->iw + (size_t)ix0) * g->ic + c;
                        for (int j = 0; j < 4; j++) {
                            acc[j] = (uint32_t)t[j].folded;
                        }
                        depthwise4(&inner, w + c, g->oc, acc);
                    } else {
                        window_t win;
                        const int8_t *wt;
                        int inside = depthwise_window(g, xb, oy * g->ow + ox, w, &win, &wt);
                        for (int j = 0; j < 4; j++) {
                            acc[j] = (uint32_t)(inside ? q->folded : q->bias)[c + j];
                        }
                        win.x += c;
                        if (inside) {
                            depthwise4(&win, wt + c, g->oc, acc);
                        } else {
                            depthwise4_border(&win, wt + c, g->oc, zx, acc);
                        }
                    }
                    for (int j = 0; j < 4; j++) {
                        store_clamped((uint8_t *)yc + j,
                            requantize_q(&t[j], (int32_t)acc[j], q->zy), q->lo, q->hi);
                    }
                }
            }
        }
    }
}

// Channel by channel (four at a time with depth multiplier 1), every pixel: a channel's
// requantization is prepared once.
static void depthwise_i8(ml_nn_t *m, const ml_nn_op_t *op) {
    geometry_t g;
    conv_geometry(m, op, &g);
    const int8_t *x = (const int8_t *)AT(m, T(m, op->inputs[0]));
    const int8_t *w = (const int8_t *)CONST_AT(m, T(m, op->inputs[1]));
    int8_t *y = (int8_t *)AT(m, T(m, op->output));
    requant_t q;
    requant_params(m, op, g.oc, &q);
    const int32_t zx = T(m, op->inputs[0])->zero_point;
    const uint32_t dm = g.oc / g.ic, pixels = g.oh * g.ow;
    const uint32_t grouped = dm == 1 ? g.oc & ~3u : 0;
    if (grouped) {
        depthwise_groups(&g, x, w, &q, zx, grouped, y);
    }
    // One channel at a time: the last ones, or all with a depth multiplier.
    for (uint32_t c = grouped; c < g.oc; c++) {
        channel_t ch;
        requant_channel(&ch, q.mult[c], q.shift[c]);
        for (uint32_t b = 0; b < g.n; b++) {
            const int8_t *xb = x + (size_t)b * g.ih * g.iw * g.ic;
            int8_t *yc = y + (size_t)b * pixels * g.oc + c;
            for (uint32_t pix = 0; pix < pixels; pix++, yc += g.oc) {
                window_t win;
                const int8_t *wt;
                int inside = depthwise_window(&g, xb, pix, w, &win, &wt);
                uint32_t acc = (uint32_t)(inside ? q.folded : q.bias)[c];
                int32_t z = inside ? 0 : zx;
                const int8_t *row = win.x + c / dm, *wc = wt + c;
                for (uint32_t r = 0; r < win.rows; r++, row += win.row_step, wc += win.w_skip) {
                    const int8_t *p = row;
                    for (uint32_t k = 0; k < win.cols; k++, p += win.run_step, wc += g.oc) {
                        acc += (uint32_t)((p[0] - z) * wc[0]);
                    }
                }
                yc[0] = clamp8(wrap_add(requantize_with(&ch, (int32_t)acc), q.zy), q.lo, q.hi);
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
        // Each batch row is a window of one run of n_in bytes; the single rounding of TFLite's
        // int8 reference instead of conv's double rounding.
        const int8_t *w = (const int8_t *)CONST_AT(m, tw);
        int8_t *y = (int8_t *)AT(m, ty);
        requant_t q;
        requant_params(m, op, n_out, &q);
        window_t win = { (const int8_t *)AT(m, tx), 1, 1, n_in, 0, 0, 0, 0, 1 };
        for (uint32_t b = 0; b < batches; b++, win.x += n_in, y += n_out) {
            conv_pixel(&win, 1, w, n_in, n_out, 0, &q, 1, y);
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

// y[c] = the largest of the 2x2 pixels at p (row bytes apart), channel by channel (the
// usual pooling: four loads and three comparisons a channel).
NOINLINE static void max_2x2(const int8_t *p, uint32_t ch, uint32_t row, int8_t *y) {
    const int8_t *end = p + ch;
    do {
        int32_t a = p[0], b = p[ch], c = p[row], d = p[row + ch];
        a = b > a ? b : a;
        c = d > c ? d : c;
        *y++ = (int8_t)(c > a ? c : a);
    } while (++p != end);
}

// y = the largest over rows ys .. ye - 1, columns xs .. xe - 1 of image x (iw pixels of ch
// bytes a row): the window's first pixel copied, every other raising it channel by channel.
static void max_window(const int8_t *x, uint32_t iw, uint32_t ch, int32_t ys, int32_t ye,
    int32_t xs, int32_t xe, int8_t *y) {
    memcpy(y, x + ((size_t)ys * iw + (size_t)xs) * ch, ch);
    for (int32_t iy = ys; iy < ye; iy++) {
        for (int32_t ix = iy == ys ? xs + 1 : xs; ix < xe; ix++) {
            const int8_t *p = x + ((size_t)iy * iw + (size_t)ix) * ch;
            for (uint32_t c = 0; c < ch; c++) {
                if (p[c] > y[c]) {
                    y[c] = p[c];
                }
            }
        }
    }
}

// int8 MAX_POOL_2D: the output pixel starts as the window's first input pixel, and every other
// pixel of the window raises it channel by channel (contiguous bytes: no index arithmetic per
// value); the fused activation's clamp last.
static void max_pool_i8(ml_nn_t *m, const ml_nn_op_t *op) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]), *ty = T(m, op->output);
    const uint32_t n = tx->dims[0], ih = tx->dims[1], iw = tx->dims[2], ch = tx->dims[3];
    const uint32_t oh = ty->dims[1], ow = ty->dims[2];
    const int32_t sh = op->params[0], sw = op->params[1], fh = op->params[2];
    const int32_t fw = op->params[3], pt = op->params[4], pl = op->params[5];
    const int32_t lo = op->params[6], hi = op->params[7];
    const int8_t *x = (const int8_t *)AT(m, tx);
    int8_t *y = (int8_t *)AT(m, ty);
    for (uint32_t b = 0; b < n; b++, x += (size_t)ih * iw * ch) {
        for (uint32_t oy = 0; oy < oh; oy++) {
            int32_t y0 = (int32_t)oy * sh - pt;
            int32_t ys = y0 < 0 ? 0 : y0, ye = y0 + fh > (int32_t)ih ? (int32_t)ih : y0 + fh;
            for (uint32_t ox = 0; ox < ow; ox++, y += ch) {
                int32_t x0 = (int32_t)ox * sw - pl;
                int32_t xs = x0 < 0 ? 0 : x0, xe = x0 + fw > (int32_t)iw ? (int32_t)iw : x0 + fw;
                if (fh == 2 && fw == 2 && ys == y0 && ye == y0 + 2 && xs == x0 && xe == x0 + 2) {
                    max_2x2(x + ((size_t)ys * iw + (size_t)xs) * ch, ch, iw * ch, y);
                } else {
                    max_window(x, iw, ch, ys, ye, xs, xe, y);
                }
                if (lo > -128 || hi < 127) {
                    for (uint32_t c = 0; c < ch; c++) {
                        y[c] = clamp8(y[c], lo, hi);
                    }
                }
            }
        }
    }
}

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
                int32_t v = wrap_add(requantize((int32_t)sum, op->params[1], op->params[2]),
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
            q ? max_pool_i8(m, op) : pool(m, op, 1);
            break;
        case ML_NN_OP_AVERAGE_POOL_2D:
            pool(m, op, 0);
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
        case ML_NN_OP_GRU:
        case ML_NN_OP_LSTM:
            ml_nn_rnn_run(m, op, 0);
            break;
    }
}
