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
    m->learn = NULL;
    const void *p;
    uint32_t n;
    if ((r = ml_blob_section(b, ML_BLOB_ID('g', 'n', 'b', 'n'), 8, 0, 3 + est->n_classes, &p, &n,
        err)) != ML_OK) {
        return r;
    }
    if (n) {
        const uint32_t *v = p;
        int ok = n == 3 + est->n_classes && ml_f64(v, 0) >= 0.0 && ml_f64(v, 1) >= 0.0
            && (ml_f64(v, 2) == 0.0 || ml_f64(v, 2) == 1.0);
        for (uint32_t i = 0; ok && i < n; i++) {
            ok = ml_isfinite_d(ml_f64(v, i)) && (i < 3 || ml_f64(v, i) >= 0.0);
        }
        if (!ok) {
            return ml_error_set(err, ML_E_FORMAT, 0, "gnbn: %lu values, expected %lu finite "
                "ones (var_smoothing, epsilon_, priors, class counts)", (unsigned long)n,
                (unsigned long)(3 + est->n_classes));
        }
        m->learn = (uint32_t *)v;
        est->learn = ML_LEARN_PARTIAL_FIT | ML_LEARN_IN_FILE;
        est->scratch_doubles += 2 * est->n_inputs;  // a batch's means and variances
    }
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

// ---------------------------------------------------------------------------------------------
// Learning on the device: GaussianNB.partial_fit

// numpy's mean and variance over axis 0 of the batch samples of class k (every class when k is
// n_classes), into mu and var; returns how many samples.
static uint32_t batch_moments(ml_naive_bayes_t *m, const ml_batch_t *b, uint32_t k, double *mu,
    double *var) {
    ml_est_t *est = &m->est;
    uint32_t nf = est->n_inputs, n = 0, c;
    const double *x;
    int is_f32;
    for (uint32_t j = 0; j < nf; j++) {
        mu[j] = var[j] = 0.0;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (uint32_t i = 0; i < b->n; i++) {
            if (k < est->n_classes && (ml_est_class_of(est, b, i, &c, NULL), c != k)) {
                continue;
            }
            ml_est_batch_input(est, b, i, &x, &is_f32, NULL);  // checked before
            for (uint32_t j = 0; j < nf; j++) {
                if (pass == 0) {
                    mu[j] += x[j];
                } else {
                    double d = x[j] - mu[j];
                    var[j] += d * d;
                }
            }
            n += pass == 0;
        }
        for (uint32_t j = 0; n && j < nf; j++) {
            if (pass == 0) {
                mu[j] /= (double)n;
            } else {
                var[j] /= (double)n;
            }
        }
    }
    return n;
}

ml_status_t ml_naive_bayes_learn(ml_naive_bayes_t *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err) {
    ml_est_t *est = &m->est;
    *count = 0;
    if (!m->learn || what != ML_PARTIAL_FIT) {
        return ml_error_set(err, ML_E_STATE, 0, "this model cannot learn on the device "
            "(converted without its class counts)");
    }
    if (!b->y) {
        return ml_error_set(err, ML_E_VALUE, 0, "partial_fit needs y");
    }
    ml_status_t r = ml_est_check_batch(est, b, 1, err);
    if (r != ML_OK) {
        return r;
    }
    uint32_t nc = est->n_classes, nf = est->n_inputs;
    uint32_t *theta = (uint32_t *)m->theta, *var = (uint32_t *)m->var;
    uint32_t *consts = (uint32_t *)m->consts, *v = m->learn;
    double *mu_new = est->scratch + nc, *var_new = mu_new + nf;
    // epsilon_ from this batch, taken out of every variance and put back after the update
    // (scikit-learn takes out the new epsilon, not the one it added before).
    batch_moments(m, b, nc, mu_new, var_new);
    double top = var_new[0];
    for (uint32_t j = 1; j < nf; j++) {
        top = var_new[j] > top ? var_new[j] : top;
    }
    double eps = ml_f64(v, 0) * top;
    for (size_t i = 0; i < (size_t)nc * nf; i++) {
        ml_set_f64(var, i, ml_f64(var, i) - eps);
    }
    for (uint32_t k = 0; k < nc; k++) {
        double n_new = (double)batch_moments(m, b, k, mu_new, var_new);
        if (n_new == 0.0) {
            continue;
        }
        double n_past = ml_f64(v, 3 + k);
        for (uint32_t j = 0; j < nf; j++) {
            size_t at = (size_t)k * nf + j;
            if (n_past == 0.0) {
                ml_set_f64(theta, at, mu_new[j]);
                ml_set_f64(var, at, var_new[j]);
                continue;
            }
            double mu = ml_f64(theta, at), n_total = n_past + n_new;
            double total_mu = (n_new * mu_new[j] + n_past * mu) / n_total;
            double d = mu - mu_new[j];
            double total_ssd = n_past * ml_f64(var, at) + n_new * var_new[j]
                + (n_new * n_past / n_total) * (d * d);
            ml_set_f64(theta, at, total_mu);
            ml_set_f64(var, at, total_ssd / n_total);
        }
        ml_set_f64(v, 3 + k, n_past + n_new);
    }
    double total = 0.0;
    for (uint32_t k = 0; k < nc; k++) {
        total += ml_f64(v, 3 + k);
    }
    for (uint32_t k = 0; k < nc; k++) {
        double s = 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            size_t at = (size_t)k * nf + j;
            ml_set_f64(var, at, ml_f64(var, at) + eps);
            s += ml_log(2.0 * 3.141592653589793 * ml_f64(var, at));
        }
        if (ml_f64(v, 2) == 0.0) {
            ml_set_f64(consts, 2 * k, ml_log(ml_f64(v, 3 + k) / total));
        }
        ml_set_f64(consts, 2 * k + 1, -0.5 * s);
    }
    ml_set_f64(v, 1, eps);
    return ML_OK;
}
