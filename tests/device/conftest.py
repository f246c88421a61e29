"""Device tests run MicroPython code on every target: the unix port and the emulated
Cortex-M3 and Cortex-M0 boards. MICROLEARN_TARGETS=unix,cortex-m3 picks a subset."""

import os

import pytest

from microlearn import targets

TARGETS = os.environ.get("MICROLEARN_TARGETS", "unix,cortex-m3,cortex-m0").split(",")


@pytest.fixture(params=TARGETS)
def target(request):
    return targets.get(request.param)


@pytest.fixture(scope="module", params=TARGETS)
def session(request):
    """One running MicroPython per target and test module (a qemu boot takes a second)."""
    with targets.get(request.param).session() as s:
        yield s


def run(session, script):
    """Runs a script that must succeed; returns its output."""
    result = session.exec(script)
    assert result.ok, f"{session.target.name}: script failed:\n{result.output}"
    return result.output


def expect_error(session, setup, call, exc_type, *fragments):
    """Runs setup, then call, which must raise exc_type with a message containing fragments;
    and afterwards the objects of setup must still work (checked by the caller's setup)."""
    script = (
        f"{setup}\n"
        f"try:\n    {call}\n    print('NO-EXCEPTION')\n"
        f"except {exc_type} as e:\n    print('RAISED', repr(str(e)))\n"
    )
    out = run(session, script)
    assert "NO-EXCEPTION" not in out, f"{call} did not raise {exc_type}"
    line = [l for l in out.splitlines() if l.startswith("RAISED")][-1]
    for frag in fragments:
        assert frag in line, f"{call}: message {line!r} lacks {frag!r}"
    return line
