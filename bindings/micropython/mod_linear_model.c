// microlearn.linear_model: scikit-learn's linear models (LogisticRegression, LinearRegression,
// Ridge, Lasso, ElasticNet, SGDClassifier/Regressor, Perceptron, LinearSVC, LinearSVR, and
// OneVsRestClassifier of them), with their preprocessing pipeline.
//
//   from microlearn import linear_model
//   model = linear_model.load("model.mlb")
//   model.predict(x); model.decision_function(x, out); model.predict_proba(x, out)
#include "mod_estimator.h"
#include "ml_linear.h"

static ml_status_t open_linear(void *m, const ml_blob_t *b, ml_error_t *err) {
    return ml_linear_open(m, b, err);
}

static ml_status_t run_linear(void *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    return ml_linear_run(m, method, x, is_f32, err);
}

static ml_status_t learn_linear(void *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err) {
    return ml_linear_learn(m, what, b, count, err);
}

static const ml_family_t linear_family = {
    ML_BLOB_KIND_LINEAR, ML_LINEAR_FORMAT_VERSION, sizeof(ml_linear_t), open_linear, run_linear,
    learn_linear, NULL,
};

static mp_obj_t linear_load(mp_obj_t source) {
    return ml_est_load(source, &linear_family);
}
static MP_DEFINE_CONST_FUN_OBJ_1(linear_load_obj, linear_load);

#if MICROPY_ENABLE_DYNRUNTIME

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    ml_est_init_type();
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&linear_load_obj));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_LINEAR_FORMAT_VERSION));
    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t linear_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_linear_model) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&linear_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_LINEAR_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(linear_module_globals, linear_module_table);

const mp_obj_module_t ml_linear_model_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&linear_module_globals,
};

#endif
