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
    double offset;  // the detector's
} ml_cluster_t;

ml_status_t ml_cluster_open(ml_cluster_t *m, const ml_blob_t *b, ml_error_t *err);
ml_status_t ml_cluster_run(ml_cluster_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err);

#endif
