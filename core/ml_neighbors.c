#include "ml_neighbors.h"

#include "ml_math.h"

#define SECTION_NBRS ML_BLOB_ID('n', 'b', 'r', 's')
#define SECTION_MINK ML_BLOB_ID('m', 'i', 'n', 'k')
#define SECTION_FX64 ML_BLOB_ID('f', 'x', '6', '4')
#define SECTION_FX32 ML_BLOB_ID('f', 'x', '3', '2')
#define SECTION_FXNN ML_BLOB_ID('f', 'x', 'n', 'n')
#define SECTION_FYCL ML_BLOB_ID('f', 'y', 'c', 'l')
#define SECTION_FYVL ML_BLOB_ID('f', 'y', 'v', 'l')

static ml_status_t exact(const ml_blob_t *b, uint32_t id, size_t elem, uint64_t count,
    const void **p, ml_error_t *err) {
    uint32_t n;
    if (count > 0x7fffffff) {
        return ml_error_set(err, ML_E_FORMAT, 0, "model too large");
    }
    return ml_blob_section(b, id, elem, (uint32_t)count, (uint32_t)count, p, &n, err);
}

ml_status_t ml_neighbors_open(ml_neighbors_t *m, const ml_blob_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    ml_status_t r = ml_est_open(est, b, err);
    if (r != ML_OK) {
        return r;
    }
    const void *p;
    if ((r = exact(b, SECTION_NBRS, 4, 5, &p, err)) != ML_OK) {
        return r;
    }
    const uint32_t *h = p;
    m->n_samples = m->capacity = h[0];
    m->n_neighbors = h[1];
    m->metric = h[2];
    m->weights = h[3];
    m->f32 = h[4];
    m->store_x = NULL;
    m->store_norms = m->store_class = NULL;
    m->store_labels = NULL;
    uint32_t variant = est->variant;
    int classifier = variant == ML_NEIGHBORS_KNN_CLASSIFIER
        || variant == ML_NEIGHBORS_NEAREST_CENTROID;
    if (variant > ML_NEIGHBORS_LOF || m->metric > ML_NEIGHBORS_CHEBYSHEV
        || m->weights > 1 || m->f32 > 1 || m->n_samples == 0 || m->n_samples > ML_EST_MAX_DIM
        || m->n_neighbors == 0 || m->n_neighbors > m->n_samples || m->n_neighbors > 1024
        || classifier != !!(est->flags & ML_EST_CLASSIFIER)) {
        return ml_error_set(err, ML_E_FORMAT, 0, "nbrs: variant %lu, metric %lu, weights %lu, "
            "storage %lu, %lu samples, %lu neighbors: not a valid combination",
            (unsigned long)variant, (unsigned long)m->metric, (unsigned long)m->weights,
            (unsigned long)m->f32, (unsigned long)m->n_samples, (unsigned long)m->n_neighbors);
    }
    m->p = 2.0;
    if (m->metric == ML_NEIGHBORS_MINKOWSKI) {
        if ((r = exact(b, SECTION_MINK, 8, 1, &p, err)) != ML_OK) {
            return r;
        }
        m->p = ml_f64(p, 0);
        if (!(m->p >= 1.0 && m->p <= 1e6)) {
            return ml_error_set(err, ML_E_FORMAT, 0, "mink: p must be at least 1");
        }
    }
    uint64_t values = (uint64_t)m->n_samples * est->n_inputs;
    if ((r = exact(b, m->f32 ? SECTION_FX32 : SECTION_FX64, m->f32 ? 4 : 8, values, &m->fit_x,
        err)) != ML_OK) {
        return r;
    }
    m->fit_norms = NULL;
    if (m->metric == ML_NEIGHBORS_EUCLIDEAN_GEMM) {
        if ((r = exact(b, SECTION_FXNN, 8, m->n_samples, &p, err)) != ML_OK) {
            return r;
        }
        m->fit_norms = p;
    }
    m->fit_class = m->fit_value = m->lof_kdist = m->lof_lrd = NULL;
    if (variant == ML_NEIGHBORS_LOF) {
        if (est->flags != ML_EST_INT_PREDICT) {
            return ml_error_set(err, ML_E_FORMAT, 0, "estm: a LocalOutlierFactor predicts +1/-1");
        }
        if ((r = exact(b, ML_BLOB_ID('l', 'o', 'f', 'k'), 8, m->n_samples, &p, err)) != ML_OK) {
            return r;
        }
        m->lof_kdist = p;
        if ((r = exact(b, ML_BLOB_ID('l', 'o', 'f', 'r'), 8, m->n_samples, &p, err)) != ML_OK) {
            return r;
        }
        m->lof_lrd = p;
        if ((r = exact(b, ML_BLOB_ID('l', 'o', 'f', 'o'), 8, 1, &p, err)) != ML_OK) {
            return r;
        }
        m->lof_offset = ml_f64(p, 0);
        est->width[ML_PREDICT] = est->width[ML_DECISION_FUNCTION] = 1;
        est->width[ML_SCORE_SAMPLES] = 1;
        est->scratch_doubles = 2 * m->n_neighbors;
        return ML_OK;
    }
    if (classifier) {
        if ((r = exact(b, SECTION_FYCL, 4, m->n_samples, &p, err)) != ML_OK) {
            return r;
        }
        m->fit_class = p;
        for (uint32_t i = 0; i < m->n_samples; i++) {
            if (m->fit_class[i] >= est->n_classes) {
                return ml_error_set(err, ML_E_FORMAT, 0, "fycl: sample %lu has class %lu, "
                    "expected below %lu", (unsigned long)i, (unsigned long)m->fit_class[i],
                    (unsigned long)est->n_classes);
            }
        }
        if (variant == ML_NEIGHBORS_NEAREST_CENTROID && m->n_samples != est->n_classes) {
            return ml_error_set(err, ML_E_FORMAT, 0, "nbrs: %lu centroids for %lu classes",
                (unsigned long)m->n_samples, (unsigned long)est->n_classes);
        }
    } else {
        if ((r = exact(b, SECTION_FYVL, 8, m->n_samples, &p, err)) != ML_OK) {
            return r;
        }
        m->fit_value = p;
    }
    est->width[ML_PREDICT] = 1;
    if (variant == ML_NEIGHBORS_KNN_CLASSIFIER) {
        est->width[ML_PREDICT_PROBA] = est->n_classes;
    }
    // the k best: distances and indices; the class weights
    est->scratch_doubles = 2 * m->n_neighbors + est->n_classes;
    return ML_OK;
}

static inline double sample_value(const ml_neighbors_t *m, size_t i) {
    return m->f32 ? (double)((const float *)m->fit_x)[i] : ml_f64(m->fit_x, i);
}

// The distance to sample i, in the form that ranks (squared for euclidean, before the root
// for minkowski).
static double reduced_distance(const ml_neighbors_t *m, const double *x, double xnorm,
    uint32_t i) {
    uint32_t nf = m->est.n_inputs;
    size_t base = (size_t)i * nf;
    double acc = 0.0;
    switch (m->metric) {
        case ML_NEIGHBORS_EUCLIDEAN_GEMM: {
            for (uint32_t j = 0; j < nf; j++) {
                acc += x[j] * sample_value(m, base + j);
            }
            double d = (xnorm + -2.0 * acc) + ml_f64(m->fit_norms, i);
            return d > 0.0 ? d : 0.0;
        }
        case ML_NEIGHBORS_EUCLIDEAN:
            for (uint32_t j = 0; j < nf; j++) {
                double d = x[j] - sample_value(m, base + j);
                acc += d * d;
            }
            return acc;
        case ML_NEIGHBORS_MANHATTAN:
            for (uint32_t j = 0; j < nf; j++) {
                double d = x[j] - sample_value(m, base + j);
                acc += d < 0.0 ? -d : d;
            }
            return acc;
        case ML_NEIGHBORS_MINKOWSKI:
            for (uint32_t j = 0; j < nf; j++) {
                double d = x[j] - sample_value(m, base + j);
                acc += ml_pow_pos(d < 0.0 ? -d : d, m->p);
            }
            return acc;
        default:
            for (uint32_t j = 0; j < nf; j++) {
                double d = x[j] - sample_value(m, base + j);
                d = d < 0.0 ? -d : d;
                acc = d > acc ? d : acc;
            }
            return acc;
    }
}

static double true_distance(const ml_neighbors_t *m, double rd) {
    switch (m->metric) {
        case ML_NEIGHBORS_EUCLIDEAN:
        case ML_NEIGHBORS_EUCLIDEAN_GEMM:
            return ml_sqrt(rd);
        case ML_NEIGHBORS_MINKOWSKI:
            return ml_pow_pos(rd, 1.0 / m->p);
        default:
            return rd;
    }
}

// The k nearest samples, by increasing distance (the first stored wins a tie): their reduced
// distances in dist[0..k), indices in idx[0..k).
static void nearest(const ml_neighbors_t *m, const double *x, uint32_t k, double *dist,
    uint32_t *idx) {
    double xnorm = 0.0;
    if (m->metric == ML_NEIGHBORS_EUCLIDEAN_GEMM) {
        for (uint32_t j = 0; j < m->est.n_inputs; j++) {
            xnorm += x[j] * x[j];
        }
    }
    uint32_t have = 0;
    for (uint32_t i = 0; i < m->n_samples; i++) {
        double d = reduced_distance(m, x, xnorm, i);
        if (have == k && !(d < dist[k - 1])) {
            continue;
        }
        uint32_t pos = have < k ? have++ : k - 1;
        while (pos > 0 && d < dist[pos - 1]) {
            dist[pos] = dist[pos - 1];
            idx[pos] = idx[pos - 1];
            pos--;
        }
        dist[pos] = d;
        idx[pos] = i;
    }
}

ml_status_t ml_neighbors_run(ml_neighbors_t *m, ml_method_t method, const double *x,
    int is_f32, ml_error_t *err) {
    (void)is_f32;
    ml_est_t *est = &m->est;
    uint32_t k = m->n_neighbors;
    double *dist = est->scratch;
    // The indices live in the doubles after the distances (k doubles hold k uint32).
    uint32_t *idx = (uint32_t *)(est->scratch + k);
    double *score = est->scratch + 2 * k;
    if (method >= ML_N_METHODS || (!est->width[method] && !m->store_x)) {
        return ml_error_set(err, ML_E_STATE, 0, "this model has no such method");
    }
    if (m->n_samples < k) {
        return ml_error_set(err, ML_E_STATE, 0, "the model holds %lu samples, fewer than "
            "n_neighbors (%lu): add more", (unsigned long)m->n_samples, (unsigned long)k);
    }
    if (est->variant == ML_NEIGHBORS_LOF) {
        // scikit-learn's LocalOutlierFactor.score_samples: the mean ratio of the neighbours'
        // local reachability density to the sample's.
        nearest(m, x, k, dist, idx);
        double reach = 0.0;
        for (uint32_t i = 0; i < k; i++) {
            double d = true_distance(m, dist[i]), kd = ml_f64(m->lof_kdist, idx[i]);
            reach += d > kd ? d : kd;
        }
        double lrd = 1.0 / (reach / (double)k + 1e-10);
        double ratios = 0.0;
        for (uint32_t i = 0; i < k; i++) {
            ratios += ml_f64(m->lof_lrd, idx[i]) / lrd;
        }
        double lof_score = -(ratios / (double)k);
        double decision = lof_score - m->lof_offset;
        est->out[0] = method == ML_SCORE_SAMPLES ? lof_score : method == ML_DECISION_FUNCTION
            ? decision : decision < 0.0 ? -1.0 : 1.0;
        return ML_OK;
    }
    if (est->variant == ML_NEIGHBORS_NEAREST_CENTROID) {
        nearest(m, x, 1, dist, idx);
        est->out[0] = (double)m->fit_class[idx[0]];
        return ML_OK;
    }
    nearest(m, x, k, dist, idx);
    // Weights: 1, or 1 / distance; a sample at distance 0 takes all the weight (with any
    // others at distance 0), as scikit-learn's _get_weights.
    int any_zero = 0;
    if (m->weights) {
        for (uint32_t i = 0; i < k; i++) {
            dist[i] = true_distance(m, dist[i]);
            any_zero |= dist[i] == 0.0;
        }
    }
    for (uint32_t i = 0; i < k; i++) {
        dist[i] = !m->weights ? 1.0 : any_zero ? (dist[i] == 0.0) : 1.0 / dist[i];
    }
    if (est->variant == ML_NEIGHBORS_KNN_REGRESSOR) {
        double num = 0.0, den = 0.0;
        for (uint32_t i = 0; i < k; i++) {
            num += ml_f64(m->fit_value, idx[i]) * dist[i];
            den += dist[i];
        }
        est->out[0] = m->weights ? num / den : num / (double)k;
        return ML_OK;
    }
    for (uint32_t c = 0; c < est->n_classes; c++) {
        score[c] = 0.0;
    }
    double total = 0.0;
    for (uint32_t i = 0; i < k; i++) {
        score[m->fit_class[idx[i]]] += dist[i];
    }
    for (uint32_t c = 0; c < est->n_classes; c++) {
        total += score[c];
    }
    if (method == ML_PREDICT) {
        est->out[0] = (double)ml_argmax(score, est->n_classes);
    } else {
        for (uint32_t c = 0; c < est->n_classes; c++) {
            est->out[c] = score[c] / total;
        }
    }
    return ML_OK;
}

// ---------------------------------------------------------------------------------------------
// Learning on the device

static size_t align8(size_t n) {
    return (n + 7) & ~(size_t)7;
}

// The work memory of a learner: est work for capacity classes (ml_est_work_size).
static size_t learner_work(uint32_t n_features, uint32_t capacity, uint32_t n_neighbors) {
    return 8 * ((size_t)2 * n_features + capacity + 2 * (size_t)n_neighbors + capacity);
}

size_t ml_neighbors_learner_size(uint32_t n_features, uint32_t capacity, uint32_t n_neighbors,
    uint32_t metric) {
    size_t size = learner_work(n_features, capacity, n_neighbors);
    if (metric == ML_NEIGHBORS_EUCLIDEAN_GEMM) {
        size += 8 * (size_t)capacity;
    }
    size += align8(4 * (size_t)capacity * n_features);
    size += align8(4 * (size_t)capacity) * 2;
    return size;
}

ml_status_t ml_neighbors_learner_init(ml_neighbors_t *m, void *memory, uint32_t n_features,
    uint32_t capacity, uint32_t n_neighbors, uint32_t metric, uint32_t weights, double p,
    ml_error_t *err) {
    if (n_features == 0 || n_features > 4096 || capacity == 0 || capacity > ML_EST_MAX_DIM
        || (uint64_t)capacity * n_features > 0x10000000u) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_features %lu and capacity %lu: expected 1 "
            "to 4096 features and 1 or more samples", (unsigned long)n_features,
            (unsigned long)capacity);
    }
    if (n_neighbors == 0 || n_neighbors > capacity || n_neighbors > 1024) {
        return ml_error_set(err, ML_E_VALUE, 0, "n_neighbors is %lu: expected 1 to the capacity "
            "(%lu), at most 1024", (unsigned long)n_neighbors, (unsigned long)capacity);
    }
    if (metric > ML_NEIGHBORS_CHEBYSHEV || weights > 1
        || (metric == ML_NEIGHBORS_MINKOWSKI && !(p >= 1.0 && p <= 1e6))) {
        return ml_error_set(err, ML_E_VALUE, 0, "metric %lu, weights %lu: not a valid choice",
            (unsigned long)metric, (unsigned long)weights);
    }
    ml_est_t *est = &m->est;
    static const char name[] = "KNeighborsClassifier";
    *est = (ml_est_t) {
        .n_features = n_features, .n_inputs = n_features, .n_classes = 0,
        .variant = ML_NEIGHBORS_KNN_CLASSIFIER, .flags = ML_EST_CLASSIFIER,
        .name = name, .name_len = sizeof(name) - 1, .step_width = n_features,
        .scratch_doubles = 2 * n_neighbors + capacity, .learn = ML_LEARN_ADD,
    };
    est->width[ML_PREDICT] = 1;
    est->width[ML_PREDICT_PROBA] = capacity;  // sizes the work memory for capacity classes
    ml_est_set_work(est, memory);
    est->width[ML_PREDICT_PROBA] = 0;
    uint8_t *at = (uint8_t *)memory + learner_work(n_features, capacity, n_neighbors);
    m->store_norms = NULL;
    if (metric == ML_NEIGHBORS_EUCLIDEAN_GEMM) {
        m->store_norms = (uint32_t *)at;
        at += 8 * (size_t)capacity;
    }
    m->store_x = (float *)at;
    at += align8(4 * (size_t)capacity * n_features);
    m->store_class = (uint32_t *)at;
    at += align8(4 * (size_t)capacity);
    m->store_labels = (int32_t *)at;
    m->n_samples = 0;
    m->capacity = capacity;
    m->n_neighbors = n_neighbors;
    m->metric = metric;
    m->weights = weights;
    m->f32 = 1;
    m->p = metric == ML_NEIGHBORS_MINKOWSKI ? p : 2.0;
    m->fit_x = m->store_x;
    m->fit_norms = m->store_norms;
    m->fit_class = m->store_class;
    m->fit_value = m->lof_kdist = m->lof_lrd = NULL;
    m->lof_offset = 0.0;
    est->labels = m->store_labels;
    return ML_OK;
}

// The position of label in the sorted labels: where it is, or where it would go.
static uint32_t label_position(const ml_neighbors_t *m, int32_t label) {
    uint32_t lo = 0, hi = m->est.n_classes;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->store_labels[mid] < label) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

static ml_status_t add_sample(ml_neighbors_t *m, const ml_batch_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    double v = ml_batch_y(b, 0);
    if (!(v >= -2147483648.0 && v <= 2147483647.0) || (double)(int32_t)v != v) {
        return ml_error_set(err, ML_E_VALUE, 0, "label must be an integer of 32 bits");
    }
    int32_t label = (int32_t)v;
    const double *x;
    int is_f32;
    ml_status_t r = ml_est_batch_input(est, b, 0, &x, &is_f32, err);
    if (r != ML_OK) {
        return r;
    }
    if (m->n_samples == m->capacity) {
        return ml_error_set(err, ML_E_VALUE, 0, "the model holds %lu samples, its capacity: "
            "remove some, or create it with a larger capacity", (unsigned long)m->capacity);
    }
    uint32_t k = label_position(m, label);
    if (k == est->n_classes || m->store_labels[k] != label) {
        // A new class: its label goes into its sorted place, the classes after it move up.
        // (a forward pass with a carry: the backward copy came out wrong in the x86 build)
        int32_t carry = label;
        for (uint32_t c = k; c <= est->n_classes; c++) {
            int32_t next = c < est->n_classes ? m->store_labels[c] : 0;
            m->store_labels[c] = carry;
            carry = next;
        }
        est->n_classes++;
        for (uint32_t i = 0; i < m->n_samples; i++) {
            m->store_class[i] += m->store_class[i] >= k;
        }
    }
    uint32_t nf = est->n_inputs, i = m->n_samples;
    double norm = 0.0;
    for (uint32_t j = 0; j < nf; j++) {
        m->store_x[(size_t)i * nf + j] = (float)x[j];  // exact: float32 or int16 values
        norm += x[j] * x[j];
    }
    if (m->store_norms) {
        ml_set_f64(m->store_norms, i, norm);
    }
    m->store_class[i] = k;
    m->n_samples++;
    est->width[ML_PREDICT_PROBA] = est->n_classes;
    return ML_OK;
}

static uint32_t remove_label(ml_neighbors_t *m, double v) {
    ml_est_t *est = &m->est;
    if (!(v >= -2147483648.0 && v <= 2147483647.0)) {
        return 0;
    }
    int32_t label = (int32_t)v;
    uint32_t k = label_position(m, label);
    if (k == est->n_classes || m->store_labels[k] != label || (double)label != v) {
        return 0;
    }
    // Keep the others in their order (the first stored wins a tie, as in scikit-learn).
    uint32_t nf = est->n_inputs, kept = 0;
    for (uint32_t i = 0; i < m->n_samples; i++) {
        uint32_t c = m->store_class[i];
        if (c == k) {
            continue;
        }
        if (kept != i) {
            for (uint32_t j = 0; j < nf; j++) {
                m->store_x[(size_t)kept * nf + j] = m->store_x[(size_t)i * nf + j];
            }
            if (m->store_norms) {
                ml_set_f64(m->store_norms, kept, ml_f64(m->store_norms, i));
            }
        }
        m->store_class[kept++] = c - (c > k);
    }
    uint32_t removed = m->n_samples - kept;
    m->n_samples = kept;
    for (uint32_t c = k; c + 1 < est->n_classes; c++) {
        m->store_labels[c] = m->store_labels[c + 1];
    }
    est->n_classes--;
    est->width[ML_PREDICT_PROBA] = est->n_classes;
    return removed;
}

ml_status_t ml_neighbors_learn(ml_neighbors_t *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err) {
    if (!m->store_x) {
        return ml_error_set(err, ML_E_STATE, 0, "a model loaded from a file cannot learn: "
            "create one with neighbors.KNeighborsClassifier(n_features, capacity)");
    }
    *count = 0;
    switch (what) {
        case ML_ADD:
            return add_sample(m, b, err);
        case ML_REMOVE:
            *count = remove_label(m, ml_batch_y(b, 0));
            return ML_OK;
        case ML_CLEAR:
            *count = m->n_samples;
            m->n_samples = 0;
            m->est.n_classes = 0;
            m->est.width[ML_PREDICT_PROBA] = 0;
            return ML_OK;
        default:
            return ml_error_set(err, ML_E_STATE, 0, "this model learns with add and remove");
    }
}
