#include "ml_mixture.h"

#include "ml_math.h"

#define ID(s) ML_BLOB_ID(s[0], s[1], s[2], s[3])

ml_status_t ml_mixture_open(ml_mixture_t *m, const ml_blob_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    ml_status_t r = ml_est_open(est, b, err);
    if (r != ML_OK) {
        return r;
    }
    const void *p;
    uint32_t k;
    if ((r = ml_blob_section(b, ID("gmmw"), 8, 1, 65536, &p, &k, err)) != ML_OK) {
        return r;
    }
    m->log_weights = p;
    m->n_components = k;
    if (est->variant > ML_MIXTURE_SPHERICAL || est->n_classes != 0
        || est->flags != ML_EST_INT_PREDICT) {
        return ml_error_set(err, ML_E_FORMAT, 0, "estm: variant %lu flags %lu: expected a "
            "mixture", (unsigned long)est->variant, (unsigned long)est->flags);
    }
    uint64_t n = est->n_inputs, kn = (uint64_t)k * n;
    const uint32_t *c0;
    if ((r = ml_est_section(b, ID("gmmd"), k, &m->log_det, err)) != ML_OK
        || (r = ml_est_section(b, ID("gmmc"), 1, &c0, err)) != ML_OK) {
        return r;
    }
    m->c0 = ml_f64(c0, 0);
    m->mu_prec = m->a = m->b = NULL;
    switch (est->variant) {
        case ML_MIXTURE_FULL:
        case ML_MIXTURE_TIED:
            r = ml_est_section(b, ID("gmmp"), (est->variant == ML_MIXTURE_FULL ? k : 1) * n * n,
                &m->prec, err);
            if (r == ML_OK) {
                r = ml_est_section(b, ID("gmmu"), kn, &m->mu_prec, err);
            }
            break;
        default:
            r = ml_est_section(b, ID("gmma"), k, &m->a, err);
            if (r == ML_OK) {
                r = ml_est_section(b, ID("gmmb"), kn, &m->b, err);
            }
            if (r == ML_OK) {
                r = ml_est_section(b, ID("gmmp"), est->variant == ML_MIXTURE_DIAG ? kn : k,
                    &m->prec, err);
            }
            break;
    }
    if (r != ML_OK) {
        return r;
    }
    est->width[ML_PREDICT] = 1;
    est->width[ML_PREDICT_PROBA] = k;
    est->width[ML_SCORE_SAMPLES] = 1;
    est->scratch_doubles = k + (uint32_t)n;
    return ML_OK;
}

// The weighted log-probability of each component into lp[k].
static void weighted_log_prob(const ml_mixture_t *m, const double *x, int is_f32, double *lp,
    double *x2) {
    const ml_est_t *est = &m->est;
    uint32_t n = est->n_inputs;
    // |x|^2 in float64 (scikit-learn sums float32 X in float32, in numpy's SIMD order, which
    // moves spherical log-likelihoods by ~1e-7 of |x|^2: tests/device/test_probabilistic.py).
    double rn = 0.0;
    for (uint32_t j = 0; j < n; j++) {
        x2[j] = is_f32 ? (double)((float)x[j] * (float)x[j]) : x[j] * x[j];  // X**2 stays float32
        rn += x[j] * x[j];
    }
    for (uint32_t c = 0; c < m->n_components; c++) {
        double s = 0.0;
        if (est->variant == ML_MIXTURE_FULL || est->variant == ML_MIXTURE_TIED) {
            const uint32_t *p = m->prec
                + (est->variant == ML_MIXTURE_FULL ? 2 * (size_t)c * n * n : 0);
            for (uint32_t j = 0; j < n; j++) {
                double y = 0.0;
                for (uint32_t i = 0; i < n; i++) {
                    y += x[i] * ml_f64(p, (size_t)i * n + j);
                }
                y -= ml_f64(m->mu_prec, (size_t)c * n + j);
                s += y * y;
            }
            if (is_f32) {
                // Stored into an array of X's dtype, then -0.5 * (c0 + it) in float32 (numpy
                // keeps float32 with a Python float), then the float64 log-determinant.
                float t = (float)m->c0 + (float)s;
                lp[c] = ((double)(-0.5f * t) + ml_f64(m->log_det, c)) + ml_f64(m->log_weights, c);
                continue;
            }
        } else {
            double d = 0.0;
            for (uint32_t j = 0; j < n; j++) {
                d += x[j] * ml_f64(m->b, (size_t)c * n + j);
            }
            if (est->variant == ML_MIXTURE_DIAG) {
                double e = 0.0;
                for (uint32_t j = 0; j < n; j++) {
                    e += x2[j] * ml_f64(m->prec, (size_t)c * n + j);
                }
                s = (ml_f64(m->a, c) - 2.0 * d) + e;
            } else {
                double p = ml_f64(m->prec, c);
                s = (ml_f64(m->a, c) - 2.0 * (d * p)) + rn * p;
            }
        }
        lp[c] = (-0.5 * (m->c0 + s) + ml_f64(m->log_det, c)) + ml_f64(m->log_weights, c);
    }
}

ml_status_t ml_mixture_run(ml_mixture_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    ml_est_t *est = &m->est;
    double *lp = est->scratch, *x2 = est->scratch + m->n_components;
    if (method != ML_PREDICT && method != ML_PREDICT_PROBA && method != ML_SCORE_SAMPLES) {
        return ml_error_set(err, ML_E_STATE, 0, "this model has no such method");
    }
    weighted_log_prob(m, x, is_f32, lp, x2);
    if (method == ML_PREDICT) {
        est->out[0] = (double)ml_argmax(lp, m->n_components);
        return ML_OK;
    }
    double norm = ml_logsumexp(lp, m->n_components);
    if (method == ML_SCORE_SAMPLES) {
        est->out[0] = norm;
        return ML_OK;
    }
    for (uint32_t c = 0; c < m->n_components; c++) {
        est->out[c] = ml_exp(lp[c] - norm);
    }
    return ML_OK;
}
