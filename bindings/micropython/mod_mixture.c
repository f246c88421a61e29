// microlearn.mixture: scikit-learn's GaussianMixture (full, tied, diag, spherical).
//
//   from microlearn import mixture
//   model = mixture.load("model.mlb")
//   model.predict(x); model.predict_proba(x, out); model.score_samples(x, out)
#include "mod_estimator.h"
#include "ml_mixture.h"

static ml_status_t open_mixture(void *m, const ml_blob_t *b, ml_error_t *err) {
    return ml_mixture_open(m, b, err);
}

static ml_status_t run_mixture(void *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    return ml_mixture_run(m, method, x, is_f32, err);
}

static const ml_family_t mixture_family = {
    ML_BLOB_KIND_MIXTURE, ML_MIXTURE_FORMAT_VERSION, sizeof(ml_mixture_t), open_mixture, run_mixture, NULL, NULL,
};

static mp_obj_t mixture_load(mp_obj_t source) {
    return ml_est_load(source, &mixture_family);
}
static MP_DEFINE_CONST_FUN_OBJ_1(mixture_load_obj, mixture_load);

#if MICROPY_ENABLE_DYNRUNTIME

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    ml_est_init_type();
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&mixture_load_obj));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_MIXTURE_FORMAT_VERSION));
    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t mixture_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_mixture) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&mixture_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_MIXTURE_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(mixture_module_globals, mixture_module_table);

const mp_obj_module_t ml_mixture_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&mixture_module_globals,
};

#endif
