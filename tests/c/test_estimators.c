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

static void test_case(const char *name) {
    case_t c;
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
            free(work);
        }
    }
    printf("%-26s %lu truncations refused; byte changes: %ld refused, %ld accepted and run\n",
        name, (unsigned long)c.blob_size, refused, accepted);
    free(t);
    free(c.blob);
    free(c.expected);
    free(file);
}

int main(void) {
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
