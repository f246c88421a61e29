// microlearn.neighbors: scikit-learn's KNeighborsClassifier, KNeighborsRegressor and
// NearestCentroid, with their preprocessing pipeline.
//
//   from microlearn import neighbors
//   model = neighbors.load("model.mlb")
//   model.predict(x); model.predict_proba(x, out)
//   knn = neighbors.KNeighborsClassifier(n_features, capacity, n_neighbors=5)  # learns here:
//   knn.add(x, label); knn.remove(label); knn.clear(); knn.n_samples, knn.capacity
#include "mod_estimator.h"
#include "ml_neighbors.h"

static ml_status_t open_neighbors(void *m, const ml_blob_t *b, ml_error_t *err) {
    return ml_neighbors_open(m, b, err);
}

static ml_status_t run_neighbors(void *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    return ml_neighbors_run(m, method, x, is_f32, err);
}

static ml_status_t learn_neighbors(void *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err) {
    return ml_neighbors_learn(m, what, b, count, err);
}

static void attr_neighbors(mp_obj_t self, void *model, qstr attr, mp_obj_t *dest) {
    ml_neighbors_t *m = model;
    if (attr == MP_QSTR_n_samples) {
        dest[0] = mp_obj_new_int(m->n_samples);
    } else if (attr == MP_QSTR_capacity) {
        dest[0] = mp_obj_new_int(m->capacity);
    }
}

static const ml_family_t neighbors_family = {
    ML_BLOB_KIND_NEIGHBORS, ML_NEIGHBORS_FORMAT_VERSION, sizeof(ml_neighbors_t), open_neighbors,
    run_neighbors, learn_neighbors, attr_neighbors,
};

static mp_obj_t neighbors_load(mp_obj_t source) {
    return ml_est_load(source, &neighbors_family);
}
static MP_DEFINE_CONST_FUN_OBJ_1(neighbors_load_obj, neighbors_load);

// KNeighborsClassifier(n_features, capacity, n_neighbors=5, weights="uniform",
// metric="minkowski", p=2): an empty k-NN classifier that learns on the device.
static mp_obj_t neighbors_knn(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    enum { A_NF, A_CAP, A_K, A_WEIGHTS, A_METRIC, A_P, N_ARGS };
    mp_arg_t allowed[N_ARGS];
    ml_arg(&allowed[A_NF], MP_QSTR_n_features, MP_ARG_REQUIRED, mp_const_none);
    ml_arg(&allowed[A_CAP], MP_QSTR_capacity, MP_ARG_REQUIRED, mp_const_none);
    ml_arg(&allowed[A_K], MP_QSTR_n_neighbors, 0, MP_OBJ_NEW_SMALL_INT(5));
    ml_arg(&allowed[A_WEIGHTS], MP_QSTR_weights, 0, MP_OBJ_NEW_QSTR(MP_QSTR_uniform));
    ml_arg(&allowed[A_METRIC], MP_QSTR_metric, 0, MP_OBJ_NEW_QSTR(MP_QSTR_minkowski));
    ml_arg(&allowed[A_P], MP_QSTR_p, 0, MP_OBJ_NEW_SMALL_INT(2));
    mp_arg_val_t a[N_ARGS];
    mp_arg_parse_all(n_args, pos, kw, N_ARGS, allowed, a);
    uint32_t nf = (uint32_t)ml_get_int(a[A_NF].u_obj, "n_features", 1, 4096);
    uint32_t cap = (uint32_t)ml_get_int(a[A_CAP].u_obj, "capacity", 1, 1 << 20);
    uint32_t k = (uint32_t)ml_get_int(a[A_K].u_obj, "n_neighbors", 1, 1024);
    static const char *const weights[] = { "uniform", "distance", NULL };
    static const char *const metrics[] = { "minkowski", "euclidean", "manhattan", "chebyshev",
                                           NULL };
    uint32_t w = (uint32_t)ml_get_choice(a[A_WEIGHTS].u_obj, "weights", weights);
    int metric = ml_get_choice(a[A_METRIC].u_obj, "metric", metrics);
    double p = ml_get_number(a[A_P].u_obj, "p", 1.0, 1e6, "from 1 to 1e6");
    // scikit-learn's effective metric: minkowski p=2 is the euclidean (brute force: the
    // |x|^2 - 2 x.y + |y|^2 form), p=1 the manhattan
    uint32_t code = metric == 1 || (metric == 0 && p == 2.0) ? ML_NEIGHBORS_EUCLIDEAN_GEMM
        : metric == 2 || (metric == 0 && p == 1.0) ? ML_NEIGHBORS_MANHATTAN
        : metric == 3 ? ML_NEIGHBORS_CHEBYSHEV : ML_NEIGHBORS_MINKOWSKI;
    if (k > cap) {
        ml_raise_value("n_neighbors is %lu, above the capacity (%lu)", (unsigned long)k,
            (unsigned long)cap);
    }
    size_t size = ml_neighbors_learner_size(nf, cap, k, code);
    ml_est_obj_t *self = ml_est_new(&neighbors_family, size);
    ml_error_t err;
    if (ml_neighbors_learner_init((ml_neighbors_t *)self->model, self->work, nf, cap, k, code, w,
        p, &err) != ML_OK) {
        ml_est_discard(self);
        ml_raise_error(&err, 0);
    }
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(neighbors_knn_obj, 2, neighbors_knn);

#if MICROPY_ENABLE_DYNRUNTIME

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    ml_est_init_type();
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&neighbors_load_obj));
    mp_store_global(MP_QSTR_KNeighborsClassifier, MP_OBJ_FROM_PTR(&neighbors_knn_obj));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_NEIGHBORS_FORMAT_VERSION));
    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t neighbors_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_neighbors) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&neighbors_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_KNeighborsClassifier), MP_ROM_PTR(&neighbors_knn_obj) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_NEIGHBORS_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(neighbors_module_globals, neighbors_module_table);

const mp_obj_module_t ml_neighbors_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&neighbors_module_globals,
};

#endif
