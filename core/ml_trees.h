// Tree ensembles: decision trees, random forests, extra trees, gradient boosting.
//
// One representation serves every scikit-learn tree model. A model is a list of trees over one
// array of decision nodes and one table of leaf values:
//
//   decision node: feature, threshold, left child, right child (and, for models trained with
//                  missing values, which side NaN goes to)
//   child:         a decision node index, or a leaf index
//   leaf:          leaf_width float values
//
// Predicting sums, per output, the leaf values the sample reaches in every tree, then either
// averages them (forests: class probabilities or regression values) or adds a baseline and
// applies a link function (gradient boosting: identity, sigmoid or softmax).
//
// Decisions are exact. scikit-learn goes left when x <= t with t a float64 threshold and x a
// float32 (or int16) feature. For any float32 x, x <= t exactly when x <= t32, where t32 is the
// largest float32 not above t; so thresholds are stored as float32 rounded down. They are kept
// as order-preserving integer keys, and a node turns the feature it reads into one (a few
// integer instructions), so every decision is an integer comparison, also on cores without an
// FPU, and the sample is not copied.
//
// Memory: one caller-provided block, sized from the model file's header by ml_trees_memory_size
// (see docs/model-format.md for the formula), and the model's cold part (ml_trees_cold_t, in the
// caller's storage). Nothing is allocated after loading; predicting uses a workspace inside that
// block.
#ifndef MICROLEARN_ML_TREES_H
#define MICROLEARN_ML_TREES_H

#include <stddef.h>
#include <stdint.h>

#include "ml_blob.h"
#include "ml_error.h"
#include "ml_text.h"

#define ML_TREES_FORMAT_VERSION (1)

typedef enum {
    ML_TREES_MEAN = 0,  // forests: outputs are the mean over trees
    ML_TREES_SUM = 1,   // boosting: outputs are baseline + sum over trees
} ml_trees_aggregate_t;

typedef enum {
    ML_TREES_LINK_NONE = 0,     // regression values, or class probabilities already (forests)
    ML_TREES_LINK_SIGMOID = 1,  // binary boosting: one score, P(class 1) = sigmoid(score)
    ML_TREES_LINK_SOFTMAX = 2,  // multi-class boosting: one score per class
} ml_trees_link_t;

// Header flags.
#define ML_TREES_ACCEPT_NAN (1)  // NaN input is routed by each node's missing-value side
#define ML_TREES_ACCEPT_INF (2)  // +-inf input is compared like any value
#define ML_TREES_BINARY_GE (4)   // sigmoid link: class 1 when score >= 0 (else when score > 0)
#define ML_TREES_HAS_LABELS (8)  // class labels are listed (else they are 0..n_classes-1)
// Set by ml_trees_open, never read from a file: predicting a class may stop at the first class
// holding more than half of the forest's vote (ml_trees_predict_class_i16 and _f32, vote_mant).
#define ML_TREES_VOTE_EXIT (16)

// What predicting needs of a model's header. (The counts of its nodes and leaves size and check
// the arrays when loading: they are in the model's cold part.)
typedef struct {
    uint32_t n_features;
    uint32_t n_trees;
    // (the loaders keep these three below 65536: 16 bits keep the model object small)
    uint16_t n_classes;   // 0 for regression
    uint16_t n_outputs;   // width of the summed output vector
    uint16_t leaf_width;  // values per leaf: n_outputs, or 1 when each tree adds to one output
    uint8_t aggregate;    // ml_trees_aggregate_t
    uint8_t link;         // ml_trees_link_t
    uint8_t flags;        // ML_TREES_* flags above
    // ML_TREES_VOTE_EXIT (set by ml_trees_open): a class whose sum exceeds vote_mant <<
    // vote_shift units, at least half of what all the trees can add, is the prediction
    uint8_t vote_shift;
    uint16_t vote_mant;
} ml_trees_header_t;

// How the nodes are stored: as arrays of each field (text models, and the largest binary
// ones), or as one 32-bit record per node packing feature, threshold index and both children
// (binary models whose fields fit: a node is one load).
typedef enum {
    ML_TREES_NODES_ARRAYS = 0,
    ML_TREES_NODES_RECORDS = 1,
} ml_trees_nodes_t;

// What a leaf reference leads to.
typedef enum {
    ML_TREES_LEAF_DENSE = 0,   // leaf_width values per leaf, leaf j at values[j * leaf_width]
    ML_TREES_LEAF_SPARSE = 1,  // a run of (class, value index) entries starting at entries[j]
    ML_TREES_LEAF_RUNS = 2,    // a run of class bytes from entries[j], entry i's value values[i]
    ML_TREES_LEAF_SPANS = 3,   // leaf list entry l's class bytes, list[l] .. list[l + 1] - 1,
                               // entry i's value values[i]
    ML_TREES_LEAF_PAIRS = 4,   // a run of (class, value index) byte pairs from entries[j]
} ml_trees_leaf_kind_t;

// Class labels (the binding turns them into objects; the C API returns int32 ones).
typedef enum {
    ML_TREES_LABELS_INDEX = 0,  // none listed: the labels are 0 .. n_classes - 1
    ML_TREES_LABELS_INT32 = 1,  // int32_t[n_classes]
    ML_TREES_LABELS_INT64 = 2,  // int64_t[n_classes]
    ML_TREES_LABELS_FLOAT64 = 3,  // double[n_classes]
    ML_TREES_LABELS_STR = 4,    // UTF-8 text: uint32_t offsets[n_classes + 1], then the bytes
    ML_TREES_LABELS_BOOL = 5,   // uint8_t[n_classes], 0 or 1
} ml_trees_labels_t;

// Leaf lists and sparse leaf entries are packed in as few bits as they need (at most 24), least
// significant first; entry i is the bits i * bits .. i * bits + bits - 1 of the byte array, which
// has 3 bytes of padding at its end so that every entry is read with one 4-byte load. A sparse
// entry holds, from bit 0: whether it ends its leaf (1 bit), the class (class_bits, enough for
// n_outputs - 1), the value index (the rest).
// (The loader checks that the arrays' bit counts fit 32 bits.)
#if defined(__GNUC__)
#define ML_TREES_INLINE static inline __attribute__((always_inline))
#else
#define ML_TREES_INLINE static inline
#endif
ML_TREES_INLINE uint32_t ml_trees_bits_at(const void *packed, uint32_t i, uint32_t bits) {
    const uint32_t pos = i * bits;
    const uint8_t *p = (const uint8_t *)packed + (pos >> 3);
    uint32_t w = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16)
        | ((uint32_t)p[3] << 24);
    return (w >> (pos & 7)) & ((1u << bits) - 1);
}

// The part of a model that predicting reads seldom or never (text models, node arrays, missing
// values, labels, a baseline), behind one pointer so that a model used in place is small. It
// lives in storage of the caller's (ml_trees_open, ml_trees_load_text; a loader's is in the
// loader): a caller that copies a model copies it too and points the copy's cold at it.
typedef struct {
    void *left;               // [n_nodes] child references, uint8_t, uint16_t or uint32_t (arrays)
    void *right;
    uint8_t *missing_left;    // [(n_nodes + 7) / 8] bit set (ML_TREES_ACCEPT_NAN)
    uint32_t *tree_root;      // [n_trees] root reference, or NULL: 0 (the first node or leaf)
    void *labels;             // label_kind's layout (NULL: ML_TREES_LABELS_INDEX)
    double *baseline;         // [n_outputs] (ML_TREES_SUM)
    uint32_t n_nodes;         // decision nodes, all trees
    uint32_t n_leaves;        // leaf table entries
} ml_trees_cold_t;

// A model. Its arrays are in the block a text file was loaded into, or, for a binary model, in
// the caller's buffer (used in place, never written). Every node, child reference and leaf is
// checked when loading, so predicting reads nothing out of bounds.
//
// Trees: tree t owns the nodes tree_node[t] .. tree_node[t + 1] - 1 (all nodes when tree_node is
// NULL), and its child references are local to them: r < n_local is its node r, otherwise leaf
// slot s = r - n_local. With per-tree leaf lists (list_bits > 0), slot s < n_list is the leaf
// leaf_list[tree_list[t] + s], and a slot past the list stands for a pure leaf: class s - n_list
// with probability 1 (n_classes of them, in forests with pure leaves); without lists, slot s
// is leaf s.
typedef struct {
    ml_trees_header_t h;
    // The node fields' widths: bytes per array entry (arrays), or bits per record field
    // (records), from bit 0: feature, threshold index, left, right. A layout uses one of them.
    union {
        struct {
            uint8_t feature_bytes;    // 1 or 2
            uint8_t child_bytes;      // 1, 2 or 4
            uint8_t thr_index_bytes;  // 0: one threshold per node; 1 or 2: an index into threshold[]
        };
        struct {
            uint8_t rec_fbits;
            uint8_t rec_tbits;
            uint8_t rec_cbits;
        };
    };
    uint8_t node_layout;      // ml_trees_nodes_t
    uint8_t leaf_kind;        // ml_trees_leaf_kind_t
    uint8_t list_bits;        // 0 (no leaf lists), or the bits of a leaf list entry
    uint8_t entry_bits;       // sparse leaves: bits of an entry
    uint8_t class_bits;       // sparse leaves: bits of an entry's class
    uint8_t value_fixed;      // values in units of 2^-value_shift, as int32 (1), float32 (2) or
                              // uint32 (3); sums are exact int64
    uint8_t value_shift;
    uint8_t label_kind;       // ml_trees_labels_t
    uint8_t forest_r8;        // the usual forest classifier (set by ml_trees_open): 8-bit node
                              // records, leaf lists with pure leaves, integer leaves; 0 if not,
                              // else 1 + which forest loop predicts it (by leaf kind, or every
                              // leaf pure; FOREST_* in ml_trees.c)
    // Model arrays (the counts in brackets are checked when opening, and not kept). Arrays that
    // no model uses together share a pointer (the layout or leaf kind tells which it is).
    union {
        uint32_t *nodes;      // [n_nodes] records (ML_TREES_NODES_RECORDS)
        void *feature;        // [n_nodes] uint8_t or uint16_t (arrays)
    };
    union {
        int32_t *threshold16; // [n_thresholds] thresholds for int16 features (records), or NULL
        void *thr_index;      // [n_nodes] uint8_t or uint16_t, when thr_index_bytes (arrays)
    };
    int32_t *threshold;       // [n_thresholds] comparison keys
    uint32_t *tree_node;      // [n_trees + 1] or NULL
    uint32_t *tree_list;      // [n_trees + 1] or NULL
    void *leaf_list;          // [n_lists] leaf indices, list_bits each
    union {
        void *entries;        // [n_entries] sparse leaf entries, entry_bits each (sparse)
        uint32_t *tree_output;  // [n_trees] output a leaf_width-1 tree adds to, or NULL: 0
                                // (dense)
    };
    void *values;             // [n_values] float, or int32_t / uint32_t (value_fixed 1 / 3)
    // The rest, or NULL when the model has none of it (a binary forest of node records with
    // index labels, no baseline and no missing values; see ml_trees_open for one with them)
    const ml_trees_cold_t *cold;
    // Workspace of a prediction (RAM)
    double *acc;              // [n_outputs] sums (int64_t when value_fixed), before averaging
} ml_trees_t;

// Node i's (index into the node arrays) feature, threshold key, and left or right child
// reference (local to its tree), whatever the layout.
static inline uint32_t ml_trees_rec_field(uint32_t w, uint32_t shift, uint32_t bits) {
    return bits >= 32 ? w >> shift : (w >> shift) & ((1u << bits) - 1);
}

static inline uint32_t ml_trees_node_feature(const ml_trees_t *m, uint32_t i) {
    if (m->node_layout == ML_TREES_NODES_RECORDS) {
        return ml_trees_rec_field(m->nodes[i], 0, m->rec_fbits);
    }
    return m->feature_bytes == 1 ? ((const uint8_t *)m->feature)[i]
                                 : ((const uint16_t *)m->feature)[i];
}

static inline uint32_t ml_trees_node_threshold_index(const ml_trees_t *m, uint32_t i) {
    if (m->node_layout == ML_TREES_NODES_RECORDS) {
        return ml_trees_rec_field(m->nodes[i], m->rec_fbits, m->rec_tbits);
    }
    switch (m->thr_index_bytes) {
        case 0:
            return i;
        case 1:
            return ((const uint8_t *)m->thr_index)[i];
        default:
            return ((const uint16_t *)m->thr_index)[i];
    }
}

static inline int32_t ml_trees_node_threshold(const ml_trees_t *m, uint32_t i) {
    return m->threshold[ml_trees_node_threshold_index(m, i)];
}

static inline uint32_t ml_trees_node_child(const ml_trees_t *m, int left, uint32_t i) {
    if (m->node_layout == ML_TREES_NODES_RECORDS) {
        uint32_t shift = m->rec_fbits + m->rec_tbits + (left ? 0 : m->rec_cbits);
        return ml_trees_rec_field(m->nodes[i], shift, m->rec_cbits);
    }
    const void *arr = left ? m->cold->left : m->cold->right;
    switch (m->child_bytes) {
        case 1:
            return ((const uint8_t *)arr)[i];
        case 2:
            return ((const uint16_t *)arr)[i];
        default:
            return ((const uint32_t *)arr)[i];
    }
}

// ---------------------------------------------------------------------------------------------
// Loading from a model file (our format, or emlearn's tree CSV), fed in chunks of any size.
//
//   ml_trees_loader_init(&ld);
//   feed chunks; when ml_trees_loader_feed returns ML_TREES_NEED_MEMORY, provide a block of
//     ml_trees_loader_memory_size(&ld) bytes (8-byte aligned) with ml_trees_loader_set_memory
//     and feed the rest of the chunk (from `consumed`);
//   at end of input call ml_trees_loader_finish: ML_OK means done; ML_TREES_REWIND means the
//     format has no header with sizes (emlearn CSV): memory is now needed, then the whole file
//     is fed once more and finished again.
// Any other status is an error described in err (with the file line); the memory block then
// holds nothing usable and can be freed.

#define ML_TREES_NEED_MEMORY (100)
// A loader stops at the first error, and also after ML_TREES_MAX_IDLE bytes without a record, or
// (emlearn CSV) ML_TREES_MAX_OTHER lines of unknown records: no file is refused only at its end.
#define ML_TREES_MAX_IDLE (65536)
#define ML_TREES_MAX_OTHER (1000)
#define ML_TREES_REWIND (101)

typedef struct {
    ml_fields_t fields;
    ml_trees_t model;
    ml_trees_cold_t cold;  // the model's (its cold points here)
    uint8_t format;  // 0 unknown, 1 microlearn, 2 emlearn
    uint8_t pass;    // emlearn: 1 counting, 2 filling
    uint8_t has_memory;
    uint8_t record;  // record type of the current line
    uint8_t emlearn_leaf_bits;
    uint32_t header_line;
    uint32_t header_fields;
    uint32_t n_roots;  // records seen so far, by type
    uint32_t n_nodes;
    uint32_t n_leaves;
    uint32_t n_baseline;
    uint32_t n_labels;
    uint32_t last_line;
    uint32_t idle_bytes;  // bytes read since the last field
    uint32_t n_other;     // emlearn: lines of unknown record types
    double tmp[4];     // fields of the current node record
} ml_trees_loader_t;

void ml_trees_loader_init(ml_trees_loader_t *ld);
int ml_trees_loader_feed(ml_trees_loader_t *ld, const char *data, size_t len, size_t *consumed,
    ml_error_t *err);
size_t ml_trees_loader_memory_size(const ml_trees_loader_t *ld);
void ml_trees_loader_set_memory(ml_trees_loader_t *ld, void *memory);
int ml_trees_loader_finish(ml_trees_loader_t *ld, ml_error_t *err);
// The loaded model (valid after ml_trees_loader_finish returned ML_OK); it lives in the memory
// block and, for its cold part, in the loader: a copy needs a copy of *model->cold too.
const ml_trees_t *ml_trees_loader_model(const ml_trees_loader_t *ld);

// Loads a whole model file held in memory (e.g. a C header made by `microlearn convert
// --format c`) into memory[memory_size], its cold part into *cold (kept while the model is
// used). Convenience for C users of the core.
ml_status_t ml_trees_load_text(ml_trees_t *model, ml_trees_cold_t *cold, const char *text,
    size_t len, void *memory, size_t memory_size, ml_error_t *err);

// Bytes of memory a text model of this shape needs. 0 if the sizes are absurd (over 2 GiB).
size_t ml_trees_memory_size(const ml_trees_header_t *h, uint32_t n_nodes, uint32_t n_leaves);

// ---------------------------------------------------------------------------------------------
// Predicting one sample. x has n_features values; typed entry points for float32 and int16.
// The result lands in model->acc: per output, the baseline plus the sum over the trees, before
// the averaging (forests) or link (boosting) that the functions below apply.

ml_status_t ml_trees_eval_f32(const ml_trees_t *m, const float *x, size_t n, ml_error_t *err);
ml_status_t ml_trees_eval_i16(const ml_trees_t *m, const int16_t *x, size_t n, ml_error_t *err);

// After an eval: class probabilities into out[n_classes] (classifiers).
void ml_trees_proba(const ml_trees_t *m, float *out);
// After an eval: the predicted class index (classifiers; argmax, first on ties, like numpy).
uint32_t ml_trees_class_index(const ml_trees_t *m);
// After an eval: the predicted class label (classifiers) when the labels are integers of 32 bits
// (or none are listed); otherwise its index (see label_kind).
int32_t ml_trees_class_label(const ml_trees_t *m);
// The class index of one int16 sample of a classifier, as ml_trees_eval_i16 then
// ml_trees_class_index give it, in one call without checks (for a binding's predict): the model
// is loaded and x has n_features values (the caller checked). The sums go to model->acc, as an
// eval's do, but a single decision tree does without them (its leaf's run or entries name the
// class), and a forest stops adding them once a class holds more than half of the whole
// forest's vote (no later tree can change the class; ML_TREES_VOTE_EXIT): the sums are then
// those of the trees so far.
uint32_t ml_trees_predict_class_i16(const ml_trees_t *m, const int16_t *x);
// The class index of one float32 sample of a classifier into *k, as ml_trees_eval_f32 then
// ml_trees_class_index give it, with that eval's checks and errors; a forest may stop at a
// majority, as above (the sums are then those of the trees so far).
ml_status_t ml_trees_predict_class_f32(const ml_trees_t *m, const float *x, size_t n,
    uint32_t *k, ml_error_t *err);
// After an eval: the regression value of output 0 (regressors).
double ml_trees_value(const ml_trees_t *m);
// After an eval: output k's sum over the trees (with the baseline), before averaging or link.
double ml_trees_sum(const ml_trees_t *m, uint32_t k);

// ---------------------------------------------------------------------------------------------
// Binary models (the container of ml_blob.h, kind ML_BLOB_KIND_TREES; the layout is in
// docs/model-format.md), used where they lie: ml_trees_open checks every section and points the
// model's arrays into data[len] (4-byte aligned, kept unchanged while the model is used); the
// workspace of ml_trees_workspace_size bytes (8-byte aligned: the sums, 8 bytes per output)
// is the only RAM a prediction needs.
//
// ml_trees_open always fills *cold (the counts, and the arrays of the cold part the model has),
// and points model->cold at it only when the model has any of its arrays: otherwise
// model->cold is NULL and the caller's cold need not outlive the call (a model used in place
// from flash is then the ml_trees_t alone). ml_trees_blob_cold fills a cold part again from
// the data of a model ml_trees_open accepted, as ml_trees_open did. A caller may also drop the
// cold part of a forest whose only cold array is missing_left (node records, index labels, no
// baseline): ml_trees_eval_f32 then returns ML_E_STATE for a sample with NaN, which the caller
// evaluates again with a copy of the model whose cold is ml_trees_blob_cold's (the MicroPython
// binding does, so that such a forest used in place is the ml_trees_t alone too).

#define ML_TREES_BLOB_VERSION (1)

ml_status_t ml_trees_open(ml_trees_t *model, ml_trees_cold_t *cold, const void *data,
    size_t len, ml_error_t *err);
void ml_trees_blob_cold(const void *data, ml_trees_cold_t *cold);
size_t ml_trees_workspace_size(const ml_trees_header_t *h);
void ml_trees_set_workspace(ml_trees_t *model, void *workspace);

// Leaf value j (of n_values) as a number, whether stored as float or fixed point.
double ml_trees_value_at(const ml_trees_t *m, uint32_t j);

#endif
