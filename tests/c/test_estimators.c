// Tests of the scikit-learn families of the core (ml_estimator, ml_linear, ml_svm,
// ml_neighbors, ml_naive_bayes, ml_mixture, ml_cluster, ml_isolation, ml_covariance) on the cases of
// tests/c/make_estimator_cases.py: models from the converter, samples, what scikit-learn gives.
//
// Each model must open, give scikit-learn's predictions and values (within 1e-9 relative, or
// 1e-7 for k-NN and LOF on float32 data, whose distances scikit-learn gives at float32
// precision), refuse every truncation of its file and NaN input with a message, and
// survive every single-byte change (checksum fixed up so that the change reaches the parsers):
// either refused, or run without reading outside the model (ASan, valgrind).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "families.h"

typedef struct {
    uint8_t *blob;
    uint32_t blob_size;
    uint32_t n, nf, nv;
    float *x;
    double *expected;
    // learning on the device: a batch, its targets, the values after partial_fit (or 0)
    uint32_t n_batch;
    const float *batch;
    const double *batch_y;
    const double *learned;
} case_t;

static uint32_t rd32(const uint8_t *p) {
    return ml_blob_u32(p);
}

static int load_case(const char *name, case_t *c, uint8_t **file) {
    char path[256];
    snprintf(path, sizeof(path), "tests/c/estimators/%s.case", name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        return 0;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    *file = malloc((size_t)size);
    size_t got = fread(*file, 1, (size_t)size, f);
    fclose(f);
    uint8_t *p = *file;
    if (got != (size_t)size || memcmp(p, "MLCASE01", 8) != 0) {
        return 0;
    }
    c->blob_size = rd32(p + 8);
    c->blob = malloc(c->blob_size);  // its own block: ASan sees a read past its end
    memcpy(c->blob, p + 12, c->blob_size);
    const uint8_t *q = p + 12 + ((c->blob_size + 7) & ~7u);
    c->n = rd32(q);
    c->nf = rd32(q + 4);
    c->nv = rd32(q + 8);
    c->x = (float *)(void *)(q + 12);
    c->expected = malloc(sizeof(double) * c->n * c->nv);
    memcpy(c->expected, q + 12 + 4 * c->n * c->nf, sizeof(double) * c->n * c->nv);
    const uint8_t *r = q + 12 + 4 * c->n * c->nf + 8 * c->n * c->nv;
    c->n_batch = r < p + size ? rd32(r) : 0;
    if (c->n_batch) {
        // copies: the file's doubles are only 4-byte aligned
        float *batch = malloc(4 * c->n_batch * c->nf);
        double *y = malloc(8 * (c->n_batch + c->n * c->nv));
        memcpy(batch, r + 4, 4 * c->n_batch * c->nf);
        memcpy(y, r + 4 + 4 * c->n_batch * c->nf, 8 * (c->n_batch + c->n * c->nv));
        c->batch = batch;
        c->batch_y = y;
        c->learned = y + c->n_batch;
    }
    return 1;
}

// Opens data[len] as a model of its kind into m, with work memory; NULL work on failure.
static const family_t *open_model(const uint8_t *data, size_t len, any_model_t *m,
    double **work, ml_error_t *err) {
    *work = NULL;
    ml_blob_t b;
    uint16_t kind = len >= 8 ? ml_blob_u16(data + 6) : 0;
    const family_t *fam = family_of(kind);
    if (!fam) {
        fam = &families[0];
    }
    if (ml_blob_open(&b, data, len, fam->kind, fam->version, err) != ML_OK
        || fam->open(m, &b, err) != ML_OK) {
        return NULL;
    }
    ml_est_t *est = (ml_est_t *)m;
    size_t size = ml_est_work_size(est);
    if (size > (64u << 20)) {
        ml_error_set(err, ML_E_VALUE, 0, "work memory too large");
        return NULL;
    }
    *work = malloc(size ? size : 8);
    ml_est_set_work(est, *work);
    return fam;
}

static int run_sample(const family_t *fam, any_model_t *m, const float *x, double *values,
    ml_error_t *err) {
    ml_est_t *est = (ml_est_t *)m;
    const double *xin;
    int is_f32;
    int k = 0;
    for (int method = 0; method < ML_N_METHODS; method++) {
        if (!est->width[method]) {
            continue;
        }
        if (ml_est_input(est, x, 'f', &xin, &is_f32, err) != ML_OK
            || fam->run(m, (ml_method_t)method, xin, is_f32, err) != ML_OK) {
            return -1;
        }
        for (uint32_t j = 0; j < est->width[method]; j++) {
            values[k++] = est->out[j];
        }
    }
    return k;
}

// partial_fit of the case's batch on a copy of the model: then the values must be
// scikit-learn's after its partial_fit; a batch with a NaN or an unknown label is refused
// without changing anything.
static void test_learning(const char *name, const case_t *c) {
    uint8_t *copy = malloc(c->blob_size);
    memcpy(copy, c->blob, c->blob_size);
    any_model_t m;
    double *work;
    ml_error_t err;
    const family_t *fam = open_model(copy, c->blob_size, &m, &work, &err);
    ml_est_t *est = (ml_est_t *)&m;
    CHECK(fam && fam->learn && (est->learn & ML_LEARN_PARTIAL_FIT), "%s: cannot learn", name);
    if (!fam || !fam->learn) {
        free(work);
        free(copy);
        return;
    }
    uint32_t count;
    float *bad = malloc(sizeof(float) * c->n_batch * c->nf);
    double *bad_y = malloc(sizeof(double) * c->n_batch);
    memcpy(bad, c->batch, sizeof(float) * c->n_batch * c->nf);
    memcpy(bad_y, c->batch_y, sizeof(double) * c->n_batch);
    bad[(c->n_batch - 1) * c->nf] = NAN;
    ml_batch_t b = { bad, 'f', c->n_batch, c->batch_y, 'd' };
    CHECK(fam->learn(&m, ML_PARTIAL_FIT, &b, &count, &err) == ML_E_INPUT
        && strstr(err.msg, "is NaN"), "%s: a NaN in the batch: %s", name, err.msg);
    if (est->flags & ML_EST_CLASSIFIER) {
        bad_y[1] = 12345;
        ml_batch_t b2 = { c->batch, 'f', c->n_batch, bad_y, 'd' };
        CHECK(fam->learn(&m, ML_PARTIAL_FIT, &b2, &count, &err) == ML_E_INPUT
            && strstr(err.msg, "y[1] is 12345: not one of the model's classes"), "%s: %s", name,
            err.msg);
    }
    CHECK(memcmp(copy, c->blob, c->blob_size) == 0, "%s: a refused batch changed the model",
        name);
    // Values near float32's largest, on another copy: the weights may overflow; then the
    // batch is refused and nothing changes.
    for (uint32_t i = 0; i < c->n_batch * c->nf; i++) {
        bad[i] = i % 2 ? -3e38f : 3e38f;
    }
    uint8_t *copy2 = malloc(c->blob_size), *before = malloc(c->blob_size);
    memcpy(copy2, c->blob, c->blob_size);
    any_model_t m2;
    double *work2;
    const family_t *fam2 = open_model(copy2, c->blob_size, &m2, &work2, &err);
    if (fam2) {
        ml_batch_t huge = { bad, 'f', c->n_batch, c->batch_y, 'd' };
        memcpy(before, copy2, c->blob_size);
        if (fam2->learn(&m2, ML_PARTIAL_FIT, &huge, &count, &err) != ML_OK) {
            CHECK(strstr(err.msg, "overflow") && memcmp(copy2, before, c->blob_size) == 0,
                "%s: a batch that overflows: %s, or it changed the model", name, err.msg);
            printf("%-26s a batch of +-3e38: refused (%s)\n", name, err.msg);
        }
        free(work2);
    }
    free(copy2);
    free(before);
    ml_batch_t good = { c->batch, 'f', c->n_batch, c->batch_y, 'd' };
    CHECK(fam->learn(&m, ML_PARTIAL_FIT, &good, &count, &err) == ML_OK, "%s: partial_fit: %s",
        name, err.msg);
    double values[256], worst = 0.0;
    int labels_ok = 1;
    int int_predict = est->flags & (ML_EST_CLASSIFIER | ML_EST_INT_PREDICT);
    for (uint32_t i = 0; i < c->n; i++) {
        int k = run_sample(fam, &m, c->x + i * c->nf, values, &err);
        const double *e = c->learned + i * c->nv;
        labels_ok &= k == (int)c->nv && (!int_predict || values[0] == e[0]);
        for (int j = int_predict; j < k; j++) {
            double d = fabs(values[j] - e[j]) / fmax(fabs(e[j]), 1e-300);
            worst = d > worst ? d : worst;
        }
    }
    printf("%-26s after partial_fit: predictions %s, values max relative difference %.2g\n",
        name, labels_ok ? "identical" : "DIFFERENT", worst);
    CHECK(labels_ok && worst <= 1e-9, "%s: after partial_fit, values differ by %g", name, worst);
    free(bad);
    free(bad_y);
    free(work);
    free(copy);
}

static void test_case(const char *name) {
    case_t c = { 0 };
    uint8_t *file = NULL;
    if (!load_case(name, &c, &file)) {
        CHECK(0, "%s: cannot read the case file", name);
        free(file);
        return;
    }
    any_model_t m;
    double *work;
    ml_error_t err;
    const family_t *fam = open_model(c.blob, c.blob_size, &m, &work, &err);
    CHECK(fam != NULL, "%s: %s", name, err.msg);
    double values[256];
    if (fam) {
        ml_est_t *est = (ml_est_t *)&m;
        CHECK(est->n_features == c.nf, "%s: %lu features", name, (unsigned long)est->n_features);
        double worst = 0.0;
        int labels_ok = 1;
        for (uint32_t i = 0; i < c.n; i++) {
            int k = run_sample(fam, &m, c.x + i * c.nf, values, &err);
            CHECK(k == (int)c.nv, "%s: sample %lu gave %d values, expected %lu (%s)", name,
                (unsigned long)i, k, (unsigned long)c.nv, err.msg);
            if (k != (int)c.nv) {
                break;
            }
            const double *e = c.expected + i * c.nv;
            int int_predict = est->flags & (ML_EST_CLASSIFIER | ML_EST_INT_PREDICT);
            labels_ok &= int_predict ? values[0] == e[0] : 1;
            for (int j = int_predict; j < k; j++) {
                double d = fabs(values[j] - e[j]) / fmax(fabs(e[j]), 1e-300);
                worst = d > worst ? d : worst;
            }
        }
        printf("%-26s predictions %s, values max relative difference %.2g\n", name,
            labels_ok ? "identical" : "DIFFERENT", worst);
        CHECK(labels_ok, "%s: predictions differ", name);
        double tol = strstr(name, "knn") || strstr(name, "lof") ? 1e-7 : 1e-9;
        CHECK(worst <= tol, "%s: values differ by %g relative", name, worst);
        // NaN and infinity are refused with the feature's index.
        float bad[64];
        memcpy(bad, c.x, sizeof(float) * c.nf);
        bad[c.nf - 1] = NAN;
        const double *xin;
        int is_f32;
        CHECK(ml_est_input(est, bad, 'f', &xin, &is_f32, &err) == ML_E_INPUT
            && strstr(err.msg, "NaN"), "%s: NaN: %s", name, err.msg);
        bad[0] = -INFINITY;
        CHECK(ml_est_input(est, bad, 'f', &xin, &is_f32, &err) == ML_E_INPUT
            && strstr(err.msg, "x[0]"), "%s: inf: %s", name, err.msg);
        free(work);
    }
    if (fam && c.n_batch) {
        test_learning(name, &c);
    }
    // Every truncation is refused, with a message.
    int truncations_ok = 1;
    for (uint32_t len = 0; len < c.blob_size; len++) {
        uint8_t *t = malloc(len ? len : 1);
        memcpy(t, c.blob, len);
        err.msg[0] = 0;
        const family_t *f2 = open_model(t, len, &m, &work, &err);
        truncations_ok &= f2 == NULL && err.msg[0] != 0;
        free(work);
        free(t);
    }
    CHECK(truncations_ok, "%s: a truncated model was accepted", name);
    // Every byte changed (three ways), the checksum fixed: refused, or runs within bounds.
    uint8_t *t = malloc(c.blob_size);
    long accepted = 0, refused = 0;
    // (every byte of the header and tables; further on, a stride that keeps ~300 positions)
    uint32_t stride = c.blob_size / 300 + 1;
    for (uint32_t pos = 16; pos < c.blob_size; pos += pos < 256 ? 1 : stride) {
        static const uint8_t deltas[2] = { 0x01, 0x80 };
        for (int d = 0; d < 2; d++) {
            memcpy(t, c.blob, c.blob_size);
            t[pos] ^= deltas[d];
            uint32_t crc = ml_crc32(0, t + 16, c.blob_size - 16);
            memcpy(t + 12, &crc, 4);
            const family_t *f2 = open_model(t, c.blob_size, &m, &work, &err);
            if (!f2) {
                refused++;
                continue;
            }
            accepted++;
            for (uint32_t i = 0; i < c.n && i < 3; i++) {
                run_sample(f2, &m, c.x + i * c.nf, values, &err);
            }
            if (c.n_batch && f2->learn) {
                // a damaged model that learns: partial_fit within bounds, then predict
                ml_batch_t b = { c.batch, 'f', c.n_batch, c.batch_y, 'd' };
                uint32_t count;
                f2->learn(&m, ML_PARTIAL_FIT, &b, &count, &err);
                run_sample(f2, &m, c.x, values, &err);
            }
            free(work);
        }
    }
    printf("%-26s %lu truncations refused; byte changes: %ld refused, %ld accepted and run\n",
        name, (unsigned long)c.blob_size, refused, accepted);
    free(t);
    free(c.blob);
    free(c.expected);
    if (c.n_batch) {
        free((void *)c.batch);
        free((void *)c.batch_y);
    }
    free(file);
}

// The models made on the device: k-NN that stores samples, k-means from initial centres.
static void test_learners(void) {
    ml_error_t err;
    uint32_t count;
    // k-NN, 2 features, room for 4 samples, 3 neighbours, euclidean: hand-worked votes.
    ml_neighbors_t knn;
    size_t size = ml_neighbors_learner_size(2, 4, 3, ML_NEIGHBORS_EUCLIDEAN_GEMM);
    CHECK(size == 8 * (4 + 4 + 6 + 4) + 8 * 4 + 32 + 16 + 16, "k-NN size %lu",
        (unsigned long)size);
    double *mem = malloc(size);  // exactly: ASan sees a write past it
    CHECK(ml_neighbors_learner_init(&knn, mem, 2, 4, 3, ML_NEIGHBORS_EUCLIDEAN_GEMM, 0, 2.0,
        &err) == ML_OK, "k-NN init: %s", err.msg);
    static const float xs[5][2] = { { 0, 0 }, { 0, 1 }, { 5, 5 }, { 1, 0 }, { 6, 6 } };
    static const int32_t labels[5] = { 7, 7, -2, 9, -2 };
    ml_est_t *est = &knn.est;
    const double *xin;
    int is_f32;
    float q[2] = { 0.4f, 0.4f };
    CHECK(ml_est_input(est, q, 'f', &xin, &is_f32, &err) == ML_OK
        && ml_neighbors_run(&knn, ML_PREDICT, xin, is_f32, &err) == ML_E_STATE
        && strstr(err.msg, "holds 0 samples"), "empty k-NN: %s", err.msg);
    for (int i = 0; i < 5; i++) {
        ml_batch_t b = { xs[i], 'f', 1, &labels[i], 'i' };
        ml_status_t r = ml_neighbors_learn(&knn, ML_ADD, &b, &count, &err);
        CHECK(i < 4 ? r == ML_OK : r == ML_E_VALUE && strstr(err.msg, "capacity"),
            "add %d: %s", i, err.msg);
    }
    // classes sorted: -2, 7, 9; the 3 nearest of (0.4, 0.4): (0,0) 7, (0,1) 7, (1,0) 9
    CHECK(est->n_classes == 3 && est->labels[0] == -2 && est->labels[2] == 9, "k-NN classes");
    ml_est_input(est, q, 'f', &xin, &is_f32, &err);
    CHECK(ml_neighbors_run(&knn, ML_PREDICT_PROBA, xin, is_f32, &err) == ML_OK
        && est->out[0] == 0.0 && fabs(est->out[1] - 2.0 / 3) < 1e-15
        && fabs(est->out[2] - 1.0 / 3) < 1e-15, "k-NN proba %g %g %g", est->out[0],
        est->out[1], est->out[2]);
    int32_t seven = 7;
    ml_batch_t rm = { NULL, 'f', 0, &seven, 'i' };
    CHECK(ml_neighbors_learn(&knn, ML_REMOVE, &rm, &count, &err) == ML_OK && count == 2
        && knn.n_samples == 2 && est->n_classes == 2 && est->labels[1] == 9, "remove 7");
    CHECK(knn.store_class[0] == 0 && knn.store_class[1] == 1 && knn.store_x[2] == 1.0f,
        "remove keeps the order");
    CHECK(ml_neighbors_run(&knn, ML_PREDICT, xin, is_f32, &err) == ML_E_STATE, "2 < k");
    CHECK(ml_neighbors_learn(&knn, ML_CLEAR, &rm, &count, &err) == ML_OK && count == 2
        && knn.n_samples == 0 && est->n_classes == 0, "clear");
    free(mem);

    // k-means from (0, 0) and (5, 5) on 7 points: Lloyd converges to the two groups' means.
    static const float pts[14] = { 0, 0, 0, 1, 1, 0, 5, 5, 5, 6, 6, 5, 7, 7 };
    static const double init[4] = { 0, 0, 5, 5 };
    ml_cluster_t km;
    size = ml_cluster_learner_size(2, 2);
    mem = malloc(size);
    CHECK(ml_cluster_learner_init(&km, mem, 2, 2, init, 'd', 300, 1e-4, &err) == ML_OK,
        "k-means init: %s", err.msg);
    ml_batch_t all = { pts, 'f', 7, NULL, 'f' };
    CHECK(ml_cluster_learn(&km, ML_FIT, &all, &count, &err) == ML_OK, "fit: %s", err.msg);
    CHECK(fabs(km.work_centers[0] - 1.0 / 3) < 1e-15 && fabs(km.work_centers[2] - 5.75) < 1e-15
        && km.n_iter == 2 && fabs(km.inertia - 41.0 / 6) < 1e-13 && km.counts[1] == 4.0,
        "fit: %.17g %.17g, %lu iterations, inertia %.17g", km.work_centers[0],
        km.work_centers[2], (unsigned long)km.n_iter, km.inertia);
    static const float far[2] = { 10, 10 };
    ml_batch_t one = { far, 'f', 1, NULL, 'f' };
    CHECK(ml_cluster_learn(&km, ML_PARTIAL_FIT, &one, &count, &err) == ML_OK
        && fabs(km.work_centers[2] - 6.6) < 1e-14 && km.counts[1] == 5.0, "partial_fit %.17g",
        km.work_centers[2]);
    ml_batch_t few = { pts, 'f', 1, NULL, 'f' };
    CHECK(ml_cluster_learn(&km, ML_FIT, &few, &count, &err) == ML_E_VALUE
        && strstr(err.msg, "fewer than n_clusters"), "fit of 1 sample: %s", err.msg);
    static const double nan_init[4] = { 0, NAN, 5, 5 };
    CHECK(ml_cluster_learner_init(&km, mem, 2, 2, nan_init, 'd', 300, 1e-4, &err) == ML_E_INPUT,
        "NaN init");
    free(mem);
}

int main(void) {
    test_learners();
    FILE *f = fopen("tests/c/estimators/index.txt", "r");
    CHECK(f != NULL, "tests/c/estimators/index.txt: run from the repository root");
    char name[128];
    int n = 0;
    while (f && fscanf(f, "%127s", name) == 1) {
        test_case(name);
        n++;
    }
    if (f) {
        fclose(f);
    }
    CHECK(n >= 20, "only %d cases", n);
    return check_summary("test_estimators");
}
