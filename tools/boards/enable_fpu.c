// Cortex-M4F / Cortex-M7 boards of the qemu port: the FPU (coprocessors CP10 and CP11) is off
// after reset and the port's start-up code does not turn it on, so the first floating-point
// instruction would fault. The board links with --wrap=mp_semihosting_init (the first call
// of the port's _start, before any float code runs), which lands here first.
#include <stdint.h>

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88)

void __real_mp_semihosting_init(void);

void __wrap_mp_semihosting_init(void) {
    SCB_CPACR |= 0xfu << 20;  // CP10 and CP11: full access
    __asm volatile ("dsb\n\tisb");
    __real_mp_semihosting_init();
}
