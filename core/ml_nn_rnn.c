// Recurrent layers of ml_nn: Keras's GRU (both reset_after forms) and LSTM, in float32 and in
// q15 (int8 weights, 16-bit state and activations, int32 sums). ml_nn_open validated the
// operators (ml_nn.c); nothing here can go out of bounds or overflow, whatever the state holds.
//
// The q15 arithmetic (host/microlearn/nn/rnn.py is its numpy twin, bit for bit):
//   x (float32) -> xq = round(x / scale) (half away from zero), clamped to int16
//   gate pre-activation (Q12, 12 fractional bits): requant(xq . W_row) + b_in
//     + requant(h . R_row) + b_rec, each product requantized by its row's multiplier and
//     shift (TFLite's single rounding) and clamped to +-2**24
//   sigmoid, tanh: ml_nn_tanh_q15 (a table of tanh at 257 points of [0, 8], step 1/32,
//     linearly interpolated); sigmoid(x) = (1 + tanh(x / 2)) / 2
//   products of q15 values round half up: (a * b + 2**14) >> 15
//   GRU: h = (z h + (32768 - z) hh) / 2**15; LSTM: c in Q11 (+-16, saturated), h = o tanh(c)
#include <string.h>

#include "ml_math.h"
#include "ml_nn_ops.h"

#define T(m, i) (&(m)->tensors[(i)])
#define AT(m, t) ((m)->arena + (t)->offset)

// tanh(i / 32) in q15 (round(tanh(i / 32) * 32768), at most 32767), i = 0 .. 256.
static const int16_t tanh_table[257] = {
    0, 1024, 2045, 3063, 4075, 5079, 6073, 7056, 8025, 8980, 9919, 10840, 11743, 12625, 13486,
    14326, 15143, 15936, 16706, 17452, 18173, 18870, 19542, 20189, 20813, 21411, 21986, 22538,
    23066, 23571, 24054, 24516, 24956, 25376, 25776, 26157, 26519, 26864, 27191, 27502, 27797,
    28076, 28341, 28592, 28830, 29055, 29268, 29470, 29660, 29840, 30010, 30170, 30322, 30465,
    30600, 30727, 30847, 30960, 31067, 31167, 31262, 31351, 31435, 31515, 31589, 31659, 31726,
    31788, 31846, 31901, 31953, 32002, 32048, 32091, 32132, 32170, 32206, 32240, 32271, 32301,
    32329, 32356, 32381, 32404, 32426, 32447, 32466, 32484, 32501, 32517, 32532, 32547, 32560,
    32573, 32584, 32596, 32606, 32616, 32625, 32634, 32642, 32649, 32657, 32663, 32670, 32676,
    32681, 32686, 32691, 32696, 32700, 32704, 32708, 32712, 32715, 32718, 32721, 32724, 32727,
    32729, 32732, 32734, 32736, 32738, 32740, 32741, 32743, 32745, 32746, 32747, 32749, 32750,
    32751, 32752, 32753, 32754, 32755, 32755, 32756, 32757, 32758, 32758, 32759, 32759, 32760,
    32760, 32761, 32761, 32762, 32762, 32762, 32763, 32763, 32763, 32764, 32764, 32764, 32764,
    32765, 32765, 32765, 32765, 32765, 32766, 32766, 32766, 32766, 32766, 32766, 32766, 32766,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
    32767, 32767, 32767, 32767, 32767, 32767, 32767, 32767,
};

int32_t ml_nn_tanh_q15(int32_t x, int frac) {
    int32_t a = x < 0 ? -x : x;
    int s = frac - 5;  // the table's step is 2**-5
    uint32_t i = (uint32_t)a >> s;
    int32_t r;
    if (i >= 256) {
        r = tanh_table[256];
    } else {
        int32_t f = a & ((1 << s) - 1);
        r = tanh_table[i] + (((tanh_table[i + 1] - tanh_table[i]) * f + (1 << (s - 1))) >> s);
    }
    return x < 0 ? -r : r;
}

int32_t ml_nn_sigmoid_q15(int32_t x_q12) {
    return (32768 + ml_nn_tanh_q15(x_q12, 13)) >> 1;  // x / 2 is x read with 13 fraction bits
}

// ---------------------------------------------------------------------------------------------

typedef struct {
    uint32_t F, U, G, flags;
    const uint8_t *aux;
    float inv_scale;  // q15: 1 / the input's scale
} rnn_t;

static float dot_f32(const float *a, const float *b, uint32_t n) {
    float acc = 0.0f;
    for (uint32_t i = 0; i < n; i++) {
        acc += a[i] * b[i];
    }
    return acc;
}

// A gate unit's pre-activation: x . W[row] + b_in[row] + h . R[row] + b_rec[row].
typedef struct {
    const float *W, *R, *bi, *br;
} weights_f32_t;

static weights_f32_t weights_f32(const rnn_t *r) {
    weights_f32_t w;
    w.W = (const float *)r->aux;
    w.R = w.W + (size_t)r->G * r->U * r->F;
    w.bi = w.R + (size_t)r->G * r->U * r->U;
    w.br = w.bi + r->G * r->U;
    return w;
}

static float pre_x_f32(const rnn_t *r, const weights_f32_t *w, const float *x, uint32_t row) {
    return dot_f32(x, w->W + (size_t)row * r->F, r->F) + w->bi[row];
}

static float pre_h_f32(const rnn_t *r, const weights_f32_t *w, const float *h, uint32_t row) {
    return dot_f32(h, w->R + (size_t)row * r->U, r->U) + w->br[row];
}

// One step of GRU or LSTM in float32: state h (and c), scratch of 2 U.
static void step_f32(const rnn_t *r, int lstm, const float *x, float *state, float *s) {
    const uint32_t U = r->U;
    weights_f32_t w = weights_f32(r);
    float *h = state, *c = state + U, *rh = s, *hn = s + U;
    if (lstm) {
        for (uint32_t j = 0; j < U; j++) {
            float i = ml_sigmoidf(pre_x_f32(r, &w, x, j) + pre_h_f32(r, &w, h, j));
            float f = ml_sigmoidf(pre_x_f32(r, &w, x, U + j) + pre_h_f32(r, &w, h, U + j));
            float g = ml_tanhf(pre_x_f32(r, &w, x, 2 * U + j) + pre_h_f32(r, &w, h, 2 * U + j));
            float o = ml_sigmoidf(pre_x_f32(r, &w, x, 3 * U + j) + pre_h_f32(r, &w, h, 3 * U + j));
            c[j] = f * c[j] + i * g;  // c[j] is read by unit j only
            hn[j] = o * ml_tanhf(c[j]);
        }
    } else {
        int after = r->flags & ML_NN_RNN_RESET_AFTER;
        if (!after) {
            // the reset gate applies to h before the recurrent product: r * h of every unit
            for (uint32_t j = 0; j < U; j++) {
                rh[j] = ml_sigmoidf(pre_x_f32(r, &w, x, U + j) + pre_h_f32(r, &w, h, U + j)) * h[j];
            }
        }
        for (uint32_t j = 0; j < U; j++) {
            float z = ml_sigmoidf(pre_x_f32(r, &w, x, j) + pre_h_f32(r, &w, h, j));
            float xh = pre_x_f32(r, &w, x, 2 * U + j), hh;
            if (after) {
                float rg = ml_sigmoidf(pre_x_f32(r, &w, x, U + j) + pre_h_f32(r, &w, h, U + j));
                hh = ml_tanhf(xh + rg * pre_h_f32(r, &w, h, 2 * U + j));
            } else {
                hh = ml_tanhf(xh + pre_h_f32(r, &w, rh, 2 * U + j));
            }
            hn[j] = z * h[j] + (1.0f - z) * hh;
        }
    }
    for (uint32_t j = 0; j < U; j++) {
        h[j] = hn[j];
    }
}

// ---------------------------------------------------------------------------------------------
// q15

typedef struct {
    const int8_t *W, *R;
    const int32_t *bi, *br, *mx, *sx, *mh, *sh;
} weights_q15_t;

static weights_q15_t weights_q15(const rnn_t *r) {
    weights_q15_t w;
    uint32_t rows = r->G * r->U;
    w.W = (const int8_t *)r->aux;
    w.R = w.W + (size_t)rows * r->F;
    w.bi = (const int32_t *)(r->aux + (((size_t)rows * (r->F + r->U) + 3) & ~(size_t)3));
    w.br = w.bi + rows;
    w.mx = w.br + rows;
    w.sx = w.mx + rows;
    w.mh = w.sx + rows;
    w.sh = w.mh + rows;
    return w;
}

// |a| <= 32768, |w| <= 128, n <= 511: the sum stays within int32.
static int32_t dot_q15(const int16_t *a, const int8_t *w, uint32_t n) {
    int32_t acc = 0;
    for (uint32_t i = 0; i < n; i++) {
        acc += a[i] * w[i];
    }
    return acc;
}

static int32_t clamp24(int32_t v) {
    const int32_t lim = 1 << 24;
    return v < -lim ? -lim : v > lim ? lim : v;
}

static int32_t pre_x_q15(const rnn_t *r, const weights_q15_t *w, const int16_t *xq,
    uint32_t row) {
    int32_t acc = dot_q15(xq, w->W + (size_t)row * r->F, r->F);
    return clamp24(ml_nn_requantize_single(acc, w->mx[row], w->sx[row])) + w->bi[row];
}

static int32_t pre_h_q15(const rnn_t *r, const weights_q15_t *w, const int16_t *h,
    uint32_t row) {
    int32_t acc = dot_q15(h, w->R + (size_t)row * r->U, r->U);
    return clamp24(ml_nn_requantize_single(acc, w->mh[row], w->sh[row])) + w->br[row];
}

// a * b / 2**15 rounded (half up), for q15 a and b.
static int32_t mul_q15(int32_t a, int32_t b) {
    return (a * b + (1 << 14)) >> 15;
}

static int16_t sat16(int32_t v) {
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}

// x / scale rounded half away from zero, saturated to int16 (NaN gives -32768).
static int16_t quantize_q15(float x, float inv_scale) {
    float v = x * inv_scale;
    if (v >= 32767.0f) {
        return 32767;
    }
    if (!(v > -32768.0f)) {
        return -32768;
    }
    return (int16_t)(int32_t)(v + (v >= 0.0f ? 0.5f : -0.5f));
}

// One step in q15: state h (and c in Q11), scratch of F + 2 U.
static void step_q15(const rnn_t *r, int lstm, const float *x, int16_t *state, int16_t *s) {
    const uint32_t U = r->U;
    weights_q15_t w = weights_q15(r);
    int16_t *h = state, *c = state + U, *xq = s, *rh = s + r->F, *hn = s + r->F + U;
    for (uint32_t i = 0; i < r->F; i++) {
        xq[i] = quantize_q15(x[i], r->inv_scale);
    }
    if (lstm) {
        for (uint32_t j = 0; j < U; j++) {
            int32_t i = ml_nn_sigmoid_q15(pre_x_q15(r, &w, xq, j) + pre_h_q15(r, &w, h, j));
            int32_t f = ml_nn_sigmoid_q15(pre_x_q15(r, &w, xq, U + j)
                + pre_h_q15(r, &w, h, U + j));
            int32_t g = ml_nn_tanh_q15(pre_x_q15(r, &w, xq, 2 * U + j)
                + pre_h_q15(r, &w, h, 2 * U + j), 12);
            int32_t o = ml_nn_sigmoid_q15(pre_x_q15(r, &w, xq, 3 * U + j)
                + pre_h_q15(r, &w, h, 3 * U + j));
            // f c in Q11, i g from Q30 to Q11
            c[j] = sat16(mul_q15(f, c[j]) + ((i * g + (1 << 18)) >> 19));
            hn[j] = (int16_t)mul_q15(o, ml_nn_tanh_q15(c[j], 11));
        }
    } else {
        int after = r->flags & ML_NN_RNN_RESET_AFTER;
        if (!after) {
            for (uint32_t j = 0; j < U; j++) {
                int32_t rg = ml_nn_sigmoid_q15(pre_x_q15(r, &w, xq, U + j)
                    + pre_h_q15(r, &w, h, U + j));
                rh[j] = (int16_t)mul_q15(rg, h[j]);
            }
        }
        for (uint32_t j = 0; j < U; j++) {
            int32_t z = ml_nn_sigmoid_q15(pre_x_q15(r, &w, xq, j) + pre_h_q15(r, &w, h, j));
            int32_t xh = pre_x_q15(r, &w, xq, 2 * U + j), hh;
            if (after) {
                int32_t rg = ml_nn_sigmoid_q15(pre_x_q15(r, &w, xq, U + j)
                    + pre_h_q15(r, &w, h, U + j));
                int32_t rec = pre_h_q15(r, &w, h, 2 * U + j);  // within +-2**26
                hh = ml_nn_tanh_q15(xh + (int32_t)(((int64_t)rg * rec + (1 << 14)) >> 15), 12);
            } else {
                hh = ml_nn_tanh_q15(xh + pre_h_q15(r, &w, rh, 2 * U + j), 12);
            }
            hn[j] = (int16_t)((z * h[j] + (32768 - z) * hh + (1 << 14)) >> 15);
        }
    }
    for (uint32_t j = 0; j < U; j++) {
        h[j] = hn[j];
    }
}

// ---------------------------------------------------------------------------------------------

void ml_nn_rnn_run(ml_nn_t *m, const ml_nn_op_t *op, int one_step) {
    const ml_nn_tensor_t *tx = T(m, op->inputs[0]), *ts = T(m, op->inputs[1]);
    const ml_nn_tensor_t *tscr = T(m, op->inputs[2]), *ty = T(m, op->output);
    rnn_t r;
    r.F = tx->dims[tx->ndim - 1];
    r.U = (uint32_t)op->params[0];
    r.G = op->code == ML_NN_OP_LSTM ? 4 : 3;
    r.flags = (uint32_t)op->params[1];
    r.aux = m->data + op->aux;
    memcpy(&r.inv_scale, &op->params[2], 4);
    int lstm = op->code == ML_NN_OP_LSTM, q15 = ts->type == ML_NN_INT16;
    int sequences = r.flags & ML_NN_RNN_RETURN_SEQUENCES;
    const float *x = (const float *)AT(m, tx);
    float *y = (float *)AT(m, ty);
    void *state = AT(m, ts), *scratch = AT(m, tscr);
    uint32_t steps = one_step ? 1 : tx->count / r.F;
    if (!one_step) {
        memset(state, 0, ml_nn_tensor_bytes(ts));
    }
    for (uint32_t t = 0; t < steps; t++) {
        if (q15) {
            step_q15(&r, lstm, x + (size_t)t * r.F, state, scratch);
        } else {
            step_f32(&r, lstm, x + (size_t)t * r.F, state, scratch);
        }
        if (sequences || t == steps - 1) {
            float *row = y + (sequences ? (size_t)t * r.U : 0);
            for (uint32_t j = 0; j < r.U; j++) {
                // q15 to float32 is exact
                row[j] = q15 ? (float)((const int16_t *)state)[j] * (1.0f / 32768.0f)
                    : ((const float *)state)[j];
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Streaming

static int is_recurrent(const ml_nn_op_t *op) {
    return op->code == ML_NN_OP_GRU || op->code == ML_NN_OP_LSTM;
}

// The number of leading recurrent operators.
static uint32_t leading_recurrent(const ml_nn_t *m) {
    uint32_t n = 0;
    while (n < m->h->n_ops && is_recurrent(&m->ops[n])) {
        n++;
    }
    return n;
}

uint32_t ml_nn_step_frame(const ml_nn_t *m) {
    if (!leading_recurrent(m)) {
        return 0;
    }
    const ml_nn_tensor_t *tx = T(m, m->ops[0].inputs[0]);
    return tx->dims[tx->ndim - 1];
}

uint32_t ml_nn_step_output_count(const ml_nn_t *m) {
    uint32_t n = leading_recurrent(m);
    if (n && (m->ops[n - 1].params[1] & ML_NN_RNN_RETURN_SEQUENCES)) {
        return (uint32_t)m->ops[n - 1].params[0];  // one state of the last layer
    }
    return ml_nn_output_tensor(m)->count;
}

uint32_t ml_nn_state_bytes(const ml_nn_t *m) {
    uint32_t bytes = 0;
    for (uint32_t k = 0; k < m->h->n_ops; k++) {
        if (is_recurrent(&m->ops[k])) {
            bytes += ml_nn_tensor_bytes(T(m, m->ops[k].inputs[1]));
        }
    }
    return bytes;
}

void ml_nn_reset(ml_nn_t *m) {
    if (!m->arena) {
        return;
    }
    for (uint32_t k = 0; k < m->h->n_ops; k++) {
        if (is_recurrent(&m->ops[k])) {
            const ml_nn_tensor_t *ts = T(m, m->ops[k].inputs[1]);
            memset(AT(m, ts), 0, ml_nn_tensor_bytes(ts));
        }
    }
}

ml_status_t ml_nn_step_check(const ml_nn_t *m, ml_error_t *err) {
    uint32_t n = leading_recurrent(m);
    if (n == 0) {
        return ml_error_set(err, ML_E_VALUE, 0, "step: the model has no recurrent layer (GRU "
            "or LSTM) first; use run");
    }
    if (m->ops[0].inputs[0] != m->h->input) {
        return ml_error_set(err, ML_E_VALUE, 0, "step: the first recurrent layer does not "
            "read the model's input");
    }
    for (uint32_t k = 0; k < m->h->n_ops; k++) {
        const ml_nn_op_t *op = &m->ops[k];
        int sequences = k < n && (op->params[1] & ML_NN_RNN_RETURN_SEQUENCES);
        if (k >= n && is_recurrent(op)) {
            return ml_error_set(err, ML_E_VALUE, 0, "step: operator %lu is a recurrent layer "
                "after other layers; only the whole sequence can be run", (unsigned long)k);
        }
        if (sequences && k + 1 < m->h->n_ops
            && (k + 1 >= n || m->ops[k + 1].inputs[0] != op->output)) {
            return ml_error_set(err, ML_E_VALUE, 0, "step: operator %lu reads every state of "
                "the recurrent layer before it (return_sequences=True); only the whole "
                "sequence can be run", (unsigned long)k + 1);
        }
    }
    return ML_OK;
}

ml_status_t ml_nn_step(ml_nn_t *m, ml_error_t *err) {
    if (!m->arena) {
        return ml_error_set(err, ML_E_STATE, 0, "the model has no arena");
    }
    if (ml_nn_step_check(m, err) != ML_OK) {
        return err->code;
    }
    uint32_t n = leading_recurrent(m);
    for (uint32_t k = 0; k < m->h->n_ops; k++) {
        if (k < n) {
            ml_nn_rnn_run(m, &m->ops[k], 1);
        } else {
            ml_nn_run_op(m, &m->ops[k]);
        }
    }
    return ML_OK;
}
