#include "ml_linear.h"

#include "ml_math.h"

#define SECTION_COEF ML_BLOB_ID('c', 'o', 'e', 'f')
#define SECTION_ICPT ML_BLOB_ID('i', 'c', 'p', 't')

#define SGD_HEAD (10)
enum { SGD_LOSS, SGD_PENALTY, SGD_RATE, SGD_INTERCEPT, SGD_T, SGD_ALPHA, SGD_L1_RATIO, SGD_ETA0,
       SGD_POWER_T, SGD_EPSILON };

// The learning section, checked so that partial_fit computes with what it understands.
static ml_status_t open_sgd(ml_linear_t *m, const ml_blob_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    const void *p;
    uint32_t n;
    int classifier = est->flags & ML_EST_CLASSIFIER;
    uint32_t want = SGD_HEAD + (classifier ? est->n_classes : 0);
    m->sgd = NULL;
    ml_status_t r = ml_blob_section(b, ML_BLOB_ID('s', 'g', 'd', 'l'), 8, 0, want, &p, &n, err);
    if (r != ML_OK || n == 0) {
        return r;
    }
    const uint32_t *v = p;
    double loss = ml_f64(v, SGD_LOSS), penalty = ml_f64(v, SGD_PENALTY);
    double rate = ml_f64(v, SGD_RATE), icpt = ml_f64(v, SGD_INTERCEPT);
    int ok = n == want && (classifier ? loss >= 1 && loss <= 9 : loss >= 6 && loss <= 9)
        && (loss == 1 || loss == 2 || loss == 3 || loss == 4 || loss == 5 || loss == 6
            || loss == 7 || loss == 8 || loss == 9)
        && (penalty == 0 || penalty == 1 || penalty == 2 || penalty == 3)
        && (rate == 1 || rate == 2 || rate == 3 || rate == 4) && (icpt == 0 || icpt == 1);
    for (uint32_t i = SGD_T; ok && i < n; i++) {
        ok = ml_isfinite_d(ml_f64(v, i));
    }
    if (ok) {
        double alpha = ml_f64(v, SGD_ALPHA), l1 = ml_f64(v, SGD_L1_RATIO);
        ok = ml_f64(v, SGD_T) >= 1.0 && alpha >= 0.0 && l1 >= 0.0 && l1 <= 1.0
            && (rate != 2 || alpha > 0.0) && ml_f64(v, SGD_ETA0) >= 0.0
            && ml_f64(v, SGD_EPSILON) >= 0.0;
    }
    if (!ok) {
        return ml_error_set(err, ML_E_FORMAT, 0, "sgdl: %lu values, expected %lu: loss, penalty, "
            "learning rate, fit_intercept, t_ and finite parameters", (unsigned long)n,
            (unsigned long)want);
    }
    m->sgd = (uint32_t *)v;
    est->learn = ML_LEARN_PARTIAL_FIT | ML_LEARN_IN_FILE;
    est->scratch_doubles += 2 * est->n_inputs;  // a row's weights and the l1 penalty's q
    return ML_OK;
}

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
    return open_sgd(m, b, err);
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

// ---------------------------------------------------------------------------------------------
// Learning on the device: scikit-learn's _plain_sgd (float64), one epoch, in order

// d loss / d p of scikit-learn's loss functions, at target y and prediction p.
static double sgd_gradient(int loss, double eps, double y, double p) {
    double z;
    switch (loss) {
        case ML_SGD_HINGE:
        case ML_SGD_PERCEPTRON:
            return p * y <= (loss == ML_SGD_HINGE ? 1.0 : 0.0) ? -y : 0.0;
        case ML_SGD_SQUARED_HINGE:
            z = 1.0 - p * y;
            return z > 0 ? -2 * y * z : 0.0;
        case ML_SGD_LOG_LOSS:
            // cgradient_half_binomial, y in {0, 1}
            if (p > -37) {
                z = ml_exp(-p);
                return ((1 - y) - y * z) / (1 + z);
            }
            return ml_exp(p) - y;
        case ML_SGD_MODIFIED_HUBER:
            z = p * y;
            return z >= 1.0 ? 0.0 : z >= -1.0 ? 2.0 * (1.0 - z) * -y : -4.0 * y;
        case ML_SGD_SQUARED_ERROR:
            return p - y;
        case ML_SGD_HUBER:
            z = p - y;
            return (z < 0 ? -z : z) <= eps ? z : z >= 0 ? eps : -eps;
        case ML_SGD_EPSILON_INSENSITIVE:
            return y - p > eps ? -1 : p - y > eps ? 1 : 0;
        default:  // ML_SGD_SQUARED_EPSILON_INSENSITIVE
            z = y - p;
            return z > eps ? -2 * (z - eps) : z < -eps ? 2 * (-z - eps) : 0;
    }
}

// Row r's target for sample i: +1 / -1 (0 for log_loss) whether its class is the row's.
static double sgd_target(ml_linear_t *m, const ml_batch_t *b, uint32_t r, uint32_t i, int loss) {
    ml_est_t *est = &m->est;
    if (!(est->flags & ML_EST_CLASSIFIER)) {
        return ml_batch_y(b, i);
    }
    uint32_t k;
    ml_est_class_of(est, b, i, &k, NULL);  // checked before
    uint32_t positive = m->n_rows == 1 ? 1 : r;
    return k == positive ? 1.0 : loss == ML_SGD_LOG_LOSS ? 0.0 : -1.0;
}

// The settings of one partial_fit call, read from the 'sgdl' section.
typedef struct {
    int loss, penalty, rate, fit_intercept;
    double t0, alpha, eta0, power_t, eps, l1_ratio, optimal_init;
} sgd_settings_t;

// One pass of _plain_sgd over the batch for row `row` (each class against the rest), in
// w (the row's weights), q (the l1 penalty's) and *intercept; false when they overflow.
static bool sgd_row(ml_linear_t *m, const ml_batch_t *b, const sgd_settings_t *s, uint32_t row,
    double *w, double *q, double *intercept_io) {
    ml_est_t *est = &m->est;
    uint32_t nf = est->n_inputs;
    for (uint32_t j = 0; j < nf; j++) {
        w[j] = ml_f64(m->coef, (size_t)row * nf + j);
        q[j] = 0.0;
    }
    double intercept = ml_f64(m->intercept, row), wscale = 1.0, u = 0.0, t = s->t0;
    double w_pos = 1.0, w_neg = 1.0;
    if (est->flags & ML_EST_CLASSIFIER) {
        w_pos = ml_f64(m->sgd, SGD_HEAD + (m->n_rows == 1 ? 1 : row));
        w_neg = m->n_rows == 1 ? ml_f64(m->sgd, SGD_HEAD) : 1.0;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        const double *x;
        int is_f32;
        ml_est_batch_input(est, b, i, &x, &is_f32, NULL);  // checked before
        double y = sgd_target(m, b, row, i, s->loss);
        double p = 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            p += w[j] * x[j];
        }
        p = p * wscale + intercept;
        double eta = s->eta0;
        if (s->rate == 2) {
            eta = 1.0 / (s->alpha * (s->optimal_init + t - 1));
        } else if (s->rate == 3) {
            eta = s->eta0 / ml_pow_pos(t, s->power_t);
        }
        double dloss = sgd_gradient(s->loss, s->eps, y, p);
        dloss = dloss < -1e12 ? -1e12 : dloss > 1e12 ? 1e12 : dloss;
        double update = -eta * dloss;
        update *= (y > 0.0 ? w_pos : w_neg) * 1.0;  // class weight * sample weight
        if (s->penalty >= 2) {
            double c = 1.0 - ((1.0 - s->l1_ratio) * eta * s->alpha);
            wscale *= c > 0 ? c : 0;
            if (wscale < 1e-9) {
                for (uint32_t j = 0; j < nf; j++) {
                    w[j] *= wscale;
                }
                wscale = 1.0;
            }
        }
        if (update != 0.0) {
            for (uint32_t j = 0; j < nf; j++) {
                w[j] += x[j] * (update / wscale);
            }
            if (s->fit_intercept) {
                intercept += update * 1.0;  // intercept_decay of dense data
            }
        }
        if (s->penalty == 1 || s->penalty == 3) {
            // truncated gradient (l1penalty)
            u += s->l1_ratio * eta * s->alpha;
            for (uint32_t j = 0; j < nf; j++) {
                double z = w[j];
                if (wscale * z > 0.0) {
                    double d = w[j] - ((u + q[j]) / wscale);
                    w[j] = d > 0.0 ? d : 0.0;
                } else if (wscale * z < 0.0) {
                    double d = w[j] + ((u - q[j]) / wscale);
                    w[j] = d < 0.0 ? d : 0.0;
                }
                q[j] += wscale * (w[j] - z);
            }
        }
        t += 1;
    }
    bool finite = ml_isfinite_d(intercept);
    for (uint32_t j = 0; j < nf; j++) {
        w[j] *= wscale;
        finite = finite && ml_isfinite_d(w[j]);
    }
    *intercept_io = intercept;
    return finite;
}

static ml_status_t sgd_partial_fit(ml_linear_t *m, const ml_batch_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    ml_status_t r = ml_est_check_batch(est, b, est->flags & ML_EST_CLASSIFIER, err);
    if (r != ML_OK) {
        return r;
    }
    const uint32_t *v = m->sgd;
    sgd_settings_t s;
    s.loss = (int)ml_f64(v, SGD_LOSS);
    s.penalty = (int)ml_f64(v, SGD_PENALTY);
    s.rate = (int)ml_f64(v, SGD_RATE);
    s.fit_intercept = ml_f64(v, SGD_INTERCEPT) != 0.0;
    s.t0 = ml_f64(v, SGD_T);
    s.alpha = ml_f64(v, SGD_ALPHA);
    s.eta0 = ml_f64(v, SGD_ETA0);
    s.power_t = ml_f64(v, SGD_POWER_T);
    s.eps = ml_f64(v, SGD_EPSILON);
    s.l1_ratio = s.penalty == 2 ? 0.0 : s.penalty == 1 ? 1.0 : ml_f64(v, SGD_L1_RATIO);
    s.optimal_init = 0.0;
    if (s.rate == 2) {
        double typw = ml_sqrt(1.0 / ml_sqrt(s.alpha));
        double g = sgd_gradient(s.loss, s.eps, 1.0, -typw);
        double initial_eta0 = typw / (g > 1.0 ? g : 1.0);
        s.optimal_init = 1.0 / (initial_eta0 * s.alpha);
    }
    uint32_t nf = est->n_inputs;
    double *w = est->scratch + m->n_rows, *q = w + nf, intercept;
    // The rows learn independently: a first pass checks that none overflows, then each is
    // learned again and written, so that a refused batch leaves the whole model as it was.
    for (uint32_t row = 0; row < m->n_rows; row++) {
        if (!sgd_row(m, b, &s, row, w, q, &intercept)) {
            return ml_error_set(err, ML_E_VALUE, 0, "partial_fit: the weights of row %lu "
                "overflow (scale the data, or lower eta0); the model is unchanged",
                (unsigned long)row);
        }
    }
    uint32_t *coef = (uint32_t *)m->coef, *intercepts = (uint32_t *)m->intercept;
    for (uint32_t row = 0; row < m->n_rows; row++) {
        sgd_row(m, b, &s, row, w, q, &intercept);
        for (uint32_t j = 0; j < nf; j++) {
            ml_set_f64(coef, (size_t)row * nf + j, w[j]);
        }
        ml_set_f64(intercepts, row, intercept);
    }
    ml_set_f64(m->sgd, SGD_T, s.t0 + (double)b->n);
    return ML_OK;
}

ml_status_t ml_linear_learn(ml_linear_t *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err) {
    *count = 0;
    if (!m->sgd || what != ML_PARTIAL_FIT) {
        return ml_error_set(err, ML_E_STATE, 0, "this model cannot learn on the device "
            "(SGDClassifier, SGDRegressor and Perceptron can, with average=False and "
            "early_stopping=False)");
    }
    if (!b->y) {
        return ml_error_set(err, ML_E_VALUE, 0, "partial_fit needs y");
    }
    return sgd_partial_fit(m, b, err);
}
