# MicroPython qemu port board: QEMU's RISC-V `virt` machine, 32-bit (rv32imac), for
# microlearn's rv32imc native modules. The port's own VIRT_RV32 board with one change: the
# default -march=rv32imac_zicsr matches none of the rv32 multilibs of Debian's GCC 12, which
# then links the 64-bit libgcc and picolibc ("ELFCLASS64 incompatible"). ISA spec 2.2, where
# the CSR instructions are still part of I, selects the rv32imac/ilp32 libraries.
# Build from the port folder with
#   make BOARD=VIRT_RV32 BOARD_DIR=<this folder>
RV32_ARCH = rv32imac -misa-spec=2.2

QEMU_ARCH = riscv32
QEMU_MACHINE = virt

CFLAGS += -DQEMU_SOC_VIRT
CFLAGS += -DMICROPY_HW_MCU_NAME='"rv32imac"'

LDSCRIPT = mcu/rv32/virt.ld

SRC_BOARD_O += shared/runtime/gchelper_native.o shared/runtime/gchelper_rv32i.o

MPY_CROSS_FLAGS += -march=rv32imc

# A 256 kB heap (the port's default is 140 kB; the machine has 2 MB of RAM): a native module's
# code is copied into the heap when imported, and RISC-V's is the largest (libgcc's soft float),
# so the gesture application (dsp and trees, 86 kB of code) did not fit beside its model and
# windows.
MICROPY_HEAP_SIZE = 262144
