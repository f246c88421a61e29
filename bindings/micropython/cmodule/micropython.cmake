# microlearn as a user C module for the CMake-based ports (esp32, rp2):
#   make USER_C_MODULES=<microlearn>/bindings/micropython/cmodule/micropython.cmake
get_filename_component(MICROLEARN_DIR ${CMAKE_CURRENT_LIST_DIR}/../../.. ABSOLUTE)

add_library(usermod_microlearn INTERFACE)
target_sources(usermod_microlearn INTERFACE
    ${MICROLEARN_DIR}/bindings/micropython/cmodule/modmicrolearn.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_common.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_blob.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_trees.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_dsp.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_dsp_audio.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_nn.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_estimator.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_linear_model.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_svm.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_neighbors.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_naive_bayes.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_mixture.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_cluster.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_ensemble.c
    ${MICROLEARN_DIR}/bindings/micropython/mod_covariance.c
    ${MICROLEARN_DIR}/core/ml_error.c
    ${MICROLEARN_DIR}/core/ml_blob.c
    ${MICROLEARN_DIR}/core/ml_text.c
    ${MICROLEARN_DIR}/core/ml_math_exp.c
    ${MICROLEARN_DIR}/core/ml_math_log.c
    ${MICROLEARN_DIR}/core/ml_math_sqrt.c
    ${MICROLEARN_DIR}/core/ml_math_trig.c
    ${MICROLEARN_DIR}/core/ml_trees.c
    ${MICROLEARN_DIR}/core/ml_dsp.c
    ${MICROLEARN_DIR}/core/ml_dsp_fft.c
    ${MICROLEARN_DIR}/core/ml_dsp_features.c
    ${MICROLEARN_DIR}/core/ml_dsp_audio.c
    ${MICROLEARN_DIR}/core/ml_wav.c
    ${MICROLEARN_DIR}/core/ml_nn.c
    ${MICROLEARN_DIR}/core/ml_nn_ops.c
    ${MICROLEARN_DIR}/core/ml_math_double.c
    ${MICROLEARN_DIR}/core/ml_estimator.c
    ${MICROLEARN_DIR}/core/ml_linear.c
    ${MICROLEARN_DIR}/core/ml_svm.c
    ${MICROLEARN_DIR}/core/ml_neighbors.c
    ${MICROLEARN_DIR}/core/ml_naive_bayes.c
    ${MICROLEARN_DIR}/core/ml_mixture.c
    ${MICROLEARN_DIR}/core/ml_cluster.c
    ${MICROLEARN_DIR}/core/ml_isolation.c
    ${MICROLEARN_DIR}/core/ml_covariance.c
)
target_include_directories(usermod_microlearn INTERFACE
    ${MICROLEARN_DIR}/core
    ${MICROLEARN_DIR}/bindings/micropython
)
target_compile_options(usermod_microlearn INTERFACE -ffp-contract=off)
target_link_libraries(usermod INTERFACE usermod_microlearn)
