// The scikit-learn model families of the core, by model kind: what the C tests and the fuzz
// harness need to open any of them and run its methods.
#ifndef MICROLEARN_TESTS_FAMILIES_H
#define MICROLEARN_TESTS_FAMILIES_H

#include "ml_cluster.h"
#include "ml_covariance.h"
#include "ml_isolation.h"
#include "ml_linear.h"
#include "ml_mixture.h"
#include "ml_naive_bayes.h"
#include "ml_neighbors.h"
#include "ml_svm.h"

typedef struct {
    uint16_t kind;
    uint16_t version;
    size_t size;
    ml_status_t (*open)(void *m, const ml_blob_t *b, ml_error_t *err);
    ml_status_t (*run)(void *m, ml_method_t method, const double *x, int is_f32,
        ml_error_t *err);
    ml_status_t (*learn)(void *m, ml_learn_t what, const ml_batch_t *b, uint32_t *count,
        ml_error_t *err);  // NULL: the family does not learn
} family_t;

#define FAMILY(name, kind, version) \
    static ml_status_t open_##name(void *m, const ml_blob_t *b, ml_error_t *err) { \
        return ml_##name##_open(m, b, err); \
    } \
    static ml_status_t run_##name(void *m, ml_method_t method, const double *x, int is_f32, \
        ml_error_t *err) { \
        return ml_##name##_run(m, method, x, is_f32, err); \
    }

#define LEARNS(name) \
    static ml_status_t learn_##name(void *m, ml_learn_t what, const ml_batch_t *b, \
        uint32_t *count, ml_error_t *err) { \
        return ml_##name##_learn(m, what, b, count, err); \
    }

LEARNS(linear)
LEARNS(neighbors)
LEARNS(naive_bayes)
LEARNS(cluster)

FAMILY(linear, ML_BLOB_KIND_LINEAR, ML_LINEAR_FORMAT_VERSION)
FAMILY(svm, ML_BLOB_KIND_SVM, ML_SVM_FORMAT_VERSION)
FAMILY(neighbors, ML_BLOB_KIND_NEIGHBORS, ML_NEIGHBORS_FORMAT_VERSION)
FAMILY(naive_bayes, ML_BLOB_KIND_NAIVE_BAYES, ML_NAIVE_BAYES_FORMAT_VERSION)
FAMILY(mixture, ML_BLOB_KIND_MIXTURE, ML_MIXTURE_FORMAT_VERSION)
FAMILY(cluster, ML_BLOB_KIND_CLUSTER, ML_CLUSTER_FORMAT_VERSION)
FAMILY(isolation, ML_BLOB_KIND_ISOLATION, ML_ISOLATION_FORMAT_VERSION)
FAMILY(covariance, ML_BLOB_KIND_COVARIANCE, ML_COVARIANCE_FORMAT_VERSION)

// The largest family struct, for a buffer any of them fits in.
typedef union {
    ml_linear_t linear;
    ml_svm_t svm;
    ml_neighbors_t neighbors;
    ml_naive_bayes_t naive_bayes;
    ml_mixture_t mixture;
    ml_cluster_t cluster;
    ml_isolation_t isolation;
    ml_covariance_t covariance;
} any_model_t;

static const family_t families[] = {
    { ML_BLOB_KIND_LINEAR, ML_LINEAR_FORMAT_VERSION, sizeof(ml_linear_t), open_linear, run_linear,
      learn_linear },
    { ML_BLOB_KIND_SVM, ML_SVM_FORMAT_VERSION, sizeof(ml_svm_t), open_svm, run_svm, NULL },
    { ML_BLOB_KIND_NEIGHBORS, ML_NEIGHBORS_FORMAT_VERSION, sizeof(ml_neighbors_t), open_neighbors,
      run_neighbors, learn_neighbors },
    { ML_BLOB_KIND_NAIVE_BAYES, ML_NAIVE_BAYES_FORMAT_VERSION, sizeof(ml_naive_bayes_t),
      open_naive_bayes, run_naive_bayes, learn_naive_bayes },
    { ML_BLOB_KIND_MIXTURE, ML_MIXTURE_FORMAT_VERSION, sizeof(ml_mixture_t), open_mixture,
      run_mixture, NULL },
    { ML_BLOB_KIND_CLUSTER, ML_CLUSTER_FORMAT_VERSION, sizeof(ml_cluster_t), open_cluster,
      run_cluster, learn_cluster },
    { ML_BLOB_KIND_ISOLATION, ML_ISOLATION_FORMAT_VERSION, sizeof(ml_isolation_t),
      open_isolation, run_isolation, NULL },
    { ML_BLOB_KIND_COVARIANCE, ML_COVARIANCE_FORMAT_VERSION, sizeof(ml_covariance_t),
      open_covariance, run_covariance, NULL },
};

static inline const family_t *family_of(uint16_t kind) {
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        if (families[i].kind == kind) {
            return &families[i];
        }
    }
    return NULL;
}

#endif
