// Tree model loader and predictor (core/ml_trees.c): hand-written models in both formats fed in
// chunks of every size, exact decisions (float64 thresholds against float32 and int16 features,
// signed zeros, NaN and infinities), the class and link functions, and every error of the loader
// with its code, file line and message.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ml_trees.h"

// ---------------------------------------------------------------------------------------------
// Loading

typedef struct {
    ml_trees_loader_t ld;
    ml_error_t err;
    void *memory;
    size_t memory_size;
} loaded_t;

#define MEMORY_LIMIT ((size_t)1 << 24)

static int provide_memory(loaded_t *L) {
    size_t size = ml_trees_loader_memory_size(&L->ld);
    CHECK(size > 0 && size % 8 == 0 && size <= MEMORY_LIMIT, "memory size %lu", (unsigned long)size);
    CHECK(L->memory == NULL, "memory asked for twice");
    if (size == 0 || size > MEMORY_LIMIT || L->memory) {
        return -1;
    }
    L->memory = malloc(size);  // exactly the size asked for, so ASan and valgrind see overruns
    L->memory_size = size;
    ml_trees_loader_set_memory(&L->ld, L->memory);
    return ML_OK;
}

// Feeds len bytes in chunks of `chunk` bytes (0: all in one call), providing memory when asked
// and reading the text again when the loader asks to (emlearn CSV). Returns the final status.
static int load_chunked(loaded_t *L, const char *text, size_t len, size_t chunk) {
    memset(L, 0, sizeof(*L));
    ml_trees_loader_init(&L->ld);
    for (int pass = 0; pass < 2; pass++) {
        size_t pos = 0;
        while (pos < len) {
            size_t n = chunk && chunk < len - pos ? chunk : len - pos;
            size_t done = 0;
            while (done < n) {
                size_t used = 0;
                int r = ml_trees_loader_feed(&L->ld, text + pos + done, n - done, &used, &L->err);
                CHECK(used <= n - done, "consumed %lu of %lu", (unsigned long)used,
                    (unsigned long)(n - done));
                done += used;
                if (r == ML_TREES_NEED_MEMORY) {
                    if (provide_memory(L)) {
                        return -1;
                    }
                } else if (r != ML_OK) {
                    return r;
                }
            }
            pos += n;
        }
        int r = ml_trees_loader_finish(&L->ld, &L->err);
        if (r != ML_TREES_REWIND) {
            return r;
        }
        if (pass == 1 || provide_memory(L)) {
            return -1;  // a second rewind
        }
    }
    return -1;
}

static int load_text(loaded_t *L, const char *text, size_t chunk) {
    return load_chunked(L, text, strlen(text), chunk);
}

static void unload(loaded_t *L) {
    free(L->memory);
    L->memory = NULL;
}

static const ml_trees_t *model_of(const loaded_t *L) {
    return ml_trees_loader_model(&L->ld);
}

// Loads text that must be valid; on failure reports the loader's error at the caller's line.
#define LOAD_OK(L, text, chunk) do { \
        int r_ = load_text((L), (text), (chunk)); \
        CHECK(r_ == ML_OK, "load (chunk %lu): status %d, line %lu: %s", (unsigned long)(chunk), r_, \
            (unsigned long)(L)->err.line, (L)->err.msg); \
} while (0)

static int same_model(const loaded_t *a, const loaded_t *b) {
    const ml_trees_t *ma = model_of(a), *mb = model_of(b);
    return a->memory_size == b->memory_size
           && memcmp(&ma->h, &mb->h, sizeof(ma->h)) == 0
           && ma->feature_bytes == mb->feature_bytes && ma->child_bytes == mb->child_bytes
           && memcmp(a->memory, b->memory, a->memory_size) == 0;
}

// ---------------------------------------------------------------------------------------------
// Predicting

static int eval_f(const ml_trees_t *m, const float *x, size_t n) {
    ml_error_t err = { ML_OK, 0, "" };
    int r = ml_trees_eval_f32(m, x, n, &err);
    CHECK(r == ML_OK, "eval_f32: %d %s", r, err.msg);
    return r;
}

static int eval_h(const ml_trees_t *m, const int16_t *x, size_t n) {
    ml_error_t err = { ML_OK, 0, "" };
    int r = ml_trees_eval_i16(m, x, n, &err);
    CHECK(r == ML_OK, "eval_i16: %d %s", r, err.msg);
    return r;
}

// For models of 1 or 2 features (x1 is ignored by the former).
static int32_t label_f(const ml_trees_t *m, float x0, float x1) {
    const float x[2] = { x0, x1 };
    return eval_f(m, x, m->h.n_features) == ML_OK ? ml_trees_class_label(m) : -999;
}

static double value_f(const ml_trees_t *m, float x0, float x1) {
    const float x[2] = { x0, x1 };
    return eval_f(m, x, m->h.n_features) == ML_OK ? ml_trees_value(m) : -999.0;
}

static double value_h(const ml_trees_t *m, int16_t x0, int16_t x1) {
    const int16_t x[2] = { x0, x1 };
    return eval_h(m, x, m->h.n_features) == ML_OK ? ml_trees_value(m) : -999.0;
}

static float f32_from_bits(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof(f));
    return f;
}

// ---------------------------------------------------------------------------------------------
// Hand-written models

// A forest of 2 trees over 2 features, 3 classes with labels 10, 20, 30, and leaves shared
// between the trees:
//   tree 0: x0 <= 1.5 ? leaf 0 : leaf 1
//   tree 1: x1 <= -2.5 ? leaf 2 : (x0 <= 0 ? leaf 3 : leaf 0)
// leaves: 0 = (1, 0, 0), 1 = (0, 1, 0), 2 = (0, 0, 1), 3 = (0.5, 0.5, 0)
static const char forest_text[] =
    "microlearn-trees,1\n"
    "# a comment line, a blank line and CRLF line ends are allowed\n"
    "\n"
    "h,2,3,3,2,3,4,3,mean,none,10\r\n"
    "k,10,20,30\n"
    "t,0,0\n"
    "t,1,0\n"
    "n,0,0x1.8p+0,-1,-2\n"
    "n, 1 , -2.5 ,-3,2\n"
    "n,0,0,-4,-1\n"
    "l,1,0,0\n"
    "l,0,1,0\n"
    "l,0,0,1\n"
    "l,0x1p-1,0.5,0";

static void check_forest(const ml_trees_t *m) {
    CHECK(m->h.n_features == 2 && m->h.n_classes == 3 && m->h.n_trees == 2
        && m->cold->n_nodes == 3 && m->cold->n_leaves == 4, "forest header");
    CHECK(label_f(m, 1.0f, 0.0f) == 10, "forest (1, 0)");  // (1,0,0) and (1,0,0)
    float p[3];
    ml_trees_proba(m, p);
    CHECK(p[0] == 1.0f && p[1] == 0.0f && p[2] == 0.0f, "forest proba (1, 0)");
    // (0,1,0) and (0,0,1): a tie between classes 1 and 2 goes to the first, like numpy.argmax
    CHECK(label_f(m, 2.0f, -3.0f) == 20, "forest (2, -3)");
    CHECK(ml_trees_class_index(m) == 1, "forest (2, -3) index");
    CHECK(label_f(m, -1.0f, 5.0f) == 10, "forest (-1, 5)");  // (1,0,0) and (.5,.5,0)
    ml_trees_proba(m, p);
    CHECK(p[0] == 0.75f && p[1] == 0.25f && p[2] == 0.0f, "forest proba (-1, 5): %g %g %g",
        (double)p[0], (double)p[1], (double)p[2]);
    // On both thresholds: both go left. (1,0,0) and (0,0,1): a tie between 0 and 2.
    CHECK(label_f(m, 1.5f, -2.5f) == 10, "forest (1.5, -2.5)");
    // Just above each threshold goes right: (0,1,0) and (0,0,1); then (1,0,0) and (.5,.5,0).
    CHECK(label_f(m, nextafterf(1.5f, 2.0f), -3.0f) == 20, "forest above 1.5");
    CHECK(label_f(m, -1.0f, nextafterf(-2.5f, 0.0f)) == 10, "forest above -2.5");
    ml_trees_proba(m, p);
    CHECK(p[1] == 0.25f, "forest above -2.5: proba %g", (double)p[1]);
    const int16_t xi[2] = { 2, -3 };
    CHECK(eval_h(m, xi, 2) == ML_OK && ml_trees_class_label(m) == 20, "forest int16 (2, -3)");
}

// emlearn's tree CSV: 3 classes, majority-vote leaves (leaf bits 0), children as relative jumps;
// a node goes left when x < int(threshold).
//   tree 0 (root node 0): x0 < 5 ? (x1 < -3 ? class 1 : class 2) : class 0
//   tree 1 (root node 2): x1 < int(0.5) = 0 ? class 2 : class 0
static const char emlearn_text[] =
    "f,2\n"
    "c,3\n"
    "lb,0\n"
    "l,0\n"
    "l,1\n"
    "l,2\n"
    "r,0\n"
    "r,2\n"
    "n,0,5,1,-1\n"
    "n,1,-3,-2,-3\n"
    "n,1,0.5,-3,-1\n";

static void check_emlearn(const ml_trees_t *m) {
    CHECK(m->h.n_features == 2 && m->h.n_classes == 3 && m->h.n_trees == 2
        && m->cold->n_nodes == 3 && m->cold->n_leaves == 3 && m->h.aggregate == ML_TREES_MEAN,
        "emlearn header");
    CHECK(label_f(m, 4.0f, -4.0f) == 1, "emlearn (4, -4)");  // class 1 and 2: tie, first
    CHECK(label_f(m, 5.0f, 0.0f) == 0, "emlearn (5, 0)");
    CHECK(label_f(m, 0.0f, -3.0f) == 2, "emlearn (0, -3)");
    CHECK(label_f(m, 4.999f, 1.0f) == 0, "emlearn (4.999, 1)");  // class 2, class 0: tie
    float p[3];
    ml_trees_proba(m, p);
    CHECK(p[0] == 0.5f && p[1] == 0.0f && p[2] == 0.5f, "emlearn proba");
    const int16_t a[2] = { 4, -4 }, b[2] = { 5, -3 };
    CHECK(eval_h(m, a, 2) == ML_OK && ml_trees_class_index(m) == 1, "emlearn int16 (4, -4)");
    CHECK(eval_h(m, b, 2) == ML_OK && ml_trees_class_index(m) == 0, "emlearn int16 (5, -3)");
    // emlearn models take infinities (emlearn has no notion of rejecting them), not NaN.
    CHECK(label_f(m, -INFINITY, -INFINITY) == 1, "emlearn (-inf, -inf)");
    const float x_nan[2] = { 0.0f, NAN };
    ml_error_t err;
    CHECK(ml_trees_eval_f32(m, x_nan, 2, &err) == ML_E_INPUT, "emlearn NaN");
}

static const char emlearn_regressor_text[] =
    "f,1\nc,0\nlb,32\nl,1.5\nl,-2.25\nr,0\nn,0,100,-1,-2\n";

// Every chunk size from 1 to the length, and all at once: the same model, the same predictions.
static void test_chunks(const char *name, const char *text, void (*check)(const ml_trees_t *)) {
    loaded_t whole, part;
    LOAD_OK(&whole, text, 0);
    size_t len = strlen(text);
    for (size_t chunk = 1; chunk <= len; chunk++) {
        int r = load_text(&part, text, chunk);
        CHECK(r == ML_OK, "%s: chunk %lu: status %d line %lu: %s", name, (unsigned long)chunk, r,
            (unsigned long)part.err.line, part.err.msg);
        if (r == ML_OK) {
            CHECK(same_model(&whole, &part), "%s: chunk %lu: a different model", name,
                (unsigned long)chunk);
            if (chunk == 1) {
                check(model_of(&part));
            }
        }
        unload(&part);
    }
    check(model_of(&whole));  // after the comparisons: predicting writes the workspace
    // Predictions of the one-chunk and the byte-by-byte model agree on a grid of inputs.
    LOAD_OK(&part, text, 1);
    const ml_trees_t *a = model_of(&whole), *b = model_of(&part);
    uint32_t n = a->h.n_features;
    float x[2];
    int16_t xi[2];
    for (int i = -8; i <= 8; i++) {
        for (int j = -8; j <= 8; j++) {
            x[0] = (float)i * 0.75f, x[1] = n > 1 ? (float)j * 0.75f : 0.0f;
            xi[0] = (int16_t)(i * 2), xi[1] = (int16_t)(n > 1 ? j * 2 : 0);
            if (eval_f(a, x, n) || eval_f(b, x, n)) {
                continue;
            }
            CHECK(memcmp(a->acc, b->acc, a->h.n_outputs * sizeof(double)) == 0, "%s: acc differ",
                name);
            if (eval_h(a, xi, n) || eval_h(b, xi, n)) {
                continue;
            }
            CHECK(memcmp(a->acc, b->acc, a->h.n_outputs * sizeof(double)) == 0, "%s: acc differ",
                name);
        }
    }
    unload(&part);
    unload(&whole);
}

static void check_emlearn_regressor(const ml_trees_t *m) {
    CHECK(m->h.n_classes == 0 && m->h.n_outputs == 1, "emlearn regressor header");
    const float a[1] = { 99.0f }, b[1] = { 100.0f }, c[1] = { 99.99f };
    CHECK(eval_f(m, a, 1) == ML_OK && ml_trees_value(m) == 1.5, "emlearn regressor 99");
    CHECK(eval_f(m, b, 1) == ML_OK && ml_trees_value(m) == -2.25, "emlearn regressor 100");
    CHECK(eval_f(m, c, 1) == ML_OK && ml_trees_value(m) == 1.5, "emlearn regressor 99.99");
}

// ---------------------------------------------------------------------------------------------
// Exact decisions. A stump: one node on feature `feature` of 2 with threshold `t`; left is leaf
// value 1, right leaf value 2 (a regressor, so ml_trees_value tells the side).

static char stump_buf[512];

static const char *stump(unsigned feature, const char *t, unsigned flags, int missing_left) {
    char nan_field[4] = "";
    if (flags & ML_TREES_ACCEPT_NAN) {
        snprintf(nan_field, sizeof(nan_field), ",%d", missing_left);
    }
    snprintf(stump_buf, sizeof(stump_buf),
        "microlearn-trees,1\nh,2,0,1,1,1,2,1,mean,none,%u\nt,0,0\nn,%u,%s,-1,-2%s\nl,1\nl,2\n",
        flags, feature, t, nan_field);
    return stump_buf;
}

// 1 left, 2 right, 0 on error.
static int side_f(const ml_trees_t *m, float x) {
    const float xs[2] = { x, x };
    ml_error_t err;
    if (ml_trees_eval_f32(m, xs, 2, &err) != ML_OK) {
        return 0;
    }
    return (int)ml_trees_value(m);
}

static int side_h(const ml_trees_t *m, int16_t x) {
    return (int)value_h(m, x, x);
}

static void test_exact_thresholds(void) {
    loaded_t L;
    const ml_trees_t *m;
    const float one_up = nextafterf(1.0f, 2.0f);

    // 1 + 2^-30 lies between the float32 values 1 and 1 + 2^-23: scikit-learn compares the float32
    // x, as a double, with the double threshold. 1 <= t, 1 + 2^-23 > t.
    LOAD_OK(&L, stump(0, "0x1.00000004p+0", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, 1.0f) == 1 && side_f(m, one_up) == 2, "t = 1 + 2^-30");
    unload(&L);
    LOAD_OK(&L, stump(0, "-0x1.00000004p+0", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, -1.0f) == 2 && side_f(m, -one_up) == 1, "t = -(1 + 2^-30)");
    unload(&L);
    // The same written in decimal: 1.000000001 (between 1 and 1 + 2^-23 too).
    LOAD_OK(&L, stump(0, "1.000000001", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, 1.0f) == 1 && side_f(m, one_up) == 2, "t = 1.000000001");
    unload(&L);
    // The double 0.1 is below float32 0.1f (0.100000001490116...): 0.1f goes right.
    LOAD_OK(&L, stump(0, "0.1", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, 0.1f) == 2 && side_f(m, nextafterf(0.1f, 0.0f)) == 1, "t = 0.1");
    unload(&L);
    // A threshold that is a float32: equal goes left.
    LOAD_OK(&L, stump(0, "0x1.8p+0", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, 1.5f) == 1 && side_f(m, nextafterf(1.5f, 2.0f)) == 2, "t = 1.5");
    unload(&L);
    // Between the two smallest subnormal floats.
    LOAD_OK(&L, stump(0, "0x1.8p-149", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, f32_from_bits(1)) == 1 && side_f(m, f32_from_bits(2)) == 2, "t = 1.5 * 2^-149");
    unload(&L);
    // Beyond the float range: everything finite on one side.
    LOAD_OK(&L, stump(0, "1e300", ML_TREES_ACCEPT_INF, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, 3.4028235e38f) == 1 && side_f(m, INFINITY) == 2 && side_f(m, -INFINITY) == 1,
        "t = 1e300");
    unload(&L);
    LOAD_OK(&L, stump(0, "-1e300", ML_TREES_ACCEPT_INF, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, -3.4028235e38f) == 2 && side_f(m, -INFINITY) == 1, "t = -1e300");
    unload(&L);
    LOAD_OK(&L, stump(0, "inf", ML_TREES_ACCEPT_INF, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, INFINITY) == 1 && side_f(m, 3.4028235e38f) == 1, "t = inf");
    unload(&L);
    LOAD_OK(&L, stump(0, "-inf", ML_TREES_ACCEPT_INF, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, -INFINITY) == 1 && side_f(m, -3.4028235e38f) == 2, "t = -inf");
    unload(&L);

    // A field of ML_FIELD_MAX characters is read whole (64 are an error, see bad_models).
    char t63[ML_FIELD_MAX + 1];
    memset(t63, '0', ML_FIELD_MAX);
    t63[1] = '.';
    t63[2] = '5';
    t63[ML_FIELD_MAX - 1] = '1';
    t63[ML_FIELD_MAX] = '\0';
    LOAD_OK(&L, stump(0, t63, 0, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, 0.5f) == 1 && side_f(m, nextafterf(0.5f, 1.0f)) == 2, "63 characters");
    unload(&L);

    // int16 features against a fractional threshold.
    LOAD_OK(&L, stump(0, "5.5", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_h(m, 5) == 1 && side_h(m, 6) == 2 && side_h(m, -32768) == 1 && side_h(m, 32767) == 2,
        "int16, t = 5.5");
    unload(&L);
    LOAD_OK(&L, stump(0, "-0.5", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_h(m, -1) == 1 && side_h(m, 0) == 2, "int16, t = -0.5");
    unload(&L);
    LOAD_OK(&L, stump(0, "32767", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_h(m, 32767) == 1, "int16, t = 32767");
    unload(&L);

    // Signed zeros: -0.0 <= t and 0.0 <= t alike, for every spelling of a zero threshold.
    static const char *const zeros[] = { "0", "-0", "0x0p+0", "-0x0p+0", "0.0e5", "-0.000" };
    for (size_t i = 0; i < sizeof(zeros) / sizeof(zeros[0]); i++) {
        LOAD_OK(&L, stump(0, zeros[i], 0, 0), 0);
        m = model_of(&L);
        CHECK(side_f(m, -0.0f) == 1 && side_f(m, 0.0f) == 1 && side_f(m, f32_from_bits(1)) == 2
            && side_f(m, f32_from_bits(0x80000001u)) == 1 && side_h(m, 0) == 1,
            "t = %s", zeros[i]);
        unload(&L);
    }
    // A tiny negative threshold: both zeros are above it, the largest negative float below.
    LOAD_OK(&L, stump(0, "-1e-300", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, -0.0f) == 2 && side_f(m, 0.0f) == 2 && side_f(m, f32_from_bits(0x80000001u)) == 1,
        "t = -1e-300");
    unload(&L);
    LOAD_OK(&L, stump(0, "1e-300", 0, 0), 0);
    m = model_of(&L);
    CHECK(side_f(m, -0.0f) == 1 && side_f(m, 0.0f) == 1 && side_f(m, f32_from_bits(1)) == 2,
        "t = 1e-300");
    unload(&L);
}

static void test_nan_inf(void) {
    loaded_t L;
    const ml_trees_t *m;
    ml_error_t err;
    const float qnan = NAN, nnan = f32_from_bits(0xffc00001u), snan = f32_from_bits(0x7f800001u);

    // Without flag 1 NaN is rejected, naming the feature.
    LOAD_OK(&L, stump(1, "0.5", 0, 0), 0);
    m = model_of(&L);
    const float x1[2] = { 0.0f, qnan };
    CHECK(ml_trees_eval_f32(m, x1, 2, &err) == ML_E_INPUT && err.code == ML_E_INPUT
        && strstr(err.msg, "x[1]") && strstr(err.msg, "NaN"), "NaN rejected: %s", err.msg);
    const float x0[2] = { snan, 0.0f };  // also a NaN on a feature no node uses
    CHECK(ml_trees_eval_f32(m, x0, 2, &err) == ML_E_INPUT && strstr(err.msg, "x[0]"),
        "signalling NaN rejected: %s", err.msg);
    // And infinities without flag 2.
    const float xi[2] = { 0.0f, -INFINITY };
    CHECK(ml_trees_eval_f32(m, xi, 2, &err) == ML_E_INPUT && strstr(err.msg, "x[1]")
        && strstr(err.msg, "-inf"), "-inf rejected: %s", err.msg);
    const float xp[2] = { INFINITY, 0.0f };
    CHECK(ml_trees_eval_f32(m, xp, 2, &err) == ML_E_INPUT && strstr(err.msg, "x[0]")
        && strstr(err.msg, "+inf"), "+inf rejected: %s", err.msg);
    unload(&L);

    // With flag 2 infinities compare like any value.
    LOAD_OK(&L, stump(1, "0.5", ML_TREES_ACCEPT_INF, 0), 0);
    m = model_of(&L);
    CHECK(value_f(m, 0.0f, INFINITY) == 2.0 && value_f(m, 0.0f, -INFINITY) == 1.0, "inf accepted");
    CHECK(ml_trees_eval_f32(m, x1, 2, &err) == ML_E_INPUT, "NaN still rejected with flag 2");
    unload(&L);

    // With flag 1 NaN goes to the node's missing-value side, whatever its sign or payload.
    const float nans[3] = { qnan, nnan, snan };
    for (int missing_left = 0; missing_left <= 1; missing_left++) {
        LOAD_OK(&L, stump(1, "0.5", ML_TREES_ACCEPT_NAN, missing_left), 0);
        m = model_of(&L);
        for (int k = 0; k < 3; k++) {
            CHECK(value_f(m, 0.0f, nans[k]) == (missing_left ? 1.0 : 2.0),
                "NaN %d, missing_left %d", k, missing_left);
            CHECK(value_f(m, nans[k], 1.0f) == 2.0 && value_f(m, nans[k], 0.0f) == 1.0,
                "NaN %d on an unused feature", k);
        }
        CHECK(ml_trees_eval_f32(m, xi, 2, &err) == ML_E_INPUT, "inf rejected with flag 1 only");
        unload(&L);
    }

    // A deeper model: NaN routing per node. Node 0 (x0 <= 0) sends NaN right, node 1 (x1 <= 0)
    // sends it left; leaves 1, 2, 3.
    static const char two_nodes[] =
        "microlearn-trees,1\nh,2,0,1,1,2,3,1,mean,none,3\nt,0,0\n"
        "n,0,0,-1,1,0\nn,1,0,-2,-3,1\nl,1\nl,2\nl,3\n";
    LOAD_OK(&L, two_nodes, 0);
    m = model_of(&L);
    CHECK(value_f(m, qnan, 1.0f) == 3.0, "NaN right at node 0, x1 right");
    CHECK(value_f(m, qnan, qnan) == 2.0, "NaN right at node 0, left at node 1");
    CHECK(value_f(m, -1.0f, qnan) == 1.0, "x0 left");
    CHECK(value_f(m, INFINITY, -INFINITY) == 2.0, "infinities");
    unload(&L);
}

// Classifier outputs: labels, sigmoid with and without flag 4, softmax ties.
static void test_classes(void) {
    loaded_t L;
    const ml_trees_t *m;
    char text[512];

    // A forest picks the first largest of the means, as scikit-learn does: class 1's sum is one
    // ulp above class 0's, but both divided by 3 trees round to the same mean, so class 0.
    LOAD_OK(&L, "microlearn-trees,1\nh,1,2,2,3,0,3,2,mean,none,0\nt,-1,0\nt,-2,0\nt,-3,0\n"
        "l,0x1.808314p+0,0x1.808314p+0\nl,0,0x1p-52\nl,0,0\n", 0);
    m = model_of(&L);
    CHECK(label_f(m, 0.0f, 0.0f) == 0, "near-tie of the means goes to the first class");
    CHECK(m->acc[1] > m->acc[0] && m->acc[1] / 3.0 == m->acc[0] / 3.0, "the case is a near-tie");
    unload(&L);

    // Without flag 8 the labels are the class indices; with it, the listed ones (any int32).
    LOAD_OK(&L, "microlearn-trees,1\nh,1,3,3,1,1,2,3,mean,none,0\nt,0,0\nn,0,0,-1,-2\n"
        "l,0,0,1\nl,0,1,0\n", 0);
    m = model_of(&L);
    CHECK(label_f(m, 0.0f, 0.0f) == 2 && label_f(m, 1.0f, 0.0f) == 1, "default labels");
    unload(&L);
    LOAD_OK(&L, "microlearn-trees,1\nh,1,3,3,1,1,2,3,mean,none,8\nk,-2147483648,7,2147483647\n"
        "t,0,0\nn,0,0,-1,-2\nl,0,0,1\nl,1,0,0\n", 0);
    m = model_of(&L);
    CHECK(label_f(m, 0.0f, 0.0f) == 2147483647 && label_f(m, 1.0f, 0.0f) == INT32_MIN, "labels");
    unload(&L);

    // Sigmoid: score = baseline + leaf. Leaf 0 makes it exactly 0, leaf 1 the smallest positive
    // double above it, leaf 2 negative.
    for (unsigned flags = 0; flags <= ML_TREES_BINARY_GE; flags += ML_TREES_BINARY_GE) {
        snprintf(text, sizeof(text),
            "microlearn-trees,1\nh,1,2,1,1,2,3,1,sum,sigmoid,%u\nk,-1,1\nb,0x1p-1\nt,0,0\n"
            "n,0,0,-1,1\nn,0,1,-2,-3\nl,-0x1p-1\nl,-0x1.fffffep-2\nl,-1\n",
            flags | ML_TREES_HAS_LABELS);
        LOAD_OK(&L, text, 0);
        m = model_of(&L);
        const int ge = flags != 0;
        const float x[3][1] = { { 0.0f }, { 1.0f }, { 2.0f } };
        CHECK(eval_f(m, x[0], 1) == ML_OK && ml_trees_value(m) == 0.0, "sigmoid score 0");
        CHECK(ml_trees_class_index(m) == (ge ? 1u : 0u) && ml_trees_class_label(m) == (ge ? 1 : -1),
            "score 0 with flags %u: class %lu", flags, (unsigned long)ml_trees_class_index(m));
        float p[2];
        ml_trees_proba(m, p);
        CHECK(p[0] == 0.5f && p[1] == 0.5f, "sigmoid(0)");
        CHECK(eval_f(m, x[1], 1) == ML_OK && ml_trees_value(m) > 0.0
            && ml_trees_class_index(m) == 1, "score > 0 with flags %u", flags);
        CHECK(eval_f(m, x[2], 1) == ML_OK && ml_trees_class_index(m) == 0, "score < 0");
        ml_trees_proba(m, p);
        CHECK(fabsf(p[1] - 0.37754067f) < 1e-6f && fabsf(p[0] + p[1] - 1.0f) < 1e-6f,
            "sigmoid(-0.5) = %g", (double)p[1]);
        unload(&L);
    }

    // Softmax with one tree per class (leaf width 1): the scores are the baseline plus the leaf
    // of each class's tree. Ties go to the first class.
    LOAD_OK(&L, "microlearn-trees,1\nh,1,3,3,3,3,3,1,sum,softmax,0\nb,0,0,0\n"
        "t,0,0\nt,1,1\nt,2,2\n"
        "n,0,0,-1,-1\nn,0,0,-2,-1\nn,0,0,-2,-3\n"
        "l,0\nl,1\nl,2\n", 0);
    m = model_of(&L);
    // x <= 0: scores (0, 1, 1): classes 1 and 2 tie
    CHECK(label_f(m, 0.0f, 0.0f) == 1, "softmax tie 1-2");
    float p[3];
    ml_trees_proba(m, p);
    CHECK(p[1] == p[2] && p[1] > p[0] && fabsf(p[0] + p[1] + p[2] - 1.0f) < 1e-6f, "softmax proba");
    // x > 0: scores (0, 0, 2)
    CHECK(label_f(m, 1.0f, 0.0f) == 2, "softmax class 2");
    unload(&L);
    LOAD_OK(&L, "microlearn-trees,1\nh,1,3,3,1,0,1,3,sum,softmax,0\nb,0x1p+0,1,1.0\nt,-1,0\n"
        "l,0.25,0.25,0.25\n", 0);
    m = model_of(&L);
    CHECK(label_f(m, 0.0f, 0.0f) == 0, "softmax all equal: first class");
    ml_trees_proba(m, p);
    CHECK(p[0] == p[1] && p[1] == p[2] && fabsf(p[0] - 1.0f / 3.0f) < 1e-6f, "softmax equal proba");
    unload(&L);

    // Regressors: mean over trees, and baseline + sum.
    LOAD_OK(&L, "microlearn-trees,1\nh,1,0,1,2,1,3,1,mean,none,0\nt,0,0\nt,-3,0\n"
        "n,0,0,-1,-2\nl,1\nl,2\nl,4\n", 0);
    m = model_of(&L);
    CHECK(value_f(m, 0.0f, 0.0f) == 2.5 && value_f(m, 1.0f, 0.0f) == 3.0, "mean regressor");
    unload(&L);
    LOAD_OK(&L, "microlearn-trees,1\nh,1,0,1,2,1,3,1,sum,none,0\nb,-0x1p-2\nt,0,0\nt,-3,0\n"
        "n,0,0,-1,-2\nl,1\nl,2\nl,4\n", 0);
    m = model_of(&L);
    CHECK(value_f(m, 0.0f, 0.0f) == 4.75 && value_f(m, 1.0f, 0.0f) == 5.75, "sum regressor");
    unload(&L);
}

// ---------------------------------------------------------------------------------------------
// Errors

typedef struct {
    const char *name;
    const char *text;
    int code;
    uint32_t line;
    const char *keyword;  // the message must mention it
} bad_t;

#define M "microlearn-trees,1\n"
// A valid regressor: 1 feature, 1 tree, 1 node, 2 leaves (lines 2 to 6).
#define H "h,1,0,1,1,1,2,1,mean,none,0\n"
#define BODY "t,0,0\nn,0,0.5,-1,-2\nl,1\nl,2\n"

static const bad_t bad_models[] = {
    // empty, or nothing but a header
    { "empty", "", ML_E_TRUNCATED, 0, "empty" },
    { "only comments", "# a model\n\n   \n#\n", ML_E_TRUNCATED, 0, "empty" },
    { "only the first line", M, ML_E_TRUNCATED, 1, "no header" },
    { "only a header", M H, ML_E_TRUNCATED, 2, "expected 1 trees" },
    { "header without newline", M "h,1,0,1,1,1,2,1,mean,none,0", ML_E_TRUNCATED, 2,
      "ends after the header" },
    // truncated
    { "cut in a node", M H "t,0,0\nn,0,0.5,-1", ML_E_FORMAT, 4, "expected 5 fields, got 4" },
    { "cut in a number", M H "t,0,0\nn,0,0.5,-1,-2\nl,1\nl,0x1.8p", ML_E_FORMAT, 6, "0x1.8p" },
    { "cut in the header", M "h,1,0,1", ML_E_FORMAT, 2, "expected 11 fields, got 4" },
    { "cut in the first line", "microlearn-tr", ML_E_FORMAT, 1, "not a tree model file" },
    { "cut after a leaf", M H "t,0,0\nn,0,0.5,-1,-2\nl,1\n", ML_E_TRUNCATED, 5,
      "expected 2 leaves" },
    // not numbers
    { "n_features text", M "h,one,0,1,1,1,2,1,mean,none,0\n", ML_E_FORMAT, 2, "n_features" },
    { "threshold text", M H "t,0,0\nn,0,half,-1,-2\n", ML_E_FORMAT, 4, "threshold" },
    { "threshold two points", M H "t,0,0\nn,0,0.5.1,-1,-2\n", ML_E_FORMAT, 4, "'0.5.1'" },
    { "child not an integer", M H "t,0,0\nn,0,0.5,-1.0,-2\n", ML_E_FORMAT, 4, "left child" },
    { "leaf text", M H "t,0,0\nn,0,0.5,-1,-2\nl,x\n", ML_E_FORMAT, 5, "leaf value" },
    { "leaf empty", M H "t,0,0\nn,0,0.5,-1,-2\nl,\n", ML_E_FORMAT, 5, "leaf value" },
    { "flags in hex", M "h,1,0,1,1,1,2,1,mean,none,0x1\n", ML_E_FORMAT, 2, "flags" },
    { "root text", M H "t,zero,0\n", ML_E_FORMAT, 3, "tree root" },
    { "label text", M "h,1,2,2,1,0,1,2,mean,none,8\nk,0,one\n", ML_E_FORMAT, 3, "label" },
    { "feature over int32", M H "t,0,0\nn,4294967296,0.5,-1,-2\n", ML_E_FORMAT, 4,
      "node feature" },
    { "child over int32", M H "t,0,0\nn,0,0.5,-1,4294967297\n", ML_E_FORMAT, 4, "right child" },
    { "NUL in a number", M H "t,0,0\nn,0,0.5,-1,-2\nl,1\nl,2\0" "5\n", ML_E_FORMAT, 6, "2?5" },
    // fields per record
    { "header too long", M "h,1,0,1,1,1,2,1,mean,none,0,0\n", ML_E_FORMAT, 2, "got more" },
    { "first line too long", "microlearn-trees,1,0\n", ML_E_FORMAT, 1, "first line" },
    { "first line too short", "microlearn-trees\n" H, ML_E_FORMAT, 1, "expected 2 fields" },
    { "node too long", M H "t,0,0\nn,0,0.5,-1,-2,1\n", ML_E_FORMAT, 4, "node: expected 5" },
    { "node too short", M H "t,0,0\nn,0,0.5\n", ML_E_FORMAT, 4, "expected 5 fields, got 3" },
    { "node with NaN flag short", M "h,1,0,1,1,1,2,1,mean,none,1\nt,0,0\nn,0,0.5,-1,-2\n",
      ML_E_FORMAT, 4, "expected 6 fields, got 5" },
    { "leaf too long", M H "t,0,0\nn,0,0.5,-1,-2\nl,1,2\n", ML_E_FORMAT, 5, "leaf: expected 1" },
    { "leaf too short", M "h,1,2,2,1,1,2,2,mean,none,0\nt,0,0\nn,0,0.5,-1,-2\nl,1\n",
      ML_E_FORMAT, 5, "leaf line: expected 3 fields, got 2" },
    { "tree too long", M H "t,0,0,0\n", ML_E_FORMAT, 3, "tree: expected 2" },
    { "tree too short", M H "t,0\n", ML_E_FORMAT, 3, "tree line: expected 3 fields, got 2" },
    { "labels too many", M "h,1,2,2,1,0,1,2,mean,none,8\nk,0,1,2\n", ML_E_FORMAT, 3,
      "labels: expected 2" },
    { "labels too few", M "h,1,2,2,1,0,1,2,mean,none,8\nk,0\n", ML_E_FORMAT, 3,
      "labels line: expected 3 fields, got 2" },
    { "baseline too many", M "h,1,0,1,1,0,1,1,sum,none,0\nb,0,0\n", ML_E_FORMAT, 3,
      "baseline: expected 1" },
    { "baseline too few", M "h,1,2,2,1,0,1,2,sum,softmax,0\nb,0\n", ML_E_FORMAT, 3,
      "baseline line: expected 3 fields, got 2" },
    // counts against the header
    { "fewer trees", M "h,1,0,1,2,1,2,1,mean,none,0\n" BODY, ML_E_TRUNCATED, 6,
      "expected 2 trees" },
    { "more trees", M H "t,0,0\nt,-1,0\n", ML_E_VALUE, 4, "one tree line more" },
    { "fewer nodes", M "h,1,0,1,1,2,2,1,mean,none,0\n" BODY, ML_E_TRUNCATED, 6,
      "expected 2 nodes" },
    { "more nodes", M H "t,0,0\nn,0,0.5,-1,-2\nn,0,0.5,-1,-2\n", ML_E_VALUE, 5,
      "one node line more" },
    { "fewer leaves", M "h,1,0,1,1,1,3,1,mean,none,0\n" BODY, ML_E_TRUNCATED, 6,
      "expected 3 leaves" },
    { "more leaves", M H BODY "l,3\n", ML_E_VALUE, 7, "one leaf line more" },
    { "no baseline", M "h,1,0,1,1,1,2,1,sum,none,0\n" BODY, ML_E_TRUNCATED, 6,
      "baseline lines" },
    { "baseline twice", M "h,1,0,1,1,0,1,1,sum,none,0\nb,0\nb,1\n", ML_E_VALUE, 4,
      "one baseline line more" },
    { "baseline for a forest", M H "b,0\n", ML_E_VALUE, 3, "one baseline line more" },
    { "no labels", M "h,1,2,2,1,0,1,2,mean,none,8\nt,-1,0\nl,1,0\n", ML_E_TRUNCATED, 4,
      "label lines" },
    { "labels without flag", M "h,1,2,2,1,0,1,2,mean,none,0\nk,0,1\n", ML_E_VALUE, 3,
      "one labels line more" },
    { "second header", M H H, ML_E_FORMAT, 3, "second header" },
    { "node before header", M "n,0,0.5,-1,-2\n" H, ML_E_FORMAT, 2, "before the header" },
    // references
    { "feature out of range", M H "t,0,0\nn,1,0.5,-1,-2\n", ML_E_VALUE, 4, "expected 0 to 0, got 1" },
    { "feature negative", M H "t,0,0\nn,-1,0.5,-1,-2\n", ML_E_VALUE, 4, "node feature" },
    { "child to itself", M H "t,0,0\nn,0,0.5,0,-2\n", ML_E_VALUE, 4, "refers back" },
    { "child backwards", M "h,1,0,1,1,2,2,1,mean,none,0\nt,0,0\nn,0,0.5,1,-1\nn,0,1,-1,0\n",
      ML_E_VALUE, 5, "refers back to node 0" },
    { "child beyond n_nodes", M H "t,0,0\nn,0,0.5,-1,1\n", ML_E_VALUE, 4, "node 1 does not exist" },
    { "leaf beyond n_leaves", M H "t,0,0\nn,0,0.5,-1,-3\n", ML_E_VALUE, 4, "leaf 2 does not exist" },
    { "leaf INT32_MIN", M H "t,0,0\nn,0,0.5,-2147483648,-2\n", ML_E_VALUE, 4,
      "leaf 2147483647 does not exist" },
    { "root beyond nodes", M H "t,1,0\n", ML_E_VALUE, 3, "tree root" },
    { "root beyond leaves", M H "t,-3,0\n", ML_E_VALUE, 3, "tree root" },
    { "tree output", M H "t,0,1\n", ML_E_VALUE, 3, "tree output" },
    { "missing_left 2", M "h,1,0,1,1,1,2,1,mean,none,1\nt,0,0\nn,0,0.5,-1,-2,2\n", ML_E_VALUE, 4,
      "missing_left" },
    // sizes and header values
    { "n_nodes 2e9", M "h,1,0,1,1,2000000000,2,1,mean,none,0\n", ML_E_VALUE, 2, "2 GiB" },
    { "leaf table 2e9 x 65535", M "h,1,65535,65535,1,0,2000000000,65535,mean,none,0\n", ML_E_VALUE,
      2, "2 GiB" },
    { "n_nodes over int32", M "h,1,0,1,1,2147483648,2,1,mean,none,0\n", ML_E_FORMAT, 2, "n_nodes" },
    { "n_trees 0", M "h,1,0,1,0,1,2,1,mean,none,0\n", ML_E_VALUE, 2, "n_trees: expected 1" },
    { "n_features 0", M "h,0,0,1,1,1,2,1,mean,none,0\n", ML_E_VALUE, 2, "n_features" },
    { "n_features 65537", M "h,65537,0,1,1,1,2,1,mean,none,0\n", ML_E_VALUE, 2, "n_features" },
    { "n_leaves 0", M "h,1,0,1,1,1,0,1,mean,none,0\n", ML_E_VALUE, 2, "n_leaves" },
    { "flags 16", M "h,1,0,1,1,1,2,1,mean,none,16\n", ML_E_VALUE, 2, "flags: expected 0 to 15" },
    { "aggregate", M "h,1,0,1,1,1,2,1,avg,none,0\n", ML_E_VALUE, 2, "'mean' or 'sum'" },
    { "link", M "h,1,0,1,1,1,2,1,sum,tanh,0\n", ML_E_VALUE, 2, "'softmax'" },
    { "mean with sigmoid", M "h,1,2,1,1,1,2,1,mean,sigmoid,0\n", ML_E_VALUE, 2, "link 'none'" },
    { "mean leaf width", M "h,1,2,2,1,1,2,1,mean,none,0\n", ML_E_VALUE, 2, "leaf_width" },
    { "sum leaf width", M "h,1,3,3,1,1,2,2,sum,softmax,0\n", ML_E_VALUE, 2, "leaf_width" },
    { "regressor 2 outputs", M "h,1,0,2,1,1,2,2,mean,none,0\n", ML_E_VALUE, 2, "regressor" },
    { "sigmoid 3 classes", M "h,1,3,1,1,1,2,1,sum,sigmoid,0\n", ML_E_VALUE, 2, "sigmoid" },
    { "classifier outputs", M "h,1,3,2,1,1,2,2,mean,none,0\n", ML_E_VALUE, 2, "n_outputs" },
    { "boosted classifier link", M "h,1,2,2,1,1,2,1,sum,none,0\n", ML_E_VALUE, 2, "boosted" },
    { "labels for a regressor", M "h,1,0,1,1,1,2,1,mean,none,8\n", ML_E_VALUE, 2, "regressor" },
    // values
    { "leaf NaN", M H "t,0,0\nn,0,0.5,-1,-2\nl,nan\n", ML_E_VALUE, 5, "NaN" },
    { "leaf inf", M H "t,0,0\nn,0,0.5,-1,-2\nl,-inf\n", ML_E_VALUE, 5, "finite" },
    { "leaf over float32", M H "t,0,0\nn,0,0.5,-1,-2\nl,1e39\n", ML_E_VALUE, 5, "finite" },
    { "threshold NaN", M H "t,0,0\nn,0,NaN,-1,-2\n", ML_E_VALUE, 4, "NaN" },
    { "baseline inf", M "h,1,0,1,1,0,1,1,sum,none,0\nb,inf\n", ML_E_VALUE, 3, "finite" },
    { "baseline NaN", M "h,1,0,1,1,0,1,1,sum,none,0\nb,-nan\n", ML_E_VALUE, 3, "NaN" },
    // what the file is
    { "unknown record", M H "t,0,0\nx,1\n", ML_E_FORMAT, 4, "unknown record type 'x'" },
    { "empty record type", M H ",1\n", ML_E_FORMAT, 3, "unknown record type ''" },
    { "wrong magic", "microlearn-tree,1\n" H BODY, ML_E_FORMAT, 1, "not a tree model file" },
    { "binary", "\x7f" "ELF\x02\x01", ML_E_FORMAT, 1, "not a tree model file" },
    { "wrong version", "microlearn-trees,2\n" H BODY, ML_E_VALUE, 1, "version 2" },
    { "version text", "microlearn-trees,v1\n", ML_E_FORMAT, 1, "format version" },
    { "field of 64 characters", M H "t,0,0\n"
      "n,0,0.500000000000000000000000000000000000000000000000000000000000001,-1,-2\n",
      ML_E_FORMAT, 4, "longer than 63" },
    // emlearn tree CSV
    { "emlearn jump 0", "f,1\nc,2\nlb,0\nl,0\nl,1\nr,0\nn,0,1,0,-2\n", ML_E_VALUE, 7, "refers back" },
    { "emlearn jump too far", "f,1\nc,2\nlb,0\nl,0\nl,1\nr,0\nn,0,1,1,-2\n", ML_E_VALUE, 7,
      "does not exist" },
    { "emlearn leaf too far", "f,1\nc,2\nlb,0\nl,0\nl,1\nr,0\nn,0,1,-3,-2\n", ML_E_VALUE, 7,
      "leaf 2 does not exist" },
    { "emlearn leaf bits 8", "f,1\nc,2\nlb,8\n", ML_E_VALUE, 3, "leaf bits 8" },
    { "emlearn leaf bits 33", "f,1\nc,2\nlb,33\n", ML_E_VALUE, 3, "leaf bits" },
    { "emlearn leaf class", "f,1\nc,2\nlb,0\nl,2\nr,-1\n", ML_E_VALUE, 4, "leaf class" },
    { "emlearn regressor bits 0", "f,1\nc,0\nlb,0\nl,2\nr,-1\n", ML_E_VALUE, 5, "leaf bits 32" },
    { "emlearn 1 class", "f,1\nc,1\nl,0\nr,-1\n", ML_E_VALUE, 4, "at least 2 classes" },
    { "emlearn classifier bits 32", "f,1\nc,2\nlb,32\nl,0.5\nr,-1\n", ML_E_VALUE, 5, "leaf bits 0" },
    { "emlearn node first", "c,2\nn,0,1,-1,-1\nf,1\n", ML_E_FORMAT, 2, "must come before" },
    { "emlearn no c", "f,1\nlb,0\n", ML_E_TRUNCATED, 2, "no 'f' or 'c'" },
    { "emlearn no leaves", "f,1\nc,2\nr,0\nn,0,1,-1,-1\n", ML_E_TRUNCATED, 4, "no leaves" },
    { "emlearn no trees", "f,1\nc,2\nl,0\n", ML_E_TRUNCATED, 3, "no trees" },
    { "emlearn root too long", "f,1\nc,2\nl,0\nr,-1,0\n", ML_E_FORMAT, 4, "after 'r'" },
    { "emlearn lb too long", "f,1\nc,2\nlb,0,0\n", ML_E_FORMAT, 3, "after 'lb'" },
    { "emlearn node too short", "f,1\nc,2\nl,0\nr,0\nn,0,1,-1\n", ML_E_FORMAT, 5,
      "expected 5 fields, got 4" },
    { "emlearn leaf too long", "f,1\nc,2\nl,0,1\nr,-1\n", ML_E_FORMAT, 3, "leaf: expected 1" },
    { "emlearn feature", "f,1\nc,2\nl,0\nr,0\nn,1,1,-1,-1\n", ML_E_VALUE, 5, "node feature" },
    { "emlearn threshold NaN", "f,1\nc,2\nl,0\nr,0\nn,0,nan,-1,-1\n", ML_E_VALUE, 5, "NaN" },
    { "emlearn n_features 0", "f,0\n", ML_E_VALUE, 1, "n_features" },
    { "emlearn root", "f,1\nc,2\nl,0\nr,1\n", ML_E_VALUE, 4, "tree root" },
};

static void test_errors(void) {
    static const size_t chunks[] = { 0, 1, 2, 3, 7, 64 };
    for (size_t i = 0; i < sizeof(bad_models) / sizeof(bad_models[0]); i++) {
        const bad_t *b = &bad_models[i];
        // Texts with a NUL byte: the length is that of the literal.
        size_t len = strlen(b->text);
        if (strcmp(b->name, "NUL in a number") == 0) {
            len += 1 + strlen(b->text + len + 1);
        }
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            loaded_t L;
            int r = load_chunked(&L, b->text, len, chunks[c]);
            CHECK(r == b->code && (int)L.err.code == b->code && L.err.line == b->line
                && L.err.msg[0] != '\0' && strstr(L.err.msg, b->keyword) != NULL,
                "%s (chunk %lu): want status %d line %lu '%s', got %d line %lu: %s", b->name,
                (unsigned long)chunks[c], b->code, (unsigned long)b->line, b->keyword, r,
                (unsigned long)L.err.line, L.err.msg);
            unload(&L);
        }
    }
}

static void test_sizes(void) {
    // The formula of docs/model-format.md (and TreesModel.memory_size) for the small regressor:
    // 2 * 8 (baseline, acc) + 8 (thresholds) + 8 (leaves) + 0 (labels)
    // + 2 * 8 (roots, outputs) + 8 (features) + 2 * 8 (children) = 72.
    ml_trees_header_t h = { .n_features = 1, .n_classes = 0, .n_outputs = 1, .n_trees = 1,
        .leaf_width = 1, .aggregate = ML_TREES_MEAN, .link = ML_TREES_LINK_NONE, .flags = 0 };
    CHECK(ml_trees_memory_size(&h, 1, 2) == 72, "memory size %lu",
        (unsigned long)ml_trees_memory_size(&h, 1, 2));
    loaded_t L;
    LOAD_OK(&L, M H BODY, 0);
    CHECK(L.memory_size == 72, "loaded memory size %lu", (unsigned long)L.memory_size);
    unload(&L);
    h.flags = ML_TREES_ACCEPT_NAN;
    CHECK(ml_trees_memory_size(&h, 1, 2) == 80, "with missing_left bits");
    // Absurd sizes: 0, never a wrapped-around small number.
    CHECK(ml_trees_memory_size(&h, 2000000000u, 2) == 0, "n_nodes 2e9");
    h.leaf_width = 0xffffu;
    CHECK(ml_trees_memory_size(&h, 1, 0xffffffffu) == 0, "leaf table 2^48");
    ml_trees_header_t big = { .n_features = 0xffffffffu, .n_classes = 0xffffu,
        .n_outputs = 0xffffu, .n_trees = 0xffffffffu, .leaf_width = 0xffffu, .flags = 0xff };
    CHECK(ml_trees_memory_size(&big, 0xffffffffu, 0xffffffffu) == 0, "all sizes at their maximum");
    // Just under the limit is a size, just over is 0: n_nodes thresholds take 4 bytes each.
    ml_trees_header_t edge = { .n_features = 1, .n_outputs = 1, .n_trees = 1, .leaf_width = 1 };
    size_t s = ml_trees_memory_size(&edge, 0, 0x1fffffffu - 16);  // leaves near 2 GiB
    CHECK(s > 0 && s <= 0x7fffffffu, "near 2 GiB: %lu", (unsigned long)s);
    CHECK(ml_trees_memory_size(&edge, 0, 0x20000000u) == 0, "2 GiB of leaves");
    // Wide models use 2-byte features and wider child references.
    static char wide[4096];
    size_t n = (size_t)snprintf(wide, sizeof(wide),
        "microlearn-trees,1\nh,300,0,1,1,1,300,1,mean,none,1\nt,0,0\nn,299,0,-1,-300,0\n");
    for (int i = 1; i <= 300; i++) {
        n += (size_t)snprintf(wide + n, sizeof(wide) - n, "l,%d\n", i);
    }
    CHECK(n < sizeof(wide), "wide model text");
    LOAD_OK(&L, wide, 0);
    const ml_trees_t *m = model_of(&L);
    CHECK(m->feature_bytes == 2 && m->child_bytes == 2, "widths %d %d", m->feature_bytes,
        m->child_bytes);
    static float x[300];
    x[299] = 1.0f;
    CHECK(eval_f(m, x, 300) == ML_OK && ml_trees_value(m) == 300.0, "wide model, right");
    x[299] = -1.0f;
    CHECK(eval_f(m, x, 300) == ML_OK && ml_trees_value(m) == 1.0, "wide model, left");
    x[299] = NAN;
    CHECK(eval_f(m, x, 300) == ML_OK && ml_trees_value(m) == 300.0, "wide model, NaN right");
    unload(&L);
}

// Models too big for the fuzzer's inputs: 4-byte child references (over 65536 nodes and leaves),
// and an emlearn file whose counted size is over 2 GiB (65535 classes, 8193 one-hot leaves).
static void test_big(void) {
    const size_t n_leaves = 65536;
    size_t cap = 128 + n_leaves * 12;
    char *text = malloc(cap);
    size_t n = (size_t)snprintf(text, cap, "microlearn-trees,1\nh,1,0,1,1,1,%lu,1,mean,none,1\n"
        "t,0,0\nn,0,0,-65535,-65536,1\n", (unsigned long)n_leaves);
    for (size_t i = 0; i < n_leaves; i++) {
        n += (size_t)snprintf(text + n, cap - n, "l,%lu\n", (unsigned long)i);
    }
    loaded_t L;
    LOAD_OK(&L, text, 4096);
    const ml_trees_t *m = model_of(&L);
    CHECK(m->child_bytes == 4 && m->feature_bytes == 1, "child bytes %d", m->child_bytes);
    CHECK(value_f(m, 0.0f, 0.0f) == 65534.0 && value_f(m, 1.0f, 0.0f) == 65535.0
        && value_f(m, NAN, 0.0f) == 65534.0, "4-byte children");
    unload(&L);

    n = (size_t)snprintf(text, cap, "f,1\nc,65535\nlb,0\nr,-1\n");
    for (size_t i = 0; i < 8193; i++) {
        n += (size_t)snprintf(text + n, cap - n, "l,0\n");
    }
    int r = load_text(&L, text, 0);
    CHECK(r == ML_E_VALUE && L.err.line == 8197 && strstr(L.err.msg, "2 GiB"),
        "emlearn over 2 GiB: %d line %lu %s", r, (unsigned long)L.err.line, L.err.msg);
    unload(&L);
    free(text);
}

// The one-call loader for a model file held in memory, both formats.
static void test_load_text(void) {
    static uint64_t block[64];  // 512 bytes, 8-byte aligned
    ml_trees_t m;
    ml_trees_cold_t cold;
    ml_error_t err;
    loaded_t L;
    const char *const texts[2] = { forest_text, emlearn_text };
    void (*const checks[2])(const ml_trees_t *) = { check_forest, check_emlearn };
    for (int k = 0; k < 2; k++) {
        LOAD_OK(&L, texts[k], 0);
        size_t need = L.memory_size;
        CHECK(need <= sizeof(block), "block too small for the test: %lu", (unsigned long)need);
        memset(block, 0xa5, sizeof(block));
        int r = ml_trees_load_text(&m, &cold, texts[k], strlen(texts[k]), block, need, &err);
        CHECK(r == ML_OK, "load_text %d: %d %s", k, r, err.msg);
        if (r == ML_OK) {
            const ml_trees_cold_t *lc = model_of(&L)->cold;
            CHECK(memcmp(block, L.memory, need) == 0 && memcmp(&m.h, &model_of(&L)->h,
                sizeof(m.h)) == 0 && m.cold == &cold && cold.n_nodes == lc->n_nodes
                && cold.n_leaves == lc->n_leaves, "load_text %d: the same model", k);
            checks[k](&m);
        }
        r = ml_trees_load_text(&m, &cold, texts[k], strlen(texts[k]), block, need - 8, &err);
        CHECK(r == ML_E_SIZE && strstr(err.msg, "bytes of memory"), "load_text %d, small: %d %s", k,
            r, err.msg);
        unload(&L);
    }
    int r = ml_trees_load_text(&m, &cold, M H "t,0,0\nx\n", strlen(M H "t,0,0\nx\n"), block,
        sizeof(block), &err);
    CHECK(r == ML_E_FORMAT && err.line == 4, "load_text error: %d line %lu", r,
        (unsigned long)err.line);
}

// Calls out of order and wrong input lengths.
static void test_state(void) {
    ml_error_t err;
    ml_trees_t empty;
    memset(&empty, 0, sizeof(empty));
    const float x[2] = { 0.0f, 0.0f };
    const int16_t xi[2] = { 0, 0 };
    CHECK(ml_trees_eval_f32(&empty, x, 2, &err) == ML_E_STATE && strstr(err.msg, "not loaded"),
        "eval before load");
    CHECK(ml_trees_eval_i16(&empty, xi, 2, &err) == ML_E_STATE, "eval_i16 before load");

    loaded_t L;
    LOAD_OK(&L, M H BODY, 0);
    const ml_trees_t *m = model_of(&L);
    CHECK(ml_trees_eval_f32(m, x, 2, &err) == ML_E_SIZE && strstr(err.msg, "2 values")
        && strstr(err.msg, "1 features"), "wrong length: %s", err.msg);
    CHECK(ml_trees_eval_i16(m, xi, 0, &err) == ML_E_SIZE, "wrong length int16");
    // The model is usable as a copy, with a copy of its cold part (the bindings keep both by
    // value).
    ml_trees_t copy = *m;
    ml_trees_cold_t cold_copy = *m->cold;
    copy.cold = &cold_copy;
    const float one[1] = { 0.75f };
    CHECK(eval_f(&copy, one, 1) == ML_OK && ml_trees_value(&copy) == 2.0, "copied model");
    unload(&L);

    // Feeding on after NEED_MEMORY without giving memory.
    ml_trees_loader_t ld;
    ml_trees_loader_init(&ld);
    const char *text = M H BODY;
    size_t used;
    int r = ml_trees_loader_feed(&ld, text, strlen(text), &used, &err);
    CHECK(r == ML_TREES_NEED_MEMORY && used == strlen(M H), "need memory after the header");
    r = ml_trees_loader_feed(&ld, text + used, strlen(text) - used, &used, &err);
    CHECK(r == ML_E_STATE && err.line == 3 && strstr(err.msg, "memory"), "no memory: %d %s", r,
        err.msg);

    // An emlearn file that changes between the two passes.
    static const char pass1[] = "f,1\nc,2\nlb,0\nl,0\nl,1\nr,0\nn,0,1,-1,-2\n";
    static const char pass2[] = "f,1\nc,2\nlb,0\nl,0\nl,1\nr,0\nn,0,1,-1,-2\nn,0,1,-1,-2\n";
    static const char pass2f[] = "f,2\nc,2\n";
    static const char pass2short[] = "f,1\nc,2\nlb,0\nl,0\nl,1\nr,0\n";
    const char *const second[3] = { pass2, pass2f, pass2short };
    const uint32_t where[3] = { 8, 1, 6 };
    for (int k = 0; k < 3; k++) {
        ml_trees_loader_init(&ld);
        r = ml_trees_loader_feed(&ld, pass1, strlen(pass1), &used, &err);
        CHECK(r == ML_OK, "pass 1");
        r = ml_trees_loader_finish(&ld, &err);
        CHECK(r == ML_TREES_REWIND, "rewind");
        void *mem = malloc(ml_trees_loader_memory_size(&ld));
        ml_trees_loader_set_memory(&ld, mem);
        r = ml_trees_loader_feed(&ld, second[k], strlen(second[k]), &used, &err);
        if (r == ML_OK) {
            r = ml_trees_loader_finish(&ld, &err);  // fewer records: noticed at the end
        }
        CHECK(r == ML_E_STATE && err.line == where[k] && strstr(err.msg, "changed"),
            "changed file %d: %d line %lu %s", k, r, (unsigned long)err.line, err.msg);
        free(mem);
    }
}

// Inputs the fuzzers found (each was a bug, fixed in the core).
static void test_regressions(void) {
    loaded_t L;
    // emlearn: an 'lb' line that changed the leaf bits between the two passes made the second pass
    // read the regressor's leaf "1000000" as a class index and write 1.0f far past the leaf
    // table. The bits are now those at the end of the counting pass, as the class count.
    LOAD_OK(&L, "f,1\nc,0\nlb,0\nl,1000000\nlb,32\nr,-1\n", 1);
    const float x[1] = { 0.0f };
    CHECK(eval_f(model_of(&L), x, 1) == ML_OK && ml_trees_value(model_of(&L)) == 1e6,
        "lb changed: a regressor");
    unload(&L);
    CHECK(load_text(&L, "f,1\nc,2\nlb,32\nl,1\nlb,0\nl,1\nr,-1\n", 3) == ML_OK,
        "lb changed: a classifier: %s", L.err.msg);
    const ml_trees_t *lm = model_of(&L);
    CHECK(lm->h.n_classes == 2 && ml_trees_value_at(lm, 0) == 0.0 && ml_trees_value_at(lm, 1) == 1.0
        && ml_trees_value_at(lm, 2) == 0.0 && ml_trees_value_at(lm, 3) == 1.0,
        "lb changed: both leaves are class 1");
    unload(&L);
    // emlearn: records of other types are ignored whatever their length (emlearn does too).
    LOAD_OK(&L, "f,1\nc,2\nv,1,2,3\nlb,0\nl,1\nx\nr,-1\n", 0);
    CHECK(model_of(&L)->h.n_trees == 1, "emlearn: other records");
    unload(&L);

    // Integers past 2^32 wrapped around ("4294967296" read as 0).
    int32_t v = 12345;
    CHECK(ml_parse_int("4294967296", &v) == -1 && ml_parse_int("5678921234567", &v) == -1
        && ml_parse_int("42949672950", &v) == -1 && v == 12345, "integers past 2^32");
    CHECK(ml_parse_int("2147483647", &v) == 0 && v == INT32_MAX, "INT32_MAX");
    CHECK(ml_parse_int("-2147483648", &v) == 0 && v == INT32_MIN, "INT32_MIN");
    CHECK(ml_parse_int("2147483648", &v) == -1 && ml_parse_int("-2147483649", &v) == -1,
        "just past int32");
    CHECK(ml_parse_int("-0000000000000000000000000000007", &v) == 0 && v == -7, "leading zeros");

    // Hexadecimal floats rounding into the subnormal range were rounded twice (to 53 bits, then
    // to the subnormal's precision). Each of these lies just off a halfway point.
    static const struct { const char *s; uint64_t bits; } hex[] = {
        { "0x1.17fffffffffffffp-1070", 0x11 },        // below half: down (was rounded up)
        { "0x1.18p-1070", 0x12 },                     // exactly half, odd: up to even
        { "0x1.08p-1070", 0x10 },                     // exactly half, even: stays
        { "0x1.0800000000000001p-1070", 0x11 },       // just above half: up
        { "0x1.ffffffffffffd8p-1023", 0xfffffffffffffull },
        { "0x0.8000000000000cp-1022", 0x8000000000001ull },
        { "0x1p-1074", 1 },
        { "0x1p-1075", 0 },                           // half of the smallest: to even, 0
        { "0x1.0000000001p-1075", 1 },
        { "0x1.fffffffffffff8p-1023", 0x0010000000000000ull },  // rounds up to the smallest normal
        { "0x1.fffffffffffffp+1023", 0x7fefffffffffffffull },
        { "0x1.fffffffffffff8p+1023", 0x7ff0000000000000ull },  // rounds to inf
    };
    for (size_t i = 0; i < sizeof(hex) / sizeof(hex[0]); i++) {
        double d = -1.0;
        uint64_t b = 0;
        int r = ml_parse_double(hex[i].s, &d);
        memcpy(&b, &d, sizeof(b));
        CHECK(r == 0 && b == hex[i].bits, "%s: %d, bits %lx", hex[i].s, r, (unsigned long)b);
    }
}

// The loader stops at the first error, without reading on: a stream with no end (or a 1 MB
// garbage file) is refused after a few bytes, not at its end.
static void test_stops_early(void) {
    ml_error_t err;
    static const struct { const char *what, *prefix, *unit, *msg; size_t most; } cases[] = {
        { "garbage without separators", "", "xxxxxxxxxxxxxxxx", "longer than 63", 64 },
        { "a value that never ends", "microlearn-trees,1\nh,", "1111111111111111",
          "longer than 63", 64 + 21 },
        { "blank lines forever", "microlearn-trees,1\n", "\n\n\n\n  \n\n\n\n",
          "without a record", ML_TREES_MAX_IDLE + 64 },
        { "a comment forever", "# ", "comment comment ", "without a record",
          ML_TREES_MAX_IDLE + 2 },
        { "emlearn unknown records forever", "f,1\nc,2\n", "zz,1,2,3\n",
          "unknown records", 9 * (ML_TREES_MAX_OTHER + 1) + 8 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ml_trees_loader_t ld;
        ml_trees_loader_init(&ld);
        size_t used = 0;
        int r = ml_trees_loader_feed(&ld, cases[i].prefix, strlen(cases[i].prefix), &used, &err);
        CHECK(r == ML_OK, "%s: prefix: %s", cases[i].what, err.msg);
        size_t total = used;
        for (size_t k = 0; k < 100000 && r == ML_OK; k++) {
            r = ml_trees_loader_feed(&ld, cases[i].unit, strlen(cases[i].unit), &used, &err);
            total += used;
        }
        CHECK(r != ML_OK && strstr(err.msg, cases[i].msg) != NULL && total <= cases[i].most,
            "%s: stopped after %lu bytes (at most %lu): %s", cases[i].what,
            (unsigned long)total, (unsigned long)cases[i].most, err.msg);
    }
}

int main(void) {
    test_chunks("forest", forest_text, check_forest);
    test_chunks("emlearn", emlearn_text, check_emlearn);
    test_chunks("emlearn regressor", emlearn_regressor_text, check_emlearn_regressor);
    test_exact_thresholds();
    test_nan_inf();
    test_classes();
    test_errors();
    test_sizes();
    test_big();
    test_load_text();
    test_state();
    test_regressions();
    test_stops_early();
    return check_summary("test_trees");
}
