# A tick counter for timing code on every target, with one API:
#
#   t0 = mlclock.ticks(); ...; dt = mlclock.diff(mlclock.ticks(), t0); mlclock.to_unit(dt)
#
# UNIT says what to_unit gives. On the unix port: microseconds. On the qemu boards there is no
# `time` module, so a free-running hardware timer (or RISC-V's instruction counter) is read;
# qemu runs with -icount shift=0 (one instruction per ns of virtual time), so the counts are
# repeatable and to_unit converts them to instructions. Ticks stay below 2**30, so reading
# them never allocates (they are small ints on 32-bit boards).
import sys

if sys.platform == "qemu":
    import machine

    _m = machine.mem32
    if sys.implementation._machine.startswith("virt"):
        # RISC-V: the instret counter (CSR 0xC02), which qemu under -icount derives from the
        # instruction count, read with the inline assembler, low 30 bits. (The CLINT's mtime
        # would do too, but ticks at 10 MHz and reads as a big int after 107 s.) The function
        # is compiled on the board, where the rv32 emitter is.
        _g = {}
        exec("@micropython.asm_rv32\ndef ticks():\n"
             "    csrrs(a0, zero, 0xC02)\n    slli(a0, a0, 2)\n    srli(a0, a0, 2)\n", _g)
        ticks = _g["ticks"]
        _M = 0x3FFFFFFF
        TICK_NS = 1

    elif "mps2" in sys.implementation._machine:
        # CMSDK APB timer 0: 32-bit down counter at 25 MHz, reloaded at 2**30 - 1 (43 s).
        # (Addresses above 2**30 are big ints on a 32-bit board: computed once, here, so that
        # reading the timer allocates nothing.)
        _CTRL, _VALUE, _RELOAD = 0x40000000, 0x40000004, 0x40000008
        _M = 0x3FFFFFFF
        _m[_RELOAD] = _M
        _m[_VALUE] = _M
        _m[_CTRL] = 1  # enable
        TICK_NS = 40

        def ticks():
            return _M - _m[_VALUE]

    else:
        # nRF51 TIMER0: 24-bit up counter at 16 MHz (wraps after 1 s), read by a capture task.
        _START, _CAPTURE, _CC0 = 0x40008000, 0x40008040, 0x40008540
        _M = 0xFFFFFF
        _m[0x40008504] = 0  # timer mode
        _m[0x40008508] = 2  # 24 bit
        _m[0x40008510] = 0  # prescaler 1: 16 MHz
        _m[_START] = 1
        TICK_NS = 62.5

        def ticks():
            _m[_CAPTURE] = 1  # capture the count into CC[0]
            return _m[_CC0]

    UNIT = "instr"  # instructions, at 1 per ns under -icount shift=0

    def diff(a, b):
        return (a - b) & _M

    def to_unit(dt):
        return dt * TICK_NS

else:
    from time import ticks_us as ticks, ticks_diff as diff

    UNIT = "us"

    def to_unit(dt):
        return dt
