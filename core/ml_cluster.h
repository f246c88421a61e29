// k-means (model kind ML_BLOB_KIND_CLUSTER): scikit-learn's KMeans and MiniBatchKMeans.
//
// Sections besides the common ones of ml_estimator.h:
//   'cent'  f64[n_clusters * n_inputs]  cluster_centers_
//   'cnrm'  f64[n_clusters]             their squared norms
// predict: the first cluster of smallest |c|^2 - 2 x.c (scikit-learn's Lloyd step);
// transform: the distances sqrt(max(|x|^2 - 2 x.c + |c|^2, 0)), as euclidean_distances.
//
// Variant 1 (ML_CLUSTER_DETECTOR), the k-means distance anomaly detector of the host's
// microlearn.cluster.KMeansDetector: one more section,
//   'koff'  f64[1]  offset_: minus the distance threshold (a quantile of the training distances)
// score_samples: minus the distance to the nearest centre; decision_function: score - offset;
// predict: -1 (anomaly) where the decision is negative, else +1, as scikit-learn's detectors.
#ifndef MICROLEARN_ML_CLUSTER_H
#define MICROLEARN_ML_CLUSTER_H

#include "ml_estimator.h"

#define ML_CLUSTER_FORMAT_VERSION (1)
#define ML_CLUSTER_DETECTOR (1)  // variant

typedef struct {
    ml_est_t est;
    uint32_t n_clusters;
    const uint32_t *centers;
    const uint32_t *norms;
    // Learning on the device (NULL for a model file): float64 arrays in the caller's memory.
    double *init;        // n_clusters x n_inputs: where fit starts
    double *work_centers;  // the centres (centers and norms point to these)
    double *work_norms;
    double *counts;      // samples each centre has seen (MiniBatchKMeans' _counts)
    double *acc;         // n_clusters x n_inputs: sums of an iteration
    double *wsum;        // n_clusters
    double *shift;       // n_clusters: centre shifts, then the relocation's distances
    double *far;         // n_clusters: the relocation's sample indices
    double *mean;        // n_inputs: the mean fit subtracts
    uint32_t max_iter;
    double tol;
    uint32_t n_iter;     // of the last fit
    double inertia;      // of the last fit
    double offset;  // the detector's
} ml_cluster_t;

ml_status_t ml_cluster_open(ml_cluster_t *m, const ml_blob_t *b, ml_error_t *err);
ml_status_t ml_cluster_run(ml_cluster_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err);

// Learning on the device: k-means from given initial centres, in memory the caller gives
// (exactly ml_cluster_learner_size bytes, 8-byte aligned).
//   fit(X): scikit-learn's KMeans(init=centres, n_init=1, algorithm="lloyd", max_iter, tol)
//     on X: the data centred on its mean, the E-step |c|^2 - 2 x.c (first smallest), the
//     M-step's sums times 1 / count, empty clusters moved to the farthest samples, stopping
//     when the squared centre shifts sum to at most tol * mean(var(X)) or after max_iter; the
//     counts become the clusters' sizes.
//   partial_fit(X): MiniBatchKMeans.partial_fit (reassignment_ratio=0): each centre seen by
//     the batch becomes (centre * count + sum of its samples) / (count + its samples).
// init: n_clusters x n_features values of float32 ('f') or float64 ('d').
size_t ml_cluster_learner_size(uint32_t n_clusters, uint32_t n_features);
ml_status_t ml_cluster_learner_init(ml_cluster_t *m, void *memory, uint32_t n_clusters,
    uint32_t n_features, const void *init, char init_type, uint32_t max_iter, double tol,
    ml_error_t *err);
ml_status_t ml_cluster_learn(ml_cluster_t *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err);

#endif
