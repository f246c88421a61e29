#include "ml_estimator.h"

#include "ml_math.h"

static const char *const op_names[] = { "?", "sub", "div", "mul", "add", "matmul" };

ml_status_t ml_est_section(const ml_blob_t *b, uint32_t id, uint64_t count, const uint32_t **p,
    ml_error_t *err) {
    uint32_t n;
    if (count > 0x7fffffff) {
        return ml_error_set(err, ML_E_FORMAT, 0, "model too large");
    }
    return ml_blob_section(b, id, 8, (uint32_t)count, (uint32_t)count, (const void **)p, &n, err);
}

ml_status_t ml_est_open(ml_est_t *est, const ml_blob_t *b, ml_error_t *err) {
    const void *p;
    uint32_t n;
    ml_status_t r;
    for (int i = 0; i < ML_N_METHODS; i++) {
        est->width[i] = 0;
    }
    est->scratch_doubles = 0;
    est->x_work = est->out = est->scratch = NULL;

    if ((r = ml_blob_section(b, ML_SECTION_ESTM, 4, 5, 5, &p, &n, err)) != ML_OK) {
        return r;
    }
    const uint32_t *h = p;
    est->n_features = h[0];
    est->n_inputs = h[1];
    est->n_classes = h[2];
    est->variant = h[3];
    est->flags = h[4];
    if (est->n_features == 0 || est->n_features > ML_EST_MAX_DIM || est->n_inputs == 0
        || est->n_inputs > ML_EST_MAX_DIM || est->n_classes > ML_EST_MAX_DIM) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "estm: n_features %lu, n_inputs %lu, n_classes %lu out of range (1 to %lu)",
            (unsigned long)est->n_features, (unsigned long)est->n_inputs,
            (unsigned long)est->n_classes, (unsigned long)ML_EST_MAX_DIM);
    }
    if (est->flags & ~(uint32_t)ML_EST_FLAGS) {
        return ml_error_set(err, ML_E_FORMAT, 0, "estm: unknown flags %lx",
            (unsigned long)est->flags);
    }
    if ((est->flags & ML_EST_CLASSIFIER) && est->n_classes < 2) {
        return ml_error_set(err, ML_E_FORMAT, 0, "estm: a classifier needs 2 or more classes, "
            "got %lu", (unsigned long)est->n_classes);
    }

    if ((r = ml_blob_section(b, ML_SECTION_LABL, 4, 0, est->n_classes, &p, &n, err)) != ML_OK) {
        return r;
    }
    if (n != 0 && n != est->n_classes) {
        return ml_error_set(err, ML_E_FORMAT, 0, "labl: %lu labels, expected %lu (n_classes)",
            (unsigned long)n, (unsigned long)est->n_classes);
    }
    est->labels = p;

    if ((r = ml_blob_section(b, ML_SECTION_NAME, 1, 0, 256, &p, &n, err)) != ML_OK) {
        return r;
    }
    est->name = p;
    est->name_len = n;

    if ((r = ml_blob_section(b, ML_SECTION_PREP, 16, 0, 64, &p, &n, err)) != ML_OK) {
        return r;
    }
    est->steps = p;
    est->n_steps = n;
    if ((r = ml_blob_section(b, ML_SECTION_PRPV, 8, 0, 0x7fffffff, &p, &n, err)) != ML_OK) {
        return r;
    }
    est->step_values = p;
    est->n_step_values = n;

    // The steps must chain: n_features in, each step's n_out into the next, n_inputs out.
    uint32_t width = est->n_features, used = 0;
    uint32_t dim = est->n_features;
    for (uint32_t i = 0; i < est->n_steps; i++) {
        const uint32_t *s = est->steps + 4 * i;
        uint32_t op = s[0], n_in = s[1], n_out = s[2], flags = s[3];
        if (op < ML_PREP_SUB || op > ML_PREP_MATMUL || flags > 3) {
            return ml_error_set(err, ML_E_FORMAT, 0, "prep step %lu: unknown op %lu or flags %lu",
                (unsigned long)i, (unsigned long)op, (unsigned long)flags);
        }
        if (n_in != dim || n_out == 0 || n_out > ML_EST_MAX_DIM
            || (op != ML_PREP_MATMUL && n_out != n_in)) {
            return ml_error_set(err, ML_E_FORMAT, 0,
                "prep step %lu (%s): %lu values in, %lu out; expected %lu in",
                (unsigned long)i, op_names[op], (unsigned long)n_in, (unsigned long)n_out,
                (unsigned long)dim);
        }
        uint64_t need = op == ML_PREP_MATMUL ? (uint64_t)n_in * n_out : n_in;
        if (used + need > est->n_step_values) {
            return ml_error_set(err, ML_E_FORMAT, 0,
                "prep step %lu (%s): needs %lu values, prpv has %lu left", (unsigned long)i,
                op_names[op], (unsigned long)need, (unsigned long)(est->n_step_values - used));
        }
        used += (uint32_t)need;
        dim = n_out;
        width = n_out > width ? n_out : width;
    }
    if (used != est->n_step_values) {
        return ml_error_set(err, ML_E_FORMAT, 0, "prpv: %lu values, the steps use %lu",
            (unsigned long)est->n_step_values, (unsigned long)used);
    }
    if (dim != est->n_inputs) {
        return ml_error_set(err, ML_E_FORMAT, 0,
            "prep: the steps give %lu values, the estimator takes %lu (n_inputs)",
            (unsigned long)dim, (unsigned long)est->n_inputs);
    }
    est->step_width = width;
    return ML_OK;
}

static uint32_t out_width(const ml_est_t *est) {
    uint32_t w = 1;
    for (int i = 0; i < ML_N_METHODS; i++) {
        w = est->width[i] > w ? est->width[i] : w;
    }
    return w;
}

size_t ml_est_work_size(const ml_est_t *est) {
    return 8 * ((size_t)2 * est->step_width + out_width(est) + est->scratch_doubles);
}

void ml_est_set_work(ml_est_t *est, double *work) {
    est->x_work = work;
    est->out = work + 2 * (size_t)est->step_width;
    est->scratch = est->out + out_width(est);
}

static inline double round_f32(double v) {
    return (double)(float)v;
}

ml_status_t ml_est_input(ml_est_t *est, const void *x, char typecode, const double **xin,
    int *is_f32, ml_error_t *err) {
    double *a = est->x_work, *b = est->x_work + est->step_width;
    uint32_t dim = est->n_features;
    int f32 = typecode == 'f';
    if (f32) {
        const float *xf = x;
        for (uint32_t j = 0; j < dim; j++) {
            if (!ml_isfinitef(xf[j])) {
                return ml_error_set(err, ML_E_INPUT, 0, "x[%lu] is %s: expected a finite value",
                    (unsigned long)j, ml_isnanf(xf[j]) ? "NaN" : "infinite");
            }
            a[j] = (double)xf[j];
        }
    } else {
        const int16_t *xh = x;
        for (uint32_t j = 0; j < dim; j++) {
            a[j] = (double)xh[j];
        }
    }
    const uint32_t *v = est->step_values;
    for (uint32_t i = 0; i < est->n_steps; i++) {
        const uint32_t *s = est->steps + 4 * i;
        uint32_t op = s[0], n_in = s[1], n_out = s[2], flags = s[3];
        f32 = f32 && (flags & ML_PREP_F32_RESULT);
        int f32_values = f32 && (flags & ML_PREP_F32_VALUES);
        if (op == ML_PREP_MATMUL) {
            for (uint32_t r = 0; r < n_out; r++) {
                const uint32_t *row = v + 2 * (size_t)r * n_in;
                double acc = 0.0;
                for (uint32_t j = 0; j < n_in; j++) {
                    double m = ml_f64(row, j);
                    acc += a[j] * (f32_values ? round_f32(m) : m);
                }
                b[r] = f32 ? round_f32(acc) : acc;
            }
            double *t = a;
            a = b;
            b = t;
            v += 2 * (size_t)n_in * n_out;
        } else {
            for (uint32_t j = 0; j < n_in; j++) {
                double m = ml_f64(v, j);
                m = f32_values ? round_f32(m) : m;
                double y = op == ML_PREP_SUB ? a[j] - m : op == ML_PREP_DIV ? a[j] / m
                    : op == ML_PREP_MUL ? a[j] * m : a[j] + m;
                a[j] = f32 ? round_f32(y) : y;
            }
            v += 2 * (size_t)n_in;
        }
        dim = n_out;
    }
    *xin = a;
    *is_f32 = f32;
    return ML_OK;
}

uint32_t ml_argmax(const double *v, uint32_t n) {
    uint32_t best = 0;
    for (uint32_t k = 1; k < n; k++) {
        if (v[k] > v[best]) {
            best = k;
        }
    }
    return best;
}

void ml_softmax(double *v, uint32_t n) {
    double top = v[ml_argmax(v, n)];
    double sum = 0.0;
    for (uint32_t k = 0; k < n; k++) {
        v[k] = ml_exp(v[k] - top);
        sum += v[k];
    }
    for (uint32_t k = 0; k < n; k++) {
        v[k] /= sum;
    }
}
