// Opening a model: every check that makes running safe is here, once, so that the kernels
// (ml_nn_ops.c) can trust shapes, offsets and parameters.
#include <string.h>

#include "ml_nn.h"
#include "ml_nn_ops.h"

static const char *const op_names[ML_NN_OP_COUNT] = {
    "?", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "MAX_POOL_2D", "AVERAGE_POOL_2D",
    "MEAN", "SOFTMAX", "COPY", "QUANTIZE", "DEQUANTIZE", "LUT", "ADD", "MUL", "CONCATENATION",
    "PAD", "ACTIVATION",
};

static uint32_t type_size(uint8_t type) {
    return type == ML_NN_INT32 || type == ML_NN_FLOAT32 ? 4 : 1;
}

static const char *type_name(uint8_t type) {
    switch (type) {
        case ML_NN_INT8:
            return "int8";
        case ML_NN_UINT8:
            return "uint8";
        case ML_NN_INT32:
            return "int32";
        case ML_NN_FLOAT32:
            return "float32";
        default:
            return "unknown";
    }
}

uint32_t ml_nn_tensor_bytes(const ml_nn_tensor_t *t) {
    return t->count * type_size(t->type);
}

static ml_status_t check_tensor(const ml_nn_t *m, uint32_t i, ml_error_t *err) {
    const ml_nn_tensor_t *t = &m->tensors[i];
    if (t->type < ML_NN_INT8 || t->type > ML_NN_FLOAT32) {
        return ml_error_set(err, ML_E_FORMAT, 0, "tensor %lu: type %u is not one of 1 to 4",
            (unsigned long)i, t->type);
    }
    if (t->ndim < 1 || t->ndim > 4 || t->storage > ML_NN_CONST) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "tensor %lu: %u dimensions, storage %u (expected 1 to 4, 0 or 1)",
            (unsigned long)i, t->ndim, t->storage);
    }
    uint64_t count = 1;
    for (int d = 0; d < 4; d++) {
        if (d < t->ndim ? t->dims[d] == 0 : t->dims[d] != 0) {
            return ml_error_set(err, ML_E_FORMAT, 0,
                "tensor %lu: dimension %d is %u (expected 1 to 65535 within ndim, 0 after)",
                (unsigned long)i, d, t->dims[d]);
        }
        if (d < t->ndim) {
            count *= t->dims[d];
        }
    }
    if (count != t->count || count > 0x10000000u) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "tensor %lu: count %lu does not match its dimensions (%lu values)",
            (unsigned long)i, (unsigned long)t->count, (unsigned long)count);
    }
    uint64_t end = (uint64_t)t->offset + count * type_size(t->type);
    uint32_t limit = t->storage == ML_NN_ARENA ? m->h->arena_size : m->data_size;
    if ((t->offset & 3) || end > limit) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "tensor %lu: bytes %lu to %lu do not fit the %s of %lu bytes (or are not 4-byte "
            "aligned)", (unsigned long)i, (unsigned long)t->offset, (unsigned long)end,
            t->storage == ML_NN_ARENA ? "arena" : "constant data", (unsigned long)limit);
    }
    if (t->type == ML_NN_INT8 || t->type == ML_NN_UINT8) {
        float s = t->scale;
        if (!(s > 0.0f && s < 3.0e38f) && !(s == 0.0f && t->storage == ML_NN_CONST)) {
            return ml_error_set(err, ML_E_FORMAT, 0, "tensor %lu: scale is not a positive "
                "number", (unsigned long)i);
        }
        int32_t lo = t->type == ML_NN_INT8 ? -128 : 0;
        if (t->zero_point < lo || t->zero_point > lo + 255) {
            return ml_error_set(err, ML_E_FORMAT, 0, "tensor %lu: zero point %ld is out of "
                "the %s range", (unsigned long)i, (long)t->zero_point, type_name(t->type));
        }
    }
    return ML_OK;
}

// The error of operator k: "operator 3 (CONV_2D): <what>".
#define OP_FAIL(...) op_fail(err, k, op->code, __VA_ARGS__)
static ml_status_t op_fail(ml_error_t *err, uint32_t k, uint8_t code, const char *fmt, ...) {
    char what[ML_ERROR_MSG_LEN];
    va_list ap;
    va_start(ap, fmt);
    ml_vformat(what, sizeof(what), fmt, ap);
    va_end(ap);
    return ml_error_set(err, ML_E_FORMAT, 0, "operator %lu (%s): %s", (unsigned long)k,
        code < ML_NN_OP_COUNT ? op_names[code] : "?", what);
}

static int same_dims(const ml_nn_tensor_t *a, uint32_t n, uint32_t h, uint32_t w, uint32_t c) {
    return a->ndim == 4 && a->dims[0] == n && a->dims[1] == h && a->dims[2] == w
           && a->dims[3] == c;
}

// aux must hold n bytes of the data section, 4-byte aligned.
static int aux_ok(const ml_nn_t *m, const ml_nn_op_t *op, uint32_t n) {
    return op->aux != ML_NN_NO_AUX && !(op->aux & 3) && (uint64_t)op->aux + n <= m->data_size;
}

static int geometry_ok(int32_t v, int32_t min) {
    return v >= min && v <= ML_NN_MAX_GEOMETRY;
}

// Per-channel requantization: multipliers non-negative, shifts -31 to 30.
static int requant_ok(const ml_nn_t *m, const ml_nn_op_t *op, uint32_t n) {
    const int32_t *aux = (const int32_t *)(m->data + op->aux);
    for (uint32_t i = 0; i < n; i++) {
        if (aux[i] < 0 || aux[n + i] < -31 || aux[n + i] > 30) {
            return 0;
        }
    }
    return 1;
}

// A tensor's dimension d of 4, its shape aligned at the right (missing leading axes are 1).
static uint32_t dim4(const ml_nn_tensor_t *t, int d) {
    int k = d - (4 - t->ndim);
    return k >= 0 ? t->dims[k] : 1;
}

static int int8_or_float(uint8_t type) {
    return type == ML_NN_INT8 || type == ML_NN_FLOAT32;
}

static int act_range_ok(const int32_t *p) {
    return p[6] >= -128 && p[6] <= p[7] && p[7] <= 127;
}

// ADD, MUL: both inputs broadcast to the output (each axis equal, or 1 in one input).
static ml_status_t check_binary(const ml_nn_t *m, uint32_t k, ml_error_t *err) {
    const ml_nn_op_t *op = &m->ops[k];
    const ml_nn_tensor_t *a = &m->tensors[op->inputs[0]], *b = &m->tensors[op->inputs[1]];
    const ml_nn_tensor_t *y = &m->tensors[op->output];
    const int32_t *p = op->params;
    if (a->type != y->type || b->type != y->type || !int8_or_float(y->type)) {
        return OP_FAIL("inputs %s and %s, output %s (expected all int8 or all float32)",
            type_name(a->type), type_name(b->type), type_name(y->type));
    }
    if (a->ndim > y->ndim || b->ndim > y->ndim) {
        return OP_FAIL("an input has more dimensions than the output");
    }
    for (int d = 0; d < 4; d++) {
        uint32_t da = dim4(a, d), db = dim4(b, d), dy = dim4(y, d);
        if ((da != dy && da != 1) || (db != dy && db != 1) || (da != dy && db != dy)) {
            return OP_FAIL("axis %d: inputs of %lu and %lu do not broadcast to the output's %lu",
                d, (unsigned long)da, (unsigned long)db, (unsigned long)dy);
        }
    }
    if (y->type != ML_NN_INT8) {
        return ML_OK;
    }
    int n_mult = op->code == ML_NN_OP_ADD ? 3 : 1;
    for (int i = 0; i < n_mult; i++) {
        // ADD's multipliers are below one (shifts <= 0): the 2**20 headroom stays in int32.
        int32_t max_shift = op->code == ML_NN_OP_ADD ? 0 : 30;
        if (p[2 * i] < 0 || p[2 * i + 1] < -31 || p[2 * i + 1] > max_shift) {
            return OP_FAIL("multiplier %ld, shift %ld out of range", (long)p[2 * i],
                (long)p[2 * i + 1]);
        }
    }
    if (!act_range_ok(p)) {
        return OP_FAIL("activation range %ld to %ld is not within int8", (long)p[6], (long)p[7]);
    }
    return ML_OK;
}

static ml_status_t check_op(const ml_nn_t *m, uint32_t k, ml_error_t *err) {
    const ml_nn_op_t *op = &m->ops[k];
    static const uint8_t n_inputs[ML_NN_OP_COUNT] = {
        0, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 1, 1, 1,
    };
    if (op->code == 0 || op->code >= ML_NN_OP_COUNT) {
        return OP_FAIL("unknown operator code %u", op->code);
    }
    if (op->n_inputs != n_inputs[op->code]) {
        return OP_FAIL("%u inputs, expected %u", op->n_inputs, n_inputs[op->code]);
    }
    for (int i = 0; i < op->n_inputs; i++) {
        if (op->inputs[i] >= m->h->n_tensors) {
            return OP_FAIL("input %d is tensor %u, there are %u", i, op->inputs[i],
                m->h->n_tensors);
        }
    }
    if (op->output >= m->h->n_tensors) {
        return OP_FAIL("output is tensor %u, there are %u", op->output, m->h->n_tensors);
    }
    const ml_nn_tensor_t *x = &m->tensors[op->inputs[0]];
    const ml_nn_tensor_t *y = &m->tensors[op->output];
    if (x->storage != ML_NN_ARENA || y->storage != ML_NN_ARENA) {
        return OP_FAIL("the input and output must be in the arena");
    }
    const int32_t *p = op->params;
    int quantized = y->type == ML_NN_INT8;
    switch (op->code) {
        case ML_NN_OP_CONV_2D:
        case ML_NN_OP_DEPTHWISE_CONV_2D:
        case ML_NN_OP_FULLY_CONNECTED: {
            const ml_nn_tensor_t *w = &m->tensors[op->inputs[1]];
            const ml_nn_tensor_t *b = &m->tensors[op->inputs[2]];
            if (x->type != y->type || w->type != y->type || (y->type != ML_NN_INT8
                                                             && y->type != ML_NN_FLOAT32)) {
                return OP_FAIL("input %s, weights %s, output %s (expected all int8 or all "
                    "float32)", type_name(x->type), type_name(w->type), type_name(y->type));
            }
            if (w->storage != ML_NN_CONST || b->storage != ML_NN_CONST
                || b->type != (quantized ? ML_NN_INT32 : ML_NN_FLOAT32)) {
                return OP_FAIL("weights and bias must be constants, the bias %s",
                    quantized ? "int32" : "float32");
            }
            uint32_t n_out;
            if (op->code == ML_NN_OP_FULLY_CONNECTED) {
                if (w->ndim != 2) {
                    return OP_FAIL("weights have %u dimensions, expected 2", w->ndim);
                }
                n_out = w->dims[0];
                uint32_t n_in = w->dims[1];
                if (x->count % n_in || y->count != x->count / n_in * n_out) {
                    return OP_FAIL("input of %lu and output of %lu values do not fit weights "
                        "%u x %lu", (unsigned long)x->count, (unsigned long)y->count, n_out,
                        (unsigned long)n_in);
                }
            } else {
                if (x->ndim != 4 || w->ndim != 4 || y->ndim != 4) {
                    return OP_FAIL("input, weights and output must have 4 dimensions");
                }
                for (int i = 0; i < 6; i++) {
                    if (!geometry_ok(p[i], i < 4 ? 1 : 0)) {
                        return OP_FAIL("stride, dilation or padding %d is %ld (expected up to "
                            "%d)", i, (long)p[i], ML_NN_MAX_GEOMETRY);
                    }
                }
                uint32_t ic = x->dims[3];
                n_out = y->dims[3];
                int ok;
                if (op->code == ML_NN_OP_CONV_2D) {
                    ok = w->dims[0] == n_out && w->dims[3] == ic;
                } else {
                    ok = w->dims[0] == 1 && w->dims[3] == n_out && n_out % ic == 0;
                }
                if (!ok || y->dims[0] != x->dims[0]) {
                    return OP_FAIL("shapes do not fit: input channels %lu, output %u x %u x %u "
                        "x %u, weights %u x %u x %u x %u", (unsigned long)ic, y->dims[0],
                        y->dims[1], y->dims[2], y->dims[3], w->dims[0], w->dims[1], w->dims[2],
                        w->dims[3]);
                }
            }
            if (b->count != n_out) {
                return OP_FAIL("bias has %lu values, expected %lu", (unsigned long)b->count,
                    (unsigned long)n_out);
            }
            if (quantized) {
                if (!aux_ok(m, op, 12 * n_out) || !requant_ok(m, op, n_out)) {
                    return OP_FAIL("per-channel multipliers and shifts missing or out of "
                        "range");
                }
                if (p[6] < -128 || p[6] > p[7] || p[7] > 127) {
                    return OP_FAIL("activation range %ld to %ld is not within int8",
                        (long)p[6], (long)p[7]);
                }
            }
            break;
        }
        case ML_NN_OP_MAX_POOL_2D:
        case ML_NN_OP_AVERAGE_POOL_2D: {
            if (x->type != y->type || (y->type != ML_NN_INT8 && y->type != ML_NN_FLOAT32)) {
                return OP_FAIL("input %s and output %s (expected both int8 or float32)",
                    type_name(x->type), type_name(y->type));
            }
            for (int i = 0; i < 6; i++) {
                if (!geometry_ok(p[i], i < 4 ? 1 : 0)) {
                    return OP_FAIL("stride, filter or padding %d is %ld (expected up to %d)", i,
                        (long)p[i], ML_NN_MAX_GEOMETRY);
                }
            }
            if (x->ndim != 4 || !same_dims(y, x->dims[0], y->dims[1], y->dims[2], x->dims[3])) {
                return OP_FAIL("input and output must be 4-D with the same batch and channels");
            }
            // Every window must hold at least one input pixel.
            if (p[4] >= p[2] || p[5] >= p[3]
                || (int32_t)(y->dims[1] - 1) * p[0] - p[4] >= (int32_t)x->dims[1]
                || (int32_t)(y->dims[2] - 1) * p[1] - p[5] >= (int32_t)x->dims[2]) {
                return OP_FAIL("a pooling window lies wholly in the padding");
            }
            if (quantized && (p[6] < -128 || p[6] > p[7] || p[7] > 127)) {
                return OP_FAIL("activation range %ld to %ld is not within int8", (long)p[6],
                    (long)p[7]);
            }
            break;
        }
        case ML_NN_OP_MEAN:
            if (x->type != y->type || (y->type != ML_NN_INT8 && y->type != ML_NN_FLOAT32)
                || x->ndim != 4 || y->count != (uint32_t)x->dims[0] * x->dims[3]
                || (uint32_t)p[0] != (uint32_t)x->dims[1] * x->dims[2]) {
                return OP_FAIL("expected a 4-D input and its mean over height and width");
            }
            if (quantized && (p[1] < 0 || p[2] < -31 || p[2] > 30)) {
                return OP_FAIL("multiplier %ld, shift %ld out of range", (long)p[1],
                    (long)p[2]);
            }
            break;
        case ML_NN_OP_SOFTMAX:
            if (x->type != y->type || x->count != y->count || p[0] < 1
                || p[0] != x->dims[x->ndim - 1]
                || (y->type != ML_NN_INT8 && y->type != ML_NN_FLOAT32)) {
                return OP_FAIL("input and output must have the same type and shape, depth %ld "
                    "its last dimension", (long)p[0]);
            }
            if (quantized && (p[1] < 0 || p[2] < 0 || p[2] > 31 || p[3] > 0)) {
                return OP_FAIL("multiplier %ld, shift %ld or diff_min %ld out of range",
                    (long)p[1], (long)p[2], (long)p[3]);
            }
            break;
        case ML_NN_OP_COPY:
            if (ml_nn_tensor_bytes(x) != ml_nn_tensor_bytes(y)) {
                return OP_FAIL("input of %lu bytes, output of %lu", (unsigned long)
                    ml_nn_tensor_bytes(x), (unsigned long)ml_nn_tensor_bytes(y));
            }
            break;
        case ML_NN_OP_QUANTIZE:
        case ML_NN_OP_DEQUANTIZE: {
            int q = op->code == ML_NN_OP_QUANTIZE;
            float scale;
            memcpy(&scale, &p[0], 4);
            if (x->count != y->count || x->type != (q ? ML_NN_FLOAT32 : ML_NN_INT8)
                || y->type != (q ? ML_NN_INT8 : ML_NN_FLOAT32) || !(scale > 0.0f)
                || scale > 3.0e38f || p[1] < -128 || p[1] > 127) {
                return OP_FAIL("expected %s to %s of the same size, a positive scale and an "
                    "int8 zero point", q ? "float32" : "int8", q ? "int8" : "float32");
            }
            break;
        }
        case ML_NN_OP_LUT:
            if (x->count != y->count || (x->type != ML_NN_INT8 && x->type != ML_NN_UINT8)
                || y->type != ML_NN_INT8 || !aux_ok(m, op, 256)) {
                return OP_FAIL("expected an 8-bit input, an int8 output of the same size and a "
                    "256-byte table");
            }
            break;
        case ML_NN_OP_ADD:
        case ML_NN_OP_MUL:
            return check_binary(m, k, err);
        case ML_NN_OP_CONCATENATION: {
            // x is rows of p[1] values, placed at p[3] in y's rows of p[2].
            uint64_t rows = (uint32_t)p[0], in_row = (uint32_t)p[1], out_row = (uint32_t)p[2];
            if (x->type != y->type) {
                return OP_FAIL("input %s, output %s (expected one type)", type_name(x->type),
                    type_name(y->type));
            }
            if (p[0] < 1 || p[1] < 1 || p[2] < 1 || p[3] < 0 || rows * in_row != x->count
                || rows * out_row != y->count || (uint64_t)(uint32_t)p[3] + in_row > out_row) {
                return OP_FAIL("%lu values as %ld rows of %ld at %ld do not fit %lu in rows of "
                    "%ld", (unsigned long)x->count, (long)p[0], (long)p[1], (long)p[3],
                    (unsigned long)y->count, (long)p[2]);
            }
            break;
        }
        case ML_NN_OP_PAD:
            if (x->type != y->type || !int8_or_float(y->type)) {
                return OP_FAIL("input %s and output %s (expected both int8 or float32)",
                    type_name(x->type), type_name(y->type));
            }
            for (int d = 0; d < 4; d++) {
                if (p[2 * d] < 0 || p[2 * d + 1] < 0
                    || (uint64_t)dim4(x, d) + (uint32_t)p[2 * d] + (uint32_t)p[2 * d + 1]
                    != dim4(y, d)) {
                    return OP_FAIL("axis %d: %lu values padded by %ld and %ld do not make the "
                        "output's %lu", d, (unsigned long)dim4(x, d), (long)p[2 * d],
                        (long)p[2 * d + 1], (unsigned long)dim4(y, d));
                }
            }
            break;
        case ML_NN_OP_ACTIVATION:
            if (x->type != ML_NN_FLOAT32 || y->type != ML_NN_FLOAT32 || x->count != y->count
                || p[0] < 1 || p[0] >= ML_NN_ACT_COUNT) {
                return OP_FAIL("expected float32 input and output of one size, kind 1 to %d "
                    "(got %ld)", ML_NN_ACT_COUNT - 1, (long)p[0]);
            }
            break;
    }
    return ML_OK;
}

ml_status_t ml_nn_open(ml_nn_t *m, const void *data, size_t len, ml_error_t *err) {
    ml_blob_t b;
    if (ml_blob_open(&b, data, len, ML_BLOB_KIND_NN, ML_NN_FORMAT_VERSION, err) != ML_OK) {
        return err->code;
    }
    const void *p;
    uint32_t n;
    if (ml_blob_section(&b, ML_BLOB_ID('h', 'e', 'a', 'd'), sizeof(ml_nn_header_t), 1, 1, &p, &n,
        err) != ML_OK) {
        return err->code;
    }
    m->h = p;
    if (m->h->n_tensors == 0 || m->h->n_ops == 0) {
        return ml_error_set(err, ML_E_FORMAT, 0, "header: %u tensors, %u operators (expected "
            "at least one of each)", m->h->n_tensors, m->h->n_ops);
    }
    if (ml_blob_section(&b, ML_BLOB_ID('t', 'e', 'n', 's'), sizeof(ml_nn_tensor_t),
        m->h->n_tensors, m->h->n_tensors, &p, &n, err) != ML_OK) {
        return err->code;
    }
    m->tensors = p;
    if (ml_blob_section(&b, ML_BLOB_ID('o', 'p', 's', ' '), sizeof(ml_nn_op_t), m->h->n_ops,
        m->h->n_ops, &p, &n, err) != ML_OK) {
        return err->code;
    }
    m->ops = p;
    if (ml_blob_section(&b, ML_BLOB_ID('d', 'a', 't', 'a'), 1, 0, 0xffffffffu, &p, &n, err)
        != ML_OK) {
        return err->code;
    }
    m->data = p;
    m->data_size = n;
    m->arena = NULL;
    if (ml_blob_section(&b, ML_BLOB_ID('l', 'a', 'b', 'l'), 4, 0, 0xffffffffu, &p, &n, err)
        != ML_OK) {
        return err->code;
    }
    m->labels = p;
    m->n_labels = n;
    // The arena can never need more than all its tensors side by side.
    uint64_t all = 0;
    for (uint32_t i = 0; i < m->h->n_tensors; i++) {
        if (check_tensor(m, i, err) != ML_OK) {
            return err->code;
        }
        if (m->tensors[i].storage == ML_NN_ARENA) {
            all += (ml_nn_tensor_bytes(&m->tensors[i]) + 7) & ~7u;
        }
    }
    if (m->h->arena_size > all || m->h->arena_size == 0) {
        return ml_error_set(err, ML_E_FORMAT, 0, "header: an arena of %lu bytes, while its "
            "tensors take %lu at most", (unsigned long)m->h->arena_size, (unsigned long)all);
    }
    if (m->h->input >= m->h->n_tensors || m->h->output >= m->h->n_tensors) {
        return ml_error_set(err, ML_E_FORMAT, 0, "header: input %u or output %u is not a "
            "tensor", m->h->input, m->h->output);
    }
    const ml_nn_tensor_t *in = ml_nn_input_tensor(m), *out = ml_nn_output_tensor(m);
    if (in->storage != ML_NN_ARENA || out->storage != ML_NN_ARENA || in->type == ML_NN_INT32
        || out->type == ML_NN_INT32) {
        return ml_error_set(err, ML_E_FORMAT, 0, "header: the input and output must be "
            "int8, uint8 or float32 tensors in the arena");
    }
    if (m->n_labels != 0 && m->n_labels != out->count) {
        return ml_error_set(err, ML_E_FORMAT, 0, "labl: %lu labels for %lu outputs",
            (unsigned long)m->n_labels, (unsigned long)out->count);
    }
    for (uint32_t k = 0; k < m->h->n_ops; k++) {
        if (check_op(m, k, err) != ML_OK) {
            return err->code;
        }
    }
    return ML_OK;
}

ml_status_t ml_nn_run(ml_nn_t *m, ml_error_t *err) {
    if (!m->arena) {
        return ml_error_set(err, ML_E_STATE, 0, "the model has no arena");
    }
    for (uint32_t k = 0; k < m->h->n_ops; k++) {
        ml_nn_run_op(m, &m->ops[k]);
    }
    return ML_OK;
}
