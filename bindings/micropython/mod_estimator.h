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
    // Learning on the device (NULL: the family has none; which calls a model takes is in
    // its est.learn): fit, partial_fit, add, remove, clear.
    ml_status_t (*learn)(void *model, ml_learn_t what, const ml_batch_t *b, uint32_t *count,
        ml_error_t *err);
    // The family's own attributes (NULL: none): sets dest[0] (and dest[1] for a method).
    void (*attr)(mp_obj_t self, void *model, qstr attr, mp_obj_t *dest);
} ml_family_t;

typedef struct {
    mp_obj_base_t base;
    const ml_family_t *family;
    ml_blob_load_t load;   // the model file: in place, or the block it was read into
    double *work;          // ml_est_work_size bytes (a learner's: all its memory)
    size_t work_size;
    bool writable;         // the model file is in RAM we may change (learning)
    uint64_t model[];      // the family's model struct
} ml_est_obj_t;

// Loads a model of `family` from a path, a stream or a buffer (used in place).
mp_obj_t ml_est_load(mp_obj_t source, const ml_family_t *family);

// A model made on the device (a learner), with `memory_size` bytes at self->work for the
// family's init, which the caller runs next; on its failure, ml_est_discard and raise.
ml_est_obj_t *ml_est_new(const ml_family_t *family, size_t memory_size);
void ml_est_discard(ml_est_obj_t *self);

#if MICROPY_ENABLE_DYNRUNTIME
// Builds the type (call from mpy_init) and stores it in the module as `Model`.
void ml_est_init_type(void);
#endif

// Argument tables are built at run time (a native module cannot hold qstrs in const data).
static inline void ml_arg(mp_arg_t *a, qstr q, uint16_t flags, mp_obj_t def) {
    a->qst = q;
    a->flags = flags | MP_ARG_OBJ;
    a->defval.u_obj = def;
}

// A string argument equal to one of `choices` (NULL-terminated): its index; ValueError
// naming the argument and the choices otherwise.
int ml_get_choice(mp_obj_t obj, const char *name, const char *const *choices);

// A number argument (int or float) that is finite and in lo..hi (range: that in words).
double ml_get_number(mp_obj_t obj, const char *name, double lo, double hi, const char *range);

#endif
