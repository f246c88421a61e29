// The binary tree model (ml_trees_open): the converter's binary files of tests/fuzz/corpus/
// trees_bin give exactly the sums of the text files of the same models (corpus/trees), on float32
// and int16 samples; a damaged model is refused with a message saying what is wrong (every
// truncation, a model edited field by field with its checksum fixed); the model is used where it
// lies and only the workspace is written.
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ml_trees.h"

#define BIN_DIR "tests/fuzz/corpus/trees_bin/"
#define TEXT_DIR "tests/fuzz/corpus/trees/"

static uint8_t *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(buf, 1, (size_t)len, f);
    fclose(f);
    return buf;
}

// The binary seed model `name` of the fuzz corpus (a failed check when it is missing).
static uint8_t *read_bin(const char *name, size_t *n) {
    char path[256];
    snprintf(path, sizeof(path), BIN_DIR "%s.bin", name);
    uint8_t *b = read_file(path, n);
    CHECK(b != NULL, "%s missing", path);
    return b;
}

static void fix_crc(uint8_t *b, size_t n) {
    uint32_t crc = ml_crc32(0, b + 16, n - 16);
    memcpy(b + 12, &crc, 4);
}

typedef struct {
    ml_trees_t m;
    ml_trees_cold_t cold;
    void *ws;
} bin_model_t;

static ml_status_t open_bin(bin_model_t *bm, const uint8_t *data, size_t n, ml_error_t *err) {
    ml_status_t r = ml_trees_open(&bm->m, &bm->cold, data, n, err);
    if (r == ML_OK) {
        bm->ws = malloc(ml_trees_workspace_size(&bm->m.h));
        ml_trees_set_workspace(&bm->m, bm->ws);
    } else {
        bm->ws = NULL;
    }
    return r;
}

// Forests compared without their cold part (missing-value sides alone).
static int n_bare;

// The text and binary forms of one converter model give the same sums, bit for bit.
static void compare_forms(const char *name) {
    char path[256];
    size_t nb, nt;
    snprintf(path, sizeof(path), BIN_DIR "%s.bin", name);
    uint8_t *bin = read_file(path, &nb);
    snprintf(path, sizeof(path), TEXT_DIR "%s.csv", name);
    uint8_t *text = read_file(path, &nt);
    CHECK(bin && text, "%s: seed files missing", name);
    if (!bin || !text) {
        free(bin);
        free(text);
        return;
    }
    ml_error_t err;
    bin_model_t bm;
    CHECK(open_bin(&bm, bin, nb, &err) == ML_OK, "%s: open: %s", name, err.msg);
    static uint64_t memory[1 << 16];
    ml_trees_t tm;
    ml_trees_cold_t tcold;
    CHECK(ml_trees_load_text(&tm, &tcold, (const char *)text, nt, memory, sizeof(memory), &err) == ML_OK,
        "%s: text: %s", name, err.msg);
    const uint32_t nf = tm.h.n_features;
    CHECK(bm.m.h.n_features == nf && bm.m.h.n_outputs == tm.h.n_outputs
        && bm.m.h.n_trees == tm.h.n_trees, "%s: shapes differ", name);
    // The cold part: kept only when the model has any of its arrays; the counts in it, and
    // read again from the data.
    const ml_trees_cold_t *c = &bm.cold;
    CHECK(bm.m.cold == (bm.m.node_layout == ML_TREES_NODES_ARRAYS || c->labels || c->baseline
        || c->missing_left ? c : NULL) && !c->tree_root && !c->left == (bm.m.node_layout
        == ML_TREES_NODES_RECORDS), "%s: cold part %p", name, (const void *)bm.m.cold);
    ml_trees_cold_t again;
    memset(&again, 0xa5, sizeof(again));
    ml_trees_blob_cold(bin, &again);
    CHECK(memcmp(&again, c, sizeof(again)) == 0 && c->n_nodes == bm.m.tree_node[bm.m.h.n_trees],
        "%s: cold part read again: %lu nodes %lu leaves", name, (unsigned long)again.n_nodes,
        (unsigned long)again.n_leaves);
    if (bm.ws && bm.m.node_layout == ML_TREES_NODES_RECORDS && c->missing_left && !c->labels
        && !c->baseline && bm.m.h.n_features <= 64) {
        // Without its cold part (as the binding keeps such a forest), a sample without NaN
        // predicts the same; one with NaN is refused, and predicts with the part read again.
        ml_trees_t bare = bm.m;
        bare.cold = NULL;
        float x[64] = { 0.0f };
        CHECK(ml_trees_eval_f32(&bare, x, bm.m.h.n_features, &err) == ML_OK, "%s: no cold", name);
        double s0 = ml_trees_sum(&bare, 0);
        CHECK(ml_trees_eval_f32(&bm.m, x, bm.m.h.n_features, &err) == ML_OK
            && ml_trees_sum(&bm.m, 0) == s0, "%s: the same sums without the cold part", name);
        x[0] = NAN;
        CHECK(ml_trees_eval_f32(&bare, x, bm.m.h.n_features, &err) == ML_E_STATE
            && strstr(err.msg, "x[0] is NaN"), "%s: NaN without the cold part: %s", name, err.msg);
        bare.cold = &again;
        CHECK(ml_trees_eval_f32(&bare, x, bm.m.h.n_features, &err) == ML_OK, "%s: NaN: %s", name,
            err.msg);
        s0 = ml_trees_sum(&bare, 0);
        CHECK(ml_trees_eval_f32(&bm.m, x, bm.m.h.n_features, &err) == ML_OK
            && ml_trees_sum(&bm.m, 0) == s0, "%s: NaN, the same sums", name);
        n_bare++;
    }
    uint64_t seed = 12345;
    int mismatches = 0;
    for (int s = 0; s < 400 && bm.ws; s++) {
        float x[64];
        int16_t xh[64];
        for (uint32_t i = 0; i < nf && i < 64; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r = (uint32_t)(seed >> 33);
            // around the thresholds of the seed models (normal data, labels, integers)
            x[i] = s % 4 == 0 ? (float)((int32_t)(r % 801) - 400)
                : (float)((int32_t)(r % 20001) - 10000) / 4000.0f;
            if (s % 17 == 3 && (tm.h.flags & ML_TREES_ACCEPT_NAN)) {
                x[i] = NAN;
            }
            xh[i] = (int16_t)((int32_t)(r % 801) - 400);
        }
        ml_status_t rb = ml_trees_eval_f32(&bm.m, x, nf, &err);
        ml_status_t rt = ml_trees_eval_f32(&tm, x, nf, &err);
        mismatches += rb != rt;
        for (uint32_t k = 0; rb == ML_OK && rt == ML_OK && k < tm.h.n_outputs; k++) {
            double a = ml_trees_sum(&bm.m, k), b = ml_trees_sum(&tm, k);
            mismatches += memcmp(&a, &b, sizeof(a)) != 0 && !(a == 0.0 && b == 0.0);
        }
        if (rb == ML_OK && tm.h.n_classes) {
            mismatches += ml_trees_class_index(&bm.m) != ml_trees_class_index(&tm);
        }
        rb = ml_trees_eval_i16(&bm.m, xh, nf, &err);
        rt = ml_trees_eval_i16(&tm, xh, nf, &err);
        mismatches += rb != ML_OK || rt != ML_OK;
        for (uint32_t k = 0; k < tm.h.n_outputs; k++) {
            double a = ml_trees_sum(&bm.m, k), b = ml_trees_sum(&tm, k);
            mismatches += memcmp(&a, &b, sizeof(a)) != 0 && !(a == 0.0 && b == 0.0);
        }
    }
    CHECK(mismatches == 0, "%s: %d differences between the text and binary forms", name,
        mismatches);
    free(bm.ws);
    free(bin);
    free(text);
}

// Every truncation is refused; every single-byte change either is refused with a message or
// gives a model that predicts without reading out of bounds (ASan, valgrind).
static void test_damage(const char *name) {
    size_t n;
    uint8_t *good = read_bin(name, &n);
    if (!good) {
        return;
    }
    ml_error_t err;
    bin_model_t bm;
    for (size_t len = 0; len < n; len += 1 + len / 16) {
        uint8_t *b = malloc(len ? len : 1);
        memcpy(b, good, len);
        CHECK(ml_trees_open(&bm.m, &bm.cold, b, len, &err) != ML_OK && err.msg[0], "%s: %lu bytes opened",
            name, (unsigned long)len);
        free(b);
    }
    int refused = 0, opened = 0;
    for (size_t i = 16; i < n; i++) {
        uint8_t *b = malloc(n);
        memcpy(b, good, n);
        b[i] ^= (uint8_t)(1u << (i % 8)) | 0x10;
        fix_crc(b, n);
        if (open_bin(&bm, b, n, &err) == ML_OK) {
            opened++;
            float x[512] = { 0 };
            int16_t xh[512] = { 0 };
            for (uint32_t k = 0; k < bm.m.h.n_features && k < 512; k++) {
                x[k] = (float)k - 3.5f;
                xh[k] = (int16_t)(k * 7 - 20);
            }
            if (bm.m.h.n_features <= 512) {
                (void)ml_trees_eval_f32(&bm.m, x, bm.m.h.n_features, &err);
                (void)ml_trees_eval_i16(&bm.m, xh, bm.m.h.n_features, &err);
            }
            free(bm.ws);
        } else {
            refused++;
            CHECK(err.msg[0] != 0, "%s byte %lu: refused without a message", name,
                (unsigned long)i);
        }
        free(b);
    }
    CHECK(refused > 0, "%s: no damage refused (%d opened)", name, opened);
    free(good);
}

// Evaluates models a and b on n_samples pseudo-random samples (float32 and int16) and counts
// where they differ: statuses, sums (bit for bit) and class indices; with class_i16, also
// ml_trees_predict_class_i16, and int16 samples only when both have int16 thresholds.
static int count_differences(bin_model_t *a, bin_model_t *b, int n_samples, uint64_t seed,
    int class_i16) {
    ml_error_t err;
    const uint32_t nf = a->m.h.n_features;
    int mismatches = 0;
    for (int s = 0; s < n_samples && a->ws && b->ws && nf <= 64; s++) {
        float x[64];
        int16_t xh[64];
        for (uint32_t i = 0; i < nf; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r = (uint32_t)(seed >> 33);
            x[i] = (float)((int32_t)(r % 20001) - 10000) / 4000.0f;
            xh[i] = (int16_t)((int32_t)(r % 801) - 400);
        }
        for (int form = 0; form < 2; form++) {
            if (class_i16 && form && !(a->m.threshold16 && b->m.threshold16)) {
                continue;
            }
            mismatches += (form ? ml_trees_eval_i16(&a->m, xh, nf, &err)
                : ml_trees_eval_f32(&a->m, x, nf, &err)) != ML_OK;
            mismatches += (form ? ml_trees_eval_i16(&b->m, xh, nf, &err)
                : ml_trees_eval_f32(&b->m, x, nf, &err)) != ML_OK;
            for (uint32_t k = 0; k < a->m.h.n_outputs; k++) {
                double va = ml_trees_sum(&a->m, k), vb = ml_trees_sum(&b->m, k);
                mismatches += memcmp(&va, &vb, sizeof(va)) != 0;
            }
            mismatches += ml_trees_class_index(&a->m) != ml_trees_class_index(&b->m);
            if (class_i16 && form) {
                mismatches += ml_trees_predict_class_i16(&a->m, xh)
                    != ml_trees_predict_class_i16(&b->m, xh);
            }
        }
    }
    return mismatches;
}

// Offset of section id in container b (0 when absent), and its size.
static uint32_t find_section(const uint8_t *b, const char *id, uint32_t *size) {
    for (uint32_t i = 0; i < ml_blob_u16(b + 18); i++) {
        if (memcmp(b + 24 + 12 * i, id, 4) == 0) {
            *size = ml_blob_u32(b + 24 + 12 * i + 8);
            return ml_blob_u32(b + 24 + 12 * i + 4);
        }
    }
    *size = 0;
    return 0;
}

// Values as uint32 units (fixed values 3): a converter model whose int32 units are all
// non-negative, relabelled as uint32 units, gives the same sums bit for bit, on float32 and
// int16 samples.
static void test_uint32_units(const char *name) {
    size_t n;
    uint8_t *good = read_bin(name, &n);
    if (!good) {
        return;
    }
    ml_error_t err;
    bin_model_t a, u;
    CHECK(open_bin(&a, good, n, &err) == ML_OK && a.m.value_fixed == 1, "%s: open: %s", name,
        err.msg);
    uint32_t head_size;
    const uint32_t head = find_section(good, "head", &head_size);
    uint8_t *b = malloc(n);
    memcpy(b, good, n);
    b[head + 43] = 3;  // fixed values
    fix_crc(b, n);
    CHECK(open_bin(&u, b, n, &err) == ML_OK && u.m.value_fixed == 3, "%s: uint32: %s", name,
        err.msg);
    int mismatches = count_differences(&a, &u, 300, 99, 0);
    ml_blob_t blob;
    const void *vp;
    uint32_t n_values = 0;
    CHECK(ml_blob_open(&blob, good, n, ML_BLOB_KIND_TREES, ML_TREES_BLOB_VERSION, &err) == ML_OK
        && ml_blob_section(&blob, ML_BLOB_ID('v', 'a', 'l', 'u'), 4, 0, 0xffffffffu, &vp,
            &n_values, &err) == ML_OK, "%s: values: %s", name, err.msg);
    for (uint32_t j = 0; j < n_values; j++) {
        mismatches += ml_trees_value_at(&a.m, j) != ml_trees_value_at(&u.m, j);
    }
    CHECK(mismatches == 0, "%s: %d differences between int32 and uint32 units", name,
        mismatches);
    free(a.ws);
    free(u.ws);
    free(b);
    free(good);
}

// ml_trees_predict_class_i16 gives the class of ml_trees_eval_i16 then ml_trees_class_index,
// through the forest loop, the single-tree shortcut (rf1_int_data) and the general path.
static void test_predict_class(const char *name, int expect_forest_r8) {
    size_t n;
    uint8_t *good = read_bin(name, &n);
    if (!good) {
        return;
    }
    ml_error_t err;
    bin_model_t bm;
    CHECK(open_bin(&bm, good, n, &err) == ML_OK, "%s: open: %s", name, err.msg);
    CHECK(!expect_forest_r8 || (bm.m.forest_r8 && bm.m.threshold16), "%s: not the usual forest",
        name);
    const uint32_t nf = bm.m.h.n_features;
    uint64_t seed = 7;
    int mismatches = 0, seen[16] = { 0 };
    for (int s = 0; s < 2000 && bm.ws && nf <= 64; s++) {
        int16_t xh[64];
        for (uint32_t i = 0; i < nf; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            xh[i] = (int16_t)((int32_t)((seed >> 33) % 501) - 250);
        }
        CHECK(ml_trees_eval_i16(&bm.m, xh, nf, &err) == ML_OK, "%s: eval: %s", name, err.msg);
        uint32_t k = ml_trees_class_index(&bm.m);
        mismatches += ml_trees_predict_class_i16(&bm.m, xh) != k;
        seen[k & 15] = 1;
    }
    CHECK(mismatches == 0, "%s: predict_class differs %d times", name, mismatches);
    CHECK(seen[0] + seen[1] + seen[2] + seen[3] >= 2, "%s: one class only", name);
    free(bm.ws);
    free(good);
}

// forest_r8 of a forest of spans whose class predict takes from 32-bit sums (1 + FOREST_SPAN32 in
// core/ml_trees.c): on 32-bit processors, and in the builds of these tests with
// -DML_TREES_SUMS32=1 (the Makefile's san-small-core; never on x64 otherwise).
#define FOREST_R8_SPAN32 6
#if defined(ML_TREES_SUMS32) && ML_TREES_SUMS32
#define SUMS32 1
#else
#define SUMS32 0
#endif

// The classes ml_trees_predict_class_i16 and _f32 find for `samples` pseudo-random samples (int16
// in -250..250; float32 the same values, or near them with `fractions`) of models a and b
// (index 0 and 1), against the full evaluation's: the number that differ, and per model how
// many calls left the model's sums other than the full evaluation's (changed) or the same.
static int compare_classes(const char *name, ml_trees_t *ab[2], uint64_t seed, int samples,
    int fractions, int changed[2], int same[2]) {
    const uint32_t nf = ab[0]->h.n_features, no = ab[0]->h.n_outputs;
    int mismatches = 0;
    ml_error_t err;
    for (int s = 0; s < samples && nf <= 64 && no <= 16; s++) {
        int16_t xh[64];
        float xf[64];
        for (uint32_t i = 0; i < nf; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            xh[i] = (int16_t)((int32_t)((seed >> 33) % 501) - 250);
            xf[i] = (float)xh[i]
                + (fractions ? (float)((seed >> 20) & 1023) / 1024.0f - 0.5f : 0.0f);
        }
        for (int form = 0; form < 4; form++) {
            const int which = form & 1, f32 = form >> 1;
            ml_trees_t *m = ab[which];
            int64_t sums[16];
            CHECK((f32 ? ml_trees_eval_f32(m, xf, nf, &err) : ml_trees_eval_i16(m, xh, nf, &err))
                == ML_OK, "%s: eval: %s", name, err.msg);
            memcpy(sums, m->acc, 8 * no);
            const uint32_t k = ml_trees_class_index(m);
            uint32_t kp = 99;
            if (f32) {
                CHECK(ml_trees_predict_class_f32(m, xf, nf, &kp, &err) == ML_OK,
                    "%s: predict_class_f32: %s", name, err.msg);
            } else {
                kp = ml_trees_predict_class_i16(m, xh);
            }
            mismatches += kp != k;
            const int kept = memcmp(sums, m->acc, 8 * no) == 0;
            changed[which] += !kept;
            same[which] += kept;
        }
    }
    return mismatches;
}

// A forest whose every leaf adds at most 1.0 stops predicting a class at a majority of its
// vote (ML_TREES_VOTE_EXIT), of an int16 or a float32 sample: the class is the full
// evaluation's, some samples stop early (their sums are those of the trees so far), and a model
// with a leaf adding more than 1.0 (spans and runs: value 0, its leaf's first, raised to 1.0)
// evaluates every tree. (A model whose class comes from 32-bit sums, which are not the model's
// sums, only compares classes here: test_sums32.)
static void test_vote_exit(const char *name, int expect) {
    size_t n;
    uint8_t *good = read_bin(name, &n);
    if (!good) {
        return;
    }
    ml_error_t err;
    bin_model_t a, b;
    CHECK(open_bin(&a, good, n, &err) == ML_OK && a.m.forest_r8 && a.m.threshold16
        && a.m.h.n_trees > 1, "%s: open (a forest of node records): %s", name, err.msg);
    CHECK(!(a.m.h.flags & ML_TREES_VOTE_EXIT) == !expect, "%s: vote exit %d, expected %d", name,
        a.m.h.flags & ML_TREES_VOTE_EXIT, expect);
    uint32_t n_valu;
    const uint32_t valu = find_section(good, "valu", &n_valu);
    uint8_t *raised = malloc(n);
    memcpy(raised, good, n);
    const uint32_t one = 1u << a.m.value_shift;
    memcpy(raised + valu, &one, 4);  // (int32 or uint32 units, both below 2^31)
    fix_crc(raised, n);
    // (a value of pairs is any leaf's: raised, it would come before its leaf's first)
    const int edit = a.m.leaf_kind != ML_TREES_LEAF_PAIRS;
    CHECK(a.m.value_fixed != 2 && a.m.value_shift < 31 && n_valu >= 8
        && open_bin(&b, edit ? raised : good, n, &err) == ML_OK
        && (b.m.h.flags & ML_TREES_VOTE_EXIT ? 0 : 1) == edit,
        "%s: value 0 raised to 1.0: open, without the vote exit: %s", name, err.msg);
    ml_trees_t *ab[2] = { &a.m, &b.m };
    int stopped[2] = { 0, 0 }, full[2] = { 0, 0 };
    int mismatches = a.ws && b.ws ? compare_classes(name, ab, 5, 2000, 0, stopped, full) : 1;
    mismatches += edit ? stopped[1] : 0;  // (the edit has no vote exit)
    const int early = stopped[0];
    CHECK(mismatches == 0, "%s: %d classes differ from the full evaluation's", name, mismatches);
    CHECK(a.m.forest_r8 == FOREST_R8_SPAN32 || (expect ? early > 0 && full[0] > 0 : early == 0),
        "%s: %d samples stopped early, %d did not", name, early, full[0]);
    free(a.ws);
    free(b.ws);
    free(raised);
    free(good);
}

// Entry e of a leaf list of 8 or 16 bits.
static uint32_t list_entry_at(const ml_trees_t *m, uint32_t e) {
    return m->list_bits == 8 ? ((const uint8_t *)m->leaf_list)[e]
        : ((const uint16_t *)m->leaf_list)[e];
}

// The class predict finds from 32-bit sums (forest_span32_*: each value's upper halfword, then
// approximate) is the full evaluation's: on the model, and on an edit whose every span holds one
// value, in increasing class order, so that many sums tie and the exact sums must decide. Some
// samples are decided by the 32-bit sums (the model's sums are then not the full evaluation's),
// some of the edit's by the exact ones.
static void test_sums32(const char *name) {
    size_t n;
    uint8_t *good = read_bin(name, &n);
    if (!good) {
        return;
    }
    ml_error_t err;
    bin_model_t a, b;
    CHECK(open_bin(&a, good, n, &err) == ML_OK && a.m.leaf_kind == ML_TREES_LEAF_SPANS
        && (a.m.forest_r8 == FOREST_R8_SPAN32) == SUMS32 && a.m.value_shift >= 16,
        "%s: open (spans of units of 2^-16 or finer, 32-bit sums %d): %s", name, SUMS32,
        err.msg);
    // the edit: every span in increasing class order (its first class is then its top), each
    // value one eighth of 1.0 plus one unit (which the 32-bit sums lose)
    uint32_t n_valu, n_entr;
    const uint32_t valu = find_section(good, "valu", &n_valu);
    const uint32_t entr = find_section(good, "entr", &n_entr);
    uint8_t *tied = malloc(n);
    memcpy(tied, good, n);
    const uint32_t n_lists = a.ws ? a.m.tree_list[a.m.h.n_trees] : 0;
    const uint32_t u = (1u << (a.m.value_shift - 3)) + 1;
    for (uint32_t l = 0; l < n_lists; l++) {
        const uint32_t first = list_entry_at(&a.m, l), end = list_entry_at(&a.m, l + 1);
        for (uint32_t i = first; i < end && end <= n_entr && 4 * end <= n_valu; i++) {
            for (uint32_t j = i + 1; j < end; j++) {
                if (tied[entr + j] < tied[entr + i]) {
                    const uint8_t t = tied[entr + i];
                    tied[entr + i] = tied[entr + j];
                    tied[entr + j] = t;
                }
            }
            memcpy(tied + valu + 4 * i, &u, 4);
        }
    }
    fix_crc(tied, n);
    CHECK(n_lists > 0 && open_bin(&b, tied, n, &err) == ML_OK
        && b.m.forest_r8 == a.m.forest_r8,
        "%s: every span one value: open (the same loop): %s", name, err.msg);
    ml_trees_t *ab[2] = { &a.m, &b.m };
    int by32[2] = { 0, 0 }, exact[2] = { 0, 0 };
    const int mismatches = a.ws && b.ws ? compare_classes(name, ab, 13, 3000, 1, by32, exact) : 1;
    CHECK(mismatches == 0, "%s: %d classes differ from the full evaluation's", name, mismatches);
    CHECK(!SUMS32 || (by32[0] > 0 && by32[1] > 0 && exact[1] > 0),
        "%s: decided by 32-bit sums %d and %d times, by exact ones %d and %d times (model, edit)",
        name, by32[0], by32[1], exact[0], exact[1]);
    free(a.ws);
    free(b.ws);
    free(tied);
    free(good);
}

// A NaN or an infinity at any position of a float32 sample (the check takes four features a
// step, then the rest one by one) is found, named by its index, and refused where the model does
// not accept it; the largest finite values and the smallest subnormals are not.
static void test_nonfinite_at_every_position(const char *name) {
    size_t n;
    uint8_t *good = read_bin(name, &n);
    if (!good) {
        return;
    }
    ml_error_t err;
    bin_model_t a;
    CHECK(open_bin(&a, good, n, &err) == ML_OK, "%s: open: %s", name, err.msg);
    const uint32_t nf = a.ws ? a.m.h.n_features : 0, flags = a.m.h.flags;
    float *x = calloc(nf + 1, sizeof(float));
    const float bad[3] = { NAN, INFINITY, -INFINITY };
    const char *what[3] = { "NaN", "+inf", "-inf" };
    const float fine[4] = { 3.4028235e38f, -3.4028235e38f, 1e-45f, -1e-45f };
    for (uint32_t p = 0; p < nf; p++) {
        for (int b = 0; b < 3; b++) {
            x[p] = bad[b];
            const int accepted = (flags & (b ? ML_TREES_ACCEPT_INF : ML_TREES_ACCEPT_NAN)) != 0;
            char expect[48];
            snprintf(expect, sizeof(expect), "x[%lu] is %s", (unsigned long)p, what[b]);
            uint32_t k = 0;
            const ml_status_t r = ml_trees_predict_class_f32(&a.m, x, nf, &k, &err);
            CHECK(accepted ? r == ML_OK : r == ML_E_INPUT && strstr(err.msg, expect) != NULL,
                "%s: %s at %lu of %lu: status %d: %s", name, what[b], (unsigned long)p,
                (unsigned long)nf, r, r ? err.msg : "");
            CHECK(accepted == (ml_trees_eval_f32(&a.m, x, nf, &err) == ML_OK),
                "%s: eval of %s at %lu", name, what[b], (unsigned long)p);
        }
        x[p] = fine[p % 4];
    }
    uint32_t k = 0;
    CHECK(nf == 0 || ml_trees_predict_class_f32(&a.m, x, nf, &k, &err) == ML_OK,
        "%s: the largest and the smallest finite values: %s", name, err.msg);
    free(x);
    free(a.ws);
    free(good);
}

// What the errors say, on edits of a small model.
static void test_messages(void) {
    size_t n;
    uint8_t *good = read_file(BIN_DIR "rf_classifier.bin", &n);
    if (!good) {
        CHECK(0, "rf_classifier.bin missing");
        return;
    }
    ml_error_t err;
    ml_trees_t m;
    ml_trees_cold_t cold;
    CHECK(ml_trees_open(&m, &cold, good, n, &err) == ML_OK, "open: %s", err.msg);
    uint8_t *b = malloc(n + 8);

    // Misaligned address: refused (the binding copies such a buffer first).
    memcpy(b + 1, good, n);
    CHECK(ml_trees_open(&m, &cold, b + 1, n, &err) != ML_OK && strstr(err.msg, "aligned"), "misaligned: %s",
        err.msg);
    // Not a container, another kind, a corrupted byte.
    memcpy(b, "hello, world", 12);
    CHECK(ml_trees_open(&m, &cold, b, 12, &err) != ML_OK && strstr(err.msg, "MLRN"), "magic: %s",
        err.msg);
    memcpy(b, good, n);
    b[6] = 2;
    CHECK(ml_trees_open(&m, &cold, b, n, &err) != ML_OK && strstr(err.msg, "nn model"), "kind: %s",
        err.msg);
    memcpy(b, good, n);
    b[n - 1] ^= 1;
    CHECK(ml_trees_open(&m, &cold, b, n, &err) != ML_OK && strstr(err.msg, "checksum"), "crc: %s",
        err.msg);

    // The head: find it through the section table, change a field, fix the checksum.
    uint32_t head_size;
    const uint32_t head = find_section(good, "head", &head_size);
    CHECK(head != 0, "no head section");
    // (every ranged field of the head once, out of its range: the message names that field)
    static const struct { uint32_t offset, value; const char *msg; } edits[] = {
        { 0, 0, "head: n_features: expected 1 to" },
        { 4, 65536, "head: n_classes: expected 0 to 65535" },
        { 8, 0, "head: n_outputs: expected 1 to" },
        { 12, 0, "head: n_trees: expected 1 to" },
        { 16, 0x80000000u, "head: n_nodes: expected 0 to" },
        { 20, 0x80000000u, "head: n_leaves: expected 0 to" },
        { 24, 0, "head: leaf_width: expected 1 to" },
        { 28, 0x1000000u, "head: record bits: expected 0 to" },
        { 36, 7, "head: aggregate: expected 0 to 1" },
        { 37, 3, "head: link: expected 0 to 2" },
        { 38, 99, "head: flags: expected 0 to 15" },
        { 39, 3, "head: feature bytes: expected 1 to 2" },
        { 40, 5, "head: child bytes: expected 1 to 4" },
        { 41, 3, "head: threshold index bytes: expected 0 to 2" },
        { 42, 5, "head: leaf kind: expected 0 to 4" },
        { 43, 4, "head: fixed values: expected 0 to 3" },
        { 45, 25, "head: list bits: expected 0 to 24" },
        { 46, 25, "head: entry bits: expected 0 to 24" },
        { 47, 6, "head: label kind: expected 0 to 5" },
        { 4, 5, "classifier needs" },       // n_classes 5 for 2 outputs
    };
    for (size_t e = 0; e < sizeof(edits) / sizeof(edits[0]); e++) {
        memcpy(b, good, n);
        if (edits[e].offset < 36) {
            memcpy(b + head + edits[e].offset, &edits[e].value, 4);
        } else {
            b[head + edits[e].offset] = (uint8_t)edits[e].value;
        }
        fix_crc(b, n);
        CHECK(ml_trees_open(&m, &cold, b, n, &err) != ML_OK && strstr(err.msg, edits[e].msg),
            "edit %lu: expected '%s', got '%s'", (unsigned long)e, edits[e].msg, err.msg);
    }
    free(b);
    free(good);
}

// Sets the size of section id in the section table of container b. (The edits below use the
// head's bytes at: 36 bytes of words, then aggregate, link, flags, feature bytes, child bytes,
// threshold index bytes, leaf kind (42), fixed values (43), value shift, list bits (45), entry
// bits (46).)
static void set_section_size(uint8_t *b, const char *id, uint32_t size) {
    for (uint32_t i = 0; i < ml_blob_u16(b + 18); i++) {
        if (memcmp(b + 24 + 12 * i, id, 4) == 0) {
            memcpy(b + 24 + 12 * i + 8, &size, 4);
        }
    }
}

// The same model in two leaf encodings (a and b): the same sums bit for bit, and classes, on
// float32 and int16 samples.
static void test_same_sums(const char *a_name, const char *b_name) {
    size_t na, nb;
    uint8_t *ga = read_bin(a_name, &na), *gb = read_bin(b_name, &nb);
    ml_error_t err;
    bin_model_t a, b;
    if (!ga || !gb) {
        CHECK(0, "%s or %s missing", a_name, b_name);
        free(ga);
        free(gb);
        return;
    }
    CHECK(open_bin(&a, ga, na, &err) == ML_OK && open_bin(&b, gb, nb, &err) == ML_OK
        && a.m.leaf_kind != b.m.leaf_kind && a.m.h.n_features == b.m.h.n_features,
        "%s, %s: open: %s", a_name, b_name, err.msg);
    const int mismatches = count_differences(&a, &b, 500, 5, 1);
    CHECK(mismatches == 0, "%s, %s: %d differences", a_name, b_name, mismatches);
    free(a.ws);
    free(b.ws);
    free(ga);
    free(gb);
}

// Spans of int32 units share the uint32 units' loop when every unit is >= 0; a negative unit
// (not from a classifier: a crafted file) takes the generic loop, which adds it signed. Unit j
// of `name` negated: the sums differ from the original's only in entry j's class, by -2 v_j
// for each tree whose leaf holds it.
static void test_negative_span_unit(const char *name, uint32_t j) {
    size_t n;
    uint8_t *good = read_bin(name, &n);
    if (!good) {
        return;
    }
    ml_error_t err;
    bin_model_t a, b;
    CHECK(open_bin(&a, good, n, &err) == ML_OK && a.m.value_fixed == 1
        && a.m.leaf_kind == ML_TREES_LEAF_SPANS && a.m.forest_r8 > 1,
        "%s: open (int32 spans with a loop of their own): %s", name, err.msg);
    uint32_t n_valu, n_entr;
    const uint32_t valu = find_section(good, "valu", &n_valu);
    const uint32_t entr = find_section(good, "entr", &n_entr);
    uint8_t *bad = malloc(n);
    memcpy(bad, good, n);
    int32_t v;
    memcpy(&v, bad + valu + 4 * j, 4);
    const int32_t neg = -v;
    memcpy(bad + valu + 4 * j, &neg, 4);
    fix_crc(bad, n);
    CHECK(v > 0 && 4 * j < n_valu && j < n_entr && open_bin(&b, bad, n, &err) == ML_OK
        && b.m.forest_r8 == 1 && !(b.m.h.flags & ML_TREES_VOTE_EXIT),
        "%s: unit %lu negated: open (generic loop, no vote exit): %s", name,
        (unsigned long)j, err.msg);
    const uint32_t k_j = good[entr + j], nf = a.m.h.n_features;
    const double step = -2.0 * (double)v * ldexp(1.0, -(int)a.m.value_shift);
    uint64_t seed = 11;
    int wrong = 0, hits = 0;
    for (int s = 0; s < 500 && a.ws && b.ws && nf <= 64; s++) {
        float x[64];
        int16_t xh[64];
        for (uint32_t i = 0; i < nf; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            xh[i] = (int16_t)((int32_t)((seed >> 33) % 801) - 400);
            x[i] = (float)xh[i];
        }
        for (int form = 0; form < 2; form++) {
            wrong += (form ? ml_trees_eval_i16(&a.m, xh, nf, &err)
                : ml_trees_eval_f32(&a.m, x, nf, &err)) != ML_OK;
            wrong += (form ? ml_trees_eval_i16(&b.m, xh, nf, &err)
                : ml_trees_eval_f32(&b.m, x, nf, &err)) != ML_OK;
            for (uint32_t k = 0; k < a.m.h.n_outputs; k++) {
                const double d = ml_trees_sum(&b.m, k) - ml_trees_sum(&a.m, k);
                const double times = d / step;
                wrong += k == k_j ? (times < 0 || times != floor(times)) : d != 0;
                hits += k == k_j && d != 0;
            }
        }
    }
    CHECK(wrong == 0 && hits > 0, "%s: unit %lu negated: %d wrong sums, %d samples reach it",
        name, (unsigned long)j, wrong, hits);
    free(a.ws);
    free(b.ws);
    free(bad);
    free(good);
}

// Leaf runs (leaf kind 2), spans (3) and pairs (4): what the loader refuses in them, each with
// its message. Runs and pairs end a leaf with the end bit of its last class byte, spans where
// the next list entry starts; pairs index a table of values, runs and spans have one per entry.
enum { RUNS = 1, SPANS = 2, PAIRS = 4 };
static void test_leaf_edits(const char *name, int kind) {
    size_t n;
    uint8_t *good = read_bin(name, &n);
    if (!good) {
        return;
    }
    static const char *const kinds[] = { "", "runs", "spans", "", "pairs" };
    const uint8_t leaf_kind = kind == RUNS ? ML_TREES_LEAF_RUNS
        : kind == SPANS ? ML_TREES_LEAF_SPANS : ML_TREES_LEAF_PAIRS;
    ml_error_t err;
    ml_trees_t m;
    ml_trees_cold_t cold;
    CHECK(ml_trees_open(&m, &cold, good, n, &err) == ML_OK && m.leaf_kind == leaf_kind
        && m.list_bits == 8, "%s: open as %s with byte lists: %s", name, kinds[kind], err.msg);
    uint32_t head_size, entr_size, valu_size, list_size;
    const uint32_t head = find_section(good, "head", &head_size);
    const uint32_t entr = find_section(good, "entr", &entr_size);
    const uint32_t valu = find_section(good, "valu", &valu_size);
    const uint32_t list = find_section(good, "list", &list_size);
    const int pairs = kind == PAIRS, spans = kind == SPANS;
    const uint32_t step = pairs ? 2 : 1, n_entries = (entr_size - 3) / step;
    const uint32_t n_lists = list_size - 3 - spans;  // spans: an entry more, the last end
    CHECK(head && entr && valu && list && (pairs || valu_size == 4 * n_entries), "%s: sections",
        name);
    // the first leaf of two entries of different values (lists' entries start leaves)
    uint32_t two = n_entries, two_at = 0;
    for (uint32_t l = 0; l < n_lists && two == n_entries; l++) {
        const uint32_t s = good[list + l];
        const uint32_t v0 = pairs ? good[entr + 2 * s + 1] : s;
        const uint32_t v1 = pairs ? good[entr + 2 * s + 3] : s + 1;
        const int len2 = spans
            ? s + 1 < n_entries && (l + 1 == n_lists ? n_entries : good[list + l + 1]) == s + 2
            : s + 1 < n_entries && !(good[entr + step * s] & 1)
            && (good[entr + step * (s + 1)] & 1);
        if (len2 && ml_blob_u32(good + valu + 4 * v0) != ml_blob_u32(good + valu + 4 * v1)) {
            two = s;
            two_at = l;
        }
    }
    CHECK(two < n_entries, "%s: no leaf of two entries", name);
    const uint8_t n_out = (uint8_t)ml_blob_u32(good + head + 8);
    uint8_t *b = malloc(n);
    static const struct { int what, kinds; const char *msg; } edits[] = {
        { 0, 7, "leaf " },               // entry bits 9 (runs), 16 (spans), 8 (pairs)
        { 1, 7, "leaf " },               // fixed values 2 (float32 values)
        { 2, 7, "leaf entry" },          // a class past the outputs
        { 3, SPANS, "out of place" },    // the list's last entry is not the entries' end
        { 4, 7, "" },                    // a leaf's first entry is not its largest
        { 5, 7, "" },                    // a class twice in a leaf
        { 6, SPANS, "out of place" },    // an empty span
        { 7, RUNS | SPANS, "values for" },  // a value short
        { 8, PAIRS, "leaf entry" },      // a value index past the values
        { 9, RUNS | PAIRS, "not ending a leaf" },  // the last entry does not end its leaf
        { 10, RUNS | PAIRS, "does not exist" },    // a leaf list entry in the middle of a leaf
    };
    for (size_t e = 0; e < sizeof(edits) / sizeof(edits[0]); e++) {
        if (!(edits[e].kinds & kind)) {
            continue;
        }
        char msg[32];
        snprintf(msg, sizeof(msg), "%s%s", edits[e].msg, edits[e].what == 0 || edits[e].what == 1
            ? kinds[kind] : edits[e].what == 4 || edits[e].what == 5
            ? (spans ? "not in order" : "not below") : "");
        memcpy(b, good, n);
        switch (edits[e].what) {
            case 0:
                b[head + 46] = kind == RUNS ? 9 : spans ? 16 : 8;
                break;
            case 1:
                b[head + 43] = 2;
                break;
            case 2:
                b[entr + step * two] = (uint8_t)(spans ? n_out : n_out << 1);
                break;
            case 3:
                b[list + n_lists] = (uint8_t)(n_entries - 1);
                break;
            case 4:
                if (pairs) {
                    // the two value indices swapped: the smaller comes first
                    b[entr + 2 * two + 1] = good[entr + 2 * two + 3];
                    b[entr + 2 * two + 3] = good[entr + 2 * two + 1];
                } else {
                    memcpy(b + valu + 4 * two, good + valu + 4 * (two + 1), 4);
                    memcpy(b + valu + 4 * (two + 1), good + valu + 4 * two, 4);
                }
                break;
            case 5:
                b[entr + step * (two + 1)] = spans ? good[entr + two]
                    : (uint8_t)((good[entr + step * two] & 0xfe) | 1);
                break;
            case 6:
                b[list + two_at + 1] = (uint8_t)two;
                break;
            case 7:
                set_section_size(b, "valu", valu_size - 4);
                break;
            case 8:
                b[entr + 2 * two + 1] = (uint8_t)(valu_size / 4);
                break;
            case 9:
                b[entr + step * (n_entries - 1)] &= 0xfe;
                break;
            default:
                b[list + two_at] = (uint8_t)(two + 1);
                break;
        }
        fix_crc(b, n);
        CHECK(ml_trees_open(&m, &cold, b, n, &err) != ML_OK && strstr(err.msg, msg),
            "%s edit %lu: expected '%s', got '%s'", name, (unsigned long)e, msg, err.msg);
    }
    free(b);
    free(good);
}

// In place: opening and predicting never write the model's bytes.
static void test_in_place(void) {
    size_t n;
    uint8_t *good = read_file(BIN_DIR "rf_str_labels.bin", &n);
    if (!good) {
        CHECK(0, "rf_str_labels.bin missing");
        return;
    }
    uint8_t *copy = malloc(n);
    memcpy(copy, good, n);
    ml_error_t err;
    bin_model_t bm;
    CHECK(open_bin(&bm, good, n, &err) == ML_OK, "open: %s", err.msg);
    CHECK(bm.m.label_kind == ML_TREES_LABELS_STR && bm.m.h.n_classes == 3, "string labels");
    const uint8_t *labels = bm.m.cold->labels;
    CHECK(memcmp(labels + 16, "runsitwalk", 10) == 0, "label text");
    float x[3] = { 0.5f, -1.0f, 2.0f };
    for (int i = 0; i < 10; i++) {
        CHECK(ml_trees_eval_f32(&bm.m, x, 3, &err) == ML_OK, "eval: %s", err.msg);
        x[0] -= 0.3f;
    }
    CHECK(memcmp(copy, good, n) == 0, "the model's bytes changed");
    CHECK(ml_trees_workspace_size(&bm.m.h) == 3 * 8, "workspace %lu",
        (unsigned long)ml_trees_workspace_size(&bm.m.h));
    free(bm.ws);
    free(copy);
    free(good);
}

int main(void) {
    static const char *forms[] = { "dt_classifier", "dt_labels", "dt_regressor", "rf_classifier",
        "et_regressor", "gb_binary", "gb_softmax", "gb_regressor", "hgb_binary_nan",
        "hgb_softmax_nan", "hgb_regressor" };
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        compare_forms(forms[i]);
    }
    CHECK(n_bare > 0, "no seed forest has missing-value sides alone in its cold part");
    static const char *damaged[] = { "rf_classifier", "gb_softmax", "hgb_binary_nan",
        "rf_str_labels", "rf_int_data", "dt_300_features", "rf_sparse", "rf_entries16",
        "rf_spans", "rf_pairs" };
    for (size_t i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
        test_damage(damaged[i]);
    }
    static const char *unsigned_units[] = { "rf_classifier", "rf_entries16", "rf_int_data",
        "rf_spans", "rf_pairs_int" };
    for (size_t i = 0; i < sizeof(unsigned_units) / sizeof(unsigned_units[0]); i++) {
        test_uint32_units(unsigned_units[i]);
    }
    test_predict_class("rf1_int_data", 1);
    test_predict_class("rf_int_data", 1);
    test_predict_class("rf_classifier", 0);
    test_predict_class("rf_entries16", 0);
    test_predict_class("dt_bool_labels", 0);
    test_predict_class("rf_sparse", 0);
    test_leaf_edits("rf_int_data", RUNS);
    test_leaf_edits("rf_classifier", RUNS);
    test_predict_class("rf_spans", 1);
    test_predict_class("rf_pairs_int", 1);
    test_predict_class("rf_pairs", 0);
    test_predict_class("rf_spans_i32", 1);
    test_predict_class("rf_spans_u32", 1);
    test_predict_class("rf1_int_data", 1);
    test_vote_exit("rf_spans", 1);
    test_sums32("rf_spans_i32");
    test_sums32("rf_spans_u32");
    test_vote_exit("rf_pairs_int", 1);
    test_vote_exit("rf_int_data", 1);
    test_same_sums("rf_spans", "rf_int_data");
    test_same_sums("rf_pairs", "rf_entries16");
    test_negative_span_unit("rf_spans", 1);
    test_leaf_edits("rf_spans", SPANS);
    test_leaf_edits("rf_str_labels", SPANS);
    test_leaf_edits("rf_pairs", PAIRS);
    test_leaf_edits("rf_pairs_int", PAIRS);
    test_nonfinite_at_every_position("rf_spans");
    test_nonfinite_at_every_position("dt_300_features");
    test_nonfinite_at_every_position("hgb_softmax_nan");
    test_nonfinite_at_every_position("gb_regressor");
    test_messages();
    test_in_place();
    return check_summary("test_trees_bin");
}
