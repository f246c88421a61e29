// What the scikit-learn model families (linear models, SVMs, neighbours, naive Bayes,
// mixtures, clustering, anomaly detectors) share: the common sections of their binary model
// files (core/ml_blob.h), the preprocessing steps of a pipeline, and the conversion of one
// input sample into the float64 vector the estimator computes on.
//
// Common sections (all little-endian):
//   'estm'  u32[5]  n_features, n_inputs (the estimator's own features, after the
//                   preprocessing), n_classes (0 unless a classifier), variant (the family's),
//                   flags (ML_EST_*)
//   'labl'  i32[n_classes]   class labels (optional: 0 .. n_classes-1 when absent)
//   'name'  text             what was converted, e.g. "StandardScaler+LogisticRegression"
//   'prep'  u32[4 * steps]   per step: op (ML_PREP_*), n_in, n_out, flags (ML_PREP_F32_*)
//   'prpv'  f64[]            the steps' values, in step order
//
// Parameters are float64 (scikit-learn's own) stored as pairs of 32-bit words, so that a model
// used in place needs only 4-byte alignment; the families compute in double, as scikit-learn
// does, so results agree to rounding in the last bits.
//
// float32 inputs: where scikit-learn keeps a float32 array float32 through a preprocessing
// step (the scalers transform in place), each step rounds to float32 as numpy does; int16
// inputs are converted to float64 first, as scikit-learn's input validation does.
#ifndef MICROLEARN_ML_ESTIMATOR_H
#define MICROLEARN_ML_ESTIMATOR_H

#include <stddef.h>
#include <stdint.h>

#include "ml_blob.h"
#include "ml_error.h"

// What a model can compute for one sample; each writes width[method] values.
typedef enum {
    ML_PREDICT = 0,          // 1 value: class index (classifiers), cluster, +1/-1, or value
    ML_DECISION_FUNCTION,
    ML_PREDICT_PROBA,
    ML_SCORE_SAMPLES,
    ML_TRANSFORM,
    ML_N_METHODS,
} ml_method_t;

// flags of 'estm'
#define ML_EST_CLASSIFIER (1)   // predict gives a class index, reported as its label
#define ML_EST_INT_PREDICT (2)  // predict gives an integer (cluster, +1/-1 inlier/outlier)
#define ML_EST_FLAGS (3)

// Preprocessing steps: x = x - v, x / v, x * v, x + v elementwise, or x = M x.
enum {
    ML_PREP_SUB = 1,
    ML_PREP_DIV,
    ML_PREP_MUL,
    ML_PREP_ADD,
    ML_PREP_MATMUL,  // v is M, n_out rows of n_in
};
#define ML_PREP_F32_RESULT (1)  // a float32 input stays float32: round the result
#define ML_PREP_F32_VALUES (2)  // ... and the values are rounded to float32 first

#define ML_EST_MAX_DIM (1u << 20)

#define ML_SECTION_ESTM ML_BLOB_ID('e', 's', 't', 'm')
#define ML_SECTION_LABL ML_BLOB_ID('l', 'a', 'b', 'l')
#define ML_SECTION_NAME ML_BLOB_ID('n', 'a', 'm', 'e')
#define ML_SECTION_PREP ML_BLOB_ID('p', 'r', 'e', 'p')
#define ML_SECTION_PRPV ML_BLOB_ID('p', 'r', 'p', 'v')

// A float64 of a parameter array (pairs of 32-bit words, 4-byte aligned).
static inline double ml_f64(const uint32_t *a, size_t i) {
    union {
        uint32_t u[2];
        double d;
    } v;
    v.u[0] = a[2 * i];
    v.u[1] = a[2 * i + 1];
    return v.d;
}

typedef struct {
    uint32_t n_features;
    uint32_t n_inputs;
    uint32_t n_classes;
    uint32_t variant;
    uint32_t flags;
    uint32_t width[ML_N_METHODS];  // values each method writes; 0: the model does not have it
    const int32_t *labels;         // NULL: the labels are the class indices
    const char *name;
    uint32_t name_len;
    const uint32_t *steps;         // 4 words per step
    uint32_t n_steps;
    const uint32_t *step_values;   // float64 pairs
    uint32_t n_step_values;
    uint32_t step_width;           // widest vector of the input and the steps
    uint32_t scratch_doubles;      // what the family needs besides input and output
    // Work memory, set by ml_est_set_work: the input being preprocessed (2 x step_width), the
    // method's output (the largest width), the family's scratch.
    double *x_work;
    double *out;
    double *scratch;
} ml_est_t;

// Reads the common sections and checks the preprocessing steps. The family then sets
// width[] and scratch_doubles, and may read est->variant.
ml_status_t ml_est_open(ml_est_t *est, const ml_blob_t *b, ml_error_t *err);

// A section of exactly `count` 8-byte values (float64, or a family's 8-byte records) into *p;
// a count over 2**31 - 1 is refused as "model too large".
ml_status_t ml_est_section(const ml_blob_t *b, uint32_t id, uint64_t count, const uint32_t **p,
    ml_error_t *err);

// Bytes of work memory the model needs (8-byte aligned block), and giving it that block.
size_t ml_est_work_size(const ml_est_t *est);
void ml_est_set_work(ml_est_t *est, double *work);

// One sample, n_features values of float32 ('f') or int16 ('h'), through the preprocessing:
// *xin points to the n_inputs float64 values the estimator sees, *is_f32 tells whether
// scikit-learn would see them as float32. Non-finite values are refused (ML_E_INPUT), as
// scikit-learn refuses them.
ml_status_t ml_est_input(ml_est_t *est, const void *x, char typecode, const double **xin,
    int *is_f32, ml_error_t *err);

// The index of the first largest value (numpy's argmax).
uint32_t ml_argmax(const double *v, uint32_t n);

// In place: v = exp(v - max) / sum, as scipy's softmax.
void ml_softmax(double *v, uint32_t n);

#endif
