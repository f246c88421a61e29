#include "ml_covariance.h"

#include "ml_math.h"

#define ID(s) ML_BLOB_ID(s[0], s[1], s[2], s[3])

ml_status_t ml_covariance_open(ml_covariance_t *m, const ml_blob_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    ml_status_t r = ml_est_open(est, b, err);
    if (r != ML_OK) {
        return r;
    }
    if (est->flags != ML_EST_INT_PREDICT || est->variant != 0 || est->n_classes != 0
        || est->n_inputs > 4096) {
        return ml_error_set(err, ML_E_FORMAT, 0, "estm: expected an outlier detector of at "
            "most 4096 features");
    }
    const void *p;
    uint32_t n = est->n_inputs, got;
    if ((r = ml_blob_section(b, ID("covl"), 8, n, n, &p, &got, err)) != ML_OK) {
        return r;
    }
    m->location = p;
    if ((r = ml_blob_section(b, ID("covp"), 8, n * n, n * n, &p, &got, err)) != ML_OK) {
        return r;
    }
    m->precision = p;
    if ((r = ml_blob_section(b, ID("covo"), 8, 1, 1, &p, &got, err)) != ML_OK) {
        return r;
    }
    m->offset = ml_f64(p, 0);
    est->width[ML_PREDICT] = 1;
    est->width[ML_DECISION_FUNCTION] = 1;
    est->width[ML_SCORE_SAMPLES] = 1;
    est->scratch_doubles = n;
    return ML_OK;
}

ml_status_t ml_covariance_run(ml_covariance_t *m, ml_method_t method, const double *x,
    int is_f32, ml_error_t *err) {
    (void)is_f32;
    ml_est_t *est = &m->est;
    uint32_t n = est->n_inputs;
    double *u = est->scratch;
    if (method != ML_PREDICT && method != ML_DECISION_FUNCTION && method != ML_SCORE_SAMPLES) {
        return ml_error_set(err, ML_E_STATE, 0, "this model has no such method");
    }
    for (uint32_t i = 0; i < n; i++) {
        u[i] = x[i] - ml_f64(m->location, i);
    }
    double s = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        double row = 0.0;
        for (uint32_t j = 0; j < n; j++) {
            row += ml_f64(m->precision, (size_t)i * n + j) * u[j];
        }
        s += u[i] * row;
    }
    double d = ml_sqrt(s);
    double score = -(d * d);
    double decision = score - m->offset;
    est->out[0] = method == ML_SCORE_SAMPLES ? score : method == ML_DECISION_FUNCTION
        ? decision : decision >= 0.0 ? 1.0 : -1.0;
    return ML_OK;
}
