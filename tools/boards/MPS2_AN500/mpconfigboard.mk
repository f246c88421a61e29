# MicroPython qemu port board: Arm MPS2 with the AN500 image (Cortex-M7 with double-precision
# FPU), for microlearn's armv7emdp native modules. Build from the port folder with
#   make BOARD=MPS2_AN500 BOARD_DIR=<this folder>
# Code and RAM in the 4 MB SSRAM1 at 0 as on MPS2_AN385; hard float, FPU enabled at boot.
# (MicroPython's own floats stay single precision: the port's mpconfigport.h fixes that.)
QEMU_ARCH = arm
QEMU_MACHINE = mps2-an500

CFLAGS += -mthumb -mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard
CFLAGS += -DQEMU_SOC_MPS2
CFLAGS += -DMICROPY_HW_MCU_NAME='"Cortex-M7"'

LDSCRIPT = mcu/arm/mps2.ld

SRC_BOARD_O = shared/runtime/gchelper_native.o shared/runtime/gchelper_thumb2.o
SRC_BOARD_O += $(BOARD_DIR)/../enable_fpu.o
LDFLAGS += -Wl,--wrap=mp_semihosting_init

MPY_CROSS_FLAGS += -march=armv7emdp

# A 256 kB heap, as on the Cortex-M3 board (the port's default is 140 kB; the board has 4 MB):
# importing dsp and nn copies their native code into the heap, and `audio detect` needs its
# windows beside them.
MICROPY_HEAP_SIZE = 262144
