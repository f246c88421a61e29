// Gaussian naive Bayes (model kind ML_BLOB_KIND_NAIVE_BAYES): scikit-learn's GaussianNB.
//
// Sections besides the common ones of ml_estimator.h:
//   'gnbc'  f64[2 * n_classes]        per class: log(class_prior_), -0.5 sum(log(2 pi var_))
//   'gnbm'  f64[n_classes * n_inputs] theta_ (means)
//   'gnbv'  f64[n_classes * n_inputs] var_ (variances, epsilon included)
// The joint log-likelihood of class c is log prior + (const - 0.5 sum (x - theta)^2 / var),
// computed in that order as scikit-learn does; predict_proba is exp(jll - logsumexp(jll)).
#ifndef MICROLEARN_ML_NAIVE_BAYES_H
#define MICROLEARN_ML_NAIVE_BAYES_H

#include "ml_estimator.h"

#define ML_NAIVE_BAYES_FORMAT_VERSION (1)

// Learning on the device (optional section):
//   'gnbn'  f64[3 + n_classes]  var_smoothing, epsilon_, priors fixed (1) or the class
//                               frequencies (0), class_count_
// partial_fit(X, y) is scikit-learn's GaussianNB.partial_fit: epsilon_ from the batch's
// largest variance, each class's mean and variance combined with the batch's (Chan's
// update), then the priors and the constants of 'gnbc' recomputed. The model file must be in
// RAM (loaded from a file, or a bytearray).
typedef struct {
    ml_est_t est;
    const uint32_t *consts;
    const uint32_t *theta;
    const uint32_t *var;
    uint32_t *learn;       // 'gnbn', or NULL
} ml_naive_bayes_t;

ml_status_t ml_naive_bayes_open(ml_naive_bayes_t *m, const ml_blob_t *b, ml_error_t *err);
ml_status_t ml_naive_bayes_learn(ml_naive_bayes_t *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err);
ml_status_t ml_naive_bayes_run(ml_naive_bayes_t *m, ml_method_t method, const double *x,
    int is_f32, ml_error_t *err);

#endif
