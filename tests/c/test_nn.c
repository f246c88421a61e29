// Tests of the neural-network core (core/ml_nn.c, ml_nn_ops.c) on model files built here:
// TFLite's fixed-point helpers on their edge cases; each element-wise and data-movement
// operator against values worked out by hand (ties, saturation, clamps, broadcasting, every
// axis of PAD and CONCATENATION); the convolutions and FULLY_CONNECTED against a plain
// reference over many geometries (borders, strides, dilations, depth multipliers); and every
// check ml_nn_open makes, each refusing a damaged model with a message saying what is wrong.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "ml_math.h"
#include "ml_nn.h"
#include "ml_nn_ops.h"

// ---------------------------------------------------------------------------------------------
// Building model files

#define MAX_T (16)
#define MAX_O (16)
#define MAX_DATA (8192)

typedef struct {
    ml_nn_header_t h;
    ml_nn_tensor_t t[MAX_T];
    ml_nn_op_t o[MAX_O];
    uint8_t data[MAX_DATA];
    uint32_t n_data;
    int32_t labels[32];  // the optional 'labl' section, written when n_labels > 0
    uint32_t n_labels;
} spec_t;

static uint64_t file_store[(96 + 16 + 32 * MAX_T + 48 * MAX_O + MAX_DATA + 128) / 8 + 1];
static uint8_t *const file = (uint8_t *)file_store;
static uint64_t arena_store[4096];
static uint8_t *const arena = (uint8_t *)arena_store;

static void spec_init(spec_t *s) {
    memset(s, 0, sizeof(*s));
}

static int tensor(spec_t *s, uint8_t type, uint8_t storage, uint32_t offset, int ndim,
    const uint16_t *dims, float scale, int32_t zero_point) {
    int i = s->h.n_tensors++;
    ml_nn_tensor_t *t = &s->t[i];
    t->type = type;
    t->ndim = (uint8_t)ndim;
    t->storage = storage;
    t->offset = offset;
    t->count = 1;
    for (int d = 0; d < ndim; d++) {
        t->dims[d] = dims[d];
        t->count *= dims[d];
    }
    t->scale = scale;
    t->zero_point = zero_point;
    return i;
}

// Constant bytes into the data section, 8-aligned; returns their offset.
static uint32_t put_data(spec_t *s, const void *p, uint32_t n) {
    s->n_data = (s->n_data + 7) & ~7u;
    uint32_t at = s->n_data;
    memcpy(s->data + at, p, n);
    s->n_data += n;
    return at;
}

static ml_nn_op_t *op(spec_t *s, uint8_t code, int n_in, int in0, int in1, int in2, int out,
    const int32_t *params) {
    ml_nn_op_t *o = &s->o[s->h.n_ops++];
    o->code = code;
    o->n_inputs = (uint8_t)n_in;
    o->inputs[0] = (uint16_t)in0;
    o->inputs[1] = (uint16_t)(n_in > 1 ? in1 : ML_NN_NO_TENSOR);
    o->inputs[2] = (uint16_t)(n_in > 2 ? in2 : ML_NN_NO_TENSOR);
    o->output = (uint16_t)out;
    if (params) {
        memcpy(o->params, params, sizeof(o->params));
    }
    o->aux = ML_NN_NO_AUX;
    return o;
}

static void put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v) {
    put16(p, v & 0xffff);
    put16(p + 2, v >> 16);
}

// The container (ml_blob.h) of the spec's sections; returns its size.
static uint32_t build(const spec_t *s) {
    uint32_t n_t = s->h.n_tensors, n_o = s->h.n_ops;
    uint32_t off[5], size[5] = { sizeof(ml_nn_header_t), 32 * n_t, 48 * n_o, s->n_data,
                                 4 * s->n_labels };
    static const char ids[5][5] = { "head", "tens", "ops ", "data", "labl" };
    const void *src[5] = { &s->h, s->t, s->o, s->data, s->labels };
    int n_sections = s->n_labels ? 5 : 4;
    uint32_t at = 24 + 12 * n_sections;
    memset(file, 0, sizeof(file_store));
    for (int i = 0; i < n_sections; i++) {
        at = (at + 7) & ~7u;
        off[i] = at;
        memcpy(file + at, src[i], size[i]);
        at += size[i];
        put32(file + 24 + 12 * i, ML_BLOB_ID(ids[i][0], ids[i][1], ids[i][2], ids[i][3]));
        put32(file + 28 + 12 * i, off[i]);
        put32(file + 32 + 12 * i, size[i]);
    }
    memcpy(file, "MLRN", 4);
    put16(file + 4, ML_BLOB_VERSION);
    put16(file + 6, ML_BLOB_KIND_NN);
    put32(file + 8, at);
    put16(file + 16, ML_NN_FORMAT_VERSION);
    put16(file + 18, (uint32_t)n_sections);
    put32(file + 12, ml_crc32(0, file + 16, at - 16));
    return at;
}

static ml_status_t open_spec(const spec_t *s, ml_nn_t *m, ml_error_t *err) {
    uint32_t n = build(s);
    ml_status_t st = ml_nn_open(m, file, n, err);
    if (st == ML_OK) {
        memset(arena, 0xa5, ml_nn_arena_size(m));  // no operator may rely on a clean arena
        ml_nn_set_arena(m, arena);
    }
    return st;
}

// Opens and runs; the caller has put the inputs at their arena offsets with `setup`.
static int open_run(const spec_t *s, ml_nn_t *m, void (*setup)(void)) {
    ml_error_t err;
    if (open_spec(s, m, &err) != ML_OK) {
        CHECK(0, "open: %s", err.msg);
        return 0;
    }
    if (setup) {
        setup();
    }
    CHECK(ml_nn_run(m, &err) == ML_OK, "run: %s", err.msg);
    return 1;
}

static int32_t f32_bits(float f) {
    return (int32_t)ml_float_to_bits(f);
}

// round(v / 2**e), ties away from zero: the oracle of the hand-worked cases.
static int32_t round_div_pow2(int64_t v, int e) {
    int64_t d = (int64_t)1 << e;
    return (int32_t)(v >= 0 ? (v + d / 2) / d : -((-v + d / 2) / d));
}

// v / 2 rounded half up, as gemmlowp's doubling high multiply by one half rounds.
static int32_t half_round_up(int64_t v) {
    int64_t t = v + 1;
    return (int32_t)(t >= 0 ? t / 2 : -((-t + 1) / 2));
}

static int32_t clampi(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

// ---------------------------------------------------------------------------------------------
// Fixed-point helpers

static void test_requantize(void) {
    // 2**30 is one half. The doubling high multiply rounds half up (-1.5 to -1), the shift
    // right rounds half away from zero (-1.5 to -2), and both round: 5/4 is 2.5 rounded to 3,
    // then 3/2 rounded to 2 (double rounding; exactly it is 1.25).
    CHECK(ml_nn_requantize(3, 1 << 30, 0) == 2, "3/2");
    CHECK(ml_nn_requantize(-3, 1 << 30, 0) == -1, "-3/2 rounds half up");
    CHECK(ml_nn_requantize(5, 1 << 30, -1) == 2, "5/4 rounded twice");
    CHECK(ml_nn_requantize(6, 1 << 30, -1) == 2, "6/4 ties up");
    CHECK(ml_nn_requantize(-6, 1 << 30, -1) == -2, "-6/4 ties away");
    // A left shift then the multiplier: 2**30 * 2**1 is one.
    CHECK(ml_nn_requantize(1000, 1 << 30, 1) == 1000, "identity");
    CHECK(ml_nn_requantize(-77, 1 << 30, 1) == -77, "identity, negative");
    // Multipliers are >= 0 (ml_nn_open refuses others), so the doubling high multiply never
    // overflows: the largest magnitudes give -(2**31 - 1), as gemmlowp's does.
    CHECK(ml_nn_requantize(INT32_MIN, INT32_MAX, 0) == -INT32_MAX, "largest magnitudes");
    CHECK(ml_nn_requantize(INT32_MAX, INT32_MAX, 0) == INT32_MAX - 1, "largest positive");
    // Large shifts right.
    CHECK(ml_nn_requantize(INT32_MAX, INT32_MAX, -31) == 1, "2**31 / 2**31");
    CHECK(ml_nn_requantize(123456, 1 << 30, -31) == 0, "shifted out");
    // Single rounding: round half up in 64 bits (so -3/2 is -1).
    CHECK(ml_nn_requantize_single(3, 1 << 30, 0) == 2, "single 3/2");
    CHECK(ml_nn_requantize_single(-3, 1 << 30, 0) == -1, "single -3/2 rounds up");
    CHECK(ml_nn_requantize_single(-5, 1 << 30, -1) == -1, "single -5/4");
    CHECK(ml_nn_requantize_single(INT32_MAX, 1 << 30, 1) == INT32_MAX, "single identity");
}

static void test_quantize(void) {
    float x[] = { 0.0f, 0.25f, -0.25f, 0.75f, 1000.0f, -1000.0f, NAN, 0.7499f };
    int8_t q[8];
    ml_nn_quantize(x, q, 8, 0.5f, 3);
    int8_t want[8] = { 3, 4, 2, 5, 127, -128, 3, 4 };  // ties away from zero; NaN to the zero
    for (int i = 0; i < 8; i++) {
        CHECK(q[i] == want[i], "quantize %d: %d, expected %d", i, q[i], want[i]);
    }
    float y[3];
    int8_t qy[3] = { -128, 3, 127 };
    ml_nn_dequantize(qy, y, 3, 0.5f, 3);
    CHECK(y[0] == -65.5f && y[1] == 0.0f && y[2] == 62.0f, "dequantize %g %g %g", (double)y[0],
        (double)y[1], (double)y[2]);
}

// ---------------------------------------------------------------------------------------------
// ADD, MUL: broadcasting, ties, saturation, clamps

static const uint16_t d123[3] = { 1, 2, 3 }, d3[1] = { 3 };
static const int8_t add_a[6] = { 4, -6, 100, 127, -128, 2 };
static const int8_t add_b[3] = { -2, 1, 127 };

static void setup_add(void) {
    memcpy(arena, add_a, 6);
}

// y = act(b op a) with a (1, 2, 3) in the arena, b (3) a constant, zero points 1, -2, 5.
static void binary_i8(uint8_t code, const int32_t *params, int8_t *out) {
    spec_t s;
    spec_init(&s);
    int a = tensor(&s, ML_NN_INT8, ML_NN_ARENA, 0, 3, d123, 0.1f, 1);
    int b = tensor(&s, ML_NN_INT8, ML_NN_CONST, put_data(&s, add_b, 3), 1, d3, 0.1f, -2);
    int y = tensor(&s, ML_NN_INT8, ML_NN_ARENA, 8, 3, d123, 0.2f, 5);
    s.h.arena_size = 16;
    s.h.input = (uint16_t)a;
    s.h.output = (uint16_t)y;
    op(&s, code, 2, a, b, 0, y, params);
    ml_nn_t m;
    memset(out, 0, 6);
    if (open_run(&s, &m, setup_add)) {
        memcpy(out, arena + 8, 6);
    }
}

static void test_add_mul_i8(void) {
    // Equal input scales, output twice as coarse: each input at one half, the sum at 2**-19
    // (TFLite's multipliers for these scales); y = round((va + vb) / 2) + 5.
    int32_t p_add[8] = { 1 << 30, 0, 1 << 30, 0, 1 << 30, -19, -128, 127 };
    int8_t y[6];
    for (int act = 0; act < 2; act++) {
        if (act) {
            p_add[6] = -10;
            p_add[7] = 20;
        }
        binary_i8(ML_NN_OP_ADD, p_add, y);
        for (int i = 0; i < 6; i++) {
            int32_t v = (add_a[i] - 1) + (add_b[i % 3] + 2);
            int32_t want = clampi(round_div_pow2(v, 1) + 5, p_add[6], p_add[7]);
            want = clampi(want, -128, 127);
            CHECK(y[i] == want, "ADD %d (act %d): %d, expected %d", i, act, y[i], want);
        }
    }
    // MUL by one half, by one (a left shift), by a quarter.
    static const int32_t shifts[3] = { 0, 1, -1 };
    for (int k = 0; k < 3; k++) {
        int32_t p_mul[8] = { 1 << 30, shifts[k], 0, 0, 0, 0, -128, 127 };
        binary_i8(ML_NN_OP_MUL, p_mul, y);
        for (int i = 0; i < 6; i++) {
            int32_t v = (add_a[i] - 1) * (add_b[i % 3] + 2);
            int32_t r = k == 1 ? v : k == 0 ? half_round_up(v)
                        : round_div_pow2(half_round_up(v), 1);
            int32_t want = clampi(r + 5, -128, 127);
            CHECK(y[i] == want, "MUL %d shift %ld: %d, expected %d", i, (long)shifts[k], y[i],
                want);
        }
    }
}

static const float fa[3] = { 1.5f, -8.0f, 7.25f };
static const float fb[2] = { 10.0f, -1.0f };

static void setup_float_binary(void) {
    memcpy(arena, fb, sizeof(fb));  // b (2, 1)
    memcpy(arena + 8, fa, 3 * sizeof(float));  // a (1, 3)
}

static void test_add_mul_f32(void) {
    // b (2, 1) + a (1, 3) -> (2, 3): both inputs broadcast, both in the arena.
    static const uint16_t d21[2] = { 2, 1 }, d13[2] = { 1, 3 }, d23[2] = { 2, 3 };
    for (int mul = 0; mul < 2; mul++) {
        spec_t s;
        spec_init(&s);
        int b = tensor(&s, ML_NN_FLOAT32, ML_NN_ARENA, 0, 2, d21, 0, 0);
        int a = tensor(&s, ML_NN_FLOAT32, ML_NN_ARENA, 8, 2, d13, 0, 0);
        int y = tensor(&s, ML_NN_FLOAT32, ML_NN_ARENA, 24, 2, d23, 0, 0);
        s.h.arena_size = 48;
        s.h.input = (uint16_t)b;
        s.h.output = (uint16_t)y;
        int32_t p[8] = { 0, 0, 0, 0, 0, 0, f32_bits(-5.0f), f32_bits(12.0f) };
        op(&s, mul ? ML_NN_OP_MUL : ML_NN_OP_ADD, 2, b, a, 0, y, p);
        ml_nn_t m;
        if (!open_run(&s, &m, setup_float_binary)) {
            continue;
        }
        const float *out = (const float *)(arena + 24);
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                float v = mul ? fb[i] * fa[j] : fb[i] + fa[j];
                v = v < -5.0f ? -5.0f : v > 12.0f ? 12.0f : v;
                CHECK(out[i * 3 + j] == v, "float %s [%d][%d]: %g, expected %g",
                    mul ? "MUL" : "ADD", i, j, (double)out[i * 3 + j], (double)v);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CONCATENATION, PAD

static void setup_concat(void) {
    static const float x1[6] = { 1, 2, 3, 4, 5, 6 }, x2[4] = { -1, -2, -3, -4 };
    memcpy(arena, x1, sizeof(x1));
    memcpy(arena + 24, x2, sizeof(x2));
}

static void test_concatenation(void) {
    // (2, 3) and (2, 2) on axis 1 -> (2, 5), float32 (4-byte elements).
    static const uint16_t d23[2] = { 2, 3 }, d22[2] = { 2, 2 }, d25[2] = { 2, 5 };
    spec_t s;
    spec_init(&s);
    int x1 = tensor(&s, ML_NN_FLOAT32, ML_NN_ARENA, 0, 2, d23, 0, 0);
    int x2 = tensor(&s, ML_NN_FLOAT32, ML_NN_ARENA, 24, 2, d22, 0, 0);
    int y = tensor(&s, ML_NN_FLOAT32, ML_NN_ARENA, 40, 2, d25, 0, 0);
    s.h.arena_size = 80;
    s.h.input = (uint16_t)x1;
    s.h.output = (uint16_t)y;
    int32_t p1[8] = { 2, 3, 5, 0 }, p2[8] = { 2, 2, 5, 3 };
    op(&s, ML_NN_OP_CONCATENATION, 1, x1, 0, 0, y, p1);
    op(&s, ML_NN_OP_CONCATENATION, 1, x2, 0, 0, y, p2);
    ml_nn_t m;
    if (open_run(&s, &m, setup_concat)) {
        static const float want[10] = { 1, 2, 3, -1, -2, 4, 5, 6, -3, -4 };
        CHECK(!memcmp(arena + 40, want, sizeof(want)), "concatenation");
    }
}

static void setup_pad(void) {
    for (int i = 0; i < 4; i++) {
        arena[i] = (uint8_t)(10 * (i + 1));
    }
}

static void test_pad(void) {
    // (1, 2, 2, 1) padded on every axis -> (2, 3, 4, 2), int8 with the output's zero point.
    static const uint16_t dx[4] = { 1, 2, 2, 1 }, dy[4] = { 2, 3, 4, 2 };
    static const int32_t pads[8] = { 0, 1, 1, 0, 1, 1, 0, 1 };
    spec_t s;
    spec_init(&s);
    int x = tensor(&s, ML_NN_INT8, ML_NN_ARENA, 0, 4, dx, 0.5f, 0);
    int y = tensor(&s, ML_NN_INT8, ML_NN_ARENA, 8, 4, dy, 0.5f, -7);
    s.h.arena_size = 56;
    s.h.input = (uint16_t)x;
    s.h.output = (uint16_t)y;
    op(&s, ML_NN_OP_PAD, 1, x, 0, 0, y, pads);
    ml_nn_t m;
    if (!open_run(&s, &m, setup_pad)) {
        return;
    }
    int i = 0;
    for (int n = 0; n < 2; n++) {
        for (int h = 0; h < 3; h++) {
            for (int w = 0; w < 4; w++) {
                for (int c = 0; c < 2; c++, i++) {
                    int hx = h - 1, wx = w - 1;
                    int inside = n == 0 && c == 0 && hx >= 0 && hx < 2 && wx >= 0 && wx < 2;
                    int want = inside ? 10 * (hx * 2 + wx + 1) : -7;
                    CHECK((int8_t)arena[8 + i] == want, "pad [%d %d %d %d]: %d, expected %d", n,
                        h, w, c, (int8_t)arena[8 + i], want);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// float32 activations and the int8 table

static const float act_x[8] = { -4.0f, -3.0f, -1.0f, -0.0f, 0.0f, 1.0f, 3.0f, 7.0f };

static void setup_act(void) {
    memcpy(arena, act_x, sizeof(act_x));
}

static float run_activation(int kind, float alpha, int i) {
    static const uint16_t d8[1] = { 8 };
    spec_t s;
    spec_init(&s);
    int x = tensor(&s, ML_NN_FLOAT32, ML_NN_ARENA, 0, 1, d8, 0, 0);
    int y = tensor(&s, ML_NN_FLOAT32, ML_NN_ARENA, 32, 1, d8, 0, 0);
    s.h.arena_size = 64;
    s.h.input = (uint16_t)x;
    s.h.output = (uint16_t)y;
    int32_t p[8] = { kind, f32_bits(alpha) };
    op(&s, ML_NN_OP_ACTIVATION, 1, x, 0, 0, y, p);
    ml_nn_t m;
    return open_run(&s, &m, setup_act) ? ((const float *)(arena + 32))[i] : NAN;
}

static void test_activations_f32(void) {
    for (int i = 0; i < 8; i++) {
        float v = act_x[i];
        float relu = v > 0 ? v : 0.0f, relu6 = relu > 6 ? 6.0f : relu;
        float hs = v * (v + 3 < 0 ? 0.0f : v + 3 > 6 ? 6.0f : v + 3) / 6.0f;
        CHECK(run_activation(ML_NN_ACT_RELU, 0, i) == relu, "relu %g", (double)v);
        CHECK(run_activation(ML_NN_ACT_RELU6, 0, i) == relu6, "relu6 %g", (double)v);
        CHECK(run_activation(ML_NN_ACT_LEAKY_RELU, 0.25f, i) == (v > 0 ? v : v * 0.25f),
            "leaky relu %g", (double)v);
        CHECK(run_activation(ML_NN_ACT_HARD_SWISH, 0, i) == hs, "hard swish %g", (double)v);
        double sig = 1.0 / (1.0 + exp(-(double)v));
        CHECK(fabs((double)run_activation(ML_NN_ACT_LOGISTIC, 0, i) - sig) < 1e-6,
            "logistic %g", (double)v);
        CHECK(fabs((double)run_activation(ML_NN_ACT_TANH, 0, i) - tanh((double)v)) < 1e-6,
            "tanh %g", (double)v);
    }
    CHECK(run_activation(ML_NN_ACT_HARD_SWISH, 0, 5) == 4.0f / 6.0f, "hard swish of 1 is 4/6");
}

static void setup_lut(void) {
    for (int i = 0; i < 256; i++) {
        arena[i] = (uint8_t)i;
    }
}

static void test_lut(void) {
    // uint8 pixels to int8 through a table (QUANTIZE uint8 -> int8 lowers to this).
    static const uint16_t d256[1] = { 256 };
    uint8_t table[256];
    for (int i = 0; i < 256; i++) {
        table[i] = (uint8_t)(255 - i);
    }
    spec_t s;
    spec_init(&s);
    int x = tensor(&s, ML_NN_UINT8, ML_NN_ARENA, 0, 1, d256, 1.0f, 0);
    int y = tensor(&s, ML_NN_INT8, ML_NN_ARENA, 256, 1, d256, 1.0f, 0);
    s.h.arena_size = 512;
    s.h.input = (uint16_t)x;
    s.h.output = (uint16_t)y;
    op(&s, ML_NN_OP_LUT, 1, x, 0, 0, y, NULL)->aux = put_data(&s, table, 256);
    ml_nn_t m;
    if (open_run(&s, &m, setup_lut)) {
        int bad = 0;
        for (int i = 0; i < 256; i++) {
            bad += arena[256 + i] != 255 - i;
        }
        CHECK(!bad, "LUT: %d entries wrong", bad);
    }
}

// ---------------------------------------------------------------------------------------------
// Convolutions and FULLY_CONNECTED against a plain reference

static uint32_t rng_state = 12345;

static int32_t rnd(int32_t lo, int32_t hi) {
    rng_state = rng_state * 1103515245u + 12345u;
    return lo + (int32_t)((rng_state >> 8) % (uint32_t)(hi - lo + 1));
}

typedef struct {
    int depthwise;
    int ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pl;
} conv_case_t;

static int8_t conv_x[4096], conv_w[4096], conv_want[4096];
static uint32_t conv_x_bytes;

static void setup_conv(void) {
    memcpy(arena, conv_x, conv_x_bytes);
}

static int out_size(int in, int k, int s, int d, int pad_total) {
    return (in + pad_total - ((k - 1) * d + 1)) / s + 1;
}

static void test_conv_case(const conv_case_t *c) {
    int oh = out_size(c->ih, c->kh, c->sh, c->dh, 2 * c->pt);
    int ow = out_size(c->iw, c->kw, c->sw, c->dw, 2 * c->pl);
    int32_t bias[64], requant[3 * 64];  // multipliers, shifts, folded biases: one array
    int32_t *mult = requant, *shift = requant + c->oc, *folded = requant + 2 * c->oc;
    int wn = c->depthwise ? c->kh * c->kw * c->oc : c->oc * c->kh * c->kw * c->ic;
    int32_t zx = rnd(-128, 127), zy = rnd(-20, 20);
    conv_x_bytes = (uint32_t)(c->ih * c->iw * c->ic);
    for (uint32_t i = 0; i < conv_x_bytes; i++) {
        conv_x[i] = (int8_t)rnd(-128, 127);
    }
    for (int i = 0; i < wn; i++) {
        conv_w[i] = (int8_t)rnd(-127, 127);
    }
    for (int o = 0; o < c->oc; o++) {
        int64_t wsum = 0;
        for (int i = 0; i < wn; i++) {
            int oi = c->depthwise ? i % c->oc : i / (c->kh * c->kw * c->ic);
            wsum += oi == o ? conv_w[i] : 0;
        }
        bias[o] = rnd(-5000, 5000);
        mult[o] = rnd(1 << 30, INT32_MAX);
        // Every third channel a shift from left to far right (each requantization path).
        shift[o] = o % 3 == 2 ? rnd(-25, 1) : rnd(-12, -6);
        folded[o] = (int32_t)(bias[o] - zx * wsum);
    }
    // The reference: every tap, padded pixels skipped, input offset subtracted per tap.
    for (int oy = 0, k = 0; oy < oh; oy++) {
        for (int ox = 0; ox < ow; ox++) {
            for (int o = 0; o < c->oc; o++, k++) {
                int64_t acc = bias[o];
                for (int ky = 0; ky < c->kh; ky++) {
                    for (int kx = 0; kx < c->kw; kx++) {
                        int iy = oy * c->sh - c->pt + ky * c->dh;
                        int ix = ox * c->sw - c->pl + kx * c->dw;
                        if (iy < 0 || iy >= c->ih || ix < 0 || ix >= c->iw) {
                            continue;
                        }
                        if (c->depthwise) {
                            int ci = o / (c->oc / c->ic);
                            acc += (conv_x[(iy * c->iw + ix) * c->ic + ci] - zx)
                                   * conv_w[(ky * c->kw + kx) * c->oc + o];
                        } else {
                            for (int i = 0; i < c->ic; i++) {
                                acc += (conv_x[(iy * c->iw + ix) * c->ic + i] - zx)
                                       * conv_w[((o * c->kh + ky) * c->kw + kx) * c->ic + i];
                            }
                        }
                    }
                }
                int32_t v = ml_nn_requantize((int32_t)acc, mult[o], shift[o]) + zy;
                conv_want[k] = (int8_t)clampi(v, -100, 110);
            }
        }
    }
    spec_t s;
    spec_init(&s);
    uint16_t dx[4] = { 1, (uint16_t)c->ih, (uint16_t)c->iw, (uint16_t)c->ic };
    uint16_t dy[4] = { 1, (uint16_t)oh, (uint16_t)ow, (uint16_t)c->oc };
    uint16_t dw[4] = { (uint16_t)(c->depthwise ? 1 : c->oc), (uint16_t)c->kh, (uint16_t)c->kw,
                       (uint16_t)(c->depthwise ? c->oc : c->ic) };
    uint16_t db[1] = { (uint16_t)c->oc };
    uint32_t y_at = (conv_x_bytes + 7) & ~7u;
    int x = tensor(&s, ML_NN_INT8, ML_NN_ARENA, 0, 4, dx, 0.5f, zx);
    int y = tensor(&s, ML_NN_INT8, ML_NN_ARENA, y_at, 4, dy, 0.5f, zy);
    int w = tensor(&s, ML_NN_INT8, ML_NN_CONST, put_data(&s, conv_w, (uint32_t)wn), 4, dw, 0, 0);
    int b = tensor(&s, ML_NN_INT32, ML_NN_CONST, put_data(&s, bias, 4u * c->oc), 1, db, 0, 0);
    uint32_t aux = put_data(&s, requant, 12u * c->oc);
    s.h.arena_size = y_at + (uint32_t)(oh * ow * c->oc);
    s.h.input = (uint16_t)x;
    s.h.output = (uint16_t)y;
    int32_t p[8] = { c->sh, c->sw, c->dh, c->dw, c->pt, c->pl, -100, 110 };
    op(&s, c->depthwise ? ML_NN_OP_DEPTHWISE_CONV_2D : ML_NN_OP_CONV_2D, 3, x, w, b, y, p)->aux =
        aux;
    ml_nn_t m;
    if (!open_run(&s, &m, setup_conv)) {
        return;
    }
    int bad = 0, first = -1;
    for (int k = 0; k < oh * ow * c->oc; k++) {
        if ((int8_t)arena[y_at + k] != conv_want[k]) {
            bad++;
            first = first < 0 ? k : first;
        }
    }
    CHECK(!bad, "%s %dx%dx%d k%dx%d s%d,%d d%d,%d p%d,%d: %d of %d outputs differ (first %d)",
        c->depthwise ? "depthwise" : "conv", c->ih, c->iw, c->ic, c->kh, c->kw, c->sh, c->sw,
        c->dh, c->dw, c->pt, c->pl, bad, oh * ow * c->oc, first);
}

static void test_convolutions(void) {
    static const conv_case_t cases[] = {
        // dw, ih, iw, ic, oc, kh, kw, sh, sw, dh, dw, pt, pl
        { 0, 5, 5, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1 },  // SAME: borders all round
        { 0, 2, 2, 2, 3, 3, 3, 1, 1, 1, 1, 1, 1 },  // no window wholly inside
        { 0, 7, 6, 5, 2, 3, 3, 2, 2, 1, 1, 0, 0 },  // VALID, stride 2, odd channels
        { 0, 9, 8, 4, 3, 5, 3, 2, 1, 1, 1, 2, 1 },  // non-square kernel and strides
        { 0, 10, 10, 2, 3, 3, 3, 1, 1, 2, 2, 2, 2 },  // dilated
        { 0, 4, 4, 8, 6, 1, 1, 1, 1, 1, 1, 0, 0 },  // pointwise
        { 0, 6, 6, 1, 4, 3, 3, 2, 2, 1, 1, 3, 3 },  // padding beyond a whole kernel row
        { 0, 28, 28, 1, 8, 3, 3, 2, 2, 1, 1, 0, 0 },  // one input channel, stride 2 (MNIST)
        { 0, 7, 7, 3, 37, 3, 3, 1, 1, 1, 1, 1, 1 },  // more output channels than one chunk
        { 0, 5, 5, 29, 3, 3, 3, 1, 1, 1, 1, 1, 1 },  // windows over 255 taps
        { 0, 5, 4, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1 },  // one output channel
        { 0, 6, 5, 2, 5, 2, 3, 1, 2, 1, 1, 1, 0 },  // pixel pairs across rows, odd channels
        { 1, 5, 5, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1 },  // depthwise SAME
        { 1, 9, 9, 3, 6, 3, 3, 2, 2, 1, 1, 1, 1 },  // depth multiplier 2, stride 2
        { 1, 9, 9, 2, 2, 3, 3, 1, 1, 2, 2, 0, 0 },  // dilated depthwise
        { 1, 2, 3, 4, 8, 3, 3, 1, 1, 1, 1, 1, 1 },  // tiny input, multiplier 2
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_conv_case(&cases[i]);
    }
}

static int8_t fc_x[64];

static void setup_fc(void) {
    memcpy(arena, fc_x, sizeof(fc_x));
}

static void test_fully_connected(void) {
    // 2 batches of 13 inputs (not a multiple of the unrolling), 5 outputs: single rounding.
    enum { B = 2, N_IN = 13, N_OUT = 5 };
    int8_t w[N_OUT * N_IN];
    int32_t bias[N_OUT], requant[3 * N_OUT];
    int32_t *mult = requant, *shift = requant + N_OUT, *folded = requant + 2 * N_OUT;
    int32_t zx = -37, zy = 9;
    for (int i = 0; i < B * N_IN; i++) {
        fc_x[i] = (int8_t)rnd(-128, 127);
    }
    for (int i = 0; i < N_OUT * N_IN; i++) {
        w[i] = (int8_t)rnd(-127, 127);
    }
    for (int o = 0; o < N_OUT; o++) {
        int32_t wsum = 0;
        for (int i = 0; i < N_IN; i++) {
            wsum += w[o * N_IN + i];
        }
        bias[o] = rnd(-3000, 3000);
        mult[o] = rnd(1 << 30, INT32_MAX);
        shift[o] = rnd(-10, -7);
        folded[o] = bias[o] - zx * wsum;
    }
    static const uint16_t dx[2] = { B, N_IN }, dy[2] = { B, N_OUT }, dw[2] = { N_OUT, N_IN };
    static const uint16_t db[1] = { N_OUT };
    spec_t s;
    spec_init(&s);
    int x = tensor(&s, ML_NN_INT8, ML_NN_ARENA, 0, 2, dx, 0.5f, zx);
    int y = tensor(&s, ML_NN_INT8, ML_NN_ARENA, 32, 2, dy, 0.5f, zy);
    int wt = tensor(&s, ML_NN_INT8, ML_NN_CONST, put_data(&s, w, sizeof(w)), 2, dw, 0, 0);
    int b = tensor(&s, ML_NN_INT32, ML_NN_CONST, put_data(&s, bias, sizeof(bias)), 1, db, 0, 0);
    uint32_t aux = put_data(&s, requant, sizeof(requant));
    s.h.arena_size = 48;
    s.h.input = (uint16_t)x;
    s.h.output = (uint16_t)y;
    int32_t p[8] = { 0, 0, 0, 0, 0, 0, -128, 127 };
    op(&s, ML_NN_OP_FULLY_CONNECTED, 3, x, wt, b, y, p)->aux = aux;
    ml_nn_t m;
    if (!open_run(&s, &m, setup_fc)) {
        return;
    }
    for (int n = 0; n < B; n++) {
        for (int o = 0; o < N_OUT; o++) {
            int32_t acc = bias[o];
            for (int i = 0; i < N_IN; i++) {
                acc += (fc_x[n * N_IN + i] - zx) * w[o * N_IN + i];
            }
            int32_t want = clampi(ml_nn_requantize_single(acc, mult[o], shift[o]) + zy, -128,
                127);
            CHECK((int8_t)arena[32 + n * N_OUT + o] == want, "FC [%d][%d]: %d, expected %d", n,
                o, (int8_t)arena[32 + n * N_OUT + o], want);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What ml_nn_open refuses

// A valid model of several operators, for the checks to damage one thing at a time:
//   t0 x int8 (1,2,2,3) arena 0      t1 y int8 (1,2,2,3) arena 16   t2 c int8 (3) const
//   t3 z int8 (1,2,2,3) arena 32     t4 f float (12) arena 48       t5 g float (12) arena 96
//   t6 p int8 (1,3,2,3) arena 144    t7 cat int8 (1,2,2,6) arena 168
// op0 ADD t0+t2 -> t1; op1 MUL t1*t0 -> t3; op2 LUT t3 -> t1; op3 DEQUANTIZE t1 -> t4;
// op4 ACTIVATION t4 -> t5; op5 PAD t1 -> t6; op6, op7 CONCATENATION t1, t3 -> t7
static void base_model(spec_t *s) {
    static const uint16_t d4[4] = { 1, 2, 2, 3 }, dc[1] = { 3 }, df[1] = { 12 };
    static const uint16_t dp[4] = { 1, 3, 2, 3 }, dcat[4] = { 1, 2, 2, 6 };
    static const int8_t c[3] = { 1, 2, 3 };
    static uint8_t table[256];
    spec_init(s);
    tensor(s, ML_NN_INT8, ML_NN_ARENA, 0, 4, d4, 0.1f, 0);
    tensor(s, ML_NN_INT8, ML_NN_ARENA, 16, 4, d4, 0.2f, 1);
    tensor(s, ML_NN_INT8, ML_NN_CONST, put_data(s, c, 3), 1, dc, 0.1f, 0);
    tensor(s, ML_NN_INT8, ML_NN_ARENA, 32, 4, d4, 0.2f, -1);
    tensor(s, ML_NN_FLOAT32, ML_NN_ARENA, 48, 1, df, 0, 0);
    tensor(s, ML_NN_FLOAT32, ML_NN_ARENA, 96, 1, df, 0, 0);
    tensor(s, ML_NN_INT8, ML_NN_ARENA, 144, 4, dp, 0.2f, 1);
    tensor(s, ML_NN_INT8, ML_NN_ARENA, 168, 4, dcat, 0.2f, 1);
    s->h.arena_size = 192;
    s->h.input = 0;
    s->h.output = 7;
    int32_t p_add[8] = { 1 << 30, 0, 1 << 30, 0, 1 << 30, -19, -128, 127 };
    int32_t p_mul[8] = { 1 << 30, 0, 0, 0, 0, 0, -128, 127 };
    int32_t p_deq[8] = { f32_bits(0.2f), 1 };
    int32_t p_act[8] = { ML_NN_ACT_TANH };
    int32_t p_pad[8] = { 0, 0, 1, 0, 0, 0, 0, 0 };
    int32_t p_cat1[8] = { 4, 3, 6, 0 }, p_cat2[8] = { 4, 3, 6, 3 };
    op(s, ML_NN_OP_ADD, 2, 0, 2, 0, 1, p_add);
    op(s, ML_NN_OP_MUL, 2, 1, 0, 0, 3, p_mul);
    op(s, ML_NN_OP_LUT, 1, 3, 0, 0, 1, NULL)->aux = put_data(s, table, 256);
    op(s, ML_NN_OP_DEQUANTIZE, 1, 1, 0, 0, 4, p_deq);
    op(s, ML_NN_OP_ACTIVATION, 1, 4, 0, 0, 5, p_act);
    op(s, ML_NN_OP_PAD, 1, 1, 0, 0, 6, p_pad);
    op(s, ML_NN_OP_CONCATENATION, 1, 1, 0, 0, 7, p_cat1);
    op(s, ML_NN_OP_CONCATENATION, 1, 3, 0, 0, 7, p_cat2);
}

typedef void (*damage_t)(spec_t *s);

static void d_no_ops(spec_t *s) {
    s->h.n_ops = 0;
}
static void d_arena_too_big(spec_t *s) {
    s->h.arena_size = 100000;
}
static void d_arena_zero(spec_t *s) {
    s->h.arena_size = 0;
}
static void d_input_index(spec_t *s) {
    s->h.input = 8;
}
static void d_output_const(spec_t *s) {
    s->h.output = 2;
}
static void d_tensor_type(spec_t *s) {
    s->t[3].type = 9;
}
static void d_tensor_ndim(spec_t *s) {
    s->t[3].ndim = 5;
}
static void d_tensor_dim_zero(spec_t *s) {
    s->t[3].dims[1] = 0;
}
static void d_tensor_dim_after(spec_t *s) {
    s->t[2].dims[1] = 4;
}
static void d_tensor_count(spec_t *s) {
    s->t[3].count = 13;
}
static void d_tensor_misaligned(spec_t *s) {
    s->t[3].offset = 34;
}
static void d_tensor_past_arena(spec_t *s) {
    s->t[5].offset = 160;
}
static void d_tensor_past_data(spec_t *s) {
    s->t[2].offset = 100000;
}
static void d_tensor_scale(spec_t *s) {
    s->t[3].scale = -1.0f;
}
static void d_tensor_scale_nan(spec_t *s) {
    s->t[3].scale = NAN;
}
static void d_tensor_zero_point(spec_t *s) {
    s->t[3].zero_point = 200;
}
static void d_op_code(spec_t *s) {
    s->o[2].code = ML_NN_OP_COUNT;
}
static void d_op_n_inputs(spec_t *s) {
    s->o[0].n_inputs = 1;
}
static void d_op_input_index(spec_t *s) {
    s->o[1].inputs[1] = 40;
}
static void d_op_output_index(spec_t *s) {
    s->o[1].output = 8;
}
static void d_op_input_const(spec_t *s) {
    s->o[2].inputs[0] = 2;
}
static void d_add_types(spec_t *s) {
    s->o[0].output = 4;
}
static void d_add_broadcast(spec_t *s) {
    s->t[2].dims[0] = 2;
    s->t[2].count = 2;
}
static void d_add_shift(spec_t *s) {
    s->o[0].params[5] = 1;
}
static void d_add_multiplier(spec_t *s) {
    s->o[0].params[2] = -5;
}
static void d_mul_shift(spec_t *s) {
    s->o[1].params[1] = 31;
}
static void d_mul_act(spec_t *s) {
    s->o[1].params[6] = 100;
    s->o[1].params[7] = 50;
}
static void d_lut_aux(spec_t *s) {
    s->o[2].aux = ML_NN_NO_AUX;
}
static void d_lut_aux_past(spec_t *s) {
    s->o[2].aux = 12;  // 256 bytes from 12 run past the 264 bytes of data
}
static void d_act_kind(spec_t *s) {
    s->o[4].params[0] = ML_NN_ACT_COUNT;
}
static void d_act_type(spec_t *s) {
    s->o[4].inputs[0] = 1;
}
static void d_pad_shape(spec_t *s) {
    s->o[5].params[3] = 1;
}
static void d_pad_negative(spec_t *s) {
    s->o[5].params[2] = -1;
    s->o[5].params[3] = 2;
}
static void d_cat_offset(spec_t *s) {
    s->o[7].params[3] = 4;
}
static void d_cat_rows(spec_t *s) {
    s->o[6].params[0] = 3;
}
static void d_cat_type(spec_t *s) {
    s->o[6].output = 5;
}
static void d_deq_scale(spec_t *s) {
    s->o[3].params[0] = f32_bits(0.0f);
}

static void test_open_refusals(void) {
    static const struct {
        damage_t damage;
        const char *text;
    } cases[] = {
        { d_no_ops, "0 operators" },
        { d_arena_too_big, "an arena of 100000 bytes" },
        { d_arena_zero, "tensor 0: bytes 0 to 12 do not fit the arena of 0 bytes" },
        { d_input_index, "input 8 or output 7 is not a tensor" },
        { d_output_const, "must be int8, uint8 or float32 tensors in the arena" },
        { d_tensor_type, "tensor 3: type 9" },
        { d_tensor_ndim, "tensor 3: 5 dimensions" },
        { d_tensor_dim_zero, "tensor 3: dimension 1 is 0" },
        { d_tensor_dim_after, "tensor 2: dimension 1 is 4" },
        { d_tensor_count, "tensor 3: count 13" },
        { d_tensor_misaligned, "tensor 3: bytes 34 to 46" },
        { d_tensor_past_arena, "tensor 5: bytes 160 to 208 do not fit the arena of 192" },
        { d_tensor_past_data, "tensor 2: bytes 100000" },
        { d_tensor_scale, "tensor 3: scale is not a positive number" },
        { d_tensor_scale_nan, "tensor 3: scale is not a positive number" },
        { d_tensor_zero_point, "tensor 3: zero point 200" },
        { d_op_code, "operator 2 (?): unknown operator code 17" },
        { d_op_n_inputs, "operator 0 (ADD): 1 inputs, expected 2" },
        { d_op_input_index, "operator 1 (MUL): input 1 is tensor 40" },
        { d_op_output_index, "operator 1 (MUL): output is tensor 8" },
        { d_op_input_const, "operator 2 (LUT): the input and output must be in the arena" },
        { d_add_types, "operator 0 (ADD): inputs int8 and int8, output float32" },
        { d_add_broadcast, "operator 0 (ADD): axis 3: inputs of 3 and 2" },
        { d_add_shift, "operator 0 (ADD): multiplier 1073741824, shift 1 out of range" },
        { d_add_multiplier, "operator 0 (ADD): multiplier -5" },
        { d_mul_shift, "operator 1 (MUL): multiplier 1073741824, shift 31" },
        { d_mul_act, "operator 1 (MUL): activation range 100 to 50" },
        { d_lut_aux, "operator 2 (LUT): expected an 8-bit input" },
        { d_lut_aux_past, "operator 2 (LUT): expected an 8-bit input" },
        { d_act_kind, "operator 4 (ACTIVATION): expected float32 input and output of one size, "
                      "kind 1 to 6 (got 7)" },
        { d_act_type, "operator 4 (ACTIVATION)" },
        { d_pad_shape, "operator 5 (PAD): axis 1: 2 values padded by 1 and 1" },
        { d_pad_negative, "operator 5 (PAD): axis 1: 2 values padded by -1 and 2" },
        { d_cat_offset, "operator 7 (CONCATENATION): 12 values as 4 rows of 3 at 4" },
        { d_cat_rows, "operator 6 (CONCATENATION): 12 values as 3 rows of 3" },
        { d_cat_type, "operator 6 (CONCATENATION): input int8, output float32" },
        { d_deq_scale, "operator 3 (DEQUANTIZE): expected int8 to float32" },
    };
    spec_t s;
    ml_nn_t m;
    ml_error_t err;
    base_model(&s);
    CHECK(open_spec(&s, &m, &err) == ML_OK, "the base model: %s", err.msg);
    CHECK(ml_nn_run(&m, &err) == ML_OK, "the base model runs: %s", err.msg);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        base_model(&s);
        cases[i].damage(&s);
        err.msg[0] = 0;
        ml_status_t st = open_spec(&s, &m, &err);
        CHECK(st == ML_E_FORMAT && strstr(err.msg, cases[i].text),
            "case %d: status %d, message '%s', expected '%s'", (int)i, st, err.msg,
            cases[i].text);
    }
    // The optional labels: one per output, else refused.
    base_model(&s);
    s.n_labels = 24;
    for (int k = 0; k < 24; k++) {
        s.labels[k] = 100 - k;
    }
    CHECK(open_spec(&s, &m, &err) == ML_OK && m.n_labels == 24 && m.labels[23] == 77,
        "labels: %s", err.msg);
    base_model(&s);
    CHECK(open_spec(&s, &m, &err) == ML_OK && m.n_labels == 0 && m.labels == NULL, "no labels");
    s.n_labels = 23;
    CHECK(open_spec(&s, &m, &err) == ML_E_FORMAT && strstr(err.msg, "labl: 23 labels for 24 "
        "outputs"), "23 labels: %s", err.msg);
    // Running without an arena is refused.
    base_model(&s);
    build(&s);
    CHECK(ml_nn_open(&m, file, build(&s), &err) == ML_OK, "open");
    CHECK(ml_nn_run(&m, &err) == ML_E_STATE && strstr(err.msg, "no arena"), "no arena: %s",
        err.msg);
    // A damaged byte anywhere is caught by the container's checksum.
    uint32_t n = build(&s);
    file[n / 2] ^= 1;
    CHECK(ml_nn_open(&m, file, n, &err) != ML_OK, "a flipped byte opens");
}

int main(void) {
    test_requantize();
    test_quantize();
    test_add_mul_i8();
    test_add_mul_f32();
    test_concatenation();
    test_pad();
    test_activations_f32();
    test_lut();
    test_convolutions();
    test_fully_connected();
    test_open_refusals();
    return check_summary("test_nn");
}
