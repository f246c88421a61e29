// Isolation forests (model kind ML_BLOB_KIND_ISOLATION): scikit-learn's IsolationForest, with
// its path-length arithmetic: per tree the leaf's depth plus the average path length of its
// samples, minus 1 (precomputed per leaf); score_samples = -2^(-sum / (n_trees * c(max_samples))).
//
// Sections besides the common ones of ml_estimator.h:
//   'ifhd'  f64[2]             n_trees * c(max_samples) (the denominator), offset_
//   'iftr'  u32[n_trees]       first node of each tree
//   'ifnd'  u32[3 * n_nodes]   per node: feature (input column; 0xffffffff for a leaf), left,
//                              right (node indices, after the node, in the same tree)
//   'ifvl'  f64[n_nodes]       threshold of a split (x <= t goes left), value of a leaf
// Inputs are compared as float32, as scikit-learn's trees see them.
#ifndef MICROLEARN_ML_ISOLATION_H
#define MICROLEARN_ML_ISOLATION_H

#include "ml_estimator.h"

#define ML_ISOLATION_FORMAT_VERSION (1)
#define ML_ISOLATION_LEAF (0xffffffffu)

typedef struct {
    ml_est_t est;
    uint32_t n_trees, n_nodes;
    double denominator, offset;
    const uint32_t *roots;
    const uint32_t *nodes;
    const uint32_t *values;
} ml_isolation_t;

ml_status_t ml_isolation_open(ml_isolation_t *m, const ml_blob_t *b, ml_error_t *err);
ml_status_t ml_isolation_run(ml_isolation_t *m, ml_method_t method, const double *x,
    int is_f32, ml_error_t *err);

#endif
