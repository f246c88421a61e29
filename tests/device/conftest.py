"""Device tests run MicroPython code on the targets of microlearn.targets.

Which targets a test runs on:

- A test that takes the `target` fixture (a microlearn.targets.Target) or the `session`
  fixture (a running MicroPython, one per target and test module) runs on every target: every
  architecture microlearn ships gets its fidelity and bad-input tests. This is the default;
  a new module's tests need nothing more.
- A test marked `@pytest.mark.reference` (or a whole file, with
  `pytestmark = pytest.mark.reference`) runs on the reference targets only, REFERENCE below:
  the unix port (x64), and one soft-float Cortex-M (cortex-m0, armv6m: the smallest and the one
  whose floating point is most unlike the host's). For tests whose subject does not depend on
  the architecture (an application built on the modules, a benchmark helper, a file format
  read by shared code) or that are too slow to repeat seven times.
- A test that names its targets with `@pytest.mark.parametrize("target", [...])` runs there;
  a test module's own `session` fixture with `params=TARGETS` runs on every target.

MICROLEARN_TARGETS=unix,cortex-m3 restricts all of it to those targets (the development loop).
`make check` runs the suite with pytest-xdist on two workers, each target's tests together
(xdist_group), so one qemu board boots once per test module and worker.
"""

import os

# One thread for scikit-learn's OpenMP code (HistGradientBoosting): the two xdist workers
# already fill the two cores, and OpenMP threads spinning on busy cores cost minutes per fit.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402

from microlearn import targets  # noqa: E402

ALL = ["unix", "x86", "cortex-m0", "cortex-m3", "cortex-m4f", "cortex-m7", "riscv32"]
REFERENCE = ["unix", "cortex-m0"]
TARGETS = os.environ.get("MICROLEARN_TARGETS", ",".join(ALL)).split(",")


def pytest_configure(config):
    config.addinivalue_line("markers", "reference: run on the reference targets only "
                                       "(see tests/device/conftest.py)")


def _explicit(metafunc, name):
    return any(name in (m.args[0] if isinstance(m.args[0], (list, tuple))
                        else [a.strip() for a in m.args[0].split(",")])
               for m in metafunc.definition.iter_markers("parametrize"))


def _own_params(metafunc, name):
    # A test module's own `session` fixture with params=TARGETS (a session per test, models
    # sent at boot) chooses its targets itself.
    defs = metafunc._arg2fixturedefs.get(name)
    return bool(defs) and defs[-1].params is not None


def pytest_generate_tests(metafunc):
    for name, scope in (("target", "function"), ("session", "module")):
        if (name in metafunc.fixturenames and not _explicit(metafunc, name)
                and not _own_params(metafunc, name)):
            chosen = REFERENCE if metafunc.definition.get_closest_marker("reference") else ALL
            metafunc.parametrize(name, [t for t in chosen if t in TARGETS], indirect=True,
                                 scope=scope)


def pytest_collection_modifyitems(config, items):
    # One xdist group per target: its tests run on one worker, in order.
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params else {}
        name = params.get("target", params.get("session"))
        if isinstance(name, targets.Target):
            name = name.name
        if isinstance(name, str):
            item.add_marker(pytest.mark.xdist_group(name))


@pytest.fixture
def target(request):
    return targets.get(request.param) if isinstance(request.param, str) else request.param


@pytest.fixture(scope="module")
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
