# microlearn: the one build entry point.
#
#   make           set up everything (Debian packages, .venv, MicroPython) and build the modules
#   make demo      the end-to-end demo on the unix port and emulated Cortex-M3
#   make check     the whole test suite (what CI runs)
#   make dist      native modules for every architecture, in a mip-installable layout
#   make bench     benchmarks, written to docs/benchmarks.md
#
# Everything built lands in build/ (and the virtualenv in .venv/); a second run does no work.

SHELL := /bin/bash
ROOT := $(abspath .)
B := $(ROOT)/build
VENV := $(ROOT)/.venv
PY := $(VENV)/bin/python
STAMP := $(B)/stamps

# MicroPython, from Debian's source package of the stable release.
MP_SUITE ?= trixie
MP := $(B)/micropython
MP_UNIX := $(MP)/ports/unix/build-standard/micropython
MPY_CROSS := $(MP)/mpy-cross/build/mpy-cross
FW_M3 := $(MP)/ports/qemu/build-MPS2_AN385/firmware.elf
FW_M0 := $(MP)/ports/qemu/build-MICROBIT/firmware.elf
MP_UNIX_CMOD := $(MP)/ports/unix/build-microlearn/micropython-microlearn
JOBS ?= $(shell nproc)

# Native modules: every architecture the toolchains here reach; the runner needs the first three.
MODULES := trees dsp nn linear_model neighbors naive_bayes cluster mixture svm ensemble \
           covariance
ARCHS_RUN := x64 armv7m armv6m
ARCHS_ALL := x64 x86 armv6m armv7m armv7emsp armv7emdp
NATMOD := $(B)/natmod

export MICROLEARN_ROOT := $(ROOT)

.PHONY: all setup micropython modules modules-all demo check dist bench clean distclean \
        check-c check-fuzz check-host check-device

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

$(MP)/.microlearn-fetched: tools/setup/fetch-micropython.sh | $(STAMP)/system-packages
	@tools/setup/fetch-micropython.sh $(MP) $(MP_SUITE)

# ---------------------------------------------------------------------------------------------
# MicroPython: mpy-cross, the unix port, and the qemu firmware for two emulated boards.

micropython: $(MPY_CROSS) $(MP_UNIX) $(FW_M3) $(FW_M0)

$(MPY_CROSS): $(MP)/.microlearn-fetched
	@echo "micropython: building mpy-cross"
	@$(MAKE) -s -C $(MP)/mpy-cross -j$(JOBS) >$(B)/mpy-cross.log 2>&1 || { tail -30 $(B)/mpy-cross.log; exit 1; }

# Standard variant without frozen micropython-lib; btree and ssl need libraries that Debian's
# repacked source does not ship.
MP_UNIX_OPTS := FROZEN_MANIFEST= MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 MICROPY_SSL_MBEDTLS=0
$(MP_UNIX): $(MPY_CROSS)
	@echo "micropython: building the unix port"
	@$(MAKE) -s -C $(MP)/ports/unix -j$(JOBS) $(MP_UNIX_OPTS) >$(B)/unix.log 2>&1 || { tail -30 $(B)/unix.log; exit 1; }
	@echo "micropython: $$($(MP_UNIX) -c 'import sys; print(sys.version)') (Debian $$(cat $(MP)/DEBIAN_VERSION))"

$(FW_M3): $(MPY_CROSS)
	@echo "micropython: building qemu firmware MPS2_AN385 (Cortex-M3)"
	@$(MAKE) -s -C $(MP)/ports/qemu -j$(JOBS) BOARD=MPS2_AN385 FROZEN_MANIFEST= >$(B)/qemu-m3.log 2>&1 || { tail -30 $(B)/qemu-m3.log; exit 1; }

# The MICROBIT board ships with native code loading off; these flags let it load armv6m .mpy.
$(FW_M0): $(MPY_CROSS)
	@echo "micropython: building qemu firmware MICROBIT (Cortex-M0)"
	@$(MAKE) -s -C $(MP)/ports/qemu -j$(JOBS) BOARD=MICROBIT FROZEN_MANIFEST= \
	  CFLAGS_EXTRA="-DMICROPY_EMIT_THUMB=1 -DMICROPY_EMIT_THUMB_ARMV7M=0" >$(B)/qemu-m0.log 2>&1 || { tail -30 $(B)/qemu-m0.log; exit 1; }

# The unix port again, with microlearn built in as a user C module (the firmware route).
CMOD_SRC := $(wildcard core/*.c core/*.h bindings/micropython/*.c bindings/micropython/*.h \
              bindings/micropython/cmodule/*)
$(MP_UNIX_CMOD): $(MP_UNIX) $(CMOD_SRC)
	@echo "micropython: building the unix port with microlearn as a user C module"
	@$(MAKE) -s -C $(MP)/ports/unix -j$(JOBS) $(MP_UNIX_OPTS) BUILD=build-microlearn \
	  PROG=micropython-microlearn USER_C_MODULES=$(ROOT)/bindings/micropython >$(B)/unix-cmodule.log 2>&1 \
	  || { tail -30 $(B)/unix-cmodule.log; exit 1; }

# ---------------------------------------------------------------------------------------------
# Native modules (.mpy). Each (arch, module) builds in its own folder under build/natmod/obj;
# the results are staged as build/natmod/<arch>/microlearn/<module>.mpy, an importable package.

modules: $(foreach a,$(ARCHS_RUN),$(NATMOD)/$(a)/.built)
modules-all: $(foreach a,$(ARCHS_ALL),$(NATMOD)/$(a)/.built)

NATMOD_SRC := $(wildcard core/*.c core/*.h bindings/micropython/*.c bindings/micropython/*.h \
                bindings/micropython/natmod.mk device/microlearn/*.py)

$(NATMOD)/%/.built: $(NATMOD_SRC) $(MPY_CROSS) $(STAMP)/venv
	@for m in $(MODULES); do \
	  d=$(NATMOD)/obj/$*/$$m; mkdir -p $$d; \
	  echo "include $(ROOT)/bindings/micropython/natmod.mk" > $$d/Makefile; \
	  $(MAKE) -s -C $$d MPY_DIR=$(MP) ARCH=$* MOD=$$m PYTHON=$(PY) >$$d/build.log 2>&1 \
	    || { cat $$d/build.log; exit 1; }; \
	  mkdir -p $(NATMOD)/$*/microlearn; cp $$d/$$m.mpy $(NATMOD)/$*/microlearn/; \
	done
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

check: all modules-all $(MP_UNIX_CMOD) check-c check-fuzz check-host check-device
	@echo "check: all passed"

check-c: setup
	@$(MAKE) -s -C tests/c ROOT=$(ROOT) B=$(B)/tests-c

check-fuzz: setup
	@$(MAKE) -s -C tests/fuzz ROOT=$(ROOT) B=$(B)/fuzz FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60)

check-host: all
	@$(PY) -m pytest -q tests/host

check-device: all $(MP_UNIX_CMOD) $(STAMP)/venv-bench
	@$(PY) -m pytest -q tests/device

# Benchmarks (benchmarks/trees.py): microlearn against plain Python, m2cgen and
# everywhereml, on the unix port, x64 under callgrind and the emulated boards. The comparison
# packages go into .venv for this only (requirements-bench.txt, without their heavy deps).
# `make bench BENCH_ARGS="--quick --out /tmp/b"`: the reduced run CI does (tests/device).
$(STAMP)/venv-bench: requirements-bench.txt | $(STAMP)/venv
	@echo "venv: installing the benchmark's comparison packages (requirements-bench.txt)"
	@$(PY) -m pip install -q --no-deps -r requirements-bench.txt
	@mkdir -p $(@D) && touch $@

bench: all modules-all $(STAMP)/venv-bench
	@$(PY) -m benchmarks.trees $(BENCH_ARGS)

clean:
	rm -rf $(NATMOD) $(B)/tests-c $(B)/fuzz dist

distclean:
	rm -rf $(B) $(VENV) dist
