// microlearn.naive_bayes: scikit-learn's GaussianNB, with its preprocessing pipeline.
//
//   from microlearn import naive_bayes
//   model = naive_bayes.load("model.mlb")
//   model.predict(x); model.predict_proba(x, out)
#include "mod_estimator.h"
#include "ml_naive_bayes.h"

static ml_status_t open_naive_bayes(void *m, const ml_blob_t *b, ml_error_t *err) {
    return ml_naive_bayes_open(m, b, err);
}

static ml_status_t run_naive_bayes(void *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    return ml_naive_bayes_run(m, method, x, is_f32, err);
}

static ml_status_t learn_naive_bayes(void *m, ml_learn_t what, const ml_batch_t *b,
    uint32_t *count, ml_error_t *err) {
    return ml_naive_bayes_learn(m, what, b, count, err);
}

static const ml_family_t naive_bayes_family = {
    ML_BLOB_KIND_NAIVE_BAYES, ML_NAIVE_BAYES_FORMAT_VERSION, sizeof(ml_naive_bayes_t), open_naive_bayes, run_naive_bayes,
    learn_naive_bayes, NULL,
};

static mp_obj_t naive_bayes_load(mp_obj_t source) {
    return ml_est_load(source, &naive_bayes_family);
}
static MP_DEFINE_CONST_FUN_OBJ_1(naive_bayes_load_obj, naive_bayes_load);

#if MICROPY_ENABLE_DYNRUNTIME

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    ml_est_init_type();
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&naive_bayes_load_obj));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_NAIVE_BAYES_FORMAT_VERSION));
    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t naive_bayes_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_naive_bayes) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&naive_bayes_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_NAIVE_BAYES_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(naive_bayes_module_globals, naive_bayes_module_table);

const mp_obj_module_t ml_naive_bayes_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&naive_bayes_module_globals,
};

#endif
