// Nearest neighbours (model kind ML_BLOB_KIND_NEIGHBORS): scikit-learn's KNeighborsClassifier,
// KNeighborsRegressor and NearestCentroid, with the stored samples in the model file (used
// in place from flash) or, for learning on the device, in RAM the caller provides.
//
// Sections besides the common ones of ml_estimator.h:
//   'nbrs'  u32[5]  n_samples, n_neighbors, metric (ML_NEIGHBORS_*), weights (0 uniform,
//                   1 distance), storage (0 float64 samples in 'fx64', 1 float32 in 'fx32')
//   'mink'  f64[1]  p of the minkowski metric
//   'fx64' / 'fx32'  the samples, n_samples x n_inputs
//   'fxnn'  f64[n_samples]  squared norms of the samples (ML_NEIGHBORS_EUCLIDEAN_GEMM)
//   'fycl'  u32[n_samples]  class index of each sample (classifiers, NearestCentroid)
//   'fyvl'  f64[n_samples]  target of each sample (regressors)
//   'lofk', 'lofr'  f64[n_samples]  k-distance and local reachability density of each sample,
//   'lofo'  f64[1]  offset_ (LocalOutlierFactor(novelty=True))
// variant: ML_NEIGHBORS_KNN_CLASSIFIER, _KNN_REGRESSOR, _NEAREST_CENTROID, _LOF.
//
// Neighbours are the n_neighbors samples of smallest distance; of samples at an equal
// distance the one stored first is taken, as scikit-learn's brute-force search does.
#ifndef MICROLEARN_ML_NEIGHBORS_H
#define MICROLEARN_ML_NEIGHBORS_H

#include "ml_estimator.h"

#define ML_NEIGHBORS_FORMAT_VERSION (1)

enum {
    ML_NEIGHBORS_KNN_CLASSIFIER = 0,
    ML_NEIGHBORS_KNN_REGRESSOR,
    ML_NEIGHBORS_NEAREST_CENTROID,
    ML_NEIGHBORS_LOF,
};

enum {
    ML_NEIGHBORS_EUCLIDEAN = 0,       // sum of squared differences, then sqrt
    ML_NEIGHBORS_EUCLIDEAN_GEMM,      // |x|^2 - 2 x.y + |y|^2, as scikit-learn's brute force
    ML_NEIGHBORS_MANHATTAN,
    ML_NEIGHBORS_MINKOWSKI,           // (sum |d|^p)^(1/p)
    ML_NEIGHBORS_CHEBYSHEV,
};

typedef struct {
    ml_est_t est;
    uint32_t n_samples;
    uint32_t capacity;      // samples the storage can hold (n_samples for a file's model)
    uint32_t n_neighbors;
    uint32_t metric;
    uint32_t weights;
    uint32_t f32;           // samples stored as float32
    double p;
    const void *fit_x;      // float64 pairs or float32
    const uint32_t *fit_norms;
    const uint32_t *fit_class;
    const uint32_t *fit_value;
    const uint32_t *lof_kdist, *lof_lrd;
    double lof_offset;
    // Learning on the device: the storage the samples are added to.
    float *store_x;          // capacity x n_inputs
    uint32_t *store_norms;   // capacity float64 (ML_NEIGHBORS_EUCLIDEAN_GEMM)
    uint32_t *store_class;   // capacity
    int32_t *store_labels;   // the classes seen, sorted (est.labels points here)
} ml_neighbors_t;

ml_status_t ml_neighbors_open(ml_neighbors_t *m, const ml_blob_t *b, ml_error_t *err);
ml_status_t ml_neighbors_run(ml_neighbors_t *m, ml_method_t method, const double *x,
    int is_f32, ml_error_t *err);

// Learning on the device: a KNeighborsClassifier that holds up to `capacity` samples, added
// with add(x, label) and dropped by label, in memory the caller gives: exactly
// ml_neighbors_learner_size bytes, 8-byte aligned (work memory, then the samples as float32,
// their squared norms for the euclidean metric, their classes, the sorted labels). It predicts
// what scikit-learn's KNeighborsClassifier(algorithm="brute") fitted on the stored samples, in
// the order they were added, predicts.
size_t ml_neighbors_learner_size(uint32_t n_features, uint32_t capacity, uint32_t n_neighbors,
    uint32_t metric);
ml_status_t ml_neighbors_learner_init(ml_neighbors_t *m, void *memory, uint32_t n_features,
    uint32_t capacity, uint32_t n_neighbors, uint32_t metric, uint32_t weights, double p,
    ml_error_t *err);
// ML_ADD: b holds one sample and its label; ML_REMOVE: every sample of the label y[0]
// (*count: how many); ML_CLEAR: all.
ml_status_t ml_neighbors_learn(ml_neighbors_t *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err);

#endif
