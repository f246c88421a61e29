// The `microlearn` package as a built-in module: its attributes are the modules that the
// native build installs as microlearn/<name>.mpy, so `from microlearn import trees` is the same.
#include "py/runtime.h"

extern const mp_obj_module_t ml_trees_module;
extern const mp_obj_module_t ml_dsp_module;
extern const mp_obj_module_t ml_nn_module;
extern const mp_obj_module_t ml_linear_model_module;
extern const mp_obj_module_t ml_svm_module;
extern const mp_obj_module_t ml_neighbors_module;
extern const mp_obj_module_t ml_naive_bayes_module;
extern const mp_obj_module_t ml_mixture_module;
extern const mp_obj_module_t ml_cluster_module;
extern const mp_obj_module_t ml_ensemble_module;
extern const mp_obj_module_t ml_covariance_module;

static const mp_rom_map_elem_t microlearn_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_microlearn) },
    { MP_ROM_QSTR(MP_QSTR_trees), MP_ROM_PTR(&ml_trees_module) },
    { MP_ROM_QSTR(MP_QSTR_dsp), MP_ROM_PTR(&ml_dsp_module) },
    { MP_ROM_QSTR(MP_QSTR_nn), MP_ROM_PTR(&ml_nn_module) },
    { MP_ROM_QSTR(MP_QSTR_linear_model), MP_ROM_PTR(&ml_linear_model_module) },
    { MP_ROM_QSTR(MP_QSTR_svm), MP_ROM_PTR(&ml_svm_module) },
    { MP_ROM_QSTR(MP_QSTR_neighbors), MP_ROM_PTR(&ml_neighbors_module) },
    { MP_ROM_QSTR(MP_QSTR_naive_bayes), MP_ROM_PTR(&ml_naive_bayes_module) },
    { MP_ROM_QSTR(MP_QSTR_mixture), MP_ROM_PTR(&ml_mixture_module) },
    { MP_ROM_QSTR(MP_QSTR_cluster), MP_ROM_PTR(&ml_cluster_module) },
    { MP_ROM_QSTR(MP_QSTR_ensemble), MP_ROM_PTR(&ml_ensemble_module) },
    { MP_ROM_QSTR(MP_QSTR_covariance), MP_ROM_PTR(&ml_covariance_module) },
};
static MP_DEFINE_CONST_DICT(microlearn_globals, microlearn_globals_table);

const mp_obj_module_t microlearn_module = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&microlearn_globals,
};

MP_REGISTER_MODULE(MP_QSTR_microlearn, microlearn_module);
