#include "ml_cluster.h"

#include "ml_math.h"

#define SECTION_CENT ML_BLOB_ID('c', 'e', 'n', 't')
#define SECTION_CNRM ML_BLOB_ID('c', 'n', 'r', 'm')
#define SECTION_KOFF ML_BLOB_ID('k', 'o', 'f', 'f')

ml_status_t ml_cluster_open(ml_cluster_t *m, const ml_blob_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    ml_status_t r = ml_est_open(est, b, err);
    if (r != ML_OK) {
        return r;
    }
    const void *p;
    uint32_t n;
    if ((r = ml_blob_section(b, SECTION_CNRM, 8, 1, 65536, &p, &n, err)) != ML_OK) {
        return r;
    }
    m->norms = p;
    m->n_clusters = n;
    m->init = NULL;
    m->offset = 0;
    if (est->flags != ML_EST_INT_PREDICT || est->variant > ML_CLUSTER_DETECTOR
        || est->n_classes != 0) {
        return ml_error_set(err, ML_E_FORMAT, 0, "estm: flags %lu variant %lu n_classes %lu, "
            "expected a clusterer (variant 0) or a k-means distance detector (1)",
            (unsigned long)est->flags, (unsigned long)est->variant,
            (unsigned long)est->n_classes);
    }
    uint64_t size = (uint64_t)n * est->n_inputs;
    if (size > 0x7fffffff) {
        return ml_error_set(err, ML_E_FORMAT, 0, "cent: too large");
    }
    if ((r = ml_blob_section(b, SECTION_CENT, 8, (uint32_t)size, (uint32_t)size, &p, &n,
        err)) != ML_OK) {
        return r;
    }
    m->centers = p;
    est->width[ML_PREDICT] = 1;
    est->width[ML_TRANSFORM] = m->n_clusters;
    m->offset = 0.0;
    if (est->variant == ML_CLUSTER_DETECTOR) {
        if ((r = ml_blob_section(b, SECTION_KOFF, 8, 1, 1, &p, &n, err)) != ML_OK) {
            return r;
        }
        m->offset = ml_f64(p, 0);
        if (!(m->offset <= 0.0)) {  // minus a distance: NaN or positive is a damaged file
            return ml_error_set(err, ML_E_FORMAT, 0, "koff: expected a value <= 0");
        }
        est->width[ML_DECISION_FUNCTION] = 1;
        est->width[ML_SCORE_SAMPLES] = 1;
        est->scratch_doubles = m->n_clusters;  // the distances
    }
    return ML_OK;
}

static double dot(const ml_cluster_t *m, const double *x, uint32_t c) {
    uint32_t nf = m->est.n_inputs;
    const uint32_t *row = m->centers + 2 * (size_t)c * nf;
    double acc = 0.0;
    for (uint32_t j = 0; j < nf; j++) {
        acc += x[j] * ml_f64(row, j);
    }
    return acc;
}

// The distances to the centres into out, as euclidean_distances computes them.
static void distances(const ml_cluster_t *m, const double *x, double *out) {
    double xx = 0.0;
    for (uint32_t j = 0; j < m->est.n_inputs; j++) {
        xx += x[j] * x[j];
    }
    for (uint32_t c = 0; c < m->n_clusters; c++) {
        double d = (-2.0 * dot(m, x, c) + xx) + ml_f64(m->norms, c);
        out[c] = ml_sqrt(d > 0.0 ? d : 0.0);
    }
}

ml_status_t ml_cluster_run(ml_cluster_t *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    (void)is_f32;
    ml_est_t *est = &m->est;
    if (est->variant == ML_CLUSTER_DETECTOR && method != ML_TRANSFORM) {
        // score = -(distance to the nearest centre); decision = score - offset; +1/-1.
        distances(m, x, est->scratch);
        double nearest = est->scratch[0];
        for (uint32_t c = 1; c < m->n_clusters; c++) {
            if (est->scratch[c] < nearest) {
                nearest = est->scratch[c];
            }
        }
        double score = -nearest;
        double decision = score - m->offset;
        est->out[0] = method == ML_SCORE_SAMPLES ? score
            : method == ML_DECISION_FUNCTION ? decision : (decision < 0.0 ? -1.0 : 1.0);
        return ML_OK;
    }
    if (method == ML_PREDICT) {
        uint32_t best = 0;
        double best_d = 0.0;
        for (uint32_t c = 0; c < m->n_clusters; c++) {
            double d = -2.0 * dot(m, x, c) + ml_f64(m->norms, c);
            if (c == 0 || d < best_d) {
                best = c;
                best_d = d;
            }
        }
        est->out[0] = (double)best;
        return ML_OK;
    }
    if (method == ML_TRANSFORM) {
        distances(m, x, est->out);
        return ML_OK;
    }
    return ml_error_set(err, ML_E_STATE, 0, "this model has no such method");
}

// ---------------------------------------------------------------------------------------------
// Learning on the device

static size_t learner_work(uint32_t n_clusters, uint32_t n_features) {
    return 8 * ((size_t)2 * n_features + (n_clusters > 1 ? n_clusters : 1));
}

size_t ml_cluster_learner_size(uint32_t n_clusters, uint32_t n_features) {
    return learner_work(n_clusters, n_features)
           + 8 * ((size_t)3 * n_clusters * n_features + 6 * (size_t)n_clusters + n_features);
}

static void update_norms(ml_cluster_t *m) {
    uint32_t nf = m->est.n_inputs;
    for (uint32_t c = 0; c < m->n_clusters; c++) {
        double acc = 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            double v = m->work_centers[(size_t)c * nf + j];
            acc += v * v;
        }
        m->work_norms[c] = acc;
    }
}

ml_status_t ml_cluster_learner_init(ml_cluster_t *m, void *memory, uint32_t n_clusters,
    uint32_t n_features, const void *init, char init_type, uint32_t max_iter, double tol,
    ml_error_t *err) {
    if (n_clusters == 0 || n_clusters > 65536 || n_features == 0 || n_features > 4096
        || (uint64_t)n_clusters * n_features > 0x1000000u) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_clusters %lu, n_features %lu: expected 1 "
            "to 65536 clusters of 1 to 4096 features", (unsigned long)n_clusters,
            (unsigned long)n_features);
    }
    if (max_iter == 0 || !(tol >= 0.0 && tol < 1e300)) {
        return ml_error_set(err, ML_E_VALUE, 0, "max_iter must be at least 1 and tol a finite "
            "value >= 0");
    }
    size_t kf = (size_t)n_clusters * n_features;
    for (size_t i = 0; i < kf; i++) {
        double v = init_type == 'f' ? (double)((const float *)init)[i] : ((const double *)init)[i];
        if (!ml_isfinite_d(v)) {
            return ml_error_set(err, ML_E_INPUT, 0, "init[%lu] is not a finite value",
                (unsigned long)i);
        }
    }
    ml_est_t *est = &m->est;
    static const char name[] = "KMeans";
    *est = (ml_est_t) {
        .n_features = n_features, .n_inputs = n_features, .flags = ML_EST_INT_PREDICT,
        .name = name, .name_len = sizeof(name) - 1, .step_width = n_features,
        .learn = ML_LEARN_FIT | ML_LEARN_PARTIAL_FIT,
    };
    est->width[ML_PREDICT] = 1;
    est->width[ML_TRANSFORM] = n_clusters;
    ml_est_set_work(est, memory);
    double *at = (double *)((uint8_t *)memory + learner_work(n_clusters, n_features));
    m->init = at;
    m->work_centers = at + kf;
    m->acc = at + 2 * kf;
    at += 3 * kf;
    m->work_norms = at;
    m->counts = at + n_clusters;
    m->wsum = at + 2 * (size_t)n_clusters;
    m->shift = at + 3 * (size_t)n_clusters;
    m->far = at + 4 * (size_t)n_clusters;
    // (one more n_clusters of room: the relocation's distances and indices share shift, far)
    m->mean = at + 6 * (size_t)n_clusters;
    for (size_t i = 0; i < kf; i++) {
        m->init[i] = init_type == 'f' ? (double)((const float *)init)[i]
            : ((const double *)init)[i];
        m->work_centers[i] = m->init[i];
    }
    for (uint32_t c = 0; c < n_clusters; c++) {
        m->counts[c] = 0.0;
    }
    m->n_clusters = n_clusters;
    m->centers = (const uint32_t *)m->work_centers;
    m->norms = (const uint32_t *)m->work_norms;
    m->max_iter = max_iter;
    m->tol = tol;
    m->n_iter = 0;
    m->inertia = 0.0;
    update_norms(m);
    return ML_OK;
}

// The E-step of a sample (x: n_inputs values, centred like the centres): the first centre of
// smallest |c|^2 - 2 x.c.
static uint32_t nearest_center(const ml_cluster_t *m, const double *x) {
    uint32_t nf = m->est.n_inputs, best = 0;
    double best_d = 0.0;
    for (uint32_t c = 0; c < m->n_clusters; c++) {
        const double *row = m->work_centers + (size_t)c * nf;
        double dot = 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            dot += x[j] * row[j];
        }
        double d = m->work_norms[c] + -2.0 * dot;
        if (c == 0 || d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}

// Sample i of the batch as float64, minus the mean (fit) or as it is (mean NULL), into out.
static void sample(const ml_cluster_t *m, const ml_batch_t *b, uint32_t i, const double *mean,
    double *out) {
    uint32_t nf = m->est.n_inputs;
    size_t at = (size_t)i * nf;
    for (uint32_t j = 0; j < nf; j++) {
        double v = b->x_type == 'f' ? (double)((const float *)b->x)[at + j]
            : (double)((const int16_t *)b->x)[at + j];
        out[j] = mean ? v - mean[j] : v;
    }
}

// Moves the empty clusters to the samples farthest from their (old) centres, the farthest
// first, as scikit-learn's _relocate_empty_clusters_dense.
static void relocate_empty(ml_cluster_t *m, const ml_batch_t *b, const double *old, double *x) {
    uint32_t nf = m->est.n_inputs, k = m->n_clusters, n_empty = 0;
    for (uint32_t c = 0; c < k; c++) {
        n_empty += m->wsum[c] == 0.0;
    }
    if (n_empty == 0) {
        return;
    }
    // The n_empty largest distances, by decreasing distance (of equal ones the first sample).
    double *dist = m->shift, *idx = m->far;
    uint32_t have = 0;
    for (uint32_t i = 0; i < b->n; i++) {
        sample(m, b, i, m->mean, x);
        const double *c = old + (size_t)nearest_center(m, x) * nf;
        double d = 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            double t = x[j] - c[j];
            d += t * t;
        }
        if (have == n_empty && !(d > dist[n_empty - 1])) {
            continue;
        }
        uint32_t pos = have < n_empty ? have++ : n_empty - 1;
        while (pos > 0 && d > dist[pos - 1]) {
            dist[pos] = dist[pos - 1];
            idx[pos] = idx[pos - 1];
            pos--;
        }
        dist[pos] = d;
        idx[pos] = (double)i;
    }
    if (dist[0] == 0.0) {
        return;  // more clusters than distinct samples: nothing to move
    }
    uint32_t e = 0;
    for (uint32_t c = 0; c < k && e < n_empty; c++) {
        if (m->wsum[c] != 0.0) {
            continue;
        }
        uint32_t far = (uint32_t)idx[e++];
        sample(m, b, far, m->mean, x);
        uint32_t from = nearest_center(m, x);
        for (uint32_t j = 0; j < nf; j++) {
            m->acc[(size_t)from * nf + j] -= x[j];
            m->acc[(size_t)c * nf + j] = x[j];
        }
        m->wsum[c] = 1.0;
        m->wsum[from] -= 1.0;
    }
}

// One Lloyd iteration on the centred data: the new centres into acc (then swapped in), the
// squared shifts summed into *shift_tot. update 0: only the E-step's counts (final labels).
static void lloyd_iter(ml_cluster_t *m, const ml_batch_t *b, double *x, double *shift_tot) {
    uint32_t nf = m->est.n_inputs, k = m->n_clusters;
    size_t kf = (size_t)k * nf;
    for (size_t i = 0; i < kf; i++) {
        m->acc[i] = 0.0;
    }
    for (uint32_t c = 0; c < k; c++) {
        m->wsum[c] = 0.0;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        sample(m, b, i, m->mean, x);
        uint32_t c = nearest_center(m, x);
        m->wsum[c] += 1.0;
        for (uint32_t j = 0; j < nf; j++) {
            m->acc[(size_t)c * nf + j] += x[j];
        }
    }
    relocate_empty(m, b, m->work_centers, x);
    // _average_centers: times 1 / weight; an empty cluster takes the biggest one's place.
    uint32_t biggest = ml_argmax(m->wsum, k);
    for (uint32_t c = 0; c < k; c++) {
        double *row = m->acc + (size_t)c * nf;
        if (m->wsum[c] > 0.0) {
            double alpha = 1.0 / m->wsum[c];
            for (uint32_t j = 0; j < nf; j++) {
                row[j] *= alpha;
            }
        } else {
            for (uint32_t j = 0; j < nf; j++) {
                row[j] = m->acc[(size_t)biggest * nf + j];
            }
        }
    }
    double tot = 0.0;
    for (uint32_t c = 0; c < k; c++) {
        double s = 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            double t = m->acc[(size_t)c * nf + j] - m->work_centers[(size_t)c * nf + j];
            s += t * t;
        }
        s = ml_sqrt(s);
        tot += s * s;
    }
    for (size_t i = 0; i < kf; i++) {
        m->work_centers[i] = m->acc[i];
    }
    update_norms(m);
    *shift_tot = tot;
}

static ml_status_t fit(ml_cluster_t *m, const ml_batch_t *b, ml_error_t *err) {
    uint32_t nf = m->est.n_inputs, k = m->n_clusters;
    size_t kf = (size_t)k * nf;
    if (b->n < k) {
        return ml_error_set(err, ML_E_VALUE, 0, "X has %lu samples, fewer than n_clusters (%lu)",
            (unsigned long)b->n, (unsigned long)k);
    }
    double *x = m->est.x_work;  // one sample (the preprocessing's buffer: no steps here)
    // The mean, then the variances for the tolerance: numpy's mean and var over axis 0.
    for (uint32_t j = 0; j < nf; j++) {
        m->mean[j] = 0.0;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        sample(m, b, i, NULL, x);
        for (uint32_t j = 0; j < nf; j++) {
            m->mean[j] += x[j];
        }
    }
    for (uint32_t j = 0; j < nf; j++) {
        m->mean[j] /= (double)b->n;
    }
    double *var = m->acc;  // nf <= k * nf values, free before the iterations
    for (uint32_t j = 0; j < nf; j++) {
        var[j] = 0.0;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        sample(m, b, i, m->mean, x);
        for (uint32_t j = 0; j < nf; j++) {
            var[j] += x[j] * x[j];
        }
    }
    double var_sum = 0.0;
    for (uint32_t j = 0; j < nf; j++) {
        var_sum += var[j] / (double)b->n;
    }
    double tol = m->tol == 0.0 ? 0.0 : var_sum / (double)nf * m->tol;
    for (size_t i = 0; i < kf; i++) {
        m->work_centers[i] = m->init[i] - m->mean[i % nf];
    }
    update_norms(m);
    uint32_t it;
    for (it = 0; it < m->max_iter; it++) {
        double shift;
        lloyd_iter(m, b, x, &shift);
        if (shift <= tol) {
            break;
        }
    }
    m->n_iter = it < m->max_iter ? it + 1 : m->max_iter;
    // The final labels: the clusters' sizes (the counts partial_fit goes on from) and the
    // inertia, the summed squared distances.
    double inertia = 0.0;
    for (uint32_t c = 0; c < k; c++) {
        m->counts[c] = 0.0;
    }
    for (uint32_t i = 0; i < b->n; i++) {
        sample(m, b, i, m->mean, x);
        uint32_t c = nearest_center(m, x);
        m->counts[c] += 1.0;
        double d = 0.0;
        for (uint32_t j = 0; j < nf; j++) {
            double t = x[j] - m->work_centers[(size_t)c * nf + j];
            d += t * t;
        }
        inertia += d;
    }
    m->inertia = inertia;
    for (size_t i = 0; i < kf; i++) {
        m->work_centers[i] += m->mean[i % nf];
    }
    update_norms(m);
    return ML_OK;
}

static ml_status_t partial_fit(ml_cluster_t *m, const ml_batch_t *b) {
    uint32_t nf = m->est.n_inputs, k = m->n_clusters;
    double *x = m->est.x_work;
    for (uint32_t c = 0; c < k; c++) {
        m->wsum[c] = 0.0;
    }
    // Labels from the centres before the batch; a centre's sum starts at centre * count.
    for (uint32_t i = 0; i < b->n; i++) {
        sample(m, b, i, NULL, x);
        uint32_t c = nearest_center(m, x);
        double *row = m->acc + (size_t)c * nf;
        if (m->wsum[c] == 0.0) {
            for (uint32_t j = 0; j < nf; j++) {
                row[j] = m->work_centers[(size_t)c * nf + j] * m->counts[c];
            }
        }
        for (uint32_t j = 0; j < nf; j++) {
            row[j] += x[j];
        }
        m->wsum[c] += 1.0;
    }
    for (uint32_t c = 0; c < k; c++) {
        if (m->wsum[c] > 0.0) {
            m->counts[c] += m->wsum[c];
            double alpha = 1.0 / m->counts[c];
            for (uint32_t j = 0; j < nf; j++) {
                m->work_centers[(size_t)c * nf + j] = m->acc[(size_t)c * nf + j] * alpha;
            }
        }
    }
    update_norms(m);
    return ML_OK;
}

ml_status_t ml_cluster_learn(ml_cluster_t *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err) {
    *count = 0;
    if (!m->init) {
        return ml_error_set(err, ML_E_STATE, 0, "a model loaded from a file cannot learn: "
            "create one with cluster.KMeans(n_clusters, init)");
    }
    ml_status_t r = ml_est_check_batch(&m->est, b, 0, err);
    if (r != ML_OK) {
        return r;
    }
    if (what == ML_FIT) {
        return fit(m, b, err);
    }
    if (what == ML_PARTIAL_FIT) {
        return partial_fit(m, b);
    }
    return ml_error_set(err, ML_E_STATE, 0, "k-means learns with fit and partial_fit");
}
