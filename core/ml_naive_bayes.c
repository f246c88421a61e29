#include "ml_naive_bayes.h"

#include "ml_math.h"

#define SECTION_GNBC ML_BLOB_ID('g', 'n', 'b', 'c')
#define SECTION_GNBM ML_BLOB_ID('g', 'n', 'b', 'm')
#define SECTION_GNBV ML_BLOB_ID('g', 'n', 'b', 'v')

ml_status_t ml_naive_bayes_open(ml_naive_bayes_t *m, const ml_blob_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    ml_status_t r = ml_est_open(est, b, err);
    if (r != ML_OK) {
        return r;
    }
    if (!(est->flags & ML_EST_CLASSIFIER) || est->variant != 0) {
        return ml_error_set(err, ML_E_FORMAT, 0, "estm: a GaussianNB is a classifier, variant 0");
    }
    uint64_t size = (uint64_t)est->n_classes * est->n_inputs;
    uint64_t n_consts = 2 * (uint64_t)est->n_classes;
    if ((r = ml_est_section(b, SECTION_GNBC, n_consts, &m->consts, err)) != ML_OK
        || (r = ml_est_section(b, SECTION_GNBM, size, &m->theta, err)) != ML_OK
        || (r = ml_est_section(b, SECTION_GNBV, size, &m->var, err)) != ML_OK) {
        return r;
    }
    est->width[ML_PREDICT] = 1;
    est->width[ML_PREDICT_PROBA] = est->n_classes;
    est->scratch_doubles = est->n_classes;
    return ML_OK;
}

ml_status_t ml_naive_bayes_run(ml_naive_bayes_t *m, ml_method_t method, const double *x,
    int is_f32, ml_error_t *err) {
    (void)is_f32;  // x - theta_ is float64 in numpy either way
    ml_est_t *est = &m->est;
    uint32_t nc = est->n_classes, nf = est->n_inputs;
    double *jll = est->scratch;
    if (method != ML_PREDICT && method != ML_PREDICT_PROBA) {
        return ml_error_set(err, ML_E_STATE, 0, "this model has no such method");
    }
    for (uint32_t c = 0; c < nc; c++) {
        const uint32_t *theta = m->theta + 2 * (size_t)c * nf, *var = m->var + 2 * (size_t)c * nf;
        double s = 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            double d = x[j] - ml_f64(theta, j);
            s += d * d / ml_f64(var, j);
        }
        jll[c] = ml_f64(m->consts, 2 * c) + (ml_f64(m->consts, 2 * c + 1) - 0.5 * s);
    }
    if (method == ML_PREDICT) {
        est->out[0] = (double)ml_argmax(jll, nc);
        return ML_OK;
    }
    double norm = ml_logsumexp(jll, nc);
    for (uint32_t c = 0; c < nc; c++) {
        est->out[c] = ml_exp(jll[c] - norm);
    }
    return ML_OK;
}
