#include <string.h>

#include "ml_math.h"
#include "ml_trees.h"

enum { FORMAT_UNKNOWN = 0, FORMAT_MICROLEARN = 1, FORMAT_EMLEARN = 2 };

// Record types: the first field of a line.
enum {
    REC_NONE = 0, REC_MAGIC, REC_HEADER, REC_LABELS, REC_BASELINE, REC_TREE, REC_NODE, REC_LEAF,
    REC_EM_FEATURES, REC_EM_CLASSES, REC_EM_LEAF_BITS, REC_EM_ROOT, REC_EM_NODE, REC_EM_LEAF,
    REC_EM_OTHER,
};

#define MAX_FEATURES (65536u)

// The forest loops of forest_r8 models (ml_trees_t.forest_r8 is 1 + one of these). FOREST_SPAN32:
// spans whose class may come from 32-bit sums (forest_span32_*; exact sums as FOREST_SPAN).
enum {
    FOREST_ANY = 0, FOREST_SPAN, FOREST_PAIR_U32, FOREST_PAIR_I32, FOREST_PURE, FOREST_SPAN32,
};

// Whether predicting a class may use 32-bit sums (forest_span32_*): where a 64-bit addition
// takes twice the instructions of a 32-bit one (32-bit processors).
#ifndef ML_TREES_SUMS32
#define ML_TREES_SUMS32 (UINTPTR_MAX == 0xffffffffu)
#endif

// The 'head' section: uint32 fields in this order.
enum {
    // uint32
    H_FEATURES, H_CLASSES, H_OUTPUTS, H_TREES, H_NODES, H_LEAVES, H_LEAF_WIDTH, H_RECORD_BITS,
    H_PURE,
    // uint8
    H_AGGREGATE, H_LINK, H_FLAGS, H_FEATURE_BYTES, H_CHILD_BYTES, H_THR_INDEX_BYTES,
    H_LEAF_KIND, H_VALUE_FIXED, H_VALUE_SHIFT, H_LIST_BITS, H_ENTRY_BITS, H_LABELS, H_COUNT
};

// The header's fields and their ranges, in the order of a text model's header line from
// n_features to flags (the text form has at least one leaf). The names are the words of one
// string in the table's order (no pointers: a native module relocates each one when imported).
static const char range_names[] =
    "n_features\0n_classes\0n_outputs\0n_trees\0n_nodes\0n_leaves\0leaf_width\0aggregate\0link\0"
    "flags\0record bits\0feature bytes\0child bytes\0threshold index bytes\0leaf kind\0"
    "fixed values\0value shift\0list bits\0entry bits\0label kind\0";
static const struct { uint32_t hi; uint8_t field, lo; } ranges[] = {
    { MAX_FEATURES, H_FEATURES, 1 },  // n_features
    { 65535, H_CLASSES, 0 },  // n_classes
    { 65535, H_OUTPUTS, 1 },  // n_outputs
    { 0x7fffffff, H_TREES, 1 },  // n_trees
    { 0x7fffffff, H_NODES, 0 },  // n_nodes
    { 0x7fffffff, H_LEAVES, 0 },  // n_leaves
    { 65535, H_LEAF_WIDTH, 1 },  // leaf_width
    { 1, H_AGGREGATE, 0 },  // aggregate
    { 2, H_LINK, 0 },  // link
    { 15, H_FLAGS, 0 },  // flags
    { 0xffffff, H_RECORD_BITS, 0 },  // record bits
    { 2, H_FEATURE_BYTES, 1 },  // feature bytes
    { 4, H_CHILD_BYTES, 1 },  // child bytes
    { 2, H_THR_INDEX_BYTES, 0 },  // threshold index bytes
    { 4, H_LEAF_KIND, 0 },  // leaf kind
    { 3, H_VALUE_FIXED, 0 },  // fixed values
    { 255, H_VALUE_SHIFT, 0 },  // value shift
    { 24, H_LIST_BITS, 0 },  // list bits
    { 24, H_ENTRY_BITS, 0 },  // entry bits
    { 5, H_LABELS, 0 },  // label kind
};

static void make_fixed(ml_trees_t *m, uint32_t n_leaves);
#define MAX_BYTES (0x7fffffffu)

// ---------------------------------------------------------------------------------------------
// Comparison keys: an int32 per float32 value, in the same order as the floats (-0 just below
// +0, which only matters for thresholds, and those are never -0: see threshold_key). A sample's
// features are turned into keys at the node that reads them (no copy of the sample in RAM):
// without a branch, two or three instructions (negative floats: the magnitude bits flipped).

ML_TREES_INLINE int32_t key_from_bits(uint32_t bits) {
    return (int32_t)(bits ^ ((uint32_t)((int32_t)bits >> 31) >> 1));
}

// The key of an int16 feature, as the float32 it is exactly: with integer instructions (a
// conversion to float is a library call on cores without an FPU).
ML_TREES_INLINE int32_t key_from_i16(int16_t v) {
#if defined(__GNUC__)
    const uint32_t s = (uint32_t)((int32_t)v >> 31);    // all ones when negative
    const uint32_t a = ((uint32_t)(int32_t)v ^ s) - s;  // |v|, 0 to 32768
    if (a == 0) {
        return 0;
    }
    const uint32_t e = 31 - (uint32_t)__builtin_clz(a);  // the exponent, 0 to 15
    const uint32_t mag = ((127 + e) << 23) | ((a << (23 - e)) & 0x7fffffu);
    return (int32_t)(mag ^ s);  // a negative float's key: its magnitude bits inverted
#else
    return key_from_bits(ml_float_to_bits((float)v));
#endif
}

// The key of the largest float32 not above t: x <= t exactly when key(x) <= this, for every
// float32 x (t is a double; NaN thresholds are rejected by the loader).
// (zero tests on the bits: a float comparison would link the soft-float compare routines for
// this alone)
static int32_t threshold_key(double t) {
    const float f = (float)t;
    uint32_t b = ml_float_to_bits(f);
    if ((double)f > t) {
        // Rounded up: step one float down (towards -inf).
        if (!(b << 1)) {
            b = 0x80000001u;  // the largest negative float
        } else if (b & 0x80000000u) {
            b++;
        } else {
            b--;
        }
    }
    if (!(b << 1)) {
        b = 0;  // -0 and +0 compare equal as floats: use +0, whose key is above -0's
    }
    return key_from_bits(b);
}

// ---------------------------------------------------------------------------------------------
// Memory layout

// The regions of a text model's block, in this order: their offsets, then the total.
enum {
    L_BASELINE, L_ACC, L_THRESHOLD, L_LEAF_VALUE, L_LABELS, L_TREE_ROOT, L_TREE_OUTPUT, L_FEATURE,
    L_LEFT, L_RIGHT, L_MISSING_LEFT, L_TOTAL
};

typedef struct {
    size_t at[L_TOTAL + 1];
    uint8_t feature_bytes, child_bytes;
} layout_t;

static int plan_layout(const ml_trees_header_t *h, uint32_t n_nodes, uint32_t n_leaves,
    layout_t *lay) {
    uint64_t refs = (uint64_t)n_nodes + n_leaves;
    const uint32_t fb = h->n_features <= 256 ? 1 : 2;
    const uint32_t cb = refs <= 0x100 ? 1 : refs <= 0x10000 ? 2 : 4;
    lay->feature_bytes = (uint8_t)fb;
    lay->child_bytes = (uint8_t)cb;
    const uint64_t bytes[L_TOTAL] = {
        (uint64_t)h->n_outputs * sizeof(double),
        (uint64_t)h->n_outputs * sizeof(double),
        (uint64_t)n_nodes * sizeof(int32_t),
        (uint64_t)n_leaves * h->leaf_width * sizeof(float),
        (uint64_t)h->n_classes * sizeof(int32_t),
        (uint64_t)h->n_trees * sizeof(uint32_t),
        (uint64_t)h->n_trees * sizeof(uint32_t),
        (uint64_t)n_nodes * fb,
        (uint64_t)n_nodes * cb,
        (uint64_t)n_nodes * cb,
        (h->flags & ML_TREES_ACCEPT_NAN) ? ((uint64_t)n_nodes + 7) / 8 : 0,
    };
    // (a loop: the 64-bit steps once, not at each region)
    uint64_t off = 0;
    for (int i = 0; i < L_TOTAL; i++) {
        lay->at[i] = (size_t)off;
        off += (bytes[i] + 7) & ~(uint64_t)7;
        if (off > MAX_BYTES) {
            return -1;
        }
    }
    lay->at[L_TOTAL] = (size_t)off;
    return 0;
}

size_t ml_trees_memory_size(const ml_trees_header_t *h, uint32_t n_nodes, uint32_t n_leaves) {
    layout_t lay;
    return plan_layout(h, n_nodes, n_leaves, &lay) ? 0 : lay.at[L_TOTAL];
}

static void set_child(const ml_trees_t *m, void *arr, uint32_t i, uint32_t ref) {
    switch (m->child_bytes) {
        case 1:
            ((uint8_t *)arr)[i] = (uint8_t)ref;
            break;
        case 2:
            ((uint16_t *)arr)[i] = (uint16_t)ref;
            break;
        default:
            ((uint32_t *)arr)[i] = ref;
            break;
    }
}

// The loaders run once per model: optimized for size alone (these passes make cold code larger
// and it faster only in ways that loading does not need).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-thread-jumps", "no-schedule-insns2", "no-tree-dominator-opts", \
    "no-tree-loop-im")
#endif

// ---------------------------------------------------------------------------------------------
// Loader

void ml_trees_loader_init(ml_trees_loader_t *ld) {
    memset(ld, 0, sizeof(*ld));
    ml_fields_init(&ld->fields);
    ld->model.cold = &ld->cold;
}

size_t ml_trees_loader_memory_size(const ml_trees_loader_t *ld) {
    return ml_trees_memory_size(&ld->model.h, ld->cold.n_nodes, ld->cold.n_leaves);
}

void ml_trees_loader_set_memory(ml_trees_loader_t *ld, void *memory) {
    layout_t lay;
    ml_trees_t *m = &ld->model;
    ml_trees_cold_t *c = &ld->cold;
    plan_layout(&m->h, c->n_nodes, c->n_leaves, &lay);
    uint8_t *base = memory;
    memset(base, 0, lay.at[L_TOTAL]);
    // A text model has the plain layout: a threshold per node, references into the arrays of
    // all trees (no per-tree lists), a row of leaf_width values per leaf.
    m->feature_bytes = lay.feature_bytes;
    m->child_bytes = lay.child_bytes;
    m->thr_index_bytes = 0;
    m->node_layout = ML_TREES_NODES_ARRAYS;
    m->leaf_kind = ML_TREES_LEAF_DENSE;
    m->list_bits = 0;
    m->value_fixed = 0;
    m->label_kind = ML_TREES_LABELS_INT32;
    c->baseline = (double *)(void *)(base + lay.at[L_BASELINE]);
    m->acc = (double *)(void *)(base + lay.at[L_ACC]);
    m->threshold = (int32_t *)(void *)(base + lay.at[L_THRESHOLD]);
    m->values = base + lay.at[L_LEAF_VALUE];
    c->labels = base + lay.at[L_LABELS];
    c->tree_root = (uint32_t *)(void *)(base + lay.at[L_TREE_ROOT]);
    m->tree_output = (uint32_t *)(void *)(base + lay.at[L_TREE_OUTPUT]);
    m->tree_node = m->tree_list = NULL;
    m->thr_index = m->leaf_list = NULL;
    m->feature = base + lay.at[L_FEATURE];
    c->left = base + lay.at[L_LEFT];
    c->right = base + lay.at[L_RIGHT];
    c->missing_left = (m->h.flags & ML_TREES_ACCEPT_NAN) ? base + lay.at[L_MISSING_LEFT] : NULL;
    m->cold = c;
    for (uint32_t k = 0; k < m->h.n_classes; k++) {
        ((int32_t *)c->labels)[k] = (int32_t)k;
    }
    ld->has_memory = 1;
}

const ml_trees_t *ml_trees_loader_model(const ml_trees_loader_t *ld) {
    return &ld->model;
}

#define FAIL(code, ...) return ml_error_set(err, (code), f->line, __VA_ARGS__)

static int field_uint(ml_trees_loader_t *ld, const char *what, uint32_t min, uint32_t max,
    uint32_t *out, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    int32_t v;
    if (ml_parse_int(f->text, &v)) {
        FAIL(ML_E_FORMAT, "%s: expected an integer, got '%s'", what, f->text);
    }
    if (v < 0 || (uint32_t)v < min || (uint32_t)v > max) {
        FAIL(ML_E_VALUE, "%s: expected %lu to %lu, got %ld", what, (unsigned long)min,
            (unsigned long)max, (long)v);
    }
    *out = (uint32_t)v;
    return ML_OK;
}

static int field_double(ml_trees_loader_t *ld, const char *what, double *out, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    if (ml_parse_double(f->text, out)) {
        FAIL(ML_E_FORMAT, "%s: expected a number, got '%s'", what, f->text);
    }
    if (*out != *out) {
        FAIL(ML_E_VALUE, "%s: NaN is not allowed", what);
    }
    return ML_OK;
}

// A child reference as written in the file: >= 0 a decision node, -1 - i leaf i.
static int field_child(ml_trees_loader_t *ld, const char *what, uint32_t node, int relative,
    uint32_t *ref, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    const ml_trees_cold_t *h = &ld->cold;  // the counts
    int32_t v;
    if (ml_parse_int(f->text, &v)) {
        FAIL(ML_E_FORMAT, "%s: expected an integer, got '%s'", what, f->text);
    }
    if (v < 0) {
        uint32_t leaf = (uint32_t)(-(v + 1));
        if (leaf >= h->n_leaves) {
            FAIL(ML_E_VALUE, "%s: leaf %lu does not exist (the model has %lu leaves)", what,
                (unsigned long)leaf, (unsigned long)h->n_leaves);
        }
        *ref = h->n_nodes + leaf;
        return ML_OK;
    }
    // Children come after their parent, so every walk down a tree ends.
    uint64_t target = relative ? (uint64_t)node + (uint32_t)v : (uint64_t)(uint32_t)v;
    if (target <= node) {
        FAIL(ML_E_VALUE, "%s: node %lu refers back to node %lu (children must come after "
            "their parent)", what, (unsigned long)node, (unsigned long)target);
    }
    if (target >= h->n_nodes) {
        FAIL(ML_E_VALUE, "%s: node %lu does not exist (the model has %lu nodes)", what,
            (unsigned long)target, (unsigned long)h->n_nodes);
    }
    *ref = (uint32_t)target;
    return ML_OK;
}

// A tree root as written in the file: a decision node index, or -1 - i for a tree that is leaf i.
static int field_root(ml_trees_loader_t *ld, uint32_t *ref, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    const ml_trees_cold_t *h = &ld->cold;  // the counts
    int32_t v;
    if (ml_parse_int(f->text, &v)) {
        FAIL(ML_E_FORMAT, "tree root: expected an integer, got '%s'", f->text);
    }
    if (v < 0 && (uint32_t)(-(v + 1)) < h->n_leaves) {
        *ref = h->n_nodes + (uint32_t)(-(v + 1));
    } else if (v >= 0 && (uint32_t)v < h->n_nodes) {
        *ref = (uint32_t)v;
    } else {
        FAIL(ML_E_VALUE, "tree root: %ld is neither one of the %lu nodes nor one of the %lu "
            "leaves (-1 to -%lu)", (long)v, (unsigned long)h->n_nodes, (unsigned long)h->n_leaves,
            (unsigned long)h->n_leaves);
    }
    return ML_OK;
}

// The index of text among the first n of words (each ended by a NUL), or -1. (One string
// rather than a table of pointers, which a native module relocates when imported.)
static int word_index(const char *text, const char *words, int n) {
    for (int i = 0; i < n; i++) {
        if (ml_text_equals(text, words)) {
            return i;
        }
        while (*words++) {
        }
    }
    return -1;
}

// Word i of words (each ended by a NUL).
static const char *nth_word(const char *words, uint32_t i) {
    for (; i; i--) {
        while (*words++) {
        }
    }
    return words;
}

static const char aggregate_words[] = "mean\0sum";
static const char link_words[] = "none\0sigmoid\0softmax";
static const char emlearn_words[] = "f\0c\0lb\0r\0n\0l";

// The header checks common to the text and binary forms.
static int validate_header(const ml_trees_header_t *h, uint32_t n_nodes, uint32_t n_leaves,
    uint32_t line, ml_error_t *err) {
    #define HFAIL(code, ...) return ml_error_set(err, (code), line, __VA_ARGS__)
    if (h->aggregate == ML_TREES_MEAN) {
        if (h->link != ML_TREES_LINK_NONE) {
            HFAIL(ML_E_VALUE, "header: aggregate 'mean' needs link 'none'");
        }
        if (h->leaf_width != h->n_outputs) {
            HFAIL(ML_E_VALUE, "header: aggregate 'mean' needs leaf_width = n_outputs (%lu), got %lu",
                (unsigned long)h->n_outputs, (unsigned long)h->leaf_width);
        }
    } else if (h->leaf_width != 1 && h->leaf_width != h->n_outputs) {
        HFAIL(ML_E_VALUE, "header: leaf_width must be 1 or n_outputs (%lu), got %lu",
            (unsigned long)h->n_outputs, (unsigned long)h->leaf_width);
    }
    if (h->n_classes == 0) {
        if (h->n_outputs != 1 || h->link != ML_TREES_LINK_NONE) {
            HFAIL(ML_E_VALUE, "header: a regressor (n_classes 0) needs n_outputs 1 and link 'none'");
        }
    } else if (h->link == ML_TREES_LINK_SIGMOID) {
        if (h->n_classes != 2 || h->n_outputs != 1) {
            HFAIL(ML_E_VALUE, "header: link 'sigmoid' needs n_classes 2 and n_outputs 1");
        }
    } else if (h->n_outputs != h->n_classes) {
        HFAIL(ML_E_VALUE, "header: a classifier needs n_outputs = n_classes (%lu), got %lu",
            (unsigned long)h->n_classes, (unsigned long)h->n_outputs);
    } else if (h->link == ML_TREES_LINK_NONE && h->aggregate == ML_TREES_SUM) {
        HFAIL(ML_E_VALUE, "header: a boosted classifier needs link 'sigmoid' or 'softmax'");
    }
    if ((h->flags & ML_TREES_HAS_LABELS) && h->n_classes == 0) {
        HFAIL(ML_E_VALUE, "header: a regressor has no class labels");
    }
    if (ml_trees_memory_size(h, n_nodes, n_leaves) == 0) {
        HFAIL(ML_E_VALUE, "header: the model would need more than 2 GiB");
    }
    #undef HFAIL
    return ML_OK;
}

static int check_header(ml_trees_loader_t *ld, ml_error_t *err) {
    return validate_header(&ld->model.h, ld->cold.n_nodes, ld->cold.n_leaves, ld->fields.line,
        err);
}

static int header_field(ml_trees_loader_t *ld, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    ml_trees_header_t *h = &ld->model.h;
    const uint32_t i = f->index - 1;
    if (i >= 10) {
        FAIL(ML_E_FORMAT, "header: expected 10 values after 'h', got more");
    }
    const uint32_t field = ranges[i].field;
    uint32_t v;
    if (field == H_AGGREGATE || field == H_LINK) {
        const int link = field == H_LINK;
        int w = link ? word_index(f->text, link_words, 3) : word_index(f->text, aggregate_words, 2);
        if (w < 0 && link) {
            FAIL(ML_E_VALUE, "link: expected 'none', 'sigmoid' or 'softmax', got '%s'", f->text);
        }
        if (w < 0) {
            FAIL(ML_E_VALUE, "aggregate: expected 'mean' or 'sum', got '%s'", f->text);
        }
        *(link ? &h->link : &h->aggregate) = (uint8_t)w;
        return ML_OK;
    }
    int r = field_uint(ld, nth_word(range_names, i), field == H_LEAVES ? 1 : ranges[i].lo,
        ranges[i].hi, &v, err);
    if (r) {
        return r;
    }
    switch (field) {
        case H_FEATURES:
            h->n_features = v;
            break;
        case H_CLASSES:
            h->n_classes = (uint16_t)v;
            break;
        case H_OUTPUTS:
            h->n_outputs = (uint16_t)v;
            break;
        case H_TREES:
            h->n_trees = v;
            break;
        case H_NODES:
            ld->cold.n_nodes = v;
            break;
        case H_LEAVES:
            ld->cold.n_leaves = v;
            break;
        case H_LEAF_WIDTH:
            h->leaf_width = (uint16_t)v;
            break;
        default:
            h->flags = (uint8_t)v;
            break;
    }
    return ML_OK;
}

static int node_field(ml_trees_loader_t *ld, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    ml_trees_t *m = &ld->model;
    const uint32_t i = ld->n_nodes;
    const int em = ld->format == FORMAT_EMLEARN;
    const uint32_t n_fields = em ? 5 : ((m->h.flags & ML_TREES_ACCEPT_NAN) ? 6 : 5);
    if (f->index >= n_fields) {
        FAIL(ML_E_FORMAT, "node: expected %lu fields, got more", (unsigned long)n_fields);
    }
    if (!ld->has_memory) {
        return ML_OK;  // emlearn counting pass: only the syntax is checked
    }
    uint32_t v;
    int r;
    switch (f->index) {
        case 1:
            r = field_uint(ld, "node feature", 0, m->h.n_features - 1, &v, err);
            if (r) {
                return r;
            }
            if (m->feature_bytes == 1) {
                ((uint8_t *)m->feature)[i] = (uint8_t)v;
            } else {
                ((uint16_t *)m->feature)[i] = (uint16_t)v;
            }
            return ML_OK;
        case 2: {
            double t;
            r = field_double(ld, "node threshold", &t, err);
            if (r) {
                return r;
            }
            if (em) {
                // emlearn-micropython goes left when x < int(threshold) (int16 features): that
                // is x <= the float just below that integer.
                double ti = t < -32768.0 ? -32768.0 : t > 32767.0 ? 32767.0 : (double)(int32_t)t;
                m->threshold[i] = ti == 0.0 ? -2 : key_from_bits(ml_float_to_bits((float)ti)) - 1;
            } else {
                m->threshold[i] = threshold_key(t);
            }
            return ML_OK;
        }
        case 3:
        case 4: {
            uint32_t ref = 0;
            r = field_child(ld, f->index == 3 ? "node left child" : "node right child", i, em,
                &ref, err);
            if (r) {
                return r;
            }
            set_child(m, f->index == 3 ? ld->cold.left : ld->cold.right, i, ref);
            return ML_OK;
        }
        default:
            r = field_uint(ld, "node missing_left", 0, 1, &v, err);
            if (r) {
                return r;
            }
            if (v) {
                ld->cold.missing_left[i / 8] |= (uint8_t)(1u << (i % 8));
            }
            return ML_OK;
    }
}

static int leaf_field(ml_trees_loader_t *ld, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    ml_trees_t *m = &ld->model;
    const uint32_t width = m->h.leaf_width;
    const int em = ld->format == FORMAT_EMLEARN;
    if (f->index > (em ? 1 : width)) {
        FAIL(ML_E_FORMAT, "leaf: expected %lu values, got more", (unsigned long)(em ? 1 : width));
    }
    if (!ld->has_memory) {
        return ML_OK;
    }
    float *leaf = (float *)m->values + (size_t)ld->n_leaves * width;
    if (em && ld->emlearn_leaf_bits == 0) {
        // A majority-vote leaf: the class index, as a one-hot vector.
        uint32_t c;
        int r = field_uint(ld, "leaf class", 0, m->h.n_classes - 1, &c, err);
        if (r) {
            return r;
        }
        leaf[c] = 1.0f;
        return ML_OK;
    }
    double v;
    int r = field_double(ld, "leaf value", &v, err);
    if (r) {
        return r;
    }
    float fv = (float)v;
    if (!ml_isfinitef(fv)) {
        FAIL(ML_E_VALUE, "leaf value: must be finite as float32, got '%s'", f->text);
    }
    leaf[f->index - 1] = fv;
    return ML_OK;
}

static int begin_record(ml_trees_loader_t *ld, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    const char *t = f->text;
    if (ld->format == FORMAT_UNKNOWN) {
        if (ml_text_equals(t, "microlearn-trees")) {
            ld->format = FORMAT_MICROLEARN;
            ld->record = REC_MAGIC;
            return ML_OK;
        }
        if (word_index(t, emlearn_words, 3) >= 0) {  // f, c or lb
            ld->format = FORMAT_EMLEARN;
            ld->pass = 1;
        } else {
            FAIL(ML_E_FORMAT, "not a tree model file: expected 'microlearn-trees' (or an "
                "emlearn tree CSV), got '%s'", t);
        }
    }
    if (ld->format == FORMAT_EMLEARN) {
        int i = word_index(t, emlearn_words, 6);
        ld->record = (uint8_t)(i < 0 ? REC_EM_OTHER : REC_EM_FEATURES + i);
        // A file of nothing but unknown records is not a model, and a stream of them would
        // never end: a bound far above what any emlearn version writes.
        if (i < 0 && ++ld->n_other > ML_TREES_MAX_OTHER) {
            FAIL(ML_E_FORMAT, "emlearn CSV: more than %d lines of unknown records",
                ML_TREES_MAX_OTHER);
        }
        if (ld->record == REC_EM_NODE) {
            ld->record = REC_NODE;
        } else if (ld->record == REC_EM_LEAF) {
            ld->record = REC_LEAF;
        }
        const int counted = ld->record == REC_NODE || ld->record == REC_LEAF
            || ld->record == REC_EM_ROOT;
        if (counted && (!ld->model.h.n_features || !ld->header_fields)) {
            FAIL(ML_E_FORMAT, "emlearn CSV: 'f' and 'c' lines must come before '%s' lines", t);
        }
        if (counted && ld->has_memory) {
            const ml_trees_header_t *h = &ld->model.h;
            int full = ld->record == REC_NODE ? ld->n_nodes >= ld->cold.n_nodes
                : ld->record == REC_LEAF ? ld->n_leaves >= ld->cold.n_leaves
                : ld->n_roots >= h->n_trees;
            if (full) {
                FAIL(ML_E_STATE, "the file changed between the two reading passes");
            }
        }
        return ML_OK;
    }
    int i = word_index(t, "h\0k\0b\0t\0n\0l", 6);
    if (i < 0) {
        FAIL(ML_E_FORMAT, "unknown record type '%s' (expected h, k, b, t, n or l)", t);
    }
    ld->record = (uint8_t)(REC_HEADER + i);
    if (ld->record == REC_HEADER) {
        if (ld->header_line) {
            FAIL(ML_E_FORMAT, "a second header line (the first is line %lu)",
                (unsigned long)ld->header_line);
        }
        ld->header_line = f->line;
        return ML_OK;
    }
    if (!ld->header_line) {
        FAIL(ML_E_FORMAT, "'%s' line before the header line 'h'", t);
    }
    const ml_trees_header_t *h = &ld->model.h;
    uint32_t have, cap;
    const char *what;
    switch (ld->record) {
        case REC_LABELS:
            have = ld->n_labels, cap = (h->flags & ML_TREES_HAS_LABELS) ? 1 : 0, what = "labels";
            break;
        case REC_BASELINE:
            have = ld->n_baseline, cap = h->aggregate == ML_TREES_SUM ? 1 : 0, what = "baseline";
            break;
        case REC_TREE:
            have = ld->n_roots, cap = h->n_trees, what = "tree";
            break;
        case REC_NODE:
            have = ld->n_nodes, cap = ld->cold.n_nodes, what = "node";
            break;
        default:
            have = ld->n_leaves, cap = ld->cold.n_leaves, what = "leaf";
            break;
    }
    if (have >= cap) {
        FAIL(ML_E_VALUE, "one %s line more than the header (line %lu) declares: %lu", what,
            (unsigned long)ld->header_line, (unsigned long)cap);
    }
    return ML_OK;
}

static int emlearn_field(ml_trees_loader_t *ld, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    ml_trees_t *m = &ld->model;
    uint32_t v;
    int r;
    if (f->index > 1 && ld->record != REC_EM_OTHER) {
        FAIL(ML_E_FORMAT, "expected one value after '%s', got more", ld->record == REC_EM_ROOT
            ? "r" : ld->record == REC_EM_FEATURES ? "f" : ld->record == REC_EM_CLASSES ? "c" : "lb");
    }
    switch (ld->record) {
        case REC_EM_FEATURES:
            r = field_uint(ld, "n_features", 1, MAX_FEATURES, &v, err);
            if (r) {
                return r;
            }
            if (ld->has_memory && v != m->h.n_features) {
                FAIL(ML_E_STATE, "the file changed between the two reading passes");
            }
            m->h.n_features = v;
            return ML_OK;
        case REC_EM_CLASSES:
            r = field_uint(ld, "n_classes", 0, 65535, &v, err);
            if (r) {
                return r;
            }
            if (!ld->has_memory) {
                m->h.n_classes = (uint16_t)v;
            }
            ld->header_fields = 1;
            return ML_OK;
        case REC_EM_LEAF_BITS:
            r = field_uint(ld, "leaf bits", 0, 32, &v, err);
            if (r) {
                return r;
            }
            if (v != 0 && v != 32) {
                FAIL(ML_E_VALUE, "emlearn leaf bits %lu is not supported (0 or 32 are)",
                    (unsigned long)v);
            }
            // As n_classes: the last value of the counting pass holds for the whole file (the
            // checks at its end are about that value, and leaves are read with it).
            if (!ld->has_memory) {
                ld->emlearn_leaf_bits = (uint8_t)v;
            }
            return ML_OK;
        case REC_EM_ROOT:
            if (ld->has_memory) {
                return field_root(ld, &ld->cold.tree_root[ld->n_roots], err);
            }
            return ML_OK;
        default:
            return ML_OK;  // other records of newer emlearn versions are ignored, as it does
    }
}

static int on_field(ml_trees_loader_t *ld, int last, ml_error_t *err) {
    const ml_fields_t *f = &ld->fields;
    ml_trees_t *m = &ld->model;
    int r = ML_OK;
    if (f->too_long) {
        FAIL(ML_E_FORMAT, "a value longer than %d characters", ML_FIELD_MAX);
    }
    if (f->index == 0) {
        r = begin_record(ld, err);
        if (r) {
            return r;
        }
    } else {
        switch (ld->record) {
            case REC_MAGIC: {
                uint32_t version;
                if (f->index > 1) {
                    FAIL(ML_E_FORMAT, "first line: expected 'microlearn-trees,<version>'");
                }
                r = field_uint(ld, "format version", 0, 0xffff, &version, err);
                if (r) {
                    return r;
                }
                if (version != ML_TREES_FORMAT_VERSION) {
                    FAIL(ML_E_VALUE, "format version %lu is not supported (this reader knows %d)",
                        (unsigned long)version, ML_TREES_FORMAT_VERSION);
                }
                break;
            }
            case REC_HEADER:
                r = header_field(ld, err);
                break;
            case REC_LABELS: {
                int32_t v;
                if (f->index > m->h.n_classes) {
                    FAIL(ML_E_FORMAT, "labels: expected %lu, got more",
                        (unsigned long)m->h.n_classes);
                }
                if (ml_parse_int(f->text, &v)) {
                    FAIL(ML_E_FORMAT, "label: expected an integer, got '%s'", f->text);
                }
                ((int32_t *)ld->cold.labels)[f->index - 1] = v;
                break;
            }
            case REC_BASELINE:
                if (f->index > m->h.n_outputs) {
                    FAIL(ML_E_FORMAT, "baseline: expected %lu values, got more",
                        (unsigned long)m->h.n_outputs);
                }
                r = field_double(ld, "baseline", &ld->cold.baseline[f->index - 1], err);
                if (!r && !(ld->cold.baseline[f->index - 1] - ld->cold.baseline[f->index - 1]
                    == 0.0)) {
                    FAIL(ML_E_VALUE, "baseline: must be finite, got '%s'", f->text);
                }
                break;
            case REC_TREE: {
                uint32_t v;
                if (f->index == 1) {
                    r = field_root(ld, &v, err);
                    ld->cold.tree_root[ld->n_roots] = v;
                } else if (f->index == 2) {
                    uint32_t max = m->h.leaf_width == 1 ? m->h.n_outputs - 1 : 0;
                    r = field_uint(ld, "tree output", 0, max, &v, err);
                    m->tree_output[ld->n_roots] = v;
                } else {
                    FAIL(ML_E_FORMAT, "tree: expected 2 values, got more");
                }
                break;
            }
            case REC_NODE:
                r = node_field(ld, err);
                break;
            case REC_LEAF:
                r = leaf_field(ld, err);
                break;
            default:
                r = emlearn_field(ld, err);
                break;
        }
        if (r) {
            return r;
        }
    }
    if (!last) {
        return ML_OK;
    }

    // End of a record: check its length and count it.
    uint32_t need = 0;
    const char *what = "";
    switch (ld->record) {
        case REC_MAGIC:
            need = 2, what = "first";
            break;
        case REC_HEADER:
            need = 11, what = "header";
            break;
        case REC_LABELS:
            need = m->h.n_classes + 1, what = "labels";
            ld->n_labels++;
            break;
        case REC_BASELINE:
            need = m->h.n_outputs + 1, what = "baseline";
            ld->n_baseline++;
            break;
        case REC_TREE:
            need = 3, what = "tree";
            ld->n_roots++;
            break;
        case REC_NODE:
            need = ld->format == FORMAT_EMLEARN ? 5 : (m->h.flags & ML_TREES_ACCEPT_NAN) ? 6 : 5;
            what = "node";
            ld->n_nodes++;
            break;
        case REC_LEAF:
            need = ld->format == FORMAT_EMLEARN ? 2 : m->h.leaf_width + 1, what = "leaf";
            ld->n_leaves++;
            break;
        case REC_EM_ROOT:
            ld->n_roots++;
            need = 2, what = "root";
            break;
        case REC_EM_FEATURES:
        case REC_EM_CLASSES:
        case REC_EM_LEAF_BITS:
            need = 2, what = "metadata";
            break;
        default:
            need = f->index + 1;
            break;
    }
    if (f->index + 1 != need) {
        FAIL(ML_E_FORMAT, "%s line: expected %lu fields, got %lu", what, (unsigned long)need,
            (unsigned long)(f->index + 1));
    }
    ld->last_line = f->line;
    if (ld->record == REC_HEADER) {
        r = check_header(ld, err);
        return r ? r : ML_TREES_NEED_MEMORY;
    }
    return ML_OK;
}

int ml_trees_loader_feed(ml_trees_loader_t *ld, const char *data, size_t len, size_t *consumed,
    ml_error_t *err) {
    size_t i = 0;
    int r = ML_OK;
    while (i < len) {
        ml_field_event_t ev = ml_fields_push(&ld->fields, data[i++]);
        // Stop at the first sign of a wrong file rather than read it to its end (which a stream
        // may not have): a value that is already too long, or a long run of bytes that holds
        // no record (only blanks or comments).
        if (ld->fields.overflow) {
            r = ml_error_set(err, ML_E_FORMAT, ld->fields.next_line,
                "a value longer than %d characters", ML_FIELD_MAX);
            break;
        }
        if (ev == ML_FIELD_NONE) {
            if (++ld->idle_bytes > ML_TREES_MAX_IDLE) {
                r = ml_error_set(err, ML_E_FORMAT, ld->fields.next_line,
                    "%lu bytes without a record (only blanks or comments)",
                    (unsigned long)ML_TREES_MAX_IDLE);
                break;
            }
        } else {
            ld->idle_bytes = 0;
            if (ld->format == FORMAT_MICROLEARN && ld->header_line && !ld->has_memory
                && ld->record != REC_HEADER) {
                return ml_error_set(err, ML_E_STATE, ld->fields.line,
                    "model memory was not provided after the header");
            }
            r = on_field(ld, ev == ML_FIELD_LAST, err);
            if (r) {
                break;
            }
        }
    }
    if (consumed) {
        *consumed = i;
    }
    return r;
}

static int check_model(ml_trees_loader_t *ld, ml_error_t *err) {
    const ml_trees_t *m = &ld->model;
    const ml_trees_header_t *h = &m->h;
    // what the file has and what the header declares, in one loop (names: the words of one
    // string)
    const uint32_t have[5] = { ld->n_roots, ld->n_nodes, ld->n_leaves, ld->n_baseline,
        ld->n_labels };
    const uint32_t need[5] = { h->n_trees, ld->cold.n_nodes, ld->cold.n_leaves,
        h->aggregate == ML_TREES_SUM ? 1u : 0u, (h->flags & ML_TREES_HAS_LABELS) ? 1u : 0u };
    static const char names[] = "trees\0nodes\0leaves\0baseline lines\0label lines";
    for (int i = 0; i < 5; i++) {
        if (have[i] != need[i]) {
            return ml_error_set(err, ML_E_TRUNCATED, ld->last_line, "expected %lu %s (header "
                "line %lu), the file has %lu", (unsigned long)need[i], nth_word(names, i),
                (unsigned long)ld->header_line, (unsigned long)have[i]);
        }
    }
    return ML_OK;
}

int ml_trees_loader_finish(ml_trees_loader_t *ld, ml_error_t *err) {
    ml_fields_t *f = &ld->fields;
    if (ml_fields_end(f) != ML_FIELD_NONE) {
        int r = on_field(ld, 1, err);
        if (r == ML_TREES_NEED_MEMORY) {
            return ml_error_set(err, ML_E_TRUNCATED, f->line, "the file ends after the header");
        }
        if (r) {
            return r;
        }
    }
    if (ld->format == FORMAT_UNKNOWN) {
        return ml_error_set(err, ML_E_TRUNCATED, 0, "the model file is empty");
    }
    if (ld->format == FORMAT_MICROLEARN) {
        if (!ld->header_line) {
            return ml_error_set(err, ML_E_TRUNCATED, f->line, "no header line 'h' in the file");
        }
        int r = check_model(ld, err);
        if (r == ML_OK) {
            make_fixed(&ld->model, ld->cold.n_leaves);
        }
        return r;
    }

    // emlearn CSV
    ml_trees_header_t *h = &ld->model.h;
    if (ld->pass == 1) {
        if (!h->n_features || !ld->header_fields) {
            return ml_error_set(err, ML_E_TRUNCATED, f->line, "emlearn CSV: no 'f' or 'c' line");
        }
        if (!ld->n_roots || !ld->n_leaves) {
            return ml_error_set(err, ML_E_TRUNCATED, f->line, "emlearn CSV: no %s",
                ld->n_roots ? "leaves" : "trees");
        }
        if (h->n_classes == 0 && ld->emlearn_leaf_bits != 32) {
            return ml_error_set(err, ML_E_VALUE, f->line,
                "emlearn CSV: a regressor (c,0) needs leaf bits 32");
        }
        if (h->n_classes == 1 || (h->n_classes > 1 && ld->emlearn_leaf_bits != 0)) {
            return ml_error_set(err, ML_E_VALUE, f->line,
                "emlearn CSV: classifiers with leaf bits 0 and at least 2 classes are supported");
        }
        h->n_trees = ld->n_roots;
        ld->cold.n_nodes = ld->n_nodes;
        ld->cold.n_leaves = ld->n_leaves;
        h->n_outputs = h->n_classes ? h->n_classes : (uint16_t)1;
        h->leaf_width = h->n_outputs;
        h->aggregate = ML_TREES_MEAN;
        h->link = ML_TREES_LINK_NONE;
        h->flags = ML_TREES_ACCEPT_INF;
        if (ml_trees_memory_size(h, ld->cold.n_nodes, ld->cold.n_leaves) == 0) {
            return ml_error_set(err, ML_E_VALUE, f->line, "the model would need more than 2 GiB");
        }
        // Count again while filling, from a fresh tokenizer.
        uint8_t bits = ld->emlearn_leaf_bits;
        ld->pass = 2;
        ld->n_roots = ld->n_nodes = ld->n_leaves = 0;
        ld->emlearn_leaf_bits = bits;
        ml_fields_init(f);
        return ML_TREES_REWIND;
    }
    if (ld->n_roots != h->n_trees || ld->n_nodes != ld->cold.n_nodes
        || ld->n_leaves != ld->cold.n_leaves) {
        return ml_error_set(err, ML_E_STATE, f->line,
            "the file changed between the two reading passes");
    }
    make_fixed(&ld->model, ld->cold.n_leaves);
    return ML_OK;
}

#undef FAIL

static int give_memory(ml_trees_loader_t *ld, void *memory, size_t memory_size, ml_error_t *err) {
    size_t need = ml_trees_loader_memory_size(ld);
    if (need > memory_size) {
        return ml_error_set(err, ML_E_SIZE, ld->fields.line, "the model needs %lu bytes of "
            "memory, %lu were given", (unsigned long)need, (unsigned long)memory_size);
    }
    ml_trees_loader_set_memory(ld, memory);
    return ML_OK;
}

ml_status_t ml_trees_load_text(ml_trees_t *model, ml_trees_cold_t *cold, const char *text,
    size_t len, void *memory, size_t memory_size, ml_error_t *err) {
    ml_trees_loader_t ld;
    ml_trees_loader_init(&ld);
    for (int pass = 0; pass < 2; pass++) {
        size_t done = 0;
        while (done < len) {
            size_t used;
            int r = ml_trees_loader_feed(&ld, text + done, len - done, &used, err);
            done += used;
            if (r == ML_TREES_NEED_MEMORY) {
                r = give_memory(&ld, memory, memory_size, err);
            }
            if (r) {
                return (ml_status_t)r;
            }
        }
        int r = ml_trees_loader_finish(&ld, err);
        if (r == ML_TREES_REWIND) {
            r = give_memory(&ld, memory, memory_size, err);
            if (r) {
                return (ml_status_t)r;
            }
            continue;
        }
        if (r) {
            return (ml_status_t)r;
        }
        *model = ld.model;
        *cold = ld.cold;
        model->cold = cold;
        return ML_OK;
    }
    return ml_error_set(err, ML_E_STATE, 0, "the model file needs more than two passes");
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif

// ---------------------------------------------------------------------------------------------
// Fixed-point leaf values
//
// A forest sums, per output, one leaf value of every tree, in double precision, as scikit-learn
// does. When the leaf values are all multiples of one power of two 2^-s and small enough to be
// int32 in units of 2^-s, every partial sum has fewer than 53 significant bits: the double
// additions are exact, and so are int64 additions of the units. The sums are then the same
// numbers, bit for bit, at a fraction of the cost on cores where a double addition is a library
// call. The converter stores such values as int32 (binary models); a text model's values are
// converted when it is loaded.

// v = mant * 2^exp with mant odd, or mant 0.
static void float_parts(float v, int32_t *mant, int32_t *exp) {
    uint32_t b = ml_float_to_bits(v);
    uint32_t e = (b >> 23) & 0xffu, m = b & 0x7fffffu;
    int32_t p = e ? (int32_t)e - 150 : -149;
    if (e) {
        m |= 0x800000u;
    }
    if (m == 0) {
        *mant = 0;
        *exp = 0;
        return;
    }
    while (!(m & 1)) {
        m >>= 1;
        p++;
    }
    *mant = (b & 0x80000000u) ? -(int32_t)m : (int32_t)m;
    *exp = p;
}

static int bit_length(uint32_t v) {
    int n = 0;
    while (v) {
        n++;
        v >>= 1;
    }
    return n;
}

// How a forest's values can be summed exactly in int64 units of 2^-shift: 1 as int32 units, 3 as
// uint32 units (non-negative values of 32 bits, the class fractions of most forests: a pure
// leaf's 1.0, added apart, may need more), 2 as float32 values turned into units as they are
// added (the others); 0 not at all (a partial sum could need more than the 53 bits of a double).
// one_too: 1.0 is a value too (pure leaves).
static int fixed_plan(const float *v, uint32_t n, uint32_t n_trees, int one_too, int *shift) {
    int32_t s = 0, mant, exp, bits = one_too, vbits = 0, negative = 0;
    for (uint32_t i = 0; i < n; i++) {
        float_parts(v[i], &mant, &exp);
        if (mant && -exp > s) {
            s = -exp;
        }
    }
    for (uint32_t i = 0; i < n; i++) {
        float_parts(v[i], &mant, &exp);
        if (mant) {
            int32_t b = bit_length((uint32_t)(mant < 0 ? -mant : mant)) + exp + s;
            vbits = b > vbits ? b : vbits;
            negative |= mant < 0;
        }
    }
    bits = vbits > bits ? vbits : bits;
    if (one_too && 1 + s > bits) {
        bits = 1 + s;
    }
    *shift = (int)s;
    if (bits + bit_length(n_trees) > 53 || s > 200) {
        return 0;
    }
    return bits <= 31 ? 1 : vbits <= 32 && !negative ? 3 : 2;
}

static void make_fixed(ml_trees_t *m, uint32_t n_leaves) {
    if (m->h.aggregate != ML_TREES_MEAN || m->value_fixed) {
        return;
    }
    float *v = m->values;
    const uint32_t n = n_leaves * m->h.leaf_width;
    int s;
    int plan = fixed_plan(v, n, m->h.n_trees, 0, &s);
    if (plan == 1 || plan == 3) {
        for (uint32_t i = 0; i < n; i++) {
            int32_t mant, exp;
            float_parts(v[i], &mant, &exp);
            uint32_t fixed = mant ? (uint32_t)mant << (exp + s) : 0;
            memcpy(&v[i], &fixed, sizeof(fixed));
        }
    }
    if (plan) {
        m->value_fixed = (uint8_t)plan;
        m->value_shift = (uint8_t)s;
    }
}

// A float32 value (bits b) in units of 2^-s, for values the loader found exact in them.
ML_TREES_INLINE int64_t float_units(uint32_t b, uint32_t s) {
    if (!(b << 1)) {
        return 0;  // +-0 (every other value's shift is below 32 either way)
    }
    uint32_t e = (b >> 23) & 0xffu, m = b & 0x7fffffu;
    int32_t sh = e ? (int32_t)e - 150 + (int32_t)s : -149 + (int32_t)s;
    if (e) {
        m |= 0x800000u;
    }
    uint64_t u = sh >= 0 ? (uint64_t)m << sh : (uint64_t)(m >> -sh);
    return (b & 0x80000000u) ? -(int64_t)u : (int64_t)u;
}

// Value j in units of 2^-value_shift (value_fixed 1, 2 or 3).
static inline int64_t value_units(const ml_trees_t *m, uint32_t j) {
    return m->value_fixed == 1 ? ((const int32_t *)m->values)[j]
        : m->value_fixed == 3 ? (int64_t)((const uint32_t *)m->values)[j]
        : float_units(ml_float_to_bits(((const float *)m->values)[j]), m->value_shift);
}

// 2^-s as a double (s < 1023).
static double pow2_neg(uint32_t s) {
    uint64_t bits = (uint64_t)(1023 - s) << 52;
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

double ml_trees_value_at(const ml_trees_t *m, uint32_t j) {
    if (m->value_fixed == 1) {
        return (double)((const int32_t *)m->values)[j] * pow2_neg(m->value_shift);
    }
    if (m->value_fixed == 3) {
        return (double)((const uint32_t *)m->values)[j] * pow2_neg(m->value_shift);
    }
    return (double)((const float *)m->values)[j];
}

// (the binary model's checks for size too, as the loader above)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC push_options
#pragma GCC optimize("no-thread-jumps", "no-schedule-insns2", "no-tree-dominator-opts", \
    "no-tree-loop-im")
#endif

// ---------------------------------------------------------------------------------------------
// Binary models

#define HEAD_SIZE (4 * H_AGGREGATE + (H_COUNT - H_AGGREGATE))

#define ID ML_BLOB_ID
#define OPEN_FAIL(...) return open_fail(err, __VA_ARGS__)

// ml_error_set for a format error of a binary model (no line): two arguments fewer at each of
// its forty call sites, so that their values go in registers rather than on the stack.
static ml_status_t __attribute__((noinline)) open_fail(ml_error_t *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ml_error_vset(err, ML_E_FORMAT, 0, fmt, ap);
    va_end(ap);
    return ML_E_FORMAT;
}

// A binary model's container and where its errors go: one argument for both in the many calls
// below.
typedef struct {
    ml_blob_t b;
    ml_error_t *err;
} opening_t;

static ml_status_t section(const opening_t *o, uint32_t id, size_t elem, uint32_t count,
    int needed, void **ptr) {
    ml_error_t *err = o->err;
    const void *p;
    uint32_t n;
    ml_status_t r = ml_blob_section(&o->b, id, elem, needed ? count : 0, count, &p, &n, err);
    if (r == ML_OK && needed && n != count) {
        r = ml_error_set(err, ML_E_FORMAT, 0, "section sizes disagree with the header");
    }
    if (r == ML_OK && !needed && n) {
        char name[5] = { (char)id, (char)(id >> 8), (char)(id >> 16), (char)(id >> 24), 0 };
        r = ml_error_set(err, ML_E_FORMAT, 0, "section '%s' is not used by this model", name);
    }
    *ptr = (void *)p;  // in place: never written
    return r;
}

// A section of any count (the arrays the header does not size).
static ml_status_t __attribute__((noinline)) section_any(const opening_t *o, uint32_t id,
    size_t elem, uint32_t min, void **ptr, uint32_t *count) {
    const void *p;
    ml_status_t r = ml_blob_section(&o->b, id, elem, min, 0xffffffffu, &p, count, o->err);
    *ptr = (void *)p;
    return r;
}

static int utf8_valid(const uint8_t *s, uint32_t n) {
    for (uint32_t i = 0; i < n;) {
        uint8_t c = s[i];
        uint32_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
            : (c & 0xf8) == 0xf0 ? 4 : 0;
        if (!len || (len == 2 && c < 0xc2) || i + len > n) {
            return 0;
        }
        uint32_t cp = len == 1 ? c : c & (0x7fu >> len);
        for (uint32_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return 0;
            }
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp < 0xe000)))
            || (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
            return 0;
        }
        i += len;
    }
    return 1;
}

static ml_status_t open_labels(const ml_trees_t *m, ml_trees_cold_t *cd, const opening_t *b) {
    ml_error_t *err = b->err;
    const uint32_t n = m->h.n_classes;
    void *p;
    uint32_t count;
    if (!(m->h.flags & ML_TREES_HAS_LABELS) != (m->label_kind == ML_TREES_LABELS_INDEX)) {
        OPEN_FAIL("head: label kind %u does not match the labels flag", m->label_kind);
    }
    switch (m->label_kind) {
        case ML_TREES_LABELS_INDEX:
            cd->labels = NULL;
            return section(b, ID('l', 'a', 'b', 'l'), 1, 0, 0, &p);
        case ML_TREES_LABELS_INT32:
        case ML_TREES_LABELS_INT64:
        case ML_TREES_LABELS_FLOAT64:
        case ML_TREES_LABELS_BOOL: {
            uint32_t size = m->label_kind == ML_TREES_LABELS_INT32 ? 4
                : m->label_kind == ML_TREES_LABELS_BOOL ? 1 : 8;
            if (section(b, ID('l', 'a', 'b', 'l'), size, n, 1, &cd->labels) != ML_OK) {
                return err->code;
            }
            if (m->label_kind == ML_TREES_LABELS_FLOAT64) {
                for (uint32_t k = 0; k < n; k++) {
                    double d;
                    memcpy(&d, (const uint8_t *)cd->labels + 8 * k, 8);
                    if (d != d) {
                        OPEN_FAIL("labels: label %lu is NaN", (unsigned long)k);
                    }
                }
            }
            if (m->label_kind == ML_TREES_LABELS_BOOL) {
                for (uint32_t k = 0; k < n; k++) {
                    if (((const uint8_t *)cd->labels)[k] > 1) {
                        OPEN_FAIL("labels: label %lu is not 0 or 1", (unsigned long)k);
                    }
                }
            }
            return ML_OK;
        }
        case ML_TREES_LABELS_STR: {
            // offsets[n + 1] into the text that follows them, in one section
            if (section_any(b, ID('l', 'a', 'b', 'l'), 1, 4 * (n + 1), &p, &count)) {
                return err->code;
            }
            const uint8_t *q = p;
            uint32_t text = 4 * (n + 1), prev = 0;
            for (uint32_t k = 0; k <= n; k++) {
                uint32_t off = ml_blob_u32(q + 4 * k);
                if (off < prev || off > count - text || (k == 0 && off != 0)
                    || (k == n && off != count - text)) {
                    OPEN_FAIL("labels: text offset %lu of label %lu is out of place",
                        (unsigned long)off, (unsigned long)k);
                }
                if (k && !utf8_valid(q + text + prev, off - prev)) {
                    OPEN_FAIL("labels: label %lu is not UTF-8 text", (unsigned long)(k - 1));
                }
                prev = off;
            }
            cd->labels = p;
            return ML_OK;
        }
        default:
            OPEN_FAIL("head: label kind %u is not one of 0 to 5", m->label_kind);
    }
}

// The sizes of a binary model's arrays that predicting does not need (only its checks do).
typedef struct {
    uint32_t n_thresholds, n_values, n_entries, n_lists;
    uint32_t n_pure;       // pure-leaf slots after each tree's list (0 or n_classes)
    uint32_t child_bytes;  // the head's width of a child reference (records too)
} counts_t;

// Every tree's references: children after their parent, leaves within its slots.
static ml_status_t check_trees(const ml_trees_t *m, const counts_t *c, ml_error_t *err) {
    const ml_trees_header_t *h = &m->h;
    for (uint32_t t = 0; t < h->n_trees; t++) {
        uint32_t first = m->tree_node[t], end = m->tree_node[t + 1];
        if (first > end || end > m->cold->n_nodes || (t == 0 && first != 0)
            || (t == h->n_trees - 1 && end != m->cold->n_nodes)) {
            OPEN_FAIL("tree %lu: nodes %lu to %lu are out of place", (unsigned long)t,
                (unsigned long)first, (unsigned long)end);
        }
        uint32_t slots;
        if (m->tree_list) {
            uint32_t lf = m->tree_list[t], le = m->tree_list[t + 1];
            if (lf > le || le > c->n_lists || (t == 0 && lf != 0)
                || (t == h->n_trees - 1 && le != c->n_lists)) {
                OPEN_FAIL("tree %lu: leaf list %lu to %lu is out of place", (unsigned long)t,
                    (unsigned long)lf, (unsigned long)le);
            }
            slots = le - lf + c->n_pure;
        } else {
            slots = m->cold->n_leaves;
        }
        uint32_t n_local = end - first;
        if (n_local == 0 && slots == 0) {
            OPEN_FAIL("tree %lu has neither nodes nor leaves", (unsigned long)t);
        }
        if ((uint64_t)n_local + slots > (c->child_bytes == 1 ? 0x100u : c->child_bytes == 2
            ? 0x10000u : 0xffffffffu)) {
            OPEN_FAIL("tree %lu: %lu nodes and %lu leaves do not fit %d-byte references",
                (unsigned long)t, (unsigned long)n_local, (unsigned long)slots,
                (int)c->child_bytes);
        }
        for (uint32_t i = 0; i < n_local; i++) {
            for (int side = 0; side < 2; side++) {
                uint32_t r = ml_trees_node_child(m, side, first + i);
                if (r < n_local ? r <= i : r - n_local >= slots) {
                    OPEN_FAIL("tree %lu node %lu: %s child %lu is %s", (unsigned long)t,
                        (unsigned long)i, side ? "left" : "right", (unsigned long)r,
                        r <= i ? "not after its parent" : "past the tree's leaves");
                }
            }
        }
        if (m->leaf_kind == ML_TREES_LEAF_DENSE && m->tree_output
            && m->tree_output[t] >= h->n_outputs) {
            OPEN_FAIL("tree %lu: output %lu does not exist", (unsigned long)t,
                (unsigned long)m->tree_output[t]);
        }
    }
    return ML_OK;
}

// Leaf list entry i and sparse entry i, for the checks: calls rather than a copy at each use
// (loading, not predicting).
static uint32_t __attribute__((noinline)) list_entry(const ml_trees_t *m, uint32_t i) {
    return ml_trees_bits_at(m->leaf_list, i, m->list_bits);
}

static uint32_t __attribute__((noinline)) leaf_entry(const ml_trees_t *m, uint32_t i) {
    return ml_trees_bits_at(m->entries, i, m->entry_bits);
}

// Leaf spans: the list's entries start each span and end the one before (list[n_lists] ends the
// last), every span has entries, its first is its top class (the largest value, the smallest
// class among equal ones), then the others in increasing class order, each once.
static ml_status_t check_spans(const ml_trees_t *m, const counts_t *c, ml_error_t *err) {
    const uint8_t *e = m->entries;
    uint32_t start = list_entry(m, 0);
    if (start != 0) {
        OPEN_FAIL("leaf list entry 0: span starts at %lu, not 0", (unsigned long)start);
    }
    for (uint32_t l = 0; l < c->n_lists; l++) {
        const uint32_t end = list_entry(m, l + 1);
        if (end <= start || end > c->n_entries || (l + 1 == c->n_lists && end != c->n_entries)) {
            OPEN_FAIL("leaf list entry %lu: span %lu to %lu is out of place", (unsigned long)l,
                (unsigned long)start, (unsigned long)end);
        }
        const uint32_t top = e[start];
        int64_t vt = 0;
        for (uint32_t i = start; i < end; i++) {
            const uint32_t k = e[i];
            if (k >= m->h.n_outputs) {
                OPEN_FAIL("leaf entry %lu: output %lu", (unsigned long)i, (unsigned long)k);
            }
            const int64_t vi = value_units(m, i);
            if (i == start) {
                vt = vi;
            } else if (k == top || vi > vt || (vi == vt && k < top)
                || (i > start + 1 && e[i - 1] >= k)) {
                OPEN_FAIL("leaf entry %lu: output %lu is not in order after the leaf's first, %lu",
                    (unsigned long)i, (unsigned long)k, (unsigned long)top);
            }
        }
        start = end;
    }
    if (c->n_lists == 0 && c->n_entries) {
        OPEN_FAIL("leaf spans: %lu entries and no leaf list", (unsigned long)c->n_entries);
    }
    return ML_OK;
}

static ml_status_t check_leaves(const ml_trees_t *m, const counts_t *c, ml_error_t *err) {
    const ml_trees_header_t *h = &m->h;
    if (m->leaf_kind == ML_TREES_LEAF_SPANS) {
        ml_status_t r = check_spans(m, c, err);
        if (r || m->value_fixed) {
            return r;  // (spans have integer units)
        }
    }
    // runs and pairs start with their top class; runs' entry i has value i
    const int runs = m->leaf_kind == ML_TREES_LEAF_RUNS;
    const int top_first = runs || m->leaf_kind == ML_TREES_LEAF_PAIRS;
    const uint32_t cmask = (1u << m->class_bits) - 1, vshift = 1u + m->class_bits;
    for (uint32_t i = 0; i < c->n_lists; i++) {
        uint32_t leaf = list_entry(m, i);
        // a run's first entry is its top class (tree_class reads it alone)
        if (leaf >= m->cold->n_leaves
            || (top_first && leaf && !(leaf_entry(m, leaf - 1) & 1))) {
            OPEN_FAIL("leaf list entry %lu: leaf %lu does not exist", (unsigned long)i,
                (unsigned long)leaf);
        }
    }
    uint32_t start = 0;  // the first entry of the current leaf
    for (uint32_t i = 0; i < c->n_entries; i++) {
        uint32_t e = leaf_entry(m, i);
        uint32_t k = (e >> 1) & cmask, v = runs ? i : e >> vshift;
        if (k >= h->n_outputs || v >= c->n_values || (i == c->n_entries - 1 && !(e & 1))) {
            OPEN_FAIL("leaf entry %lu: output %lu, value %lu%s", (unsigned long)i,
                (unsigned long)k, (unsigned long)v, e & 1 ? "" : ", not ending a leaf");
        }
        // A leaf lists each class once, in increasing order (what tree_class relies on); in
        // runs after its top class, the first largest value, which comes first.
        uint32_t prev = i > start ? (leaf_entry(m, i - 1) >> 1)
            & cmask : 0;
        if (i > start + (uint32_t)top_first && prev >= k) {
            OPEN_FAIL("leaf entry %lu: output %lu after output %lu in one leaf",
                (unsigned long)i, (unsigned long)k, (unsigned long)prev);
        }
        if (top_first && i > start) {
            const uint32_t f = leaf_entry(m, start);
            const uint32_t top = (f >> 1) & cmask;
            int64_t vt = value_units(m, runs ? start : f >> vshift), vi = value_units(m, v);
            if (k == top || vi > vt || (vi == vt && k < top)) {
                OPEN_FAIL("leaf entry %lu: output %lu is not below the leaf's first, %lu",
                    (unsigned long)i, (unsigned long)k, (unsigned long)top);
            }
        }
        if (e & 1) {
            start = i + 1;
        }
    }
    for (uint32_t j = 0; j < c->n_values; j++) {
        if (m->value_fixed == 1 || m->value_fixed == 3) {
            continue;  // any int32 or uint32 is a whole number of units, of at most 32 bits
        }
        float v = ((const float *)m->values)[j];
        if (!ml_isfinitef(v)) {
            OPEN_FAIL("value %lu is not finite", (unsigned long)j);
        }
        if (m->value_fixed == 2) {
            // exact in units of 2^-shift, with fewer than 53 bits
            int32_t mant, exp;
            float_parts(v, &mant, &exp);
            if (mant && (exp + (int32_t)m->value_shift < 0
                || bit_length((uint32_t)(mant < 0 ? -mant : mant)) + exp + m->value_shift > 53)) {
                OPEN_FAIL("value %lu is not a whole number of units of 2^-%u", (unsigned long)j,
                    m->value_shift);
            }
        }
    }
    return ML_OK;
}

// Whether predicting a class of this forest (forest_r8) may stop at the first class whose sum
// exceeds half of the most the trees can add in all, n_trees leaves of the largest total: then
// the other classes together end with less, and that class, whose sum only grows, is the first
// largest. That needs leaf values >= 0, and sums below 2^48 units (where the means of different
// sums differ; ml_trees_class_index). If so, sets that half, rounded up to 16 significant bits
// (vote_mant << vote_shift: a shift to predict, no multiplication), and the flag. (A leaf's
// total is 1.0, or a little more: float32 fractions rounded up; a pure leaf adds exactly 1.0.)
static void __attribute__((noinline)) set_vote_exit(ml_trees_t *m, const counts_t *c) {
    const ml_trees_header_t *h = &m->h;
    if (h->aggregate != ML_TREES_MEAN || h->link != ML_TREES_LINK_NONE
        || h->n_classes != h->n_outputs || m->value_fixed == 2 || m->value_shift > 40
        || (uint64_t)h->n_trees << (m->value_shift + 1) >= ((uint64_t)1 << 48)) {
        return;
    }
    const int64_t one = (int64_t)1 << m->value_shift, most = one + 65535;
    const int spans = m->leaf_kind == ML_TREES_LEAF_SPANS;
    const uint32_t vshift = 1u + m->class_bits;
    uint32_t next = spans && c->n_lists ? list_entry(m, 1) : 0, l = 1;
    int64_t mass = 0, top = one;  // of the current leaf, and the largest
    // (dense leaves of a forest_r8 model are all pure)
    for (uint32_t i = 0; m->leaf_kind != ML_TREES_LEAF_DENSE && i < c->n_entries; i++) {
        // (spans: list entries bound the leaves, entry i has value i; runs: value i too)
        const uint32_t e = spans ? 0 : leaf_entry(m, i);
        const uint32_t v = spans || m->leaf_kind == ML_TREES_LEAF_RUNS ? i : e >> vshift;
        const int64_t u = m->value_fixed == 1 ? ((const int32_t *)m->values)[v]
            : (int64_t)((const uint32_t *)m->values)[v];
        if (u < 0 || u > most || (mass += u) > most) {
            return;
        }
        if (spans ? i + 1 == next : (e & 1)) {
            top = mass > top ? mass : top;
            mass = 0;
            if (spans && ++l <= c->n_lists) {
                next = list_entry(m, l);
            }
        }
    }
    // (n_trees * one < 2^47 and top - one < 2^16: no overflow, and the sums stay below 2^48)
    const uint64_t half = ((uint64_t)h->n_trees * (uint64_t)top) >> 1;
    uint32_t shift = 0;
    while ((half >> shift) > 0xffff) {
        shift++;
    }
    const uint64_t mant = (half + ((uint64_t)1 << shift) - 1) >> shift;  // rounded up
    m->h.vote_shift = (uint8_t)(shift + (mant >> 16));  // (0x10000: one bit more)
    m->h.vote_mant = (uint16_t)(mant >> (mant >> 16));
    m->h.flags |= ML_TREES_VOTE_EXIT;
}

ml_status_t ml_trees_open(ml_trees_t *model, ml_trees_cold_t *cold, const void *data,
    size_t len, ml_error_t *err) {
    opening_t o;
    ml_trees_t m;
    ml_trees_cold_t cd;  // the cold part, here until the model is checked
    counts_t c = { 0, 0, 0, 0, 0, 0 };
    memset(&m, 0, sizeof(m));
    memset(&cd, 0, sizeof(cd));
    m.cold = &cd;
    o.err = err;
    if (ml_blob_open(&o.b, data, len, ML_BLOB_KIND_TREES, ML_TREES_BLOB_VERSION, err) != ML_OK) {
        return err->code;
    }
    void *p;
    if (section(&o, ID('h', 'e', 'a', 'd'), HEAD_SIZE, 1, 1, &p) != ML_OK) {
        return err->code;
    }
    uint32_t hv[H_COUNT];
    for (int i = 0; i < H_COUNT; i++) {
        hv[i] = i < H_AGGREGATE ? ml_blob_u32((const uint8_t *)p + 4 * i)
            : ((const uint8_t *)p)[4 * H_AGGREGATE + (i - H_AGGREGATE)];
    }
    ml_trees_header_t *h = &m.h;
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
        uint32_t v = hv[ranges[i].field];
        if (v < ranges[i].lo || v > ranges[i].hi) {
            OPEN_FAIL("head: %s: expected %lu to %lu, got %lu", nth_word(range_names, i),
                (unsigned long)ranges[i].lo, (unsigned long)ranges[i].hi, (unsigned long)v);
        }
    }
    h->n_features = hv[H_FEATURES];
    h->n_classes = (uint16_t)hv[H_CLASSES];
    h->n_outputs = (uint16_t)hv[H_OUTPUTS];
    h->n_trees = hv[H_TREES];
    cd.n_nodes = hv[H_NODES];
    cd.n_leaves = hv[H_LEAVES];
    h->leaf_width = (uint16_t)hv[H_LEAF_WIDTH];
    h->aggregate = (uint8_t)hv[H_AGGREGATE];
    h->link = (uint8_t)hv[H_LINK];
    h->flags = (uint8_t)hv[H_FLAGS];
    if (validate_header(h, cd.n_nodes, cd.n_leaves, 0, err) != ML_OK) {
        return err->code;
    }
    // Node records: feature, threshold index and child bits (0: arrays of each field).
    // (the widths of one layout are kept: records' bits, or arrays' bytes)
    m.node_layout = hv[H_RECORD_BITS] ? ML_TREES_NODES_RECORDS : ML_TREES_NODES_ARRAYS;
    const uint32_t fbits = hv[H_RECORD_BITS] & 0xffu, tbits = (hv[H_RECORD_BITS] >> 8) & 0xffu;
    const uint32_t cbits = hv[H_RECORD_BITS] >> 16;
    if (m.node_layout == ML_TREES_NODES_RECORDS && (cbits == 0 || fbits + tbits + 2 * cbits > 32)) {
        OPEN_FAIL("head: node records of %u, %u and 2 x %u bits", (unsigned)fbits,
            (unsigned)tbits, (unsigned)cbits);
    }
    const uint32_t fbytes = hv[H_FEATURE_BYTES], tibytes = hv[H_THR_INDEX_BYTES];
    c.child_bytes = hv[H_CHILD_BYTES];
    if (m.node_layout == ML_TREES_NODES_RECORDS) {
        m.rec_fbits = (uint8_t)fbits;
        m.rec_tbits = (uint8_t)tbits;
        m.rec_cbits = (uint8_t)cbits;
    } else {
        m.feature_bytes = (uint8_t)fbytes;
        m.child_bytes = (uint8_t)c.child_bytes;
        m.thr_index_bytes = (uint8_t)tibytes;
    }
    m.leaf_kind = (uint8_t)hv[H_LEAF_KIND];
    m.value_fixed = (uint8_t)hv[H_VALUE_FIXED];
    m.value_shift = (uint8_t)hv[H_VALUE_SHIFT];
    m.list_bits = (uint8_t)hv[H_LIST_BITS];
    m.entry_bits = (uint8_t)hv[H_ENTRY_BITS];
    c.n_pure = hv[H_PURE];
    m.label_kind = (uint8_t)hv[H_LABELS];
    if (c.child_bytes == 3 || (fbytes == 1 && h->n_features > 256)) {
        OPEN_FAIL("head: %u-byte features or %u-byte references are not supported",
            (unsigned)fbytes, (unsigned)c.child_bytes);
    }
    if (c.n_pure && (c.n_pure != h->n_classes || !m.list_bits || h->aggregate != ML_TREES_MEAN
        || (m.value_fixed && m.value_shift > (m.value_fixed == 1 ? 30 : 52)))) {
        OPEN_FAIL("head: pure leaves need a forest classifier with leaf lists");
    }
    if (m.value_fixed && h->aggregate != ML_TREES_MEAN) {
        OPEN_FAIL("head: fixed-point values need aggregate 'mean'");
    }
    if (m.leaf_kind == ML_TREES_LEAF_SPARSE) {
        m.class_bits = (uint8_t)bit_length(h->n_outputs - 1);
        if (h->leaf_width != h->n_outputs || h->n_outputs < 2
            || m.entry_bits < m.class_bits + 2) {
            OPEN_FAIL("head: sparse leaves of %lu outputs in %u bits", (unsigned long)h->n_outputs,
                m.entry_bits);
        }
    } else if (m.leaf_kind == ML_TREES_LEAF_RUNS || m.leaf_kind == ML_TREES_LEAF_PAIRS) {
        // a byte per entry (bit 0 ends its leaf, then the class) and its own 32-bit units
        // (runs), or that byte and a value index byte (pairs)
        m.class_bits = 7;
        if (h->leaf_width != h->n_outputs || h->n_outputs < 2 || h->n_outputs > 128
            || m.entry_bits != (m.leaf_kind == ML_TREES_LEAF_RUNS ? 8 : 16)
            || (m.value_fixed != 1 && m.value_fixed != 3)) {
            OPEN_FAIL("head: leaf %s of %lu outputs in %u bits, fixed values %u",
                m.leaf_kind == ML_TREES_LEAF_RUNS ? "runs" : "pairs",
                (unsigned long)h->n_outputs, m.entry_bits, m.value_fixed);
        }
    } else if (m.leaf_kind == ML_TREES_LEAF_SPANS) {
        // a class byte per entry, and its own 32-bit units
        m.class_bits = 8;
        if (h->leaf_width != h->n_outputs || h->n_outputs < 2 || h->n_outputs > 256
            || m.entry_bits != 8 || !m.list_bits || (m.value_fixed != 1 && m.value_fixed != 3)) {
            OPEN_FAIL("head: leaf spans of %lu outputs in %u bits, fixed values %u, list bits %u",
                (unsigned long)h->n_outputs, m.entry_bits, m.value_fixed, m.list_bits);
        }
    } else if (m.entry_bits) {
        OPEN_FAIL("head: entry bits for dense leaves");
    }

    const uint32_t nn = cd.n_nodes, nt = h->n_trees;
    const int rec = m.node_layout == ML_TREES_NODES_RECORDS;
    // (arrays that share a pointer in the model are read apart, then the used one is kept)
    void *nodes, *feature, *thr_index, *threshold16, *tree_output, *entries;
    ml_status_t r;
    if ((r = open_labels(&m, &cd, &o))
        || (r = section(&o, ID('b', 'a', 's', 'e'), 8, h->n_outputs,
            h->aggregate == ML_TREES_SUM, (void **)&cd.baseline))
        || (r = section(&o, ID('t', 'n', 'o', 'd'), 4, nt + 1, 1, (void **)&m.tree_node))
        || (r = section(&o, ID('t', 'l', 's', 't'), 4, nt + 1, m.list_bits != 0,
            (void **)&m.tree_list))
        || (r = section(&o, ID('t', 'o', 'u', 't'), 4, nt,
            h->leaf_width == 1 && h->n_outputs > 1, &tree_output))
        || (r = section(&o, ID('n', 'o', 'd', 'e'), 4, nn, rec && nn, &nodes))
        || (r = section(&o, ID('f', 'e', 'a', 't'), fbytes, nn, !rec && nn, &feature))
        || (r = section(&o, ID('t', 'h', 'r', 'i'), tibytes ? tibytes : 1, nn,
            !rec && tibytes && nn, &thr_index))
        || (r = section_any(&o, ID('t', 'h', 'r', 'k'), 4, 0, (void **)&m.threshold,
            &c.n_thresholds))
        || (r = section(&o, ID('l', 'e', 'f', 't'), c.child_bytes, nn, !rec && nn, &cd.left))
        || (r = section(&o, ID('r', 'g', 'h', 't'), c.child_bytes, nn, !rec && nn, &cd.right))
        || (r = section(&o, ID('m', 'i', 's', 's'), 1, (nn + 7) / 8,
            (h->flags & ML_TREES_ACCEPT_NAN) && nn, (void **)&cd.missing_left))
        || (r = section_any(&o, ID('v', 'a', 'l', 'u'), 4, 0, &m.values, &c.n_values))) {
        return r;
    }
    // Thresholds for int16 features (records, optional): as many as the float keys.
    uint32_t n16 = 0;
    if ((r = section_any(&o, ID('t', 'h', 'r', 's'), 4, 0, &threshold16, &n16))) {
        return r;
    }
    if (n16 && (!rec || n16 != c.n_thresholds)) {
        OPEN_FAIL("section 'thrs': %lu thresholds, expected %lu", (unsigned long)n16,
            (unsigned long)(rec ? c.n_thresholds : 0));
    }
    // Packed arrays: as many bytes as their entries need, and 3 more.
    c.n_lists = m.list_bits ? m.tree_list[nt] : 0;
    c.n_entries = m.leaf_kind != ML_TREES_LEAF_DENSE ? cd.n_leaves : 0;
    if (((uint64_t)c.n_lists + 1) * m.list_bits >= 0xfffffff0u
        || (uint64_t)c.n_entries * m.entry_bits >= 0xfffffff0u) {
        OPEN_FAIL("leaf lists or entries of more than 2^32 bits");
    }
    // (spans: the list has an entry more, where the last span ends)
    const uint32_t spans = m.leaf_kind == ML_TREES_LEAF_SPANS;
    uint32_t list_size = ((c.n_lists + spans) * m.list_bits + 7) / 8 + 3;
    uint32_t entry_size = (c.n_entries * m.entry_bits + 7) / 8 + 3;
    if ((r = section(&o, ID('l', 'i', 's', 't'), list_size, 1, c.n_lists + spans != 0,
            &m.leaf_list))
        || (r = section(&o, ID('e', 'n', 't', 'r'), entry_size, 1, c.n_entries != 0, &entries))) {
        return r;
    }
    if (rec) {
        m.nodes = nodes;
        m.threshold16 = threshold16;
    } else {
        m.feature = feature;
        m.thr_index = thr_index;
    }
    if (m.leaf_kind != ML_TREES_LEAF_DENSE) {
        m.entries = entries;
    } else {
        m.tree_output = tree_output;
    }
    // What the header does not size must agree with it.
    if (rec ? c.n_thresholds == 0 && nn : m.thr_index_bytes
        ? c.n_thresholds > (m.thr_index_bytes == 1 ? 256u : 65536u) : c.n_thresholds != nn) {
        OPEN_FAIL("section 'thrk': %lu thresholds for %lu nodes", (unsigned long)c.n_thresholds,
            (unsigned long)nn);
    }
    for (uint32_t i = 0; i < c.n_thresholds; i++) {
        int32_t t = m.threshold[i];
        if ((uint32_t)(t < 0 ? ~t : t) > 0x7f800000u) {
            OPEN_FAIL("threshold %lu is NaN (key %ld)", (unsigned long)i, (long)t);
        }
    }
    for (uint32_t i = 0; i < nn; i++) {
        if (ml_trees_node_feature(&m, i) >= h->n_features
            || ml_trees_node_threshold_index(&m, i) >= c.n_thresholds) {
            OPEN_FAIL("node %lu: feature %lu or threshold %lu does not exist", (unsigned long)i,
                (unsigned long)ml_trees_node_feature(&m, i),
                (unsigned long)ml_trees_node_threshold_index(&m, i));
        }
    }
    if ((m.leaf_kind == ML_TREES_LEAF_RUNS || m.leaf_kind == ML_TREES_LEAF_SPANS)
        && c.n_values != c.n_entries) {
        OPEN_FAIL("leaves: %lu values for %lu leaf entries", (unsigned long)c.n_values,
            (unsigned long)c.n_entries);
    }
    if (m.leaf_kind == ML_TREES_LEAF_DENSE
        && (uint64_t)c.n_values != (uint64_t)cd.n_leaves * h->leaf_width) {
        OPEN_FAIL("leaves: %lu values for %lu dense leaves of %lu", (unsigned long)c.n_values,
            (unsigned long)cd.n_leaves, (unsigned long)h->leaf_width);
    }
    if ((r = check_trees(&m, &c, err)) || (r = check_leaves(&m, &c, err))) {
        return r;
    }
    m.forest_r8 = m.node_layout == ML_TREES_NODES_RECORDS && m.rec_fbits == 8
        && m.rec_tbits == 8 && m.rec_cbits == 8 && m.tree_list
        && (m.leaf_kind != ML_TREES_LEAF_DENSE || c.n_lists == 0) && m.value_fixed && c.n_pure;
    if (m.forest_r8 && !c.n_lists) {
        m.forest_r8 += FOREST_PURE;  // every leaf pure
    } else if (m.forest_r8) {
        // the loop for its impure leaves (forest_i16). Spans and pairs have integer units
        // (value_fixed 1 or 3). Spans of int32 units that are all >= 0, as a classifier's are,
        // add as uint32 units do (one loop for both: less flash; spans of negative units take
        // the generic loop). Pairs keep a loop per unit type: Cortex-M3's uint32 one spills a
        // register.
        int u32 = m.value_fixed == 3;
        if (m.value_fixed == 1 && m.leaf_kind == ML_TREES_LEAF_SPANS) {
            const int32_t *v = m.values;
            uint32_t j = 0;
            while (j < c.n_values && v[j] >= 0) {
                j++;
            }
            u32 = j == c.n_values;
        }
        m.forest_r8 += m.leaf_kind == ML_TREES_LEAF_SPANS ? (u32 ? FOREST_SPAN : 0)
            : m.leaf_kind == ML_TREES_LEAF_PAIRS ? (u32 ? FOREST_PAIR_U32 : FOREST_PAIR_I32) : 0;
    }
    if (m.forest_r8) {
        set_vote_exit(&m, &c);
    }
    // (forest_span32_*: 1.0 a whole number of 2^16 units, sums below 2^48 units, lists of 8 or
    // 16 bits, as small forests have)
    if (ML_TREES_SUMS32 && m.forest_r8 == 1 + FOREST_SPAN && (m.h.flags & ML_TREES_VOTE_EXIT)
        && m.h.n_trees > 1
        && m.value_shift >= 16 && m.h.vote_shift <= 31 && (m.list_bits == 8 || m.list_bits == 16)) {
        m.forest_r8 = 1 + FOREST_SPAN32;
    }
    m.acc = NULL;
    *cold = cd;
    // (node arrays have their children there, even a model of no nodes: the walks read them)
    m.cold = !rec || cd.missing_left || cd.labels || cd.baseline ? cold : NULL;
    *model = m;
    return ML_OK;
}

size_t ml_trees_workspace_size(const ml_trees_header_t *h) {
    return (size_t)h->n_outputs * 8;
}

void ml_trees_set_workspace(ml_trees_t *m, void *workspace) {
    m->acc = workspace;
}

void ml_trees_blob_cold(const void *data, ml_trees_cold_t *cold) {
    // The container was checked when the model was opened: its table is read as it is, each
    // array where ml_trees_open found it (none for an empty section).
    static const uint32_t ids[5] = { ID('l', 'e', 'f', 't'), ID('r', 'g', 'h', 't'),
        ID('m', 'i', 's', 's'), ID('l', 'a', 'b', 'l'), ID('b', 'a', 's', 'e') };
    void *arrays[5] = { NULL, NULL, NULL, NULL, NULL };
    const uint8_t *d = data;
    const uint32_t n = ml_blob_u16(d + 18);
    memset(cold, 0, sizeof(*cold));
    for (uint32_t i = 0; i < n; i++) {
        const uint8_t *e = d + ML_BLOB_HEADER_SIZE + ML_BLOB_SECTION_SIZE * i;
        const uint32_t id = ml_blob_u32(e), off = ml_blob_u32(e + 4), size = ml_blob_u32(e + 8);
        if (id == ID('h', 'e', 'a', 'd')) {
            cold->n_nodes = ml_blob_u32(d + off + 4 * H_NODES);
            cold->n_leaves = ml_blob_u32(d + off + 4 * H_LEAVES);
        }
        for (int k = 0; k < 5; k++) {
            if (id == ids[k] && size) {
                arrays[k] = (void *)(d + off);  // in place: never written
            }
        }
    }
    cold->left = arrays[0];
    cold->right = arrays[1];
    cold->missing_left = arrays[2];
    cold->labels = arrays[3];
    cold->baseline = arrays[4];
}

#undef OPEN_FAIL
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC pop_options
#endif
#undef ID

// ---------------------------------------------------------------------------------------------
// Prediction

// Walks tree nodes (arrays offset to the tree's first node) from ref while ref is a node of
// the tree, for a sample x of x_t features (float32 without NaN, or int16), each made a key by
// KEY at its node; returns the leaf slot's reference. One variant per array widths, so the loop
// reads its arrays directly.
#define KEY_F32(v) key_from_bits(ml_float_to_bits(v))
#define KEY_I16(v) key_from_i16(v)
#define DEFINE_WALK(name, feature_t, child_t, index_t, x_t, KEY) \
    static uint32_t name(const ml_trees_t *m, uint32_t base, uint32_t n_local, uint32_t ref, \
        const void *x) { \
        const feature_t *feature = (const feature_t *)m->feature + base; \
        const child_t *left = (const child_t *)m->cold->left + base; \
        const child_t *right = (const child_t *)m->cold->right + base; \
        const int32_t *threshold = m->threshold; \
        const index_t *index = m->thr_index ? (const index_t *)m->thr_index + base : NULL; \
        const x_t *xs = x; \
        if (sizeof(index_t) == 4) { \
            threshold += base; \
        } \
        while (ref < n_local) { \
            int32_t t = sizeof(index_t) == 4 ? threshold[ref] : threshold[index[ref]]; \
            ref = KEY(xs[feature[ref]]) <= t ? left[ref] : right[ref]; \
        } \
        return ref; \
    }

// index_t uint32_t stands for "a threshold per node" (no index array). Children of 32 bits
// (trees of more than 65,536 nodes and leaves: models of hundreds of kilobytes, from hosts with
// that much RAM) take the walks of any layout, walk_missing and walk_i16 (half a kilobyte of
// machine code less in every import).
#define DEFINE_WALKS(f, feature_t) \
    DEFINE_WALK(walk_##f##_8_d, feature_t, uint8_t, uint32_t, float, KEY_F32) \
    DEFINE_WALK(walk_##f##_16_d, feature_t, uint16_t, uint32_t, float, KEY_F32) \
    DEFINE_WALK(walk_##f##_8_i8, feature_t, uint8_t, uint8_t, float, KEY_F32) \
    DEFINE_WALK(walk_##f##_16_i8, feature_t, uint16_t, uint8_t, float, KEY_F32) \
    DEFINE_WALK(walk_##f##_8_i16, feature_t, uint8_t, uint16_t, float, KEY_F32) \
    DEFINE_WALK(walk_##f##_16_i16, feature_t, uint16_t, uint16_t, float, KEY_F32) \
    DEFINE_WALK(walk_h_##f##_8_d, feature_t, uint8_t, uint32_t, int16_t, KEY_I16) \
    DEFINE_WALK(walk_h_##f##_16_d, feature_t, uint16_t, uint32_t, int16_t, KEY_I16)

DEFINE_WALKS(8, uint8_t)
DEFINE_WALKS(16, uint16_t)

typedef uint32_t (*walk_fn)(const ml_trees_t *m, uint32_t base, uint32_t n_local, uint32_t ref,
    const void *x);

static const walk_fn walks[2][3][2] = {
    { { walk_8_8_d, walk_8_16_d }, { walk_8_8_i8, walk_8_16_i8 }, { walk_8_8_i16, walk_8_16_i16 } },
    { { walk_16_8_d, walk_16_16_d }, { walk_16_8_i8, walk_16_16_i8 },
      { walk_16_8_i16, walk_16_16_i16 } },
};

// int16 samples, for the layout of text models (a threshold per node); other layouts without
// int16 thresholds take walk_i16.
static const walk_fn walks_h[2][2] = {
    { walk_h_8_8_d, walk_h_8_16_d },
    { walk_h_16_8_d, walk_h_16_16_d },
};

// Walks a tree of any layout: for a float32 sample with NaN features (models trained with
// missing values: a NaN goes to the node's missing-value side), or for int16 features against
// the float keys (models without int16 thresholds).
ML_TREES_INLINE uint32_t walk_any(const ml_trees_t *m, uint32_t base, uint32_t n_local,
    uint32_t ref, const void *x, int i16) {
    while (ref < n_local) {
        uint32_t i = base + ref, f = ml_trees_node_feature(m, i);
        int go_left;
        if (i16) {
            go_left = key_from_i16(((const int16_t *)x)[f]) <= ml_trees_node_threshold(m, i);
        } else {
            uint32_t b = ml_float_to_bits(((const float *)x)[f]);
            go_left = (b << 1) > 0xff000000u ? (m->cold->missing_left[i / 8] >> (i % 8)) & 1
                : key_from_bits(b) <= ml_trees_node_threshold(m, i);
        }
        ref = ml_trees_node_child(m, go_left, i);
    }
    return ref;
}

static uint32_t walk_missing(const ml_trees_t *m, uint32_t base, uint32_t n_local, uint32_t ref,
    const void *x) {
    return walk_any(m, base, n_local, ref, x, 0);
}

static uint32_t walk_i16(const ml_trees_t *m, uint32_t base, uint32_t n_local, uint32_t ref,
    const void *x) {
    return walk_any(m, base, n_local, ref, x, 1);
}

// (walk_missing reads no missing-value side for a sample without NaN)
static walk_fn choose_walk(const ml_trees_t *m) {
    return m->child_bytes <= 2 ? walks[m->feature_bytes - 1][m->thr_index_bytes][m->child_bytes - 1]
        : walk_missing;
}

static walk_fn choose_walk_i16(const ml_trees_t *m) {
    return m->node_layout == ML_TREES_NODES_ARRAYS && !m->thr_index_bytes && m->child_bytes <= 2
        ? walks_h[m->feature_bytes - 1][m->child_bytes - 1] : walk_i16;
}

// The packed bits at bit position pos (ml_trees_bits_at, with the position and mask kept by the
// caller's loop).
ML_TREES_INLINE uint32_t bits_from(const uint8_t *packed, uint32_t pos, uint32_t mask) {
    const uint8_t *p = packed + (pos >> 3);
    uint32_t w = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16)
        | ((uint32_t)p[3] << 24);
    return (w >> (pos & 7)) & mask;
}

// Adds the run of sparse entries of a leaf to the sums. A forest's impure leaves are most of its
// cost: one loop per value encoding and entry width, each with its conversion inlined and its
// state in registers. Entries of 16 bits (the converter pads 9 to 15 to it) are read as
// halfwords: about half the instructions of unpacking bits.
// Adds the run of class bytes from entry i (ML_TREES_LEAF_RUNS), each with its own units: a
// byte load, a word load and an addition per entry.
ML_TREES_INLINE void add_run(const ml_trees_t *m, uint64_t *acc, uint32_t i) {
    const uint8_t *k = (const uint8_t *)m->entries + i;
    uint32_t e;
    if (m->value_fixed == 3) {
        const uint32_t *v = (const uint32_t *)m->values + i;
        do {
            e = *k++;
            acc[e >> 1] += *v++;
        } while (!(e & 1));
    } else {
        const int32_t *v = (const int32_t *)m->values + i;
        do {
            e = *k++;
            acc[e >> 1] += (uint64_t)(int64_t)*v++;
        } while (!(e & 1));
    }
}

// Adds the span of entries first .. end - 1 (ML_TREES_LEAF_SPANS, end > first) to the sums: class
// bytes with their own uint32 (u32) or int32 units. Counted up to 0 from below the span's end: a
// byte load, a word load, an addition, an increment and a branch per entry.
ML_TREES_INLINE void add_span(const ml_trees_t *m, uint64_t *acc, uint32_t first, uint32_t end,
    int u32) {
    ptrdiff_t j = (ptrdiff_t)first - (ptrdiff_t)end;
    const uint8_t *k = (const uint8_t *)m->entries + end;
    if (u32) {
        const uint32_t *v = (const uint32_t *)m->values + end;
        do {
            acc[k[j]] += v[j];
        } while (++j);
    } else {
        const int32_t *v = (const int32_t *)m->values + end;
        do {
            acc[k[j]] += (uint64_t)(int64_t)v[j];
        } while (++j);
    }
}

// Adds the run of (class byte, value index byte) pairs from entry i (ML_TREES_LEAF_PAIRS): two
// byte loads and no bit unpacking per entry.
ML_TREES_INLINE void add_pairs(const ml_trees_t *m, uint64_t *acc, uint32_t i, int u32) {
    const uint8_t *p = (const uint8_t *)m->entries + 2 * i;
    uint32_t e;
    if (u32) {
        const uint32_t *units = m->values;
        do {
            e = p[0];
            acc[e >> 1] += units[p[1]];
            p += 2;
        } while (!(e & 1));
    } else {
        const int32_t *units = m->values;
        do {
            e = p[0];
            acc[e >> 1] += (uint64_t)(int64_t)units[p[1]];
            p += 2;
        } while (!(e & 1));
    }
}

// The span of leaf list entry li (any list width).
static void __attribute__((noinline)) add_span_at(const ml_trees_t *m, uint32_t li) {
    const uint32_t first = ml_trees_bits_at(m->leaf_list, li, m->list_bits);
    const uint32_t end = ml_trees_bits_at(m->leaf_list, li + 1, m->list_bits);
    add_span(m, (uint64_t *)(void *)m->acc, first, end, m->value_fixed == 3);
}

#define SPARSE_LOOP(ADD) \
    if (bits == 16) { \
        const uint8_t *p = entries + 2 * i; \
        do { \
            e = (uint32_t)p[0] | ((uint32_t)p[1] << 8); \
            p += 2; \
            ADD; \
        } while (!(e & 1)); \
    } else { \
        uint32_t pos = i * bits; \
        do { \
            e = bits_from(entries, pos, emask); \
            pos += bits; \
            ADD; \
        } while (!(e & 1)); \
    }

// Sparse entries of int32 units packed in any width (larger forests, whose leaves share few
// values): first, with little to set up.
ML_TREES_INLINE void add_entries_i32(const ml_trees_t *m, uint64_t *acc, uint32_t i) {
    const uint32_t bits = m->entry_bits, vshift = 1u + m->class_bits;
    const uint32_t emask = (1u << bits) - 1, cmask = (1u << m->class_bits) - 1;
    const uint8_t *entries = m->entries;
    const int32_t *units = m->values;
    uint32_t pos = i * bits, e;
    do {
        e = bits_from(entries, pos, emask);
        pos += bits;
        acc[(e >> 1) & cmask] += (uint64_t)(int64_t)units[e >> vshift];
    } while (!(e & 1));
}

static void __attribute__((noinline)) add_sparse_other(const ml_trees_t *m, uint32_t i) {
    const uint32_t bits = m->entry_bits, cb = m->class_bits, cmask = (1u << cb) - 1;
    const uint32_t emask = (1u << bits) - 1, vshift = 1 + cb;
    const uint8_t *entries = m->entries;
    uint32_t e;
    // Sums of units in uint64 (two's complement wraps, so a crafted model cannot make them
    // overflow into undefined behaviour; a converted model's sums stay below 2^53).
    uint64_t *acc64 = (uint64_t *)(void *)m->acc;
    if (m->leaf_kind == ML_TREES_LEAF_RUNS) {
        add_run(m, acc64, i);
    } else if (m->leaf_kind == ML_TREES_LEAF_PAIRS) {
        add_pairs(m, acc64, i, m->value_fixed == 3);
    } else if (m->value_fixed == 3) {
        const uint32_t *units = m->values;
        SPARSE_LOOP(acc64[(e >> 1) & cmask] += units[e >> vshift]);
    } else if (m->value_fixed) {
#if defined(__x86_64__) || defined(__aarch64__)
        // With a double FPU: v * 2^s is an integer below 2^53 (the loader checked), exact in a
        // double, and converted exactly; three instructions instead of unpacking the float.
        const float *values = m->values;
        const double scale = (double)((uint64_t)1 << m->value_shift);
        SPARSE_LOOP(acc64[(e >> 1) & cmask]
            += (uint64_t)(int64_t)((double)values[e >> vshift] * scale));
#else
        const uint32_t *vbits = m->values, s = m->value_shift;
        SPARSE_LOOP(acc64[(e >> 1) & cmask] += (uint64_t)float_units(vbits[e >> vshift], s));
#endif
    } else {
        // (the double additions cost far more than unpacking the bits: one loop for any width)
        const float *values = m->values;
        double *acc = m->acc;
        uint32_t pos = i * bits;
        do {
            e = bits_from(entries, pos, emask);
            pos += bits;
            acc[(e >> 1) & cmask] += (double)values[e >> vshift];
        } while (!(e & 1));
    }
}
#undef SPARSE_LOOP

// Apart from the other encodings, whose set-up GCC would otherwise hoist into this path.
static void __attribute__((noinline)) add_sparse(const ml_trees_t *m, uint32_t i) {
    if (m->value_fixed == 1 && m->leaf_kind == ML_TREES_LEAF_SPARSE) {
        add_entries_i32(m, (uint64_t *)(void *)m->acc, i);
    } else {
        add_sparse_other(m, i);
    }
}

// The impure leaf of leaf list entry li, of any kind (a call: the loop calling it keeps its
// registers).
static void __attribute__((noinline)) add_impure(const ml_trees_t *m, uint32_t li) {
    if (m->leaf_kind == ML_TREES_LEAF_SPANS) {
        add_span_at(m, li);
    } else {
        add_sparse(m, ml_trees_bits_at(m->leaf_list, li, m->list_bits));
    }
}

// Adds the leaf_width values of a dense leaf to the sums, from output `out`.
static void add_dense(const ml_trees_t *m, uint32_t leaf, uint32_t out) {
    const uint32_t width = m->h.leaf_width;
    if (m->value_fixed) {
        uint64_t *acc = (uint64_t *)(void *)m->acc + out;
        for (uint32_t k = 0; k < width; k++) {
            acc[k] += (uint64_t)value_units(m, leaf * width + k);
        }
        return;
    }
    const float *v = (const float *)m->values + (size_t)leaf * width;
    double *acc = m->acc + out;
    for (uint32_t k = 0; k < width; k++) {
        // Adding 0 changes nothing (the sums start at +0 or the baseline, and +0 + -0 is +0),
        // and a forest's leaves are mostly zeros: skipping them saves a double addition, a
        // hundred instructions on a core without an FPU.
        if (ml_float_to_bits(v[k]) << 1) {
            acc[k] += (double)v[k];
        }
    }
}

// Adds leaf slot `slot` of tree t to the sums.
static inline void add_leaf(const ml_trees_t *m, uint32_t t, uint32_t slot) {
    uint32_t leaf = slot;
    if (m->list_bits) {
        const uint32_t first = m->tree_list[t], n_list = m->tree_list[t + 1] - first;
        if (slot >= n_list) {
            // A pure leaf: probability 1 for one class, 0 for the others (most leaves of a
            // forest). Fixed-point values then have a shift of at most 30.
            if (m->value_fixed) {
                ((uint64_t *)(void *)m->acc)[slot - n_list] += (uint64_t)1 << m->value_shift;
            } else {
                m->acc[slot - n_list] += 1.0;
            }
            return;
        }
        if (m->leaf_kind == ML_TREES_LEAF_SPANS) {
            add_span_at(m, first + slot);
            return;
        }
        leaf = ml_trees_bits_at(m->leaf_list, first + slot, m->list_bits);
    }
    if (m->leaf_kind != ML_TREES_LEAF_DENSE) {
        add_sparse(m, leaf);
    } else {
        add_dense(m, leaf, m->tree_output ? m->tree_output[t] : 0);
    }
}

// A loop, not a call to memset (which a native module reaches through a table, and x64 turns
// into a string instruction): the sums are a few words.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif
static void init_sums(const ml_trees_t *m) {
    const ml_trees_header_t *h = &m->h;
    const uint32_t n = h->n_outputs;
    if (m->value_fixed) {
        // a pointer loop: a few instructions per output, which is most of the per-call cost of
        // a small forest
        int64_t *acc = (int64_t *)(void *)m->acc, *end = acc + n;
        do {  // n_outputs >= 1
            *acc++ = 0;
        } while (acc < end);
    } else if (h->aggregate == ML_TREES_SUM) {
        double *acc = m->acc;
        const double *baseline = m->cold->baseline;
        for (uint32_t k = 0; k < n; k++) {
            acc[k] = baseline[k];
        }
    } else {
        double *acc = m->acc;
        for (uint32_t k = 0; k < n; k++) {
            acc[k] = 0.0;
        }
    }
}

// Node records: a node is one 32-bit load. x is the sample: float32 bits, made keys at the node
// (against the float keys), or int16 features (against threshold16). One walk for 8-bit fields
// (constant shifts), one for the model's own widths; each is a function of few arguments, so
// that its loop keeps everything in registers (Cortex-M0 has eight).
#define KEY_I16_THR16(v) ((int32_t)(v))  // against threshold16: the feature itself
#if defined(__SSE2__)
// two sums in one 16-byte store (sums are 8-byte aligned only)
typedef uint64_t sums2_t __attribute__((vector_size(16), aligned(8), may_alias));
#endif
// Zeroes the n >= 1 int64 sums, two at a time, or with SSE2 four in two stores (a loop, not a
// call to memset, which a native module reaches through a table; the sums are a few words).
ML_TREES_INLINE void zero_sums(uint64_t *acc, uint32_t n) {
    uint64_t *const end = acc + n;
#if defined(__SSE2__)
    uint64_t *p = acc + (n & 1);
    acc[0] = 0;  // n odd: the first alone (n even: written twice, a store less than a test)
    if (n & 2) {
        *(sums2_t *)(void *)p = (sums2_t){ 0, 0 };
        p += 2;
    }
    if (n > 3) {
        do {  // four sums in two stores, tested at the loop's end
            *(sums2_t *)(void *)p = (sums2_t){ 0, 0 };
            *(sums2_t *)(void *)(p + 2) = (sums2_t){ 0, 0 };
            p += 4;
        } while (p < end);
    }
#else
    if (n & 1) {
        *acc++ = 0;
    }
    while (acc < end) {
        acc[0] = 0;
        acc[1] = 0;
        acc += 2;
    }
#endif
}

// A node of 8-bit records reads its fields as the record's bytes (little-endian, as all of the
// model): one load each, no shifts.
#define DEFINE_WALK_R8(name, x_t, KEY) \
    static uint32_t __attribute__((noinline)) name(const uint32_t *node, uint32_t n_local, \
        const x_t *x, const int32_t *thr) { \
        uint32_t ref = 0; \
        if (n_local) { \
            do { \
                const uint8_t *r = (const uint8_t *)(node + ref); \
                ref = KEY(x[r[0]]) <= thr[r[1]] ? r[2] : r[3]; \
            } while (ref < n_local); \
        } \
        return ref; \
    }

DEFINE_WALK_R8(walk_r8_f32, float, KEY_F32)
DEFINE_WALK_R8(walk_r8_i16, int16_t, KEY_I16_THR16)

#define DEFINE_WALK_PACKED(name, x_t, KEY) \
    static uint32_t __attribute__((noinline)) name(const ml_trees_t *m, const uint32_t *node, \
        uint32_t n_local, const x_t *x, const int32_t *thr) { \
        const uint32_t fb = m->rec_fbits, tb = m->rec_tbits, cb = m->rec_cbits; \
        const uint32_t fmask = (1u << fb) - 1, tmask = (1u << tb) - 1, cmask = (1u << cb) - 1; \
        const uint32_t ls = fb + tb, rs = fb + tb + cb; \
        uint32_t ref = 0; \
        while (ref < n_local) { \
            const uint32_t w = node[ref]; \
            ref = KEY(x[w & fmask]) <= thr[(w >> fb) & tmask] ? (w >> ls) & cmask \
                : (w >> rs) & cmask; \
        } \
        return ref; \
    }

DEFINE_WALK_PACKED(walk_packed_f32, float, KEY_F32)
DEFINE_WALK_PACKED(walk_packed_i16, int16_t, KEY_I16_THR16)

// Leaf list entry li: lists of 8 or 16 bits are read as bytes or halfwords.
ML_TREES_INLINE uint32_t list_at(const void *list, uint32_t li, uint32_t bits) {
    const uint8_t *p = list;
    if (bits == 8) {
        return p[li];
    }
    if (bits == 16) {
        return ((const uint16_t *)list)[li];  // aligned: the section starts at a multiple of 8
    }
    return ml_trees_bits_at(list, li, bits);
}

// The usual forest classifier: 8-bit node records, per-tree leaf lists with pure leaves, sparse
// impure leaves or runs, integer sums. One loop for all, the walk inlined (ADD_IMPURE adds the
// impure leaf whose first entry is i): the per-tree work outside the walk is a few loads.
// (Loops test at their end: at -Os a loop testing first costs a jump more per iteration.)
// The walk inlined where registers are many (x64); a call elsewhere, whose loop then has the
// registers to itself (Cortex-M3 would keep the sample and thresholds on the stack).
#if defined(__x86_64__) || defined(__aarch64__)
#define FOREST_WALK_CALL 0
#if defined(__GNUC__) && !defined(__clang__)
// each arm of the walk with its own test (GCC would merge them), the sums zeroed by stores
// (not memset)
#define FOREST_ATTR __attribute__((noinline, \
    optimize("no-crossjumping", "no-tree-loop-distribute-patterns")))
#else
#define FOREST_ATTR __attribute__((noinline))
#endif
// A forest loop per leaf list width (16, 8, other), whose entries are then read with no test
// of the width (a few instructions per impure leaf; code size is no concern here).
#define FOREST_BYTE_LISTS 1
#if defined(__GNUC__)
#define FOREST_LIKELY(c) __builtin_expect((c), 1)
#else
#define FOREST_LIKELY(c) (c)
#endif
#else
#define FOREST_WALK_CALL 1
#define FOREST_ATTR __attribute__((noinline))
#define FOREST_BYTE_LISTS 0
#define FOREST_LIKELY(c) (c)
#endif
// The tree's node pointer kept as such: otherwise GCC adds the tree's first node index to each
// node's index and scales the sum, an instruction more per node.
#if defined(__GNUC__)
#define OPAQUE(p) __asm__("" : "+r"(p))
#else
#define OPAQUE(p) (void)(p)
#endif
// The walk inlined in the forest loop: each arm with its own test (no jump from one arm to the
// other's).
#define WALK_INLINE_C(KEY, node, n_local, x, thr, ref) do { \
        if (FOREST_LIKELY(n_local != 0)) { /* (0: a single-leaf tree) */ \
            for (;;) { \
                const uint8_t *r = (const uint8_t *)(node + ref); \
                if (KEY(x[r[0]]) <= thr[r[1]]) { \
                    if ((ref = r[2]) >= n_local) { \
                        break; \
                    } \
                } else if ((ref = r[3]) >= n_local) { \
                    break; \
                } \
            } \
        } \
} while (0)
#define WALK_INLINE_KEY_F32(node, n_local, x, thr, ref) \
    WALK_INLINE_C(KEY_F32, node, n_local, x, thr, ref)
// (not under AddressSanitizer, which does not see an asm's loads: the C walk is what it checks)
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ML_TREES_NO_ASM 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define ML_TREES_NO_ASM 1
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !FOREST_WALK_CALL && !defined(ML_TREES_NO_ASM)
// On x64, the int16 walk addresses each field from the nodes and the node's index: GCC, at -Os,
// first computes the record's address, an instruction more per node (8 instead of 9: digits_rf's
// int16 predict 1,000 -> 952 x64 instructions, small_rf 780 -> 766, python -m benchmarks.trees).
// Same steps as WALK_INLINE_C: x[feature] <= thr[index] goes left.
#define WALK_INLINE_KEY_I16_THR16(node, n_local, x, thr, ref) do { \
        uintptr_t r_ = 0, f_; \
        int32_t v_; \
        __asm__ ( \
            "testl %[n], %[n]\n\t" /* (0: a single-leaf tree) */ \
            "jz 3f\n" \
            "1:\n\t" \
            "movzbl (%[nd],%[r],4), %k[f]\n\t" \
            "movswl (%[x],%[f],2), %[v]\n\t" \
            "movzbl 1(%[nd],%[r],4), %k[f]\n\t" \
            "cmpl (%[thr],%[f],4), %[v]\n\t" \
            "jg 2f\n\t" \
            "movzbl 2(%[nd],%[r],4), %k[r]\n\t" \
            "cmpl %[n], %k[r]\n\t" \
            "jb 1b\n\t" \
            "jmp 3f\n" \
            "2:\n\t" \
            "movzbl 3(%[nd],%[r],4), %k[r]\n\t" \
            "cmpl %[n], %k[r]\n\t" \
            "jb 1b\n" \
            "3:" \
            : [r] "+r"(r_), [f] "=&r"(f_), [v] "=&r"(v_) \
            : [nd] "r"(node), [x] "r"(x), [thr] "r"(thr), [n] "r"(n_local), \
              /* (what it reads: the arrays, at most of this size) */ \
              "m"(*(const uint8_t (*)[1u << 24])(const void *)(node)), \
              "m"(*(const uint8_t (*)[1u << 24])(const void *)(x)), \
              "m"(*(const uint8_t (*)[1u << 24])(const void *)(thr)) \
            : "cc"); \
        ref = (uint32_t)r_; \
} while (0)
#else
#define WALK_INLINE_KEY_I16_THR16(node, n_local, x, thr, ref) \
    WALK_INLINE_C(KEY_I16_THR16, node, n_local, x, thr, ref)
#endif
#define DEFINE_FOREST_R8(name, KEY, WALK, x_t, ADD_IMPURE) \
    ML_TREES_INLINE uint32_t name##_trees(const ml_trees_t *m, const x_t *x, \
        const int32_t *thr, uint64_t *acc, const uint32_t lb, const uint64_t half) { \
        const uint32_t *tn = m->tree_node, *const tn_end = tn + m->h.n_trees; \
        const uint32_t *tl = m->tree_list, *const nodes = m->nodes; \
        const uint64_t one = (uint64_t)1 << m->value_shift; \
        const void *const list = FOREST_BYTE_LISTS ? m->leaf_list : NULL; \
        (void)lb; /* (read by the impure leaves of lists only) */ \
        (void)list; \
        do { /* n_trees >= 1 */ \
            uint32_t n_local = tn[1] - tn[0]; \
            const uint32_t *node = nodes + tn[0]; \
            OPAQUE(node); \
            if (!FOREST_WALK_CALL) { \
                OPAQUE(n_local); /* (else x64 keeps both bounds across the walk) */ \
            } \
            uint32_t ref = 0; \
            if (FOREST_WALK_CALL) { \
                ref = WALK(node, n_local, x, thr); \
            } else { \
                WALK_INLINE_##KEY(node, n_local, x, thr, ref); \
            } \
            /* slot ref - n_local (< 256) of the tree's list entries tl[0] .. tl[1] - 1 */ \
            const uint32_t li = tl[0] + (ref - n_local); \
            if (li < tl[1]) { /* (the impure leaf first: the pure one jumps) */ \
                ADD_IMPURE; \
            } else { /* pure leaves follow the list */ \
                uint64_t *const s = acc + (li - tl[1]); \
                *s += one; \
                if (*s > half) { /* a majority of the whole forest's vote */ \
                    return (uint32_t)(s - acc) + 1; \
                } \
            } \
            tl++; \
        } while (++tn < tn_end); \
        return 0; \
    } \
    static uint32_t FOREST_ATTR name(const ml_trees_t *m, const x_t *x, const int32_t *thr, \
        uint64_t half) { \
        uint64_t *acc = (uint64_t *)(void *)m->acc; \
        zero_sums(acc, m->h.n_outputs); \
        if (FOREST_BYTE_LISTS && LISTS_##ADD_IMPURE && m->list_bits == 16) { \
            return name##_trees(m, x, thr, acc, 16, half); \
        } else if (FOREST_BYTE_LISTS && LISTS_##ADD_IMPURE && m->list_bits == 8) { \
            return name##_trees(m, x, thr, acc, 8, half); \
        } \
        return name##_trees(m, x, thr, acc, 0, half); \
    }

// The impure leaves of list entry li: a loop per kind (forest_r8 says which), so that the loop
// over the trees tests nothing per leaf and calls nothing (its registers are its own).
#define ADD_ANY add_impure(m, li)
#define ADD_NONE (void)li
#define LB (lb ? lb : m->list_bits)
// (the list's address in a register where registers are many)
#define LIST (FOREST_BYTE_LISTS ? list : m->leaf_list)
#define ADD_SPAN(u32) do { \
        add_span(m, acc, list_at(LIST, li, LB), list_at(LIST, li + 1, LB), u32); \
} while (0)
// Pairs start with their leaf's top class: the one whose sum may now hold a majority (the vote
// exit, as after a pure leaf). (Spans, the encoding of small forests of shallow trees, whose
// leaves have many classes, seldom reach one before the last trees: not worth the test.)
#define ADD_PAIRS(u32) do { \
        const uint32_t first_ = list_at(LIST, li, LB); \
        add_pairs(m, acc, first_, u32); \
        const uint32_t top_ = ((const uint8_t *)m->entries)[2 * first_] >> 1; \
        if (acc[top_] > half) { \
            return top_ + 1; \
        } \
} while (0)
// Whether ADD_<kind> reads the leaf list (then the forest has a loop per list width)
#define LISTS_ADD_ANY 0
#define LISTS_ADD_NONE 0
#define LISTS_ADD_SPAN(u32) 1
#define LISTS_ADD_PAIRS(u32) 1

// The forest loops of one sample type (sfx: i16 or f32), and forest_<sfx>, which runs the
// model's (forest_r8: 1 + FOREST_*). Packed sparse entries (large forests, whose leaves are mostly
// pure) take the generic loop, a call per impure leaf: 350 bytes less machine code per sample
// type, which every import copies into RAM.
#define DEFINE_FORESTS(sfx, KEY, WALK, x_t) \
    DEFINE_FOREST_R8(forest_any_##sfx, KEY, WALK, x_t, ADD_ANY) \
    DEFINE_FOREST_R8(forest_pure_##sfx, KEY, WALK, x_t, ADD_NONE) \
    DEFINE_FOREST_R8(forest_span_##sfx, KEY, WALK, x_t, ADD_SPAN(1)) \
    DEFINE_FOREST_R8(forest_pair_u32_##sfx, KEY, WALK, x_t, ADD_PAIRS(1)) \
    DEFINE_FOREST_R8(forest_pair_i32_##sfx, KEY, WALK, x_t, ADD_PAIRS(0)) \
    static uint32_t (*const forests_##sfx[])(const ml_trees_t *, const x_t *, const int32_t *, \
        uint64_t) = { \
        forest_any_##sfx, forest_span_##sfx, forest_pair_u32_##sfx, forest_pair_i32_##sfx, \
        forest_pure_##sfx, forest_span_##sfx, \
    }; \
    ML_TREES_INLINE uint32_t forest_##sfx(const ml_trees_t *m, const x_t *x, \
        const int32_t *thr, uint64_t half) { \
        return forests_##sfx[m->forest_r8 - 1](m, x, thr, half); \
    }

// int16 samples (the fast path: predict of an int16 sample) and float32 samples; predicting a
// class of either may stop at a majority.
DEFINE_FORESTS(i16, KEY_I16_THR16, walk_r8_i16, int16_t)
DEFINE_FORESTS(f32, KEY_F32, walk_r8_f32, float)

// The class of a forest of spans (small forests of shallow trees, whose leaves hold several
// classes each) from 32-bit sums (FOREST_SPAN32): each value, in units of 2^-s (s >= 16), is
// added as its upper halfword, the value >> 16 (a halfword load: no shift), and 1.0 as
// 2^(s - 16). No sum passes 32 bits (the most any class can reach is below 2^48 units: vote_shift
// <= 31), and each falls short of its exact value >> 16 by less than the number of trees, so a
// class that leads every other by at least that is the exact first largest (a lead of n_trees x
// 2^(16 - s), 1.5e-5 x n_trees for s = 32). Otherwise (near ties) 0: the caller adds the exact
// sums. The vote exit compares with half >> 16, rounded down: a sum above it is an exact sum
// above half. The sums are written over the model's. (The loop is DEFINE_FOREST_R8's, apart:
// 32-bit sums, a loop per list width, and no value kept across the walk's call, each worth
// Cortex-M3 instructions per tree.)
#if ML_TREES_SUMS32
// The first largest of n sums plus 1, if it leads every other by at least margin; else 0.
// (Most sums are below the second largest so far: one test.)
#define TOP32_STEP(q) do { \
        const uint32_t v_ = *(q); \
        if (v_ > second) { \
            if (v_ > best) { \
                second = best; \
                best = v_; \
                top = (q); \
            } else { \
                second = v_; \
            } \
        } \
} while (0)
static uint32_t top32(const uint32_t *a, uint32_t n, uint32_t margin) {
    const uint32_t *p = a + 1 + !(n & 1), *const end = a + n, *top = a;
    uint32_t best = a[0], second = 0;
    if (!(n & 1)) {  // (n even: one, then two at a time)
        TOP32_STEP(a + 1);
    }
    for (; p < end; p += 2) {
        TOP32_STEP(p);
        TOP32_STEP(p + 1);
    }
    return best - second >= margin ? (uint32_t)(top - a) + 1 : 0;
}

#define DEFINE_FOREST_SPAN32(sfx, WALK, x_t) \
    ML_TREES_INLINE uint32_t span32_trees_##sfx(const ml_trees_t *m, const x_t *x, \
        const int32_t *thr, uint32_t *const acc, const uint32_t lb, const uint32_t one, \
        const uint32_t half) { \
        const uint32_t *tn = m->tree_node, *const tn_end = tn + m->h.n_trees; \
        const uint32_t *tl = m->tree_list, *const nodes = m->nodes; \
        const void *const list = m->leaf_list; \
        do { /* n_trees >= 1 */ \
            const uint32_t n_local = tn[1] - tn[0]; \
            /* (the walk a call: the loop keeps its registers) */ \
            const uint32_t slot = WALK(nodes + tn[0], n_local, x, thr) - n_local; \
            const uint32_t li = tl[0] + slot; \
            if (li < tl[1]) { \
                /* (as add_span: from the span's end, j < 0 counting up; value j's upper \
                   halfword is halfword 2 j + 1, little-endian) */ \
                const uint32_t end = list_at(list, li + 1, lb); \
                ptrdiff_t j = (ptrdiff_t)list_at(list, li, lb) - (ptrdiff_t)end; \
                const uint8_t *const k = (const uint8_t *)m->entries + end; \
                const uint16_t *const v = (const uint16_t *)m->values + 2 * end + 1; \
                do { \
                    acc[k[j]] += v[2 * j]; \
                } while (++j); \
            } else { \
                uint32_t *const s = acc + (li - tl[1]); \
                if ((*s += one) > half) { \
                    return (uint32_t)(s - acc) + 1; \
                } \
            } \
            tl++; \
        } while (++tn < tn_end); \
        return 0; \
    } \
    static uint32_t __attribute__((noinline)) forest_span32_##sfx(const ml_trees_t *m, \
        const x_t *x, const int32_t *thr) { \
        uint32_t *const acc = (uint32_t *)(void *)m->acc; \
        const uint32_t n = m->h.n_outputs, vs = m->h.vote_shift; \
        zero_sums((uint64_t *)(void *)acc, (n + 1) / 2); \
        const uint32_t one = 1u << (m->value_shift - 16); \
        const uint32_t half = vs >= 16 ? (uint32_t)m->h.vote_mant << (vs - 16) \
            : (uint32_t)m->h.vote_mant >> (16 - vs); \
        const uint32_t r = m->list_bits == 8 ? span32_trees_##sfx(m, x, thr, acc, 8, one, half) \
            : span32_trees_##sfx(m, x, thr, acc, 16, one, half); \
        return r ? r : top32(acc, n, m->h.n_trees); \
    }

DEFINE_FOREST_SPAN32(i16, walk_r8_i16, int16_t)
DEFINE_FOREST_SPAN32(f32, walk_r8_f32, float)
#endif


// Every tree of a model with node records; xf (float32 features) or x16 (int16 features, with
// threshold16) is the sample.
// A forest's pure leaves, most of its leaves, are added here, and its sparse leaves go straight
// to add_sparse: the per-tree work outside the walk is a few loads.
static void eval_records(const ml_trees_t *m, const float *xf, const int16_t *x16) {
    const int32_t *thr = x16 ? m->threshold16 : m->threshold;
    if (m->forest_r8) {
        if (x16) {
            (void)forest_i16(m, x16, thr, UINT64_MAX);  // (every tree: no sum exceeds that)
        } else {
            (void)forest_f32(m, xf, thr, UINT64_MAX);
        }
        return;
    }
    init_sums(m);
    const uint32_t *tree_node = m->tree_node, *tree_list = m->tree_list;
    const uint32_t *nodes = m->nodes;
    const int r8 = m->rec_fbits == 8 && m->rec_tbits == 8 && m->rec_cbits == 8;
    const int fixed = m->value_fixed;
    const int sparse = m->leaf_kind != ML_TREES_LEAF_DENSE;
    // a pure leaf's 1.0 in units (the loader checked that it fits, for models with pure leaves)
    const uint64_t one = fixed && m->value_shift < 64 ? (uint64_t)1 << m->value_shift : 0;
    const uint32_t n_trees = m->h.n_trees, list_bits = m->list_bits;
    const void *leaf_list = m->leaf_list;
    uint64_t *acc64 = (uint64_t *)(void *)m->acc;
    double *acc = m->acc;
    uint32_t base = tree_node[0];
    for (uint32_t t = 0; t < n_trees; t++) {
        const uint32_t end = tree_node[t + 1], n_local = end - base;
        const uint32_t *node = nodes + base;
        base = end;
        uint32_t ref;
        if (r8) {
            ref = x16 ? walk_r8_i16(node, n_local, x16, thr) : walk_r8_f32(node, n_local, xf, thr);
        } else {
            ref = x16 ? walk_packed_i16(m, node, n_local, x16, thr)
                : walk_packed_f32(m, node, n_local, xf, thr);
        }
        const uint32_t slot = ref - n_local;
        if (tree_list) {
            const uint32_t first = tree_list[t], n_list = tree_list[t + 1] - first;
            if (slot >= n_list) {
                if (fixed) {
                    acc64[slot - n_list] += one;
                } else {
                    acc[slot - n_list] += 1.0;
                }
                continue;
            }
            if (m->leaf_kind == ML_TREES_LEAF_SPANS) {
                add_span_at(m, first + slot);
                continue;
            }
            if (sparse) {
                add_sparse(m, ml_trees_bits_at(leaf_list, first + slot, list_bits));
                continue;
            }
        }
        add_leaf(m, t, slot);
    }
}

// Evaluates every tree on the sample x (walk: how a tree reads it).
static void eval_walk(const ml_trees_t *m, walk_fn walk, const void *x) {
    const ml_trees_header_t *h = &m->h;
    // (a text model has its roots and its node count in the cold part, and no tree_node)
    const uint32_t *tree_root = m->cold ? m->cold->tree_root : NULL;
    const uint32_t n_nodes = m->tree_node ? 0 : m->cold->n_nodes;
    init_sums(m);
    for (uint32_t t = 0; t < h->n_trees; t++) {
        uint32_t base = 0, n_local = n_nodes;
        if (m->tree_node) {
            base = m->tree_node[t];
            n_local = m->tree_node[t + 1] - base;
        }
        uint32_t ref = walk(m, base, n_local, tree_root ? tree_root[t] : 0, x);
        add_leaf(m, t, ref - n_local);
    }
}

static ml_status_t check_length(const ml_trees_t *m, size_t n, ml_error_t *err) {
    if (m->h.n_features == 0 || m->acc == NULL) {
        return ml_error_set(err, ML_E_STATE, 0, "the model is not loaded");
    }
    if (n != m->h.n_features) {
        return ml_error_set(err, ML_E_SIZE, 0, "x has %lu values, the model expects %lu features",
            (unsigned long)n, (unsigned long)m->h.n_features);
    }
    return ML_OK;
}

// Checks a float32 sample for ml_trees_eval_f32 and ml_trees_predict_class_f32: its length, and
// NaN and inf against what the model accepts; *has_nan says whether it has NaN.
static ml_status_t check_f32(const ml_trees_t *m, const float *x, size_t n, int *has_nan,
    ml_error_t *err) {
    ml_status_t r = check_length(m, n, err);
    if (r) {
        return r;
    }
    // The walks take the features as they are; only NaN and inf need a look first. The
    // magnitude bits of a NaN or an inf are at least 0x7f800000: adding 2^23 sets bit 31. (No
    // branches; four features a step: the loop's own instructions were half of its cost.)
#define NONFINITE(i) ((ml_float_to_bits(x[i]) & 0x7fffffffu) + 0x00800000u)
    uint32_t any = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        any |= NONFINITE(i) | NONFINITE(i + 1) | NONFINITE(i + 2) | NONFINITE(i + 3);
    }
    for (; i < n; i++) {
        any |= NONFINITE(i);
    }
#undef NONFINITE
    *has_nan = 0;
    for (i = 0; (any & 0x80000000u) && i < n; i++) {
        uint32_t b = ml_float_to_bits(x[i]);
        if ((b & 0x7f800000u) == 0x7f800000u) {
            if (b & 0x007fffffu) {
                if (!(m->h.flags & ML_TREES_ACCEPT_NAN)) {
                    return ml_error_set(err, ML_E_INPUT, 0, "x[%lu] is NaN, which this model "
                        "does not accept (it was trained without missing values)",
                        (unsigned long)i);
                }
                if (m->cold == NULL) {
                    // (a caller that drops the cold part evaluates again with it)
                    return ml_error_set(err, ML_E_STATE, 0, "x[%lu] is NaN: the model's "
                        "missing-value sides are in its cold part, which it is without",
                        (unsigned long)i);
                }
                *has_nan = 1;
            } else if (!(m->h.flags & ML_TREES_ACCEPT_INF)) {
                return ml_error_set(err, ML_E_INPUT, 0, "x[%lu] is %cinf, which this model "
                    "does not accept", (unsigned long)i, (b & 0x80000000u) ? '-' : '+');
            }
        }
    }
    return ML_OK;
}

// Evaluates every tree on a float32 sample check_f32 accepted.
static void eval_checked_f32(const ml_trees_t *m, const float *x, int has_nan) {
    if (!has_nan && m->node_layout == ML_TREES_NODES_RECORDS) {
        eval_records(m, x, NULL);
    } else {
        eval_walk(m, has_nan ? walk_missing : choose_walk(m), x);
    }
}

ml_status_t ml_trees_eval_f32(const ml_trees_t *m, const float *x, size_t n, ml_error_t *err) {
    int has_nan;
    ml_status_t r = check_f32(m, x, n, &has_nan, err);
    if (r) {
        return r;
    }
    eval_checked_f32(m, x, has_nan);
    return ML_OK;
}

ml_status_t ml_trees_eval_i16(const ml_trees_t *m, const int16_t *x, size_t n, ml_error_t *err) {
    ml_status_t r = check_length(m, n, err);
    if (r) {
        return r;
    }
    if (m->node_layout == ML_TREES_NODES_RECORDS && m->threshold16) {
        // int16 features against thresholds for them: no conversion at all.
        eval_records(m, NULL, x);
    } else {
        eval_walk(m, choose_walk_i16(m), x);
    }
    return ML_OK;
}

double ml_trees_sum(const ml_trees_t *m, uint32_t k) {
    if (m->value_fixed) {
        return (double)((const int64_t *)(const void *)m->acc)[k] * pow2_neg(m->value_shift);
    }
    return m->acc[k];
}

// Output k as scikit-learn gives it: forests divide the sum by the number of trees.
static inline double output(const ml_trees_t *m, uint32_t k) {
    double s = ml_trees_sum(m, k);
    return m->h.aggregate == ML_TREES_MEAN ? s / (double)m->h.n_trees : s;
}

static uint32_t argmax(const double *v, uint32_t n) {
    uint32_t best = 0;
    for (uint32_t k = 1; k < n; k++) {
        if (v[k] > v[best]) {
            best = k;
        }
    }
    return best;
}

void ml_trees_proba(const ml_trees_t *m, float *out) {
    const ml_trees_header_t *h = &m->h;
    const double *acc = m->acc;
    if (h->link == ML_TREES_LINK_SIGMOID) {
        double p = 1.0 / (1.0 + ml_exp(-acc[0]));
        out[0] = (float)(1.0 - p);
        out[1] = (float)p;
    } else if (h->link == ML_TREES_LINK_SOFTMAX) {
        double top = acc[argmax(acc, h->n_outputs)];
        double sum = 0.0;
        for (uint32_t k = 0; k < h->n_outputs; k++) {
            sum += ml_exp(acc[k] - top);
        }
        for (uint32_t k = 0; k < h->n_outputs; k++) {
            out[k] = (float)(ml_exp(acc[k] - top) / sum);
        }
    } else {
        for (uint32_t k = 0; k < h->n_classes; k++) {
            out[k] = (float)output(m, k);
        }
    }
}

// a and b are within 8 units in the last place of each other (and of one sign).
static inline int near(double a, double b) {
    uint64_t ua, ub;
    memcpy(&ua, &a, sizeof(ua));
    memcpy(&ub, &b, sizeof(ub));
    return (ua >> 63) == (ub >> 63) && (ua > ub ? ua - ub : ub - ua) <= 8;
}

uint32_t ml_trees_class_index(const ml_trees_t *m) {
    const ml_trees_header_t *h = &m->h;
    if (h->link == ML_TREES_LINK_SIGMOID) {
        return (h->flags & ML_TREES_BINARY_GE) ? m->acc[0] >= 0.0 : m->acc[0] > 0.0;
    }
    if (m->value_fixed) {
        // The int64 sums are exact: the first largest is scikit-learn's, unless an earlier sum
        // a few units below divides by n_trees to the same double. Those only occur when the
        // sums have more than 48 significant bits.
        const int64_t *acc = (const int64_t *)(const void *)m->acc, *end = acc + h->n_outputs;
        const int64_t *top = acc;
        for (const int64_t *p = acc + 1; p < end; p++) {
            if (*p > *top) {
                top = p;
            }
        }
        const uint32_t best = (uint32_t)(top - acc);
        if (acc[best] >= ((int64_t)1 << 48)) {
            for (uint32_t k = 0; k < best; k++) {
                uint64_t diff = (uint64_t)acc[best] - (uint64_t)acc[k];
                if (diff <= ((uint64_t)acc[best] >> 48) && output(m, k) == output(m, best)) {
                    return k;
                }
            }
        }
        return best;
    }
    uint32_t best = argmax(m->acc, h->n_outputs);
    if (h->aggregate == ML_TREES_MEAN) {
        // scikit-learn takes the first largest of the means. Division is monotonic, so that is
        // `best`, unless an earlier sum a few ulps below rounds to the same mean: only such
        // near-ties need dividing (a division is hundreds of instructions without an FPU).
        for (uint32_t k = 0; k < best; k++) {
            if (near(m->acc[k], m->acc[best]) && output(m, k) == output(m, best)) {
                return k;
            }
        }
    }
    return best;
}

int32_t ml_trees_class_label(const ml_trees_t *m) {
    if (!m->h.n_classes) {
        return 0;
    }
    uint32_t k = ml_trees_class_index(m);
    return m->label_kind == ML_TREES_LABELS_INT32 ? ((const int32_t *)m->cold->labels)[k]
        : (int32_t)k;
}

// The usual forest classifier of a single tree (a decision tree): its class is the leaf's, or
// the first largest of the leaf's values (the absent classes' zeros are smaller when that value
// is positive; otherwise, from crafted values only, the sums decide). No sums at all.
static uint32_t __attribute__((noinline)) tree_class_i16(const ml_trees_t *m, const int16_t *x) {
    const uint32_t first = m->tree_node[0], n_local = m->tree_node[1] - first;
    const uint32_t slot = walk_r8_i16(m->nodes + first, n_local, x, m->threshold16) - n_local;
    const uint32_t list = m->tree_list[0], n_list = m->tree_list[1] - list;
    if (slot >= n_list) {
        return slot - n_list;
    }
    const uint32_t bits = m->entry_bits, cb = m->class_bits, cmask = (1u << cb) - 1;
    uint32_t i = list_at(m->leaf_list, list + slot, m->list_bits), e, best = 0;
    int64_t top = 0;
    if (m->leaf_kind == ML_TREES_LEAF_SPANS) {
        // a span starts with its leaf's first largest value (checked)
        best = ((const uint8_t *)m->entries)[i];
        top = value_units(m, i);
    } else if (m->leaf_kind == ML_TREES_LEAF_PAIRS) {
        // as runs do
        const uint8_t *p = (const uint8_t *)m->entries + 2 * i;
        best = p[0] >> 1;
        top = value_units(m, p[1]);
    } else if (m->leaf_kind == ML_TREES_LEAF_RUNS) {
        // a run starts with its leaf's first largest value (checked)
        best = ((const uint8_t *)m->entries)[i] >> 1;
        top = value_units(m, i);
    } else if (bits == 16 && m->value_fixed == 3) {
        // classes increase along a leaf (checked): the first largest is the first greater
        const uint8_t *p = (const uint8_t *)m->entries + 2 * i;
        const uint32_t *units = m->values, vshift = 1 + cb;
        uint32_t top32 = 0;
        do {
            e = (uint32_t)p[0] | ((uint32_t)p[1] << 8);
            p += 2;
            const uint32_t v = units[e >> vshift];
            if (v > top32) {
                top32 = v;
                best = e;
            }
        } while (!(e & 1));
        top = top32;
        best = (best >> 1) & cmask;
    } else {
        do {
            e = ml_trees_bits_at(m->entries, i++, bits);
            int64_t v = value_units(m, e >> (1 + cb));
            if (v > top) {
                top = v;
                best = (e >> 1) & cmask;
            }
        } while (!(e & 1));
    }
    if (top > 0) {
        return best;
    }
    (void)forest_i16(m, x, m->threshold16, UINT64_MAX);
    return ml_trees_class_index(m);
}

// Predicting a class may stop at a class with more than half of what the trees can add in all
// (set_vote_exit): its sum only grows, and the others together end with less.
static inline uint64_t vote_half(const ml_trees_t *m) {
    return (m->h.flags & ML_TREES_VOTE_EXIT) ? (uint64_t)m->h.vote_mant << m->h.vote_shift
        : UINT64_MAX;
}

ml_status_t ml_trees_predict_class_f32(const ml_trees_t *m, const float *x, size_t n,
    uint32_t *k, ml_error_t *err) {
    int has_nan;
    ml_status_t r = check_f32(m, x, n, &has_nan, err);
    if (r) {
        return r;
    }
    if (m->h.n_classes && m->forest_r8 && !has_nan) {
        // (forest_r8: node records; no missing values to route)
        uint32_t decided = 0;
#if ML_TREES_SUMS32
        if (m->forest_r8 == 1 + FOREST_SPAN32) {
            decided = forest_span32_f32(m, x, m->threshold);
        }
#endif
        if (!decided) {
            decided = forest_f32(m, x, m->threshold, vote_half(m));
        }
        *k = decided ? decided - 1 : ml_trees_class_index(m);
        return ML_OK;
    }
    eval_checked_f32(m, x, has_nan);
    *k = ml_trees_class_index(m);
    return ML_OK;
}

// Any other model (apart: its error message buffer would burden the frame of the fast path).
static uint32_t __attribute__((noinline)) class_other_i16(const ml_trees_t *m, const int16_t *x) {
    ml_error_t err;
    (void)ml_trees_eval_i16(m, x, m->h.n_features, &err);
    return ml_trees_class_index(m);
}

uint32_t ml_trees_predict_class_i16(const ml_trees_t *m, const int16_t *x) {
#if ML_TREES_SUMS32
    if (m->forest_r8 == 1 + FOREST_SPAN32 && m->threshold16) {  // (n_trees > 1)
        const uint32_t decided = forest_span32_i16(m, x, m->threshold16);
        if (decided) {
            return decided - 1;
        }
    }
#endif
    if (!m->forest_r8 || !m->threshold16) {
        return class_other_i16(m, x);
    }
    if (m->h.n_trees == 1) {
        return tree_class_i16(m, x);
    }
    const uint32_t decided = forest_i16(m, x, m->threshold16, vote_half(m));
    if (decided) {
        return decided - 1;
    }
    // the first largest sum, as ml_trees_class_index finds it (which also looks at near ties,
    // possible only from sums of 2^48 units)
    const uint32_t n = m->h.n_outputs;
    const int64_t *acc = (const int64_t *)(const void *)m->acc, *p = acc + (n & 1), *top = acc;
    const int64_t *const end = acc + n;
    int64_t best = *acc;
    if (n > 1) {
        // two at a time from the first pair (n even: the first sum is compared with itself),
        // tested at the loop's end: three instructions per sum and three per pair
        do {
            if (p[0] > best) {
                best = p[0];
                top = p;
            }
            if (p[1] > best) {
                best = p[1];
                top = p + 1;
            }
            p += 2;
        } while (p < end);
    }
    return best >= ((int64_t)1 << 48) ? ml_trees_class_index(m) : (uint32_t)(top - acc);
}

double ml_trees_value(const ml_trees_t *m) {
    return output(m, 0);
}
