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
