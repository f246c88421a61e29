// Robust covariance outlier detection (model kind ML_BLOB_KIND_COVARIANCE): scikit-learn's
// EllipticEnvelope. score_samples = -(squared Mahalanobis distance to location_), computed as
// scipy's cdist does (then squared back, as scikit-learn does); decision = score - offset_.
//
// Sections besides the common ones of ml_estimator.h:
//   'covl'  f64[n]      location_
//   'covp'  f64[n * n]  the precision matrix
//   'covo'  f64[1]      offset_
#ifndef MICROLEARN_ML_COVARIANCE_H
#define MICROLEARN_ML_COVARIANCE_H

#include "ml_estimator.h"

#define ML_COVARIANCE_FORMAT_VERSION (1)

typedef struct {
    ml_est_t est;
    const uint32_t *location;
    const uint32_t *precision;
    double offset;
} ml_covariance_t;

ml_status_t ml_covariance_open(ml_covariance_t *m, const ml_blob_t *b, ml_error_t *err);
ml_status_t ml_covariance_run(ml_covariance_t *m, ml_method_t method, const double *x,
    int is_f32, ml_error_t *err);

#endif
