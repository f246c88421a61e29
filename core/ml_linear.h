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

// Learning on the device (optional section; SGDClassifier, SGDRegressor, Perceptron):
//   'sgdl'  f64[10 + n_classes]  loss (ML_SGD_*), penalty (0 none, 1 l1, 2 l2, 3 elasticnet),
//                                learning rate (1 constant, 2 optimal, 3 invscaling,
//                                4 adaptive), fit_intercept, t_, alpha, l1_ratio, eta0,
//                                power_t, epsilon; then each class's weight (classifiers)
// partial_fit(X, y) is scikit-learn's partial_fit with shuffle=False: one pass of _plain_sgd
// over the samples in their order, each class against the rest from the same t_, then
// t_ += n_samples. The model file must be in RAM (loaded from a file, or a bytearray).
enum {
    ML_SGD_HINGE = 1,
    ML_SGD_SQUARED_HINGE,
    ML_SGD_PERCEPTRON,
    ML_SGD_LOG_LOSS,
    ML_SGD_MODIFIED_HUBER,
    ML_SGD_SQUARED_ERROR,
    ML_SGD_HUBER,
    ML_SGD_EPSILON_INSENSITIVE,
    ML_SGD_SQUARED_EPSILON_INSENSITIVE,
};

typedef struct {
    ml_est_t est;
    uint32_t n_rows;
    const uint32_t *coef;
    const uint32_t *intercept;
    uint32_t *sgd;           // the 'sgdl' section, or NULL
} ml_linear_t;

ml_status_t ml_linear_open(ml_linear_t *m, const ml_blob_t *b, ml_error_t *err);
ml_status_t ml_linear_learn(ml_linear_t *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err);

// Computes `method` for the sample x (n_inputs float64, after ml_est_input) into est.out.
ml_status_t ml_linear_run(ml_linear_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err);

#endif
