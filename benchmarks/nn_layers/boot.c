// Bare-metal firmware for qemu's mps2-an385 board (Cortex-M3) that runs one model, operator by
// operator, and prints the instructions each took: the board's CMSDK timer 0 ticks at 25 MHz,
// which under `qemu -icount shift=0` (one instruction per ns) is one tick per 40 instructions.
// The model comes from model.h (written by benchmarks/nn_layers.py): model_nn[], model_x[],
// model_ref[] (TFLite's reference output) and MODEL_ARENA.
#include <stdint.h>
#include <string.h>

#include "ml_nn.h"
#include "ml_nn_ops.h"
#include "model.h"

#define REG(a) (*(volatile uint32_t *)(a))
#define UART_DATA 0x40004000u
#define UART_STATE 0x40004004u
#define UART_CTRL 0x40004008u
#define TIMER_CTRL 0x40000000u
#define TIMER_VALUE 0x40000004u
#define TIMER_RELOAD 0x40000008u
#define TIMER_MAX 0x3fffffffu
#define INSTRUCTIONS_PER_TICK 40u

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

void reset(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    main();
    for (;;) {
    }
}

static void fault(void) {
    for (;;) {
    }
}

__attribute__((section(".vectors"), used)) static const void *const vectors[16] = {
    &_estack, (void *)reset, (void *)fault, (void *)fault, (void *)fault, (void *)fault,
    (void *)fault, 0, 0, 0, 0, (void *)fault, (void *)fault, 0, (void *)fault, (void *)fault,
};

static void put_char(char c) {
    while (REG(UART_STATE) & 1) {
    }
    REG(UART_DATA) = (uint32_t)c;
}

static void put_str(const char *s) {
    while (*s) {
        put_char(*s++);
    }
}

static void put_u32(uint32_t v) {
    char buf[11];
    int i = 10;
    buf[i] = 0;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_str(buf + i);
}

static uint32_t ticks(void) {
    return TIMER_MAX - REG(TIMER_VALUE);
}

// Semihosting SYS_EXIT (ADP_Stopped_ApplicationExit): qemu quits.
static void exit_qemu(void) {
    register uint32_t r0 __asm__("r0") = 0x18;
    register uint32_t r1 __asm__("r1") = 0x20026;
    __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1));
}

static uint32_t arena[(MODEL_ARENA + 3) / 4];

int main(void) {
    REG(UART_CTRL) = 1;
    REG(TIMER_RELOAD) = TIMER_MAX;
    REG(TIMER_VALUE) = TIMER_MAX;
    REG(TIMER_CTRL) = 1;
    ml_nn_t m;
    ml_error_t err;
    if (ml_nn_open(&m, model_nn, sizeof model_nn, &err) != ML_OK) {
        put_str("ERROR open\n");
        exit_qemu();
    }
    ml_nn_set_arena(&m, arena);
    // Twice: the second run's counts are printed (the first warms nothing on this board, but
    // keeps the two runs' code paths identical).
    for (int run = 0; run < 2; run++) {
        memcpy(ml_nn_input(&m), model_x, sizeof model_x);
        for (uint32_t k = 0; k < m.h->n_ops; k++) {
            uint32_t t0 = ticks();
            ml_nn_run_op(&m, &m.ops[k]);
            uint32_t dt = ticks() - t0;
            if (run) {
                put_str("OP ");
                put_u32(k);
                put_char(' ');
                put_u32(m.ops[k].code);
                put_char(' ');
                put_u32(dt * INSTRUCTIONS_PER_TICK);
                put_char('\n');
            }
        }
    }
    put_str(memcmp(ml_nn_output(&m), model_ref, sizeof model_ref) ? "OUTPUT differs\n"
                                                                   : "OUTPUT same\n");
    exit_qemu();
    return 0;
}
