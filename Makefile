# microlearn: the one build entry point.
#
#   make           set up everything (Debian packages, .venv, MicroPython) and build the modules
#   make demo      the end-to-end demo on the unix port and emulated Cortex-M3
#   make check     the whole test suite (what CI runs)
#   make dist      native modules for every architecture, in a mip-installable layout
#   make bench     benchmarks, written to docs/benchmarks.md, docs/nn-benchmarks.md,
#                  docs/sklearn-benchmarks.md and docs/targets.md
#   make browser   the browser page of examples/browser, in build/browser
#
#   MP_SUITE=sid   any of these against Debian's development release of MicroPython
#
# Everything built lands in build/ (and the virtualenv in .venv/); a second run does no work.

SHELL := /bin/bash
ROOT := $(abspath .)
B := $(ROOT)/build
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
STAMP := $(B)/stamps

# MicroPython, from Debian's source package: the stable release (trixie, 1.25) by default.
# MP_SUITE=sid builds Debian's development release (1.26) into folders of its own
# (build/micropython-sid, build/natmod-sid), so both coexist.
MP_SUITE ?= trixie
SUITE_SUFFIX := $(if $(filter trixie,$(MP_SUITE)),,-$(MP_SUITE))
MP := $(B)/micropython$(SUITE_SUFFIX)
LOG := $(B)/log$(SUITE_SUFFIX)
MP_UNIX := $(MP)/ports/unix/build-standard/micropython
MP_UNIX_X86 := $(MP)/ports/unix/build-x86/micropython
MPY_CROSS := $(MP)/mpy-cross/build/mpy-cross
QEMU_PORT := $(MP)/ports/qemu
FW_M3 := $(QEMU_PORT)/build-MPS2_AN385/firmware.elf
FW_M0 := $(QEMU_PORT)/build-MICROBIT/firmware.elf
# Boards defined in this repository (tools/boards/<BOARD>): Cortex-M4F, Cortex-M7, RISC-V.
BOARDS := MPS2_AN386 MPS2_AN500 VIRT_RV32
FW_BOARDS := $(foreach b,$(BOARDS),$(QEMU_PORT)/build-$(b)/firmware.elf)
MP_UNIX_CMOD := $(MP)/ports/unix/build-microlearn/micropython-microlearn
WASM := $(MP)/ports/webassembly/build-microlearn
WASM_MJS := $(WASM)/micropython.mjs
JOBS ?= $(shell nproc)

# Native modules: every architecture the toolchains here reach; `make` builds the first three
# (what the demo runs on), `make check` and `make dist` all of them.
MODULES := trees dsp nn linear_model neighbors naive_bayes cluster mixture svm ensemble \
           covariance
ARCHS_RUN := x64 armv7m armv6m
ARCHS_ALL := x64 x86 armv6m armv7m armv7emsp armv7emdp rv32imc xtensa $(ARCHS_EXTRA)
# ARCHS_EXTRA=xtensawin: ESP32 modules, with Espressif's xtensa-esp32-elf-gcc on PATH (not here).
NATMOD := $(B)/natmod$(SUITE_SUFFIX)
# xtensa (ESP8266) modules are linked with MicroPython 1.26's mpy_ld (Debian sid), whatever
# MP_SUITE is: Debian's lx106 libgcc leaves out the integer division and soft-float routines
# that the ESP8266 ROM provides, and only 1.26's mpy_ld links against fixed ROM addresses
# (MPY_EXTERN_SYM_FILE). The .mpy ABI is the same 6.3 as 1.25's.
MP_XTENSA := $(B)/micropython-sid

export MICROLEARN_ROOT := $(ROOT)
# MicroPython's build names its version after `git describe`: keep git from finding this
# repository above build/, so that it says v1.25.0 and not a commit of microlearn.
export GIT_CEILING_DIRECTORIES := $(B)
# scikit-learn's OpenMP code on one thread: tests run two processes on the two cores, and
# OpenMP threads spinning on busy cores turn a 3 s fit into minutes.
export OMP_NUM_THREADS ?= 1
export MICROLEARN_MP_SUITE := $(MP_SUITE)

.PHONY: all setup micropython micropython-all modules modules-all demo check dist bench clean \
        distclean check-c check-fuzz check-host check-device check-release browser release-subset bench-natmod

all: setup micropython modules

# ---------------------------------------------------------------------------------------------
# Setup: Debian packages, the project virtualenv, the MicroPython source tree.

setup: $(STAMP)/system-packages $(STAMP)/venv

$(STAMP)/system-packages: tools/setup/install-system-packages.sh
	@tools/setup/install-system-packages.sh
	@mkdir -p $(@D) && touch $@

$(STAMP)/venv: requirements.txt pyproject.toml | $(STAMP)/system-packages
	@echo "venv: installing Python packages into .venv"
	@test -x $(PY) || python3 -m venv $(VENV)
	@$(PY) -m pip install -q -r requirements.txt
	@$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	@mkdir -p $(@D) && touch $@

# The patches in tools/setup/patches are applied to the fresh tree; changing one refetches it.
PATCHES := $(wildcard tools/setup/patches/*.patch)
$(MP)/.microlearn-fetched: tools/setup/fetch-micropython.sh $(PATCHES) | $(STAMP)/system-packages
	@rm -f $@ && tools/setup/fetch-micropython.sh $(MP) $(MP_SUITE)

ifneq ($(MP_XTENSA),$(MP))
$(MP_XTENSA)/.microlearn-fetched: tools/setup/fetch-micropython.sh $(PATCHES) | $(STAMP)/system-packages
	@rm -f $@ && tools/setup/fetch-micropython.sh $(MP_XTENSA) sid
endif

# ---------------------------------------------------------------------------------------------
# MicroPython: mpy-cross, the unix port, and the qemu firmware for two emulated boards;
# micropython-all adds the 32-bit unix port and the Cortex-M4F, Cortex-M7 and RISC-V boards.

micropython: $(MPY_CROSS) $(MP_UNIX) $(FW_M3) $(FW_M0)
micropython-all: micropython $(MP_UNIX_X86) $(FW_BOARDS)

$(MPY_CROSS): $(MP)/.microlearn-fetched
	@echo "micropython: building mpy-cross"
	@mkdir -p $(LOG)
	@$(MAKE) -s -C $(MP)/mpy-cross -j$(JOBS) >$(LOG)/mpy-cross.log 2>&1 || { tail -30 $(LOG)/mpy-cross.log; exit 1; }

# Standard variant without frozen micropython-lib; btree and ssl need libraries that Debian's
# repacked source does not ship. benchmarks/trees.py reads this line for its build of the port
# with the benchmark's models frozen in (ports/unix/build-bench-frozen).
MP_UNIX_OPTS := FROZEN_MANIFEST= MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 MICROPY_SSL_MBEDTLS=0
$(MP_UNIX): $(MPY_CROSS)
	@echo "micropython: building the unix port"
	@$(MAKE) -s -C $(MP)/ports/unix -j$(JOBS) $(MP_UNIX_OPTS) >$(LOG)/unix.log 2>&1 || { tail -30 $(LOG)/unix.log; exit 1; }
	@echo "micropython: $$($(MP_UNIX) -c 'import sys; print(sys.version)') (Debian $$(cat $(MP)/DEBIAN_VERSION))"

# A 256 kB heap (the port's default is 140 kB; the board has 4 MB): importing dsp and nn copies
# their native code into the heap, and the sound application needs ~45 kB more. Settings are
# compiler flags make does not track: the stamp rebuilds the board when they change.
M3_SETTINGS := heap-262144
$(QEMU_PORT)/build-MPS2_AN385/.settings-$(M3_SETTINGS):
	@rm -rf $(QEMU_PORT)/build-MPS2_AN385 && mkdir -p $(@D) && touch $@
$(FW_M3): $(MPY_CROSS) $(QEMU_PORT)/build-MPS2_AN385/.settings-$(M3_SETTINGS)
	@echo "micropython: building qemu firmware MPS2_AN385 (Cortex-M3)"
	@$(MAKE) -s -C $(MP)/ports/qemu -j$(JOBS) BOARD=MPS2_AN385 FROZEN_MANIFEST= \
	  MICROPY_HEAP_SIZE=262144 >$(LOG)/qemu-m3.log 2>&1 || { tail -30 $(LOG)/qemu-m3.log; exit 1; }

# The same port built 32-bit (x86), for the x86 native modules (no libffi for i386 here).
$(MP_UNIX_X86): $(MPY_CROSS)
	@echo "micropython: building the unix port for x86 (32-bit)"
	@$(MAKE) -s -C $(MP)/ports/unix -j$(JOBS) $(MP_UNIX_OPTS) MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 \
	  BUILD=build-x86 >$(LOG)/unix-x86.log 2>&1 || { tail -30 $(LOG)/unix-x86.log; exit 1; }

# The boards of tools/boards: see each mpconfigboard.mk.
$(QEMU_PORT)/build-%/firmware.elf: tools/boards/%/mpconfigboard.mk tools/boards/enable_fpu.c $(MPY_CROSS)
	@echo "micropython: building qemu firmware $* (tools/boards/$*)"
	@rm -rf $(QEMU_PORT)/build-$*  # a board's settings are compiler flags: rebuild it all
	@$(MAKE) -s -C $(QEMU_PORT) -j$(JOBS) BOARD=$* BOARD_DIR=$(ROOT)/tools/boards/$* FROZEN_MANIFEST= \
	  >$(LOG)/qemu-$*.log 2>&1 || { tail -30 $(LOG)/qemu-$*.log; exit 1; }

# The MICROBIT board ships with native code loading off; these flags let it load armv6m .mpy.
# A 216 kB heap (the port's default is 140 kB; the machine links for 256 kB of RAM), for the
# same reason as the Cortex-M3's.
M0_SETTINGS := heap-221184
$(QEMU_PORT)/build-MICROBIT/.settings-$(M0_SETTINGS):
	@rm -rf $(QEMU_PORT)/build-MICROBIT && mkdir -p $(@D) && touch $@
$(FW_M0): $(MPY_CROSS) $(QEMU_PORT)/build-MICROBIT/.settings-$(M0_SETTINGS)
	@echo "micropython: building qemu firmware MICROBIT (Cortex-M0)"
	@$(MAKE) -s -C $(MP)/ports/qemu -j$(JOBS) BOARD=MICROBIT FROZEN_MANIFEST= \
	  MICROPY_HEAP_SIZE=221184 \
	  CFLAGS_EXTRA="-DMICROPY_EMIT_THUMB=1 -DMICROPY_EMIT_THUMB_ARMV7M=0" >$(LOG)/qemu-m0.log 2>&1 || { tail -30 $(LOG)/qemu-m0.log; exit 1; }

# The unix port again, with microlearn built in as a user C module (the firmware route).
CMOD_SRC := $(wildcard core/*.c core/*.h bindings/micropython/*.c bindings/micropython/*.h \
              bindings/micropython/cmodule/*)
$(MP_UNIX_CMOD): $(MP_UNIX) $(CMOD_SRC)
	@echo "micropython: building the unix port with microlearn as a user C module"
	@$(MAKE) -s -C $(MP)/ports/unix -j$(JOBS) $(MP_UNIX_OPTS) BUILD=build-microlearn \
	  PROG=micropython-microlearn USER_C_MODULES=$(ROOT)/bindings/micropython >$(LOG)/unix-cmodule.log 2>&1 \
	  || { tail -30 $(LOG)/unix-cmodule.log; exit 1; }

# ---------------------------------------------------------------------------------------------
# Native modules (.mpy). Each (arch, module) pair is a target of its own, built in its own
# folder under build/natmod/obj/<arch>/<module> and staged as
# build/natmod/<arch>/microlearn/<module>.mpy (an importable package), so that pairs build in
# parallel: `modules` and `modules-all` run make with -j$(JOBS) unless it has a -j already.

PARALLEL := $(if $(findstring -j,$(MAKEFLAGS)),,-j$(JOBS))
modules: $(MPY_CROSS) $(STAMP)/venv
	@$(MAKE) --no-print-directory $(PARALLEL) $(foreach a,$(ARCHS_RUN),$(NATMOD)/$(a)/.built)
modules-all: $(MPY_CROSS) $(STAMP)/venv $(MP_XTENSA)/.microlearn-fetched
	@$(MAKE) --no-print-directory $(PARALLEL) $(foreach a,$(ARCHS_ALL),$(NATMOD)/$(a)/.built)

NATMOD_SRC := $(wildcard core/*.c core/*.h bindings/micropython/*.c bindings/micropython/*.h \
                bindings/micropython/natmod.mk bindings/micropython/natmod_link.sh)

# One pair: the stem is <arch>/microlearn/<module>.
pair_arch = $(firstword $(subst /, ,$*))
pair_module = $(lastword $(subst /, ,$*))
$(NATMOD)/%.mpy: $(NATMOD_SRC) $(MPY_CROSS) $(STAMP)/venv
	@d=$(NATMOD)/obj/$(pair_arch)/$(pair_module); mkdir -p $$d $(@D); \
	  echo "include $(ROOT)/bindings/micropython/natmod.mk" > $$d/Makefile; \
	  $(MAKE) -s -C $$d MPY_DIR=$(if $(filter xtensa,$(pair_arch)),$(MP_XTENSA),$(MP)) \
	    ARCH=$(pair_arch) MOD=$(pair_module) PYTHON=$(PY) >$$d/build.log 2>&1 \
	    || { cat $$d/build.log; exit 1; }; \
	  cp $$d/$(pair_module).mpy $@
$(foreach m,$(MODULES),$(NATMOD)/xtensa/microlearn/$(m).mpy): $(MP_XTENSA)/.microlearn-fetched
# They are the product, not intermediate files for make to delete.
.SECONDARY: $(foreach a,$(ARCHS_ALL),$(foreach m,$(MODULES),$(NATMOD)/$(a)/microlearn/$(m).mpy))

$(NATMOD)/%/.built: $(foreach m,$(MODULES),$(NATMOD)/%/microlearn/$(m).mpy) \
                    $(wildcard device/microlearn/*.py)
	@cp device/microlearn/*.py $(NATMOD)/$*/microlearn/
	@echo "modules: $* built ($(MODULES))"
	@touch $@

dist: all modules-all
	@$(PY) -m microlearn.dist --natmod $(NATMOD) --out $(ROOT)/dist --archs "$(ARCHS_ALL)" \
	  $(if $(DIST_URL),--base-url $(DIST_URL))

# ---------------------------------------------------------------------------------------------
# The two commands of the README.

demo: all
	@$(PY) -m microlearn.demo

check: all micropython-all modules-all $(MP_UNIX_CMOD) check-c check-fuzz check-host check-device \
       check-release
	@echo "check: all passed"

check-c: setup
	@$(MAKE) -s -C tests/c ROOT=$(ROOT) B=$(B)/tests-c

check-fuzz: setup
	@$(MAKE) -s -C tests/fuzz ROOT=$(ROOT) B=$(B)/fuzz FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60)

check-host: all
	@$(PY) -m pytest -q tests/host

# Every target (tests/device/conftest.py says which tests run where), and the browser page; two
# pytest-xdist workers, each running one target's tests at a time. Then the benchmark's quick
# run alone, so that no other test competes with its timings on the unix port.
check-device: all micropython-all modules-all $(MP_UNIX_CMOD) $(WASM_MJS) $(STAMP)/venv-bench \
              bench-natmod
	@$(PY) -m pytest -q -n 2 --dist loadgroup --ignore=tests/device/test_bench_quick.py tests/device
	@$(PY) -m pytest -q tests/device/test_bench_quick.py

# Debian's development release (MP_SUITE=sid, MicroPython 1.26) in its own folders: the unix
# port and the Cortex-M3 board, the modules' fidelity, bad-input and ABI tests.
RELEASE_TARGETS := unix,cortex-m3
RELEASE_TESTS := tests/device/test_trees_fidelity.py tests/device/test_trees_bad_input.py \
                 tests/device/test_dsp.py tests/device/test_mpy_abi.py
check-release: setup
	@$(MAKE) --no-print-directory MP_SUITE=sid release-subset
	@MICROLEARN_MP_SUITE=sid MICROLEARN_TARGETS=$(RELEASE_TARGETS) \
	  $(PY) -m pytest -q -n 2 --dist loadgroup $(RELEASE_TESTS)

release-subset: $(MP_UNIX) $(FW_M3) $(STAMP)/venv
	@$(MAKE) --no-print-directory $(PARALLEL) $(NATMOD)/x64/.built $(NATMOD)/armv7m/.built

# ---------------------------------------------------------------------------------------------
# The browser: MicroPython's webassembly port (Debian's emscripten) with microlearn built in as a
# user C module, and the page of examples/browser. The pyscript variant collects garbage only
# between calls from JavaScript; the standard one scans the stack with asyncify, which aborts
# inside a synchronous call. No frozen modules (Debian's source lacks micropython-lib).
$(WASM_MJS): $(MPY_CROSS) $(CMOD_SRC)
	@echo "micropython: building the webassembly port with microlearn (emscripten $$(emcc -dumpversion))"
	@$(MAKE) -s -C $(MP)/ports/webassembly -j$(JOBS) VARIANT=pyscript BUILD=build-microlearn \
	  FROZEN_MANIFEST= USER_C_MODULES=$(ROOT)/bindings/micropython >$(LOG)/webassembly.log 2>&1 \
	  || { tail -30 $(LOG)/webassembly.log; exit 1; }

browser: $(WASM_MJS) $(STAMP)/venv
	@$(PY) examples/browser/build.py $(B)/browser $(WASM)

# Benchmarks (benchmarks/trees.py): microlearn against plain Python, m2cgen and
# everywhereml, on the unix port, x64 under callgrind and the emulated boards. The comparison
# packages go into .venv for this only (requirements-bench.txt, without their heavy deps).
# `make bench BENCH_ARGS="--quick --out /tmp/b"`: the reduced run CI does (tests/device).
# benchmarks.trees also builds the unix port with its models frozen in, for microlearn's RAM in
# place on x64 (about 30 s the first time, cached by a content stamp; --no-frozen skips it).
$(STAMP)/venv-bench: requirements-bench.txt | $(STAMP)/venv
	@echo "venv: installing the benchmark's comparison packages (requirements-bench.txt)"
	@$(PY) -m pip install -q --no-deps -r requirements-bench.txt
	@mkdir -p $(@D) && touch $@

bench: all micropython-all modules-all $(STAMP)/venv-bench bench-natmod
	@$(PY) -m benchmarks.trees $(BENCH_ARGS)
	@$(PY) -m benchmarks.nn $(BENCH_NN_ARGS)
	@$(PY) -m benchmarks.sklearn $(BENCH_SKLEARN_ARGS)
	@$(PY) -m benchmarks.targets

# The emlearn stand-in of the benchmarks (benchmarks/emlearn_standin: emlearn's C tree evaluator
# in a native module), for the architectures the benchmarks run on.
BENCH_NATMOD := $(B)/bench-natmod
bench-natmod: $(foreach a,$(ARCHS_RUN),$(BENCH_NATMOD)/$(a)/emlearn_standin.mpy)
$(BENCH_NATMOD)/%/emlearn_standin.mpy: $(wildcard benchmarks/emlearn_standin/*) core/ml_softfp.c \
    $(MPY_CROSS) $(STAMP)/venv
	@d=$(BENCH_NATMOD)/obj/$*; mkdir -p $$d; \
	  echo "include $(ROOT)/benchmarks/emlearn_standin/Makefile" > $$d/Makefile; \
	  $(MAKE) -s -C $$d MPY_DIR=$(MP) ARCH=$* PYTHON=$(PY) \
	    EMLEARN_INCLUDE=$$($(PY) -c 'import emlearn; print(emlearn.includedir)') \
	    >$$d/build.log 2>&1 || { cat $$d/build.log; exit 1; }; \
	  mkdir -p $(@D); cp $$d/emlearn_standin.mpy $@; echo "bench: emlearn stand-in built for $*"

clean:
	rm -rf $(NATMOD) $(B)/tests-c $(B)/fuzz dist

distclean:
	rm -rf $(B) $(VENV) dist
