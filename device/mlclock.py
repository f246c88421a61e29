# A tick counter for timing code on every target, with one API:
#
#   t0 = mlclock.ticks(); ...; dt = mlclock.diff(mlclock.ticks(), t0)
#
# UNIT says what a tick is. On the unix port: microseconds. On the qemu boards there is no
# `time` module, so a free-running hardware timer is read through machine.mem32; qemu runs with
# -icount shift=0 (one instruction per ns of virtual time), so the counts are repeatable and
# TICK_NS converts them to instructions.
import sys

if sys.platform == "qemu":
    import machine

    _m = machine.mem32
    if "mps2" in sys.implementation._machine:
        # CMSDK APB timer 0: 32-bit down counter at 25 MHz.
        _T = 0x40000000
        _m[_T + 8] = 0xFFFFFFFF  # reload
        _m[_T + 4] = 0xFFFFFFFF  # value
        _m[_T] = 1  # enable
        TICK_NS = 40

        def ticks():
            return 0xFFFFFFFF - _m[_T + 4]

    else:
        # nRF51 TIMER0: 32-bit up counter at 16 MHz, read by a capture task.
        _T = 0x40008000
        _m[_T + 0x504] = 0  # timer mode
        _m[_T + 0x508] = 3  # 32 bit
        _m[_T + 0x510] = 0  # prescaler 1: 16 MHz
        _m[_T] = 1  # start
        TICK_NS = 62.5

        def ticks():
            _m[_T + 0x40] = 1  # capture into CC[0]
            return _m[_T + 0x540]

    UNIT = "instr"  # instructions, at 1 per ns under -icount shift=0

    def diff(a, b):
        return (a - b) & 0xFFFFFFFF

    def to_unit(dt):
        return dt * TICK_NS

else:
    from time import ticks_us as ticks, ticks_diff as diff

    UNIT = "us"

    def to_unit(dt):
        return dt
