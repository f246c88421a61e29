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
// as order-preserving integer keys, and the features of a sample are turned into keys once,
// so every decision is one integer comparison, also on cores without an FPU.
//
// Memory: one caller-provided block, sized from the model file's header by ml_trees_memory_size
// (see docs/model-format.md for the formula). Nothing is allocated after loading; predicting
// uses a workspace inside that block.
#ifndef MICROLEARN_ML_TREES_H
#define MICROLEARN_ML_TREES_H

#include <stddef.h>
#include <stdint.h>

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

typedef struct {
    uint32_t n_features;
    uint32_t n_classes;   // 0 for regression
    uint32_t n_outputs;   // width of the summed output vector
    uint32_t n_trees;
    uint32_t n_nodes;     // decision nodes, all trees
    uint32_t n_leaves;    // leaf table entries
    uint32_t leaf_width;  // values per leaf: n_outputs, or 1 when each tree adds to one output
    uint8_t aggregate;    // ml_trees_aggregate_t
    uint8_t link;         // ml_trees_link_t
    uint8_t flags;        // ML_TREES_* flags above
} ml_trees_header_t;

typedef struct {
    ml_trees_header_t h;
    uint8_t feature_bytes;  // 1 or 2
    uint8_t child_bytes;    // 1, 2 or 4
    // Arrays inside the model's memory block.
    double *baseline;        // [n_outputs] (ML_TREES_SUM)
    double *acc;             // [n_outputs] workspace of a prediction
    int32_t *keys;           // [n_features] workspace: the sample as comparison keys
    int32_t *threshold;      // [n_nodes] threshold keys
    float *leaf_value;       // [n_leaves * leaf_width]
    int32_t *labels;         // [n_classes]
    uint32_t *tree_root;     // [n_trees] child reference of each tree's root
    uint32_t *tree_output;   // [n_trees] output a scalar-leaf tree adds to
    void *feature;           // [n_nodes] uint8_t or uint16_t
    void *left;              // [n_nodes] uint8_t, uint16_t or uint32_t child references
    void *right;
    uint8_t *missing_left;   // [(n_nodes + 7) / 8] bit set (ML_TREES_ACCEPT_NAN)
} ml_trees_t;

// A child reference r is a decision node when r < n_nodes, else leaf r - n_nodes.

// Node i's feature index, and its left or right child reference, whatever their widths.
static inline uint32_t ml_trees_node_feature(const ml_trees_t *m, uint32_t i) {
    return m->feature_bytes == 1 ? ((const uint8_t *)m->feature)[i]
                                 : ((const uint16_t *)m->feature)[i];
}

static inline uint32_t ml_trees_node_child(const ml_trees_t *m, int left, uint32_t i) {
    const void *arr = left ? m->left : m->right;
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
// block, and can be copied by value.
const ml_trees_t *ml_trees_loader_model(const ml_trees_loader_t *ld);

// Loads a whole model file held in memory (e.g. a C header made by `microlearn convert
// --format c`) into memory[memory_size]. Convenience for C users of the core.
ml_status_t ml_trees_load_text(ml_trees_t *model, const char *text, size_t len, void *memory,
    size_t memory_size, ml_error_t *err);

// Bytes of memory a model of this shape needs. 0 if the sizes are absurd (over 2 GiB).
size_t ml_trees_memory_size(const ml_trees_header_t *h);

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
// After an eval: the predicted class label (classifiers).
int32_t ml_trees_class_label(const ml_trees_t *m);
// After an eval: the regression value of output 0 (regressors).
double ml_trees_value(const ml_trees_t *m);

#endif
