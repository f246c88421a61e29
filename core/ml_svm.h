// Kernel SVMs (model kind ML_BLOB_KIND_SVM): scikit-learn's SVC, NuSVC, SVR, NuSVR and
// OneClassSVM, computed as libsvm computes them (its kernels, one-vs-one decision values,
// votes, Platt probabilities with pairwise coupling).
//
// Sections besides the common ones of ml_estimator.h:
//   'svmh'  u32[4]  kernel (ML_SVM_LINEAR, _POLY, _RBF, _SIGMOID), degree, n_sv, ovr shape (1)
//   'svmk'  f64[2]  gamma, coef0
//   'svsv'  f64[n_sv * n_inputs]  support vectors
//   'svns'  u32[n_classes]        support vectors per class (classifiers)
//   'svdc'  f64[rows * n_sv]      libsvm's dual coefficients (rows: n_classes - 1, or 1)
//   'svic'  f64[n_pairs]          libsvm's intercepts (-rho): one per pair of classes, or 1
//   'svpa', 'svpb'  f64[n_pairs]  Platt's A and B (classifiers with probability=True)
//   'svof'  f64[1]                offset_ (OneClassSVM: score_samples = decision + offset)
// variant: ML_SVM_CLASSIFIER, _REGRESSOR, _ONE_CLASS.
#ifndef MICROLEARN_ML_SVM_H
#define MICROLEARN_ML_SVM_H

#include "ml_estimator.h"

#define ML_SVM_FORMAT_VERSION (1)

enum { ML_SVM_CLASSIFIER = 0, ML_SVM_REGRESSOR, ML_SVM_ONE_CLASS };
enum { ML_SVM_LINEAR = 0, ML_SVM_POLY, ML_SVM_RBF, ML_SVM_SIGMOID };

typedef struct {
    ml_est_t est;
    uint32_t kernel, degree, n_sv, ovr, n_pairs;
    double gamma, coef0, offset;
    const uint32_t *sv;
    const uint32_t *n_support;
    const uint32_t *dual;
    const uint32_t *intercept;
    const uint32_t *prob_a, *prob_b;
} ml_svm_t;

ml_status_t ml_svm_open(ml_svm_t *m, const ml_blob_t *b, ml_error_t *err);
ml_status_t ml_svm_run(ml_svm_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err);

#endif
