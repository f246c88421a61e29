// microlearn.ensemble: scikit-learn's IsolationForest (anomaly scores with scikit-learn's
// path-length arithmetic), with its preprocessing pipeline.
//
//   from microlearn import ensemble
//   model = ensemble.load("model.mlb")
//   model.predict(x)                 # +1 inlier, -1 outlier
//   model.score_samples(x, out); model.decision_function(x, out)
#include "mod_estimator.h"
#include "ml_isolation.h"

static ml_status_t open_isolation(void *m, const ml_blob_t *b, ml_error_t *err) {
    return ml_isolation_open(m, b, err);
}

static ml_status_t run_isolation(void *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    return ml_isolation_run(m, method, x, is_f32, err);
}

static const ml_family_t isolation_family = {
    ML_BLOB_KIND_ISOLATION, ML_ISOLATION_FORMAT_VERSION, sizeof(ml_isolation_t), open_isolation, run_isolation, NULL, NULL,
};

static mp_obj_t isolation_load(mp_obj_t source) {
    return ml_est_load(source, &isolation_family);
}
static MP_DEFINE_CONST_FUN_OBJ_1(isolation_load_obj, isolation_load);

#if MICROPY_ENABLE_DYNRUNTIME

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    ml_est_init_type();
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&isolation_load_obj));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_ISOLATION_FORMAT_VERSION));
    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t isolation_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_ensemble) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&isolation_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_ISOLATION_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(isolation_module_globals, isolation_module_table);

const mp_obj_module_t ml_ensemble_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&isolation_module_globals,
};

#endif
