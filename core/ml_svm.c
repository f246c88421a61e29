#include "ml_svm.h"

#include "ml_math.h"

#define ID(s) ML_BLOB_ID(s[0], s[1], s[2], s[3])

static ml_status_t f64s(const ml_blob_t *b, const char *id, uint64_t count, int optional,
    const uint32_t **p, ml_error_t *err) {
    uint32_t n;
    if (count > 0x7fffffff) {
        return ml_error_set(err, ML_E_FORMAT, 0, "model too large");
    }
    ml_status_t r = ml_blob_section(b, ID(id), 8, optional ? 0 : (uint32_t)count,
        (uint32_t)count, (const void **)p, &n, err);
    if (r == ML_OK && optional && n != 0 && n != count) {
        return ml_error_set(err, ML_E_FORMAT, 0, "section '%s': %lu values, expected %lu", id,
            (unsigned long)n, (unsigned long)count);
    }
    return r;
}

ml_status_t ml_svm_open(ml_svm_t *m, const ml_blob_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    ml_status_t r = ml_est_open(est, b, err);
    if (r != ML_OK) {
        return r;
    }
    const void *p;
    uint32_t n;
    if ((r = ml_blob_section(b, ID("svmh"), 4, 4, 4, &p, &n, err)) != ML_OK) {
        return r;
    }
    const uint32_t *h = p;
    m->kernel = h[0];
    m->degree = h[1];
    m->n_sv = h[2];
    m->ovr = h[3];
    uint32_t variant = est->variant, nc = est->n_classes;
    int classifier = variant == ML_SVM_CLASSIFIER;
    uint32_t want_flags = classifier ? ML_EST_CLASSIFIER
        : variant == ML_SVM_ONE_CLASS ? ML_EST_INT_PREDICT : 0;
    if (variant > ML_SVM_ONE_CLASS || m->kernel > ML_SVM_SIGMOID || m->degree > 64
        || m->n_sv == 0 || m->n_sv > ML_EST_MAX_DIM || m->ovr > 1 || est->flags != want_flags
        || (!classifier && nc != 0) || nc > 256) {
        return ml_error_set(err, ML_E_FORMAT, 0, "svmh: variant %lu, kernel %lu, degree %lu, "
            "%lu support vectors, %lu classes: not a valid combination", (unsigned long)variant,
            (unsigned long)m->kernel, (unsigned long)m->degree, (unsigned long)m->n_sv,
            (unsigned long)nc);
    }
    const uint32_t *k;
    if ((r = f64s(b, "svmk", 2, 0, &k, err)) != ML_OK) {
        return r;
    }
    m->gamma = ml_f64(k, 0);
    m->coef0 = ml_f64(k, 1);
    if ((r = f64s(b, "svsv", (uint64_t)m->n_sv * est->n_inputs, 0, &m->sv, err)) != ML_OK) {
        return r;
    }
    m->n_pairs = classifier ? nc * (nc - 1) / 2 : 1;
    uint32_t rows = classifier ? nc - 1 : 1;
    m->n_support = NULL;
    if (classifier) {
        if ((r = ml_blob_section(b, ID("svns"), 4, nc, nc, &p, &n, err)) != ML_OK) {
            return r;
        }
        m->n_support = p;
        uint64_t total = 0;
        for (uint32_t c = 0; c < nc; c++) {
            total += m->n_support[c];
        }
        if (total != m->n_sv) {
            return ml_error_set(err, ML_E_FORMAT, 0, "svns: %lu support vectors by class, "
                "%lu in all", (unsigned long)total, (unsigned long)m->n_sv);
        }
    }
    if ((r = f64s(b, "svdc", (uint64_t)rows * m->n_sv, 0, &m->dual, err)) != ML_OK
        || (r = f64s(b, "svic", m->n_pairs, 0, &m->intercept, err)) != ML_OK
        || (r = f64s(b, "svpa", m->n_pairs, 1, &m->prob_a, err)) != ML_OK
        || (r = f64s(b, "svpb", m->n_pairs, 1, &m->prob_b, err)) != ML_OK) {
        return r;
    }
    if (!m->prob_a != !m->prob_b || (m->prob_a && !classifier)) {
        return ml_error_set(err, ML_E_FORMAT, 0, "svpa, svpb: both or neither, classifiers only");
    }
    m->offset = 0.0;
    if (variant == ML_SVM_ONE_CLASS) {
        const uint32_t *o;
        if ((r = f64s(b, "svof", 1, 0, &o, err)) != ML_OK) {
            return r;
        }
        m->offset = ml_f64(o, 0);
    }
    est->width[ML_PREDICT] = 1;
    if (classifier) {
        est->width[ML_DECISION_FUNCTION] = nc == 2 ? 1 : m->ovr ? nc : m->n_pairs;
        if (m->prob_a) {
            est->width[ML_PREDICT_PROBA] = nc;
        }
    } else if (variant == ML_SVM_ONE_CLASS) {
        est->width[ML_DECISION_FUNCTION] = 1;
        est->width[ML_SCORE_SAMPLES] = 1;
    }
    // kernel values, decision values, votes/confidences, pairwise probabilities and Q (k x k
    // each), Qp
    est->scratch_doubles = m->n_sv + m->n_pairs + 2 * nc + 2 * nc * nc + nc;
    return ML_OK;
}

// libsvm's powi: exponentiation by squaring, in its order.
static double powi(double base, uint32_t times) {
    double tmp = base, ret = 1.0;
    for (uint32_t t = times; t > 0; t /= 2) {
        if (t % 2 == 1) {
            ret *= tmp;
        }
        tmp = tmp * tmp;
    }
    return ret;
}

static double kernel(const ml_svm_t *m, const double *x, uint32_t i) {
    uint32_t nf = m->est.n_inputs;
    const uint32_t *sv = m->sv + 2 * (size_t)i * nf;
    double sum = 0.0;
    if (m->kernel == ML_SVM_RBF) {
        for (uint32_t j = 0; j < nf; j++) {
            double d = x[j] - ml_f64(sv, j);
            sum += d * d;
        }
        return ml_exp(-m->gamma * sum);
    }
    for (uint32_t j = 0; j < nf; j++) {
        sum += x[j] * ml_f64(sv, j);
    }
    switch (m->kernel) {
        case ML_SVM_POLY:
            return powi(m->gamma * sum + m->coef0, m->degree);
        case ML_SVM_SIGMOID:
            return ml_tanh(m->gamma * sum + m->coef0);
        default:
            return sum;
    }
}

// libsvm's decision values: one per pair of classes (i < j, in order), or one.
static void decision_values(const ml_svm_t *m, const double *x, double *kv, double *dec) {
    for (uint32_t i = 0; i < m->n_sv; i++) {
        kv[i] = kernel(m, x, i);
    }
    if (m->est.variant != ML_SVM_CLASSIFIER) {
        double sum = 0.0;
        for (uint32_t i = 0; i < m->n_sv; i++) {
            sum += ml_f64(m->dual, i) * kv[i];
        }
        dec[0] = sum + ml_f64(m->intercept, 0);
        return;
    }
    uint32_t nc = m->est.n_classes, p = 0, si = 0;
    for (uint32_t i = 0; i < nc; i++) {
        uint32_t sj = si + m->n_support[i];
        for (uint32_t j = i + 1; j < nc; j++) {
            double sum = 0.0;
            const uint32_t *coef1 = m->dual + 2 * (size_t)(j - 1) * m->n_sv;
            const uint32_t *coef2 = m->dual + 2 * (size_t)i * m->n_sv;
            for (uint32_t k = si; k < si + m->n_support[i]; k++) {
                sum += ml_f64(coef1, k) * kv[k];
            }
            for (uint32_t k = sj; k < sj + m->n_support[j]; k++) {
                sum += ml_f64(coef2, k) * kv[k];
            }
            dec[p] = sum + ml_f64(m->intercept, p);
            p++;
            sj += m->n_support[j];
        }
        si += m->n_support[i];
    }
}

static double sigmoid_predict(double dec, double a, double b) {
    double f = dec * a + b;
    if (f >= 0) {
        double e = ml_exp(-f);
        return e / (1.0 + e);
    }
    return 1.0 / (1 + ml_exp(f));
}

// libsvm's multiclass_probability (Wu, Lin and Weng's second method), step by step.
static void coupling(uint32_t k, const double *r, double *p, double *q, double *qp) {
    uint32_t max_iter = k > 100 ? k : 100;
    double eps = 0.005 / k;
    for (uint32_t t = 0; t < k; t++) {
        p[t] = 1.0 / k;
        q[t * k + t] = 0;
        for (uint32_t j = 0; j < t; j++) {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = q[j * k + t];
        }
        for (uint32_t j = t + 1; j < k; j++) {
            q[t * k + t] += r[j * k + t] * r[j * k + t];
            q[t * k + j] = -r[j * k + t] * r[t * k + j];
        }
    }
    for (uint32_t iter = 0; iter < max_iter; iter++) {
        double pqp = 0;
        for (uint32_t t = 0; t < k; t++) {
            qp[t] = 0;
            for (uint32_t j = 0; j < k; j++) {
                qp[t] += q[t * k + j] * p[j];
            }
            pqp += p[t] * qp[t];
        }
        double max_error = 0;
        for (uint32_t t = 0; t < k; t++) {
            double error = qp[t] - pqp;
            error = error < 0 ? -error : error;
            if (error > max_error) {
                max_error = error;
            }
        }
        if (max_error < eps) {
            break;
        }
        for (uint32_t t = 0; t < k; t++) {
            double diff = (-qp[t] + pqp) / q[t * k + t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t * k + t] + 2 * qp[t])) / (1 + diff) / (1 + diff);
            for (uint32_t j = 0; j < k; j++) {
                qp[j] = (qp[j] + diff * q[t * k + j]) / (1 + diff);
                p[j] /= (1 + diff);
            }
        }
    }
}

ml_status_t ml_svm_run(ml_svm_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    (void)is_f32;  // libsvm takes float64
    ml_est_t *est = &m->est;
    uint32_t nc = est->n_classes;
    double *kv = est->scratch, *dec = kv + m->n_sv, *votes = dec + m->n_pairs;
    double *conf = votes + nc, *r = conf + nc, *q = r + nc * nc, *qp = q + nc * nc;
    if (method >= ML_N_METHODS || !est->width[method]) {
        return ml_error_set(err, ML_E_STATE, 0, "this model has no such method");
    }
    decision_values(m, x, kv, dec);
    double *out = est->out;
    if (est->variant == ML_SVM_REGRESSOR) {
        out[0] = dec[0];
        return ML_OK;
    }
    if (est->variant == ML_SVM_ONE_CLASS) {
        out[0] = method == ML_PREDICT ? (dec[0] > 0 ? 1.0 : -1.0)
            : method == ML_SCORE_SAMPLES ? dec[0] + m->offset : dec[0];
        return ML_OK;
    }
    if (method == ML_PREDICT) {
        // libsvm's vote: the first class of most votes
        for (uint32_t c = 0; c < nc; c++) {
            votes[c] = 0;
        }
        uint32_t p = 0;
        for (uint32_t i = 0; i < nc; i++) {
            for (uint32_t j = i + 1; j < nc; j++) {
                votes[dec[p++] > 0 ? i : j] += 1;
            }
        }
        out[0] = (double)ml_argmax(votes, nc);
        return ML_OK;
    }
    if (method == ML_DECISION_FUNCTION) {
        if (nc == 2) {
            out[0] = -dec[0];  // scikit-learn flips the sign of the binary case
        } else if (!m->ovr) {
            for (uint32_t p = 0; p < m->n_pairs; p++) {
                out[p] = dec[p];
            }
        } else {
            // scikit-learn's _ovr_decision_function of (dec < 0, -dec)
            for (uint32_t c = 0; c < nc; c++) {
                votes[c] = conf[c] = 0;
            }
            uint32_t p = 0;
            for (uint32_t i = 0; i < nc; i++) {
                for (uint32_t j = i + 1; j < nc; j++, p++) {
                    conf[i] -= -dec[p];
                    conf[j] += -dec[p];
                    votes[dec[p] < 0 ? j : i] += 1;
                }
            }
            for (uint32_t c = 0; c < nc; c++) {
                double a = conf[c] < 0 ? -conf[c] : conf[c];
                out[c] = votes[c] + conf[c] / (3 * (a + 1));
            }
        }
        return ML_OK;
    }
    // predict_proba: libsvm's svm_predict_probability
    const double min_prob = 1e-7;
    uint32_t p = 0;
    for (uint32_t i = 0; i < nc; i++) {
        for (uint32_t j = i + 1; j < nc; j++, p++) {
            double v = sigmoid_predict(dec[p], ml_f64(m->prob_a, p), ml_f64(m->prob_b, p));
            v = v > min_prob ? v : min_prob;
            v = v < 1 - min_prob ? v : 1 - min_prob;
            r[i * nc + j] = v;
            r[j * nc + i] = 1 - v;
        }
    }
    // scikit-learn's libsvm couples the two-class case too (its iteration stops within
    // 0.005 / k, so the result differs from the pairwise probability in the third digit).
    coupling(nc, r, out, q, qp);
    return ML_OK;
}
