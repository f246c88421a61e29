// libFuzzer harness of the binary tree model (ml_trees_open in core/ml_trees.c) and of the
// predictor on the models it accepts.
//
// The container's checksum is set right before opening (otherwise almost every input would stop
// there), so mutations reach the model's own checks. The model is opened in place from an
// exact-size, 4-byte aligned copy and given a workspace of exactly ml_trees_workspace_size
// bytes, so ASan sees any read or write past either. An accepted model is evaluated on float32
// vectors (derived from the input and from its thresholds, with NaN, +-inf and -0) and, when it
// has int16 thresholds, on int16 vectors; each result is compared with a plain reference that
// walks the nodes through the accessors of ml_trees.h, bounds-checking every step, and sums the
// leaf values in double: the sums must be identical, bit for bit (fixed-point sums included).
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ml_trees.h"

#define REQUIRE(cond) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
} while (0)

static double ref_acc[65536];
static float proba[65536];

// The sizes of the arrays that the model does not keep (ml_trees_open checks them), from its
// sections and header.
static uint32_t n_thresholds, n_values, n_entries, n_lists, n_pure;

static uint32_t section_count(const ml_blob_t *b, uint32_t id, size_t elem) {
    const void *p;
    uint32_t n = 0;
    ml_error_t err;
    REQUIRE(ml_blob_section(b, id, elem, 0, 0xffffffffu, &p, &n, &err) == ML_OK);
    return n;
}

// The cold part of the model under test (its counts too).
static ml_trees_cold_t cold;

static void set_counts(const ml_trees_t *m, const uint8_t *buf, size_t size) {
    ml_blob_t b;
    ml_error_t err;
    REQUIRE(ml_blob_open(&b, buf, size, ML_BLOB_KIND_TREES, ML_TREES_BLOB_VERSION, &err)
        == ML_OK);
    n_thresholds = section_count(&b, ML_BLOB_ID('t', 'h', 'r', 'k'), 4);
    n_values = section_count(&b, ML_BLOB_ID('v', 'a', 'l', 'u'), 4);
    n_lists = m->list_bits ? m->tree_list[m->h.n_trees] : 0;
    n_entries = m->leaf_kind != ML_TREES_LEAF_DENSE ? cold.n_leaves : 0;
    // pure-leaf slots: field 8 (uint32) of the head section
    const void *head;
    uint32_t n;
    REQUIRE(ml_blob_section(&b, ML_BLOB_ID('h', 'e', 'a', 'd'), 1, 36, 0xffffffffu, &head, &n,
        &err) == ML_OK);
    n_pure = ml_blob_u32((const uint8_t *)head + 32);
}

// The leaf slot a sample reaches in tree t: x as keys (xk) or int16 features (x16).
static uint32_t ref_walk(const ml_trees_t *m, uint32_t t, const int32_t *xk, const int16_t *x16,
    uint32_t *n_local) {
    uint32_t base = m->tree_node[t];
    *n_local = m->tree_node[t + 1] - base;
    REQUIRE(m->tree_node[t + 1] >= base && m->tree_node[t + 1] <= cold.n_nodes);
    uint32_t ref = 0, steps = 0;
    while (ref < *n_local) {
        REQUIRE(steps++ <= *n_local);
        uint32_t i = base + ref;
        uint32_t f = ml_trees_node_feature(m, i), ti = ml_trees_node_threshold_index(m, i);
        REQUIRE(f < m->h.n_features && ti < n_thresholds);
        int left;
        if (x16) {
            left = x16[f] <= m->threshold16[ti];
        } else if (xk[f] == INT32_MIN) {
            REQUIRE(m->cold != NULL && m->cold->missing_left != NULL);
            left = (m->cold->missing_left[i / 8] >> (i % 8)) & 1;
        } else {
            left = xk[f] <= m->threshold[ti];
        }
        uint32_t next = ml_trees_node_child(m, left, i);
        REQUIRE(next > ref);
        ref = next;
    }
    return ref - *n_local;
}

static void ref_eval(const ml_trees_t *m, const int32_t *xk, const int16_t *x16) {
    const ml_trees_header_t *h = &m->h;
    for (uint32_t k = 0; k < h->n_outputs; k++) {
        ref_acc[k] = h->aggregate == ML_TREES_SUM ? m->cold->baseline[k] : 0.0;
    }
    for (uint32_t t = 0; t < h->n_trees; t++) {
        uint32_t n_local, slot = ref_walk(m, t, xk, x16, &n_local), leaf = slot;
        if (m->list_bits) {
            uint32_t first = m->tree_list[t], n_list = m->tree_list[t + 1] - first;
            REQUIRE(first + n_list <= n_lists);
            if (slot >= n_list) {
                REQUIRE(slot - n_list < n_pure);
                ref_acc[slot - n_list] += 1.0;
                continue;
            }
            leaf = ml_trees_bits_at(m->leaf_list, first + slot, m->list_bits);
            if (m->leaf_kind == ML_TREES_LEAF_SPANS) {
                // class bytes up to the next list entry's, entry i with value i
                uint32_t end = ml_trees_bits_at(m->leaf_list, first + slot + 1, m->list_bits);
                REQUIRE(leaf < end && end <= n_entries && n_values == n_entries);
                for (uint32_t i = leaf; i < end; i++) {
                    uint32_t k = ((const uint8_t *)m->entries)[i];
                    REQUIRE(k < h->n_outputs);
                    ref_acc[k] += ml_trees_value_at(m, i);
                }
                continue;
            }
        }
        REQUIRE(leaf < cold.n_leaves);
        if (m->leaf_kind != ML_TREES_LEAF_DENSE) {
            for (uint32_t i = leaf;; i++) {
                REQUIRE(i < n_entries);
                uint32_t e = ml_trees_bits_at(m->entries, i, m->entry_bits);
                uint32_t k = (e >> 1) & ((1u << m->class_bits) - 1);
                // runs: entry i has value i; pairs: the value index is the high byte
                uint32_t v = m->leaf_kind == ML_TREES_LEAF_RUNS ? i
                    : m->leaf_kind == ML_TREES_LEAF_PAIRS ? e >> 8 : e >> (1 + m->class_bits);
                REQUIRE(k < h->n_outputs && v < n_values);
                ref_acc[k] += ml_trees_value_at(m, v);
                if (e & 1) {
                    break;
                }
            }
        } else {
            uint32_t out = m->tree_output ? m->tree_output[t] : 0;  // (dense: not entries)
            REQUIRE(out + h->leaf_width <= h->n_outputs);
            for (uint32_t k = 0; k < h->leaf_width; k++) {
                ref_acc[out + k] += ml_trees_value_at(m, leaf * h->leaf_width + k);
            }
        }
    }
}

static void check_sums(const ml_trees_t *m) {
    for (uint32_t k = 0; k < m->h.n_outputs; k++) {
        double s = ml_trees_sum(m, k);
        // Equal, or both zero (a double sum of +0 and -0 values may be -0 where the fixed-point
        // sum is +0; they compare equal and give the same probabilities and label).
        REQUIRE(memcmp(&s, &ref_acc[k], sizeof(s)) == 0 || (s == 0.0 && ref_acc[k] == 0.0));
    }
    if (m->h.n_classes) {
        REQUIRE(ml_trees_class_index(m) < m->h.n_classes);
        ml_trees_proba(m, proba);
        if (m->label_kind == ML_TREES_LABELS_INT32 || m->label_kind == ML_TREES_LABELS_INDEX) {
            (void)ml_trees_class_label(m);
        }
    } else {
        (void)ml_trees_value(m);
    }
}

static int32_t key_of(float f) {
    uint32_t b;
    memcpy(&b, &f, sizeof(b));
    if ((b & 0x7fffffffu) > 0x7f800000u) {
        return INT32_MIN;
    }
    return (int32_t)(b & 0x80000000u ? b ^ 0x7fffffffu : b);
}

static float float_of_key(int32_t k) {
    uint32_t b = k < 0 ? (uint32_t)k ^ 0x7fffffffu : (uint32_t)k;
    float f;
    memcpy(&f, &b, sizeof(f));
    return f;
}

static float xf[65536];
static int32_t xk[65536];
static int16_t xh[65536];

static void eval_f32(const ml_trees_t *m) {
    ml_error_t err;
    const uint32_t nf = m->h.n_features;
    int bad = 0, nan = 0;
    for (uint32_t i = 0; i < nf; i++) {
        xk[i] = key_of(xf[i]);
        nan |= isnan(xf[i]);
        bad |= (isnan(xf[i]) && !(m->h.flags & ML_TREES_ACCEPT_NAN))
            || (isinf(xf[i]) && !(m->h.flags & ML_TREES_ACCEPT_INF));
    }
    ml_status_t r = ml_trees_eval_f32(m, xf, nf, &err);
    REQUIRE((r == ML_OK) == !bad);
    if (r != ML_OK) {
        uint32_t k;
        REQUIRE(!m->h.n_classes || ml_trees_predict_class_f32(m, xf, nf, &k, &err) == r);
        return;
    }
    (void)nan;
    ref_eval(m, xk, NULL);
    check_sums(m);
    if (m->h.n_classes) {
        // the binding's predict of a float32 sample: the class of the sums just checked, and the
        // same errors as the eval's (none here)
        const uint32_t k = ml_trees_class_index(m);
        uint32_t kf = 0;
        REQUIRE(ml_trees_predict_class_f32(m, xf, nf, &kf, &err) == ML_OK && kf == k);
    }
}

static void eval_i16(const ml_trees_t *m) {
    ml_error_t err;
    const uint32_t nf = m->h.n_features;
    REQUIRE(ml_trees_eval_i16(m, xh, nf, &err) == ML_OK);
    if (m->node_layout == ML_TREES_NODES_RECORDS && m->threshold16) {
        ref_eval(m, NULL, xh);
    } else {
        for (uint32_t i = 0; i < nf; i++) {
            xk[i] = key_of((float)xh[i]);
        }
        ref_eval(m, xk, NULL);
    }
    check_sums(m);
    if (m->h.n_classes) {
        // the binding's one-call predict: the class of the sums just checked
        const uint32_t k = ml_trees_class_index(m);
        REQUIRE(ml_trees_predict_class_i16(m, xh) == k);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size ? size : 1);
    REQUIRE(((uintptr_t)buf & 3) == 0);
    memcpy(buf, data, size);
    if (size >= 16) {
        uint32_t crc = ml_crc32(0, buf + 16, size - 16);
        memcpy(buf + 12, &crc, 4);
    }
    ml_trees_t m;
    ml_error_t err;
    if (ml_trees_open(&m, &cold, buf, size, &err) != ML_OK) {
        REQUIRE(err.code != ML_OK && err.msg[0]);
        free(buf);
        return 0;
    }
    // The cold part is the model's when it has any of its arrays; the counts are read again
    // from the data alike.
    REQUIRE(m.cold == (m.node_layout == ML_TREES_NODES_ARRAYS || cold.labels || cold.baseline
        || cold.missing_left ? &cold : NULL));
    ml_trees_cold_t again;
    memset(&again, 0xa5, sizeof(again));
    ml_trees_blob_cold(buf, &again);
    REQUIRE(memcmp(&again, &cold, sizeof(again)) == 0 && cold.n_nodes == m.tree_node[m.h.n_trees]);
    const ml_trees_header_t *h = &m.h;
    if (h->n_features > 65536 || h->n_trees > 100000
        || (uint64_t)h->n_trees * (cold.n_nodes + 1) > 20000000u) {
        free(buf);  // valid but too slow to evaluate many times here
        return 0;
    }
    set_counts(&m, buf, size);
    size_t ws_size = ml_trees_workspace_size(h);
    void *ws = malloc(ws_size);
    ml_trees_set_workspace(&m, ws);
    uint64_t seed = 0x9e3779b97f4a7c15ull ^ size;
    for (int round = 0; round < 6; round++) {
        for (uint32_t i = 0; i < h->n_features; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint32_t r = (uint32_t)(seed >> 33);
            if (round == 0) {
                xf[i] = (float)(int16_t)r;
            } else if (round == 1 && n_thresholds) {
                // on, just above and just below a threshold
                float t = float_of_key(m.threshold[r % n_thresholds]);
                xf[i] = (r & 3) == 0 ? t : (r & 3) == 1 ? nextafterf(t, INFINITY)
                    : nextafterf(t, -INFINITY);
            } else if (round == 2) {
                xf[i] = (r & 7) == 0 ? NAN : (r & 7) == 1 ? INFINITY : (r & 7) == 2 ? -INFINITY
                    : (r & 7) == 3 ? -0.0f : (float)(int32_t)r / 1024.0f;
            } else {
                uint32_t b = r ^ (uint32_t)(seed >> 7);
                memcpy(&xf[i], &b, sizeof(b));
            }
            // next to a threshold (a damaged table may hold any int32: computed in 64 bits and
            // clamped to int16)
            int64_t v = m.node_layout == ML_TREES_NODES_RECORDS && m.threshold16 && n_thresholds
                && (r & 1)
                ? (int64_t)m.threshold16[r % n_thresholds] + (int64_t)((r >> 8) % 3) - 1
                : (int16_t)r;
            xh[i] = (int16_t)(v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v);
        }
        eval_f32(&m);
        eval_i16(&m);
    }
    free(ws);
    free(buf);
    return 0;
}
