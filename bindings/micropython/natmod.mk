# Builds one microlearn native module (MOD) for one architecture (ARCH) with MicroPython's
# py/dynruntime.mk. The top-level Makefile runs this from a per-(arch, module) folder under
# build/natmod/obj, with MPY_DIR, ARCH, MOD and PYTHON set.
HERE := $(dir $(realpath $(lastword $(MAKEFILE_LIST))))
ROOT := $(realpath $(HERE)/../..)
CORE := $(ROOT)/core

# Core sources each module needs (ml_softfp.c is empty except on armv6m).
CORE_COMMON := ml_error.c ml_text.c ml_math_exp.c ml_softfp.c
CORE_trees := $(CORE_COMMON) ml_blob.c ml_trees.c
GLUE_trees := mod_blob.c
# The scikit-learn families: the shared estimator glue, the container, the double math.
CORE_EST := ml_error.c ml_math_exp.c ml_softfp.c ml_blob.c ml_estimator.c
GLUE_EST := mod_blob.c mod_estimator.c
CORE_linear_model := $(CORE_EST) ml_math_sqrt.c ml_math_double.c ml_linear.c
GLUE_linear_model := $(GLUE_EST)
CORE_neighbors := $(CORE_EST) ml_math_sqrt.c ml_math_double.c ml_neighbors.c
GLUE_neighbors := $(GLUE_EST)
CORE_naive_bayes := $(CORE_EST) ml_math_sqrt.c ml_math_double.c ml_naive_bayes.c
GLUE_naive_bayes := $(GLUE_EST)
CORE_cluster := $(CORE_EST) ml_math_sqrt.c ml_math_double.c ml_cluster.c
GLUE_cluster := $(GLUE_EST)
CORE_mixture := $(CORE_EST) ml_math_sqrt.c ml_math_double.c ml_mixture.c
GLUE_mixture := $(GLUE_EST)
CORE_svm := $(CORE_EST) ml_math_sqrt.c ml_math_double.c ml_svm.c
GLUE_svm := $(GLUE_EST)
CORE_ensemble := $(CORE_EST) ml_isolation.c
GLUE_ensemble := $(GLUE_EST)
CORE_covariance := $(CORE_EST) ml_math_sqrt.c ml_math_double.c ml_covariance.c
GLUE_covariance := $(GLUE_EST)
CORE_dsp := $(CORE_COMMON) ml_math_log.c ml_math_sqrt.c ml_math_trig.c ml_dsp.c \
            ml_dsp_fft.c ml_dsp_features.c ml_dsp_audio.c ml_wav.c
GLUE_dsp := mod_dsp_audio.c
CORE_nn := $(CORE_COMMON) ml_blob.c ml_nn.c ml_nn_ops.c ml_nn_rnn.c
GLUE_nn := mod_blob.c

# Binding glue beyond mod_common.c (mod_blob.c: binary models in place) and the core's
# container (ml_blob.c), for the modules that read binary models: GLUE_<mod> := mod_blob.c and
# ml_blob.c in CORE_<mod>.
SRC := $(HERE)mod_$(MOD).c $(HERE)mod_common.c $(addprefix $(HERE),$(GLUE_$(MOD))) \
       $(addprefix $(CORE)/,$(CORE_$(MOD)))

CFLAGS_EXTRA += -I$(CORE) -I$(HERE) -ffp-contract=off -fno-math-errno
# A section per function and object, so that the link keeps only what the module reaches
# (natmod_link.sh; not on xtensa, whose literal pools mpy_ld places by its own rules).
ifneq ($(ARCH),xtensa)
CFLAGS_EXTRA += -ffunction-sections -fdata-sections
endif
ifeq ($(ARCH),x86)
# IEEE single/double arithmetic as on every other target (x87 would round differently).
CFLAGS_EXTRA += -msse2 -mfpmath=sse
endif

ifeq ($(ARCH),xtensa)
# ESP8266: integer division and soft float come from the chip's ROM, linked at their fixed
# addresses (Debian's lx106 libgcc leaves them out); needs MicroPython 1.26's mpy_ld.
MPY_EXTERN_SYM_FILE := $(MPY_DIR)/ports/esp8266/boards/eagle.rom.addr.v6.ld
endif

include $(MPY_DIR)/py/dynruntime.mk

# Link libgcc (soft float, 64-bit division); the core has its own math, so no libm.
# On armv6m, libgcc's float and double division use absolute relocations that mpy_ld cannot
# link: a copy without them is used, and core/ml_softfp.c provides both.
LIBGCC := $(realpath $(shell $(CROSS)gcc $(CFLAGS) --print-libgcc-file-name))
ifeq ($(ARCH),armv6m)
$(BUILD)/libgcc.a: $(LIBGCC) | $(BUILD)
	$(Q)cp $< $@ && $(CROSS)ar d $@ _divsf3.o _divdf3.o divsf3.o divdf3.o 2>/dev/null; true
LIBGCC := $(BUILD)/libgcc.a
$(BUILD)/$(MOD).native.mpy: | $(LIBGCC)
endif
MPY_LD_FLAGS += -l $(LIBGCC)

# The link: unreachable functions and data dropped first (an ld -r with --gc-sections from
# mpy_init), as a native module's code is copied into RAM on import. x86 and rv32imc
# objects are 32-bit (their ld defaults to 64).
ifneq ($(ARCH),xtensa)
LD_R := $(CROSS)ld$(if $(filter x86,$(ARCH)), -m elf_i386)$(if $(filter rv32imc,$(ARCH)), -m elf32lriscv)
$(BUILD)/$(MOD).native.mpy: MPY_LD = $(HERE)natmod_link.sh "$(LD_R)" $(PYTHON) \
    $(MPY_DIR)/tools/mpy_ld.py --
endif

# dynruntime.mk only tracks the .c files; rebuild when a header changes too.
$(SRC_O): $(wildcard $(CORE)/*.h $(HERE)*.h)
