// Linear models (model kind ML_BLOB_KIND_LINEAR): scikit-learn's LogisticRegression,
// LinearRegression, Ridge, Lasso, ElasticNet, SGDClassifier/Regressor, Perceptron, LinearSVC,
// LinearSVR, and one-vs-rest combinations of the binary ones.
//
// Sections besides the common ones of ml_estimator.h:
//   'coef'  f64[n_rows * n_inputs]   one row per decision value
//   'icpt'  f64[n_rows]              intercepts
// A regressor has 1 row. A classifier has 1 row for 2 classes (the decision value of the
// second class; predict is classes[d > 0]) or one per class (predict is the first largest).
// The variant says how probabilities are made from the decision values (ML_LINEAR_PROBA_*).
#ifndef MICROLEARN_ML_LINEAR_H
#define MICROLEARN_ML_LINEAR_H

#include "ml_estimator.h"

#define ML_LINEAR_FORMAT_VERSION (1)

enum {
    ML_LINEAR_PROBA_NONE = 0,
    ML_LINEAR_PROBA_LOGISTIC,      // sigmoid of the binary decision; softmax of several
    ML_LINEAR_PROBA_OVR_LOGISTIC,  // sigmoid of each, normalised (one-vs-rest, liblinear)
    ML_LINEAR_PROBA_MODIFIED_HUBER,  // (clip(d, -1, 1) + 1) / 2 of each, normalised
};

typedef struct {
    ml_est_t est;
    uint32_t n_rows;
    const uint32_t *coef;
    const uint32_t *intercept;
} ml_linear_t;

ml_status_t ml_linear_open(ml_linear_t *m, const ml_blob_t *b, ml_error_t *err);

// Computes `method` for the sample x (n_inputs float64, after ml_est_input) into est.out.
ml_status_t ml_linear_run(ml_linear_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err);

#endif
