#include "ml_linear.h"

#include "ml_math.h"

#define SECTION_COEF ML_BLOB_ID('c', 'o', 'e', 'f')
#define SECTION_ICPT ML_BLOB_ID('i', 'c', 'p', 't')

ml_status_t ml_linear_open(ml_linear_t *m, const ml_blob_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    ml_status_t r = ml_est_open(est, b, err);
    if (r != ML_OK) {
        return r;
    }
    const void *p;
    uint32_t n;
    if ((r = ml_blob_section(b, SECTION_ICPT, 8, 1, ML_EST_MAX_DIM, &p, &n, err)) != ML_OK) {
        return r;
    }
    m->intercept = p;
    m->n_rows = n;
    int classifier = est->flags & ML_EST_CLASSIFIER;
    uint32_t want = !classifier ? 1 : est->n_classes == 2 ? 1 : est->n_classes;
    if (n != want) {
        return ml_error_set(err, ML_E_FORMAT, 0, "icpt: %lu rows, expected %lu for a %s",
            (unsigned long)n, (unsigned long)want, classifier ? "classifier" : "regressor");
    }
    if (est->variant > ML_LINEAR_PROBA_MODIFIED_HUBER || (!classifier && est->variant)) {
        return ml_error_set(err, ML_E_FORMAT, 0, "estm: unknown variant %lu",
            (unsigned long)est->variant);
    }
    uint64_t size = (uint64_t)m->n_rows * est->n_inputs;
    if ((r = ml_blob_section(b, SECTION_COEF, 8, 1, 0xffffffffu, &p, &n, err)) != ML_OK) {
        return r;
    }
    if (n != size) {
        return ml_error_set(err, ML_E_FORMAT, 0, "coef: %lu values, expected %lu rows of %lu",
            (unsigned long)n, (unsigned long)m->n_rows, (unsigned long)est->n_inputs);
    }
    m->coef = p;
    est->width[ML_PREDICT] = 1;
    if (classifier) {
        est->width[ML_DECISION_FUNCTION] = m->n_rows;  // regressors have none in scikit-learn
    }
    if (classifier && est->variant != ML_LINEAR_PROBA_NONE) {
        est->width[ML_PREDICT_PROBA] = est->n_classes;
    }
    est->scratch_doubles = m->n_rows;
    return ML_OK;
}

// d = coef x + intercept, as scikit-learn: the dot product, then the intercept.
static void decision(const ml_linear_t *m, const double *x, double *d) {
    uint32_t nf = m->est.n_inputs;
    for (uint32_t r = 0; r < m->n_rows; r++) {
        const uint32_t *row = m->coef + 2 * (size_t)r * nf;
        double acc = 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            acc += ml_f64(row, j) * x[j];
        }
        d[r] = acc + ml_f64(m->intercept, r);
    }
}

static double expit(double v) {
    return 1.0 / (1.0 + ml_exp(-v));
}

// Normalises positive scores to sum 1; all zero gives the uniform distribution.
static void normalise(double *p, uint32_t n) {
    double sum = 0.0;
    for (uint32_t k = 0; k < n; k++) {
        sum += p[k];
    }
    for (uint32_t k = 0; k < n; k++) {
        p[k] = sum == 0.0 ? 1.0 / (double)n : p[k] / sum;
    }
}

ml_status_t ml_linear_run(ml_linear_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    (void)is_f32;  // float32 inputs meet float64 coefficients: numpy computes in float64
    ml_est_t *est = &m->est;
    double *d = est->scratch, *out = est->out;
    decision(m, x, d);
    int binary = m->n_rows == 1;
    switch (method) {
        case ML_PREDICT:
            if (!(est->flags & ML_EST_CLASSIFIER)) {
                out[0] = d[0];
            } else {
                out[0] = binary ? (d[0] > 0.0) : (double)ml_argmax(d, m->n_rows);
            }
            return ML_OK;
        case ML_DECISION_FUNCTION:
            if (est->width[ML_DECISION_FUNCTION] == 0) {
                break;
            }
            for (uint32_t r = 0; r < m->n_rows; r++) {
                out[r] = d[r];
            }
            return ML_OK;
        case ML_PREDICT_PROBA:
            if (est->width[ML_PREDICT_PROBA] == 0) {
                break;
            }
            if (binary) {
                double p = est->variant == ML_LINEAR_PROBA_MODIFIED_HUBER
                    ? ((d[0] > 1.0 ? 1.0 : d[0] < -1.0 ? -1.0 : d[0]) + 1.0) / 2.0 : expit(d[0]);
                out[0] = 1.0 - p;
                out[1] = p;
                return ML_OK;
            }
            for (uint32_t k = 0; k < m->n_rows; k++) {
                out[k] = d[k];
                if (est->variant == ML_LINEAR_PROBA_OVR_LOGISTIC) {
                    out[k] = expit(d[k]);
                } else if (est->variant == ML_LINEAR_PROBA_MODIFIED_HUBER) {
                    out[k] = ((d[k] > 1.0 ? 1.0 : d[k] < -1.0 ? -1.0 : d[k]) + 1.0) / 2.0;
                }
            }
            if (est->variant == ML_LINEAR_PROBA_LOGISTIC) {
                ml_softmax(out, m->n_rows);
            } else {
                normalise(out, m->n_rows);
            }
            return ML_OK;
        default:
            break;
    }
    return ml_error_set(err, ML_E_STATE, 0, "this model has no such method");
}
