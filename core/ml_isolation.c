#include "ml_isolation.h"

#include "ml_math.h"

#define ID(s) ML_BLOB_ID(s[0], s[1], s[2], s[3])

ml_status_t ml_isolation_open(ml_isolation_t *m, const ml_blob_t *b, ml_error_t *err) {
    ml_est_t *est = &m->est;
    ml_status_t r = ml_est_open(est, b, err);
    if (r != ML_OK) {
        return r;
    }
    if (est->flags != ML_EST_INT_PREDICT || est->variant != 0 || est->n_classes != 0) {
        return ml_error_set(err, ML_E_FORMAT, 0, "estm: expected an outlier detector");
    }
    const void *p;
    uint32_t n, n3;
    if ((r = ml_blob_section(b, ID("ifhd"), 8, 2, 2, &p, &n, err)) != ML_OK) {
        return r;
    }
    m->denominator = ml_f64(p, 0);
    m->offset = ml_f64(p, 1);
    if ((r = ml_blob_section(b, ID("iftr"), 4, 1, 65536, &p, &m->n_trees, err)) != ML_OK) {
        return r;
    }
    m->roots = p;
    if ((r = ml_blob_section(b, ID("ifvl"), 8, 1, 0x1000000, &p, &m->n_nodes, err)) != ML_OK) {
        return r;
    }
    m->values = p;
    if ((r = ml_blob_section(b, ID("ifnd"), 4, 3 * m->n_nodes, 3 * m->n_nodes, &p, &n3, err))
        != ML_OK) {
        return r;
    }
    m->nodes = p;
    // Trees are consecutive runs of nodes; children come after their parent within the tree,
    // so that every walk ends at a leaf.
    for (uint32_t t = 0; t < m->n_trees; t++) {
        uint32_t start = m->roots[t];
        uint32_t end = t + 1 < m->n_trees ? m->roots[t + 1] : m->n_nodes;
        if (start >= end || end > m->n_nodes || (t == 0 && start != 0)) {
            return ml_error_set(err, ML_E_FORMAT, 0, "iftr: tree %lu starts at node %lu, "
                "expected an increasing start below %lu", (unsigned long)t,
                (unsigned long)start, (unsigned long)m->n_nodes);
        }
        for (uint32_t i = start; i < end; i++) {
            const uint32_t *nd = m->nodes + 3 * (size_t)i;
            if (nd[0] == ML_ISOLATION_LEAF) {
                continue;
            }
            if (nd[0] >= est->n_inputs || nd[1] <= i || nd[1] >= end || nd[2] <= i
                || nd[2] >= end) {
                return ml_error_set(err, ML_E_FORMAT, 0, "ifnd: node %lu: feature %lu, "
                    "children %lu and %lu; expected a feature below %lu and children in %lu..%lu",
                    (unsigned long)i, (unsigned long)nd[0], (unsigned long)nd[1],
                    (unsigned long)nd[2], (unsigned long)est->n_inputs, (unsigned long)i + 1,
                    (unsigned long)end - 1);
            }
        }
    }
    est->width[ML_PREDICT] = 1;
    est->width[ML_DECISION_FUNCTION] = 1;
    est->width[ML_SCORE_SAMPLES] = 1;
    return ML_OK;
}

ml_status_t ml_isolation_run(ml_isolation_t *m, ml_method_t method, const double *x,
    int is_f32, ml_error_t *err) {
    (void)is_f32;  // scikit-learn's trees take float32 either way
    if (method != ML_PREDICT && method != ML_DECISION_FUNCTION && method != ML_SCORE_SAMPLES) {
        return ml_error_set(err, ML_E_STATE, 0, "this model has no such method");
    }
    double depths = 0.0;
    for (uint32_t t = 0; t < m->n_trees; t++) {
        uint32_t i = m->roots[t];
        const uint32_t *nd = m->nodes + 3 * (size_t)i;
        while (nd[0] != ML_ISOLATION_LEAF) {
            double v = (double)(float)x[nd[0]];
            i = v <= ml_f64(m->values, i) ? nd[1] : nd[2];
            nd = m->nodes + 3 * (size_t)i;
        }
        depths += ml_f64(m->values, i);
    }
    // 2 ** -(depths / denominator); a denominator of 0 (one training sample) gives 2 ** -1.
    double v = m->denominator != 0.0 ? depths / m->denominator : 1.0;
    double score = -ml_exp(-v * 0x1.62e42fefa39efp-1);
    double decision = score - m->offset;
    m->est.out[0] = method == ML_SCORE_SAMPLES ? score : method == ML_DECISION_FUNCTION
        ? decision : decision < 0.0 ? -1.0 : 1.0;
    return ML_OK;
}
