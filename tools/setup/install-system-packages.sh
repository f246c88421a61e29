#!/usr/bin/env bash
# Install the Debian packages the build needs, only those missing (idempotent, no network when
# everything is present). Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(
  build-essential gcc-multilib       # host C compiler, and -m32 for the x86 native modules
  gcc-arm-none-eabi libnewlib-arm-none-eabi binutils-arm-none-eabi  # Cortex-M modules + qemu firmware
  qemu-system-arm                    # emulated Cortex-M0 / M3 / M4F / M7 boards
  qemu-system-misc                   # emulated RISC-V board (qemu-system-riscv32)
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf  # rv32imc modules + RISC-V firmware
  gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf  # ESP8266 (xtensa) modules
  emscripten                         # MicroPython's webassembly port (the browser page)
  chromium                           # headless browser that tests the page
  libffi-dev pkg-config              # MicroPython unix port
  dpkg-dev patch xz-utils            # unpack the Debian source package
  clang libclang-rt-14-dev llvm      # libFuzzer, ASan/UBSan
  valgrind                           # memcheck for C tests, callgrind for instruction counts
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "system packages: done"
