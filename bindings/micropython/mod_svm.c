// microlearn.svm: scikit-learn's SVC, NuSVC, SVR, NuSVR and OneClassSVM (linear, poly, rbf,
// sigmoid kernels), computed as libsvm computes them, with their preprocessing pipeline.
//
//   from microlearn import svm
//   model = svm.load("model.mlb")
//   model.predict(x); model.decision_function(x, out); model.predict_proba(x, out)
//   model.score_samples(x, out)   # OneClassSVM
#include "mod_estimator.h"
#include "ml_svm.h"

static ml_status_t open_svm(void *m, const ml_blob_t *b, ml_error_t *err) {
    return ml_svm_open(m, b, err);
}

static ml_status_t run_svm(void *m, ml_method_t method, const double *x, int is_f32,
    ml_error_t *err) {
    return ml_svm_run(m, method, x, is_f32, err);
}

static const ml_family_t svm_family = {
    ML_BLOB_KIND_SVM, ML_SVM_FORMAT_VERSION, sizeof(ml_svm_t), open_svm, run_svm, NULL, NULL,
};

static mp_obj_t svm_load(mp_obj_t source) {
    return ml_est_load(source, &svm_family);
}
static MP_DEFINE_CONST_FUN_OBJ_1(svm_load_obj, svm_load);

#if MICROPY_ENABLE_DYNRUNTIME

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    ml_est_init_type();
    mp_store_global(MP_QSTR_load, MP_OBJ_FROM_PTR(&svm_load_obj));
    mp_store_global(MP_QSTR_FORMAT_VERSION, MP_OBJ_NEW_SMALL_INT(ML_SVM_FORMAT_VERSION));
    MP_DYNRUNTIME_INIT_EXIT
}

#else

static const mp_rom_map_elem_t svm_module_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_svm) },
    { MP_ROM_QSTR(MP_QSTR_load), MP_ROM_PTR(&svm_load_obj) },
    { MP_ROM_QSTR(MP_QSTR_FORMAT_VERSION), MP_ROM_INT(ML_SVM_FORMAT_VERSION) },
};
static MP_DEFINE_CONST_DICT(svm_module_globals, svm_module_table);

const mp_obj_module_t ml_svm_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&svm_module_globals,
};

#endif
