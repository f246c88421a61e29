// microlearn.cluster: scikit-learn's KMeans and MiniBatchKMeans, with their preprocessing.
//
//   from microlearn import cluster
//   model = cluster.load("model.mlb")
//   model.predict(x)           # the cluster
//   model.transform(x, out)    # distances to the n_clusters centres
//   km = cluster.KMeans(n_clusters, init)   # learns here: km.fit(X) (Lloyd, from init),
//   km.partial_fit(X) (MiniBatchKMeans), km.cluster_centers(out), km.n_iter, km.inertia
#include "mod_estimator.h"
#include "ml_cluster.h"

static ml_status_t open_cluster(void *m, const ml_blob_t *b, ml_error_t *err) {
    return ml_cluster_open(m, b, err);
}

static ml_status_t run_cluster(void *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    return ml_cluster_run(m, method, x, is_f32, err);
}

static ml_status_t learn_cluster(void *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err) {
    return ml_cluster_learn(m, what, b, count, err);
}

// cluster_centers(out): the n_clusters x n_features centres into out (array 'f' or 'd').
static mp_obj_t cluster_centers(mp_obj_t self_in, mp_obj_t out_in) {
    ml_est_obj_t *self = MP_OBJ_TO_PTR(self_in);
    ml_cluster_t *m = (ml_cluster_t *)self->model;
    ml_array_t out;
    ml_get_array(out_in, "out", "fd", true, &out);
    size_t n = (size_t)m->n_clusters * m->est.n_inputs;
    ml_check_length("out", out.len, n, "(n_clusters x n_features)");
    for (size_t i = 0; i < n; i++) {
        double v = ml_f64(m->centers, i);
        if (out.typecode == 'f') {
            ((float *)out.buf)[i] = (float)v;
        } else {
            ((double *)out.buf)[i] = v;
        }
    }
    return out_in;
}
static MP_DEFINE_CONST_FUN_OBJ_2(cluster_centers_obj, cluster_centers);

static void attr_cluster(mp_obj_t self, void *model, qstr attr, mp_obj_t *dest) {
    ml_cluster_t *m = model;
    if (attr == MP_QSTR_n_clusters) {
        dest[0] = mp_obj_new_int(m->n_clusters);
    } else if (attr == MP_QSTR_cluster_centers) {
        dest[0] = MP_OBJ_FROM_PTR(&cluster_centers_obj);
        dest[1] = self;
    } else if (m->init && attr == MP_QSTR_n_iter) {
        dest[0] = mp_obj_new_int(m->n_iter);
    } else if (m->init && attr == MP_QSTR_inertia) {
        dest[0] = mp_obj_new_float_from_d(m->inertia);
    }
}

static const ml_family_t cluster_family = {
    ML_BLOB_KIND_CLUSTER, ML_CLUSTER_FORMAT_VERSION, sizeof(ml_cluster_t), open_cluster,
    run_cluster, learn_cluster, attr_cluster,
};

static mp_obj_t cluster_load(mp_obj_t source) {
    return ml_est_load(source, &cluster_family);
}
static MP_DEFINE_CONST_FUN_OBJ_1(cluster_load_obj, cluster_load);

// KMeans(n_clusters, init, max_iter=300, tol=1e-4): k-means that learns on the device from the
// initial centres init (n_clusters x n_features values, array 'f' or 'd').
static mp_obj_t cluster_kmeans(size_t n_args, const mp_obj_t *pos, mp_map_t *kw) {
    enum { A_K, A_INIT, A_MAX_ITER, A_TOL, N_ARGS };
    mp_arg_t allowed[N_ARGS];
    ml_arg(&allowed[A_K], MP_QSTR_n_clusters, MP_ARG_REQUIRED, mp_const_none);
    ml_arg(&allowed[A_INIT], MP_QSTR_init, MP_ARG_REQUIRED, mp_const_none);
    ml_arg(&allowed[A_MAX_ITER], MP_QSTR_max_iter, 0, MP_OBJ_NEW_SMALL_INT(300));
    ml_arg(&allowed[A_TOL], MP_QSTR_tol, 0, mp_const_none);
    mp_arg_val_t a[N_ARGS];
    mp_arg_parse_all(n_args, pos, kw, N_ARGS, allowed, a);
    uint32_t k = (uint32_t)ml_get_int(a[A_K].u_obj, "n_clusters", 1, 65536);
    ml_array_t init;
    ml_get_array(a[A_INIT].u_obj, "init", "fd", false, &init);
    if (init.len == 0 || init.len % k) {
        ml_raise_value("init has %lu values, expected n_clusters (%lu) x n_features",
            (unsigned long)init.len, (unsigned long)k);
    }
    uint32_t max_iter = (uint32_t)ml_get_int(a[A_MAX_ITER].u_obj, "max_iter", 1, 1000000);
    double tol = a[A_TOL].u_obj == mp_const_none ? 1e-4
        : ml_get_number(a[A_TOL].u_obj, "tol", 0.0, 1e30, ">= 0");
    uint32_t nf = (uint32_t)(init.len / k);
    if (nf > 4096) {
        ml_raise_value("init: %lu features, expected at most 4096", (unsigned long)nf);
    }
    ml_est_obj_t *self = ml_est_new(&cluster_family, ml_cluster_learner_size(k, nf));
    ml_error_t err;
    if (ml_cluster_learner_init((ml_cluster_t *)self->model, self->work, k, nf, init.buf,
        init.typecode, max_iter, tol, &err) != ML_OK) {
        ml_est_discard(self);
        ml_raise_error(&err, 0);
    }
    return MP_OBJ_FROM_PTR(self);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(cluster_kmeans_obj, 2, cluster_kmeans);

#if MICROPY_ENABLE_DYNRUNTIME

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    ml_est_init_type();
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&cluster_load_obj));
    mp_store_global(MP_QSTR_KMeans, MP_OBJ_FROM_PTR(&cluster_kmeans_obj));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_CLUSTER_FORMAT_VERSION));
    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t cluster_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_cluster) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&cluster_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_KMeans), MP_ROM_PTR(&cluster_kmeans_obj) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_CLUSTER_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(cluster_module_globals, cluster_module_table);

const mp_obj_module_t ml_cluster_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&cluster_module_globals,
};

#endif
