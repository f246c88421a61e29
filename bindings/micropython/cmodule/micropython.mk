# microlearn as a user C module, built into the firmware:
#   make USER_C_MODULES=<microlearn>/bindings/micropython   (from a MicroPython port folder)
# The same sources as the native modules; `from microlearn import trees` works the same way.
MICROLEARN_DIR := $(abspath $(USERMOD_DIR)/../../..)

SRC_USERMOD_C += $(MICROLEARN_DIR)/bindings/micropython/cmodule/modmicrolearn.c
SRC_USERMOD_C += $(MICROLEARN_DIR)/bindings/micropython/mod_common.c
SRC_USERMOD_C += $(MICROLEARN_DIR)/bindings/micropython/mod_blob.c
SRC_USERMOD_C += $(MICROLEARN_DIR)/bindings/micropython/mod_trees.c
SRC_USERMOD_C += $(MICROLEARN_DIR)/bindings/micropython/mod_dsp.c
SRC_USERMOD_C += $(MICROLEARN_DIR)/bindings/micropython/mod_dsp_audio.c
SRC_USERMOD_C += $(MICROLEARN_DIR)/bindings/micropython/mod_nn.c
SRC_USERMOD_C += $(addprefix $(MICROLEARN_DIR)/bindings/micropython/, mod_estimator.c \
                   mod_linear_model.c mod_svm.c mod_neighbors.c mod_naive_bayes.c \
                   mod_mixture.c mod_cluster.c mod_ensemble.c mod_covariance.c)
SRC_USERMOD_C += $(addprefix $(MICROLEARN_DIR)/core/, ml_error.c ml_blob.c ml_text.c ml_math_exp.c ml_math_log.c \
                   ml_math_sqrt.c ml_math_trig.c ml_trees.c \
                   ml_dsp.c ml_dsp_fft.c ml_dsp_features.c ml_dsp_audio.c ml_wav.c ml_nn.c ml_nn_ops.c ml_math_double.c \
                   ml_estimator.c ml_linear.c ml_svm.c ml_neighbors.c ml_naive_bayes.c ml_mixture.c \
                   ml_cluster.c ml_isolation.c ml_covariance.c)

CFLAGS_USERMOD += -I$(MICROLEARN_DIR)/core -I$(MICROLEARN_DIR)/bindings/micropython
CFLAGS_USERMOD += -ffp-contract=off -Wno-unused-parameter
