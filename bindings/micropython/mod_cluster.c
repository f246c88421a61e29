// microlearn.cluster: scikit-learn's KMeans and MiniBatchKMeans, with their preprocessing.
//
//   from microlearn import cluster
//   model = cluster.load("model.mlb")
//   model.predict(x)           # the cluster
//   model.transform(x, out)    # distances to the n_clusters centres
#include "mod_estimator.h"
#include "ml_cluster.h"

static ml_status_t open_cluster(void *m, const ml_blob_t *b, ml_error_t *err) {
    return ml_cluster_open(m, b, err);
}

static ml_status_t run_cluster(void *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    return ml_cluster_run(m, method, x, is_f32, err);
}

static const ml_family_t cluster_family = {
    ML_BLOB_KIND_CLUSTER, ML_CLUSTER_FORMAT_VERSION, sizeof(ml_cluster_t), open_cluster, run_cluster,
};

static mp_obj_t cluster_load(mp_obj_t source) {
    return ml_est_load(source, &cluster_family);
}
static MP_DEFINE_CONST_FUN_OBJ_1(cluster_load_obj, cluster_load);

#if MICROPY_ENABLE_DYNRUNTIME

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    ml_est_init_type();
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&cluster_load_obj));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_CLUSTER_FORMAT_VERSION));
    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t cluster_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_cluster) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&cluster_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_CLUSTER_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(cluster_module_globals, cluster_module_table);

const mp_obj_module_t ml_cluster_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&cluster_module_globals,
};

#endif
