// libFuzzer harness of the tree model loader (core/ml_trees.c) and of the predictor on the models
// it accepts.
//
// Each input is loaded twice: in one chunk, and in chunks whose sizes come from a hash of the input
// (so every mutation moves the chunk boundaries too). Both loads must end alike: same status, same
// error line and message, same model bytes. Memory is malloc'ed at the size the loader asks for,
// so ASan sees any access past it; models over MEMORY_CAP are refused, like a device out of RAM.
//
// An accepted model is loaded once more with ml_trees_load_text (same model bytes), and evaluated
// on feature vectors derived from the input and from its own thresholds (exactly on, just above
// and just below them), as float32 (with NaN, +-inf, -0) and as int16; each result is compared
// with a plain reference walk that compares floats instead of the loader's integer keys. Any
// difference abort()s.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml_trees.h"

#define MEMORY_CAP ((size_t)1 << 20)
#define REFUSED (-1)  // status of a load whose memory request was over MEMORY_CAP

#define REQUIRE(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
} while (0)

typedef struct {
    ml_trees_loader_t ld;
    ml_error_t err;
    void *memory;
    size_t memory_size;
    int status;
} load_t;

static uint64_t rng_next(uint64_t *s) {
    // xorshift64*
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t hash(const uint8_t *data, size_t size) {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
    for (size_t i = 0; i < size; i++) {
        h = (h ^ data[i]) * 0x100000001b3ull;
    }
    return h | 1;
}

// chunking: 0 one chunk, 1 byte by byte, 2 random sizes 1..16, 3 random 1..300 with empty feeds.
static size_t next_chunk(uint64_t *rng, int chunking, size_t rest) {
    size_t n;
    switch (chunking) {
        case 0:
            n = rest;
            break;
        case 1:
            n = 1;
            break;
        case 2:
            n = 1 + rng_next(rng) % 16;
            break;
        default:
            n = rng_next(rng) % 301;
            break;
    }
    return n < rest ? n : rest;
}

static int provide_memory(load_t *L) {
    REQUIRE(L->memory == NULL);  // asked once per load
    size_t size = ml_trees_loader_memory_size(&L->ld);
    REQUIRE(size > 0 && size % 8 == 0);
    if (size > MEMORY_CAP) {
        return REFUSED;
    }
    L->memory = malloc(size);
    REQUIRE(L->memory != NULL);
    L->memory_size = size;
    ml_trees_loader_set_memory(&L->ld, L->memory);
    return ML_OK;
}

static int feed_all(load_t *L, const uint8_t *data, size_t size, uint64_t *rng, int chunking) {
    size_t pos = 0;
    int empty_feeds = 0;
    while (pos < size) {
        size_t n = next_chunk(rng, chunking, size - pos);
        if (n == 0) {
            REQUIRE(++empty_feeds < 1000);
        }
        size_t done = 0;
        do {
            size_t used = (size_t)-1;
            int r = ml_trees_loader_feed(&L->ld, (const char *)data + pos + done, n - done, &used,
                &L->err);
            REQUIRE(used <= n - done);
            done += used;
            if (r == ML_TREES_NEED_MEMORY) {
                REQUIRE(used > 0);
                r = provide_memory(L);
            } else if (r == ML_OK) {
                REQUIRE(done == n);  // ML_OK consumes the whole chunk
            }
            if (r != ML_OK) {
                return r;
            }
        } while (done < n);
        pos += n;
    }
    return ML_OK;
}

static int load(load_t *L, const uint8_t *data, size_t size, int chunking) {
    uint64_t rng = hash(data, size);
    memset(L, 0, sizeof(*L));
    ml_trees_loader_init(&L->ld);
    int r = feed_all(L, data, size, &rng, chunking);
    if (r == ML_OK) {
        r = ml_trees_loader_finish(&L->ld, &L->err);
        if (r == ML_TREES_REWIND) {
            // emlearn CSV: size known now, read everything again into the memory.
            r = provide_memory(L);
            if (r == ML_OK) {
                r = feed_all(L, data, size, &rng, chunking);
            }
            if (r == ML_OK) {
                r = ml_trees_loader_finish(&L->ld, &L->err);
                REQUIRE(r != ML_TREES_REWIND);
            }
        }
    }
    REQUIRE(r != ML_TREES_NEED_MEMORY);
    if (r > 0) {
        // An error: a known code, a message, the line of the file (at most one past its end).
        REQUIRE(r >= ML_E_FORMAT && r <= ML_E_STATE);
        REQUIRE(L->err.code == (ml_status_t)r);
        REQUIRE(memchr(L->err.msg, '\0', sizeof(L->err.msg)) != NULL);
        REQUIRE(L->err.msg[0] != '\0');
        size_t lines = 1;
        for (size_t i = 0; i < size; i++) {
            lines += data[i] == '\n';
        }
        REQUIRE(L->err.line <= lines);
    }
    if (r == ML_OK) {
        REQUIRE(L->memory != NULL);
    }
    L->status = r;
    return r;
}

// ---------------------------------------------------------------------------------------------
// Reference predictor: float comparisons on the thresholds the keys stand for.

static float key_float(int32_t k) {
    uint32_t b = k < 0 ? (uint32_t)k ^ 0x7fffffffu : (uint32_t)k;
    float f;
    memcpy(&f, &b, sizeof(f));
    return f;
}

static void reference_eval(const ml_trees_t *m, const float *x, double *acc) {
    const ml_trees_header_t *h = &m->h;
    for (uint32_t k = 0; k < h->n_outputs; k++) {
        acc[k] = h->aggregate == ML_TREES_SUM ? m->cold->baseline[k] : 0.0;
    }
    for (uint32_t t = 0; t < h->n_trees; t++) {
        uint32_t ref = m->cold->tree_root[t];  // a text model: references into all trees' nodes
        REQUIRE(ref < m->cold->n_nodes + m->cold->n_leaves);
        uint32_t steps = 0;
        while (ref < m->cold->n_nodes) {
            REQUIRE(steps++ <= m->cold->n_nodes);
            uint32_t f = ml_trees_node_feature(m, ref);
            REQUIRE(f < h->n_features);
            float t32 = key_float(ml_trees_node_threshold(m, ref));
            REQUIRE(!isnan(t32));
            int left;
            if (isnan(x[f])) {
                REQUIRE(m->cold->missing_left != NULL);
                left = (m->cold->missing_left[ref / 8] >> (ref % 8)) & 1;
            } else {
                left = x[f] <= t32;
            }
            uint32_t next = ml_trees_node_child(m, left, ref);
            REQUIRE(next > ref && next < m->cold->n_nodes + m->cold->n_leaves);
            ref = next;
        }
        uint32_t leaf = (ref - m->cold->n_nodes) * h->leaf_width;
        if (h->leaf_width == 1) {
            REQUIRE(m->tree_output[t] < h->n_outputs);
            acc[m->tree_output[t]] += ml_trees_value_at(m, leaf);
        } else {
            for (uint32_t k = 0; k < h->leaf_width; k++) {
                acc[k] += ml_trees_value_at(m, leaf + k);
            }
        }
    }
}

// Status eval_f32 must return for x: the first non-finite value decides.
static ml_status_t expected_status(const ml_trees_t *m, const float *x) {
    for (uint32_t i = 0; i < m->h.n_features; i++) {
        if (isnan(x[i]) && !(m->h.flags & ML_TREES_ACCEPT_NAN)) {
            return ML_E_INPUT;
        }
        if (isinf(x[i]) && !(m->h.flags & ML_TREES_ACCEPT_INF)) {
            return ML_E_INPUT;
        }
    }
    return ML_OK;
}

static double scratch_acc[65536];
static float scratch_proba[65536];

static void check_outputs(const ml_trees_t *m) {
    const ml_trees_header_t *h = &m->h;
    if (h->n_classes == 0) {
        (void)ml_trees_value(m);
        return;
    }
    uint32_t idx = ml_trees_class_index(m);
    REQUIRE(idx < h->n_classes);
    if (h->link == ML_TREES_LINK_SIGMOID) {
        int ge = (h->flags & ML_TREES_BINARY_GE) != 0;
        REQUIRE(idx == (uint32_t)(ge ? ml_trees_sum(m, 0) >= 0.0 : ml_trees_sum(m, 0) > 0.0));
    } else {
        // argmax of the outputs (the means, for forests), first on ties
        double n = h->aggregate == ML_TREES_MEAN ? (double)h->n_trees : 1.0;
        for (uint32_t k = 0; k < h->n_outputs; k++) {
            double a = ml_trees_sum(m, k) / n, b = ml_trees_sum(m, idx) / n;
            REQUIRE(k < idx ? a < b : a <= b);
        }
    }
    REQUIRE(ml_trees_class_label(m) == ((const int32_t *)m->cold->labels)[idx]);
    ml_trees_proba(m, scratch_proba);
    if (h->link != ML_TREES_LINK_NONE) {
        // Probabilities from the link: in [0, 1].
        for (uint32_t k = 0; k < h->n_classes; k++) {
            REQUIRE(scratch_proba[k] >= 0.0f && scratch_proba[k] <= 1.0f);
        }
    }
}

// The model's sums are the reference's, bit for bit (also when they are exact int64 sums of
// fixed-point values: that is the claim of make_fixed).
static int same_sums(const ml_trees_t *m, const double *acc) {
    for (uint32_t k = 0; k < m->h.n_outputs; k++) {
        double s = ml_trees_sum(m, k);
        if (memcmp(&s, &acc[k], sizeof(s)) != 0) {
            return 0;
        }
    }
    return 1;
}

static void eval_f32(const ml_trees_t *m, const float *x) {
    ml_error_t err;
    memset(&err, 0, sizeof(err));
    ml_status_t r = ml_trees_eval_f32(m, x, m->h.n_features, &err);
    ml_status_t want = expected_status(m, x);
    REQUIRE(r == want);
    if (r != ML_OK) {
        REQUIRE(err.code == r && err.msg[0] && strstr(err.msg, "x[") != NULL);
        return;
    }
    reference_eval(m, x, scratch_acc);
    REQUIRE(same_sums(m, scratch_acc));
    check_outputs(m);
}

static void eval_i16(const ml_trees_t *m, const int16_t *x, float *xf) {
    ml_error_t err;
    REQUIRE(ml_trees_eval_i16(m, x, m->h.n_features, &err) == ML_OK);
    for (uint32_t i = 0; i < m->h.n_features; i++) {
        xf[i] = (float)x[i];
    }
    reference_eval(m, xf, scratch_acc);
    REQUIRE(same_sums(m, scratch_acc));
    check_outputs(m);
}

static int16_t to_i16(float f) {
    if (!(f > -32768.0f)) {
        return f == f ? -32768 : 0;
    }
    if (f >= 32767.0f) {
        return 32767;
    }
    return (int16_t)f;
}

static float xf_buf[65536];
static float xf_tmp[65536];
static int16_t xi_buf[65536];

static void predict_all(const ml_trees_t *m, const uint8_t *data, size_t size) {
    const ml_trees_header_t *h = &m->h;
    const uint32_t n = h->n_features;
    ml_error_t err;

    // Wrong length, then a model copied by value (as the bindings keep it).
    REQUIRE(ml_trees_eval_f32(m, xf_buf, n + 1, &err) == ML_E_SIZE);
    REQUIRE(err.msg[0] != '\0');
    ml_trees_t copy = *m;
    m = &copy;

    // Each vector costs O(n_features): wide models (the widths of their arrays are those of any
    // model over 256 features) get three, which keeps the fuzzer fast.
    if (n > 1024) {
        for (int c = 0; c < 3; c++) {
            for (uint32_t i = 0; i < n; i++) {
                xf_buf[i] = c == 0 ? 0.0f : c == 1 ? NAN : (float)data[i % size];
            }
            eval_f32(m, xf_buf);
        }
        return;
    }

    static const float constants[] = { 0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 1e30f, -1e30f, 1e-45f };
    for (size_t c = 0; c < sizeof(constants) / sizeof(constants[0]); c++) {
        for (uint32_t i = 0; i < n; i++) {
            xf_buf[i] = constants[c];
        }
        eval_f32(m, xf_buf);
    }
    // Non-finite values alone and mixed into ordinary ones.
    const float specials[] = { NAN, -NAN, INFINITY, -INFINITY };
    for (size_t c = 0; c < 4; c++) {
        for (uint32_t i = 0; i < n; i++) {
            xf_buf[i] = specials[c];
        }
        eval_f32(m, xf_buf);
        for (uint32_t i = 0; i < n; i++) {
            xf_buf[i] = (i + c) % 3 == 0 ? specials[c] : (float)i - 1.5f;
        }
        eval_f32(m, xf_buf);
    }
    // Float bits taken from the input.
    for (int round = 0; round < 3 && size >= 4; round++) {
        for (uint32_t i = 0; i < n; i++) {
            uint32_t b = 0;
            for (int k = 0; k < 4; k++) {
                b = (b << 8) | data[((size_t)i * 4 + (size_t)k + (size_t)round * 7) % size];
            }
            memcpy(&xf_buf[i], &b, sizeof(float));
        }
        eval_f32(m, xf_buf);
    }
    // On, above and below the thresholds of up to 16 nodes; NaN in every other feature for
    // models that accept it.
    uint32_t nodes = m->cold->n_nodes < 16 ? m->cold->n_nodes : 16;
    for (uint32_t j = 0; j < nodes; j++) {
        uint32_t node = (uint32_t)(((uint64_t)j * m->cold->n_nodes) / nodes);
        float t = key_float(ml_trees_node_threshold(m, node));
        uint32_t f = ml_trees_node_feature(m, node);
        for (int side = -1; side <= 1; side++) {
            for (uint32_t i = 0; i < n; i++) {
                float ti = key_float(ml_trees_node_threshold(m, (node + i) % m->cold->n_nodes));
                xf_buf[i] = (h->flags & ML_TREES_ACCEPT_NAN) && (i + j) % 2 ? NAN : ti;
            }
            xf_buf[f] = side == 0 ? t : nextafterf(t, side < 0 ? -INFINITY : INFINITY);
            eval_f32(m, xf_buf);
            for (uint32_t i = 0; i < n; i++) {
                float v = key_float(ml_trees_node_threshold(m, (node + i) % m->cold->n_nodes));
                xi_buf[i] = to_i16(side < 0 ? floorf(v) : side > 0 ? ceilf(v) : v);
            }
            eval_i16(m, xi_buf, xf_tmp);
        }
    }
    // int16 extremes and values from the input.
    static const int16_t ints[] = { 0, -1, 1, 5, 6, -32768, 32767 };
    for (size_t c = 0; c < sizeof(ints) / sizeof(ints[0]); c++) {
        for (uint32_t i = 0; i < n; i++) {
            xi_buf[i] = ints[c];
        }
        eval_i16(m, xi_buf, xf_tmp);
    }
    if (size >= 2) {
        for (uint32_t i = 0; i < n; i++) {
            xi_buf[i] = (int16_t)(data[(2 * (size_t)i) % size] | data[(2 * (size_t)i + 1) % size] << 8);
        }
        eval_i16(m, xi_buf, xf_tmp);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static load_t a, b;
    uint64_t h = hash(data, size);
    load(&a, data, size, 0);
    load(&b, data, size, 1 + (int)(h >> 61) % 3);

    // Chunking changes nothing.
    REQUIRE(a.status == b.status);
    if (a.status > 0) {
        REQUIRE(a.err.code == b.err.code && a.err.line == b.err.line);
        REQUIRE(strcmp(a.err.msg, b.err.msg) == 0);
    }
    if (a.status == ML_OK) {
        const ml_trees_t *ma = ml_trees_loader_model(&a.ld);
        const ml_trees_t *mb = ml_trees_loader_model(&b.ld);
        REQUIRE(memcmp(&ma->h, &mb->h, sizeof(ma->h)) == 0);
        REQUIRE(a.memory_size == b.memory_size);
        REQUIRE(memcmp(a.memory, b.memory, a.memory_size) == 0);
        REQUIRE(ma->cold == &a.ld.cold && mb->cold == &b.ld.cold);
        REQUIRE(a.ld.cold.n_nodes == b.ld.cold.n_nodes && a.ld.cold.n_leaves == b.ld.cold.n_leaves);
        REQUIRE(ml_trees_memory_size(&ma->h, a.ld.cold.n_nodes, a.ld.cold.n_leaves)
            == a.memory_size);

        // The one-call loader gives the same model in a block of exactly that size, and refuses
        // a smaller one.
        void *block = malloc(a.memory_size);
        ml_trees_t mc;
        ml_trees_cold_t cc;
        ml_error_t err;
        REQUIRE(block != NULL);
        REQUIRE(ml_trees_load_text(&mc, &cc, (const char *)data, size, block, a.memory_size, &err)
            == ML_OK);
        REQUIRE(memcmp(&mc.h, &ma->h, sizeof(mc.h)) == 0 && mc.cold == &cc);
        REQUIRE(cc.n_nodes == a.ld.cold.n_nodes && cc.n_leaves == a.ld.cold.n_leaves);
        REQUIRE(memcmp(block, a.memory, a.memory_size) == 0);
        REQUIRE(ml_trees_load_text(&mc, &cc, (const char *)data, size, block, a.memory_size - 8,
            &err) == ML_E_SIZE);
        free(block);

        predict_all(ma, data, size);
    }
    free(a.memory);
    free(b.memory);
    a.memory = b.memory = NULL;
    return 0;
}
