# MicroPython qemu port board: Arm MPS2 with the AN386 image (Cortex-M4 with single-precision
# FPU), for microlearn's armv7emsp native modules. Build from the port folder with
#   make BOARD=MPS2_AN386 BOARD_DIR=<this folder>
# Same memory map and peripherals as MPS2_AN385; hard float, FPU enabled at boot.
QEMU_ARCH = arm
QEMU_MACHINE = mps2-an386

CFLAGS += -mthumb -mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard
CFLAGS += -DQEMU_SOC_MPS2
CFLAGS += -DMICROPY_HW_MCU_NAME='"Cortex-M4F"'

LDSCRIPT = mcu/arm/mps2.ld

SRC_BOARD_O = shared/runtime/gchelper_native.o shared/runtime/gchelper_thumb2.o
SRC_BOARD_O += $(BOARD_DIR)/../enable_fpu.o
LDFLAGS += -Wl,--wrap=mp_semihosting_init

MPY_CROSS_FLAGS += -march=armv7emsp

# A 256 kB heap, as on the Cortex-M3 board (the port's default is 140 kB; the board has 4 MB):
# importing dsp and nn copies their native code into the heap, and `audio detect` needs its
# windows beside them.
MICROPY_HEAP_SIZE = 262144
