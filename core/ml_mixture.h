// Gaussian mixtures (model kind ML_BLOB_KIND_MIXTURE): scikit-learn's GaussianMixture, all
// four covariance types (variant: ML_MIXTURE_FULL, _TIED, _DIAG, _SPHERICAL).
//
// Sections besides the common ones of ml_estimator.h (k components, n = n_inputs):
//   'gmmw'  f64[k]  log(weights_)
//   'gmmd'  f64[k]  log-determinant of each precision Cholesky factor
//   'gmmc'  f64[1]  n * log(2 pi)
//   full:      'gmmp' f64[k * n * n] precisions_cholesky_, 'gmmu' f64[k * n] mu @ prec_chol
//   tied:      'gmmp' f64[n * n],                          'gmmu' f64[k * n]
//   diag:      'gmma' f64[k] sum(mu^2 prec), 'gmmb' f64[k * n] mu * prec, 'gmmp' f64[k * n]
//   spherical: 'gmma' f64[k] sum(mu^2) prec, 'gmmb' f64[k * n] mu,        'gmmp' f64[k]
// The log-probabilities follow scikit-learn's _estimate_log_gaussian_prob term by term
// (including the float32 rounding of the Mahalanobis term for float32 input, full and tied);
// score_samples is their logsumexp, predict_proba exp(log-prob - score).
#ifndef MICROLEARN_ML_MIXTURE_H
#define MICROLEARN_ML_MIXTURE_H

#include "ml_estimator.h"

#define ML_MIXTURE_FORMAT_VERSION (1)

enum { ML_MIXTURE_FULL = 0, ML_MIXTURE_TIED, ML_MIXTURE_DIAG, ML_MIXTURE_SPHERICAL };

typedef struct {
    ml_est_t est;
    uint32_t n_components;
    const uint32_t *log_weights;
    const uint32_t *log_det;
    double c0;
    const uint32_t *prec;
    const uint32_t *mu_prec;  // full, tied
    const uint32_t *a;        // diag, spherical
    const uint32_t *b;
} ml_mixture_t;

ml_status_t ml_mixture_open(ml_mixture_t *m, const ml_blob_t *b, ml_error_t *err);
ml_status_t ml_mixture_run(ml_mixture_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err);

#endif
