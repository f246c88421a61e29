// The Python type shared by the scikit-learn family modules (linear_model, svm, neighbors,
// naive_bayes, mixture, cluster, ensemble, covariance): a model loaded from a binary model
// file (core/ml_estimator.h), with the methods scikit-learn users know. A family module
// describes its core functions in an ml_family_t and calls ml_est_load.
#ifndef MICROLEARN_MOD_ESTIMATOR_H
#define MICROLEARN_MOD_ESTIMATOR_H

#include "mod_common.h"
#include "ml_estimator.h"

typedef struct {
    uint16_t kind;         // ML_BLOB_KIND_*
    uint16_t max_version;  // the newest layout of the kind this module reads
    size_t model_size;     // sizeof the family's model struct, which starts with ml_est_t
    ml_status_t (*open)(void *model, const ml_blob_t *b, ml_error_t *err);
    ml_status_t (*run)(void *model, ml_method_t method, const double *x, int is_f32,
        ml_error_t *err);
} ml_family_t;

typedef struct {
    mp_obj_base_t base;
    const ml_family_t *family;
    ml_blob_load_t load;   // the model file: in place, or the block it was read into
    double *work;          // ml_est_work_size bytes
    size_t work_size;
    uint64_t model[];      // the family's model struct
} ml_est_obj_t;

// Loads a model of `family` from a path, a stream or a buffer (used in place).
mp_obj_t ml_est_load(mp_obj_t source, const ml_family_t *family);

#if MICROPY_ENABLE_DYNRUNTIME
// Builds the type (call from mpy_init) and stores it in the module as `Model`.
void ml_est_init_type(void);
#endif

#endif
