"""Which MicroPython a native module imports on. A .mpy header carries the .mpy version, the
native ABI's sub-version and the architecture (`make dist` names each folder <arch>_<version>.
<sub-version>); MicroPython refuses a mismatch with its own clear error instead of running
foreign code, and the releases tested here (Debian's trixie 1.25 and sid 1.26) share ABI 6.3, so
the modules built against one import on the other."""

import pytest

from microlearn import dist, paths, targets

from conftest import run

# What MicroPython says (py/persistentcode.c), on every port.
WRONG_ABI = "ValueError: incompatible .mpy file"
WRONG_ARCH = "ValueError: incompatible .mpy arch"


def _mpy(arch, module="trees"):
    return (paths.natmod() / arch / "microlearn" / f"{module}.mpy").read_bytes()


def test_modules_match_the_firmware(target):
    """The .mpy files a target runs carry its firmware's version and ABI, and the architecture
    they are meant for (a firmware also loads older architectures of its family: the Cortex-M3
    build of the qemu port says armv7em and loads armv7m)."""
    if target.builtin:
        pytest.skip("microlearn built into the firmware")
    with target.session() as s:
        out = run(s, "import sys; print('MPY', sys.implementation._mpy)")
    mpy = int(out.split("MPY")[1])
    head = _mpy(target.arch)
    assert head[1] == mpy & 0xFF, (head[1], mpy)  # .mpy version
    assert (head[2] & 3) == (mpy >> 8) & 3, (head[2], mpy)  # native ABI sub-version
    assert head[2] >> 2 == dist.ARCHS.index(target.arch) + 1, (head[2], target.arch)


def test_wrong_abi_and_wrong_arch_refused(target):
    """A trees.mpy of another ABI (6.2, as MicroPython 1.22 reads them) and one of another
    architecture fail to import with MicroPython's error; the right one still imports after."""
    own = bytearray(_mpy(target.arch))
    old = bytes(own[:2]) + bytes([(own[2] & ~3) | 2]) + bytes(own[3:])
    other = "armv7m" if target.arch == "x64" else "x64"  # (both built for either release)
    files = {"abi62/trees.mpy": old, "other/trees.mpy": _mpy(other)}
    with target.session(files) as s:
        out = run(s, """
import sys
for folder in ("abi62", "other"):
    sys.path.insert(0, folder)
    try:
        import trees
        print(folder, "IMPORTED")
    except ValueError as e:
        print(folder, "ValueError:", e)
    sys.path.pop(0)
    sys.modules.pop("trees", None)
from microlearn import trees
print("own", trees.load)
""")
    assert f"abi62 {WRONG_ABI}" in out, out
    assert f"other {WRONG_ARCH}" in out, out
    assert "own <" in out, out


def test_modules_of_the_other_release_import(tmp_path):
    """The x64 modules built against the other Debian release import and predict on this one's
    unix port (`make check` builds both releases)."""
    other = "sid" if paths.mp_suite() == "trixie" else "trixie"
    folder = paths.build() / ("natmod" if other == "trixie" else f"natmod-{other}") / "x64"
    if not (folder / "microlearn" / "trees.mpy").exists():
        pytest.skip(f"the modules of {other} are not built (make MP_SUITE={other} modules)")
    # The other release's package in place of this one's: same session machinery, other files.
    t = targets.get("unix")
    with t.session({f"other/microlearn/{p.name}": p.read_bytes()
                    for p in (folder / "microlearn").iterdir() if p.is_file()}) as s:
        out = run(s, """
import sys, array
sys.path.insert(0, "other")
sys.modules.pop("microlearn", None)
from microlearn import trees, dsp
print(trees)
f = dsp.IIR([1.0, 0, 0, 1, 0, 0])
y = array.array("f", [0, 0])
f.process(array.array("f", [0.5, -2.0]), y)
print("IIR", list(y), sys.version)
""")
    assert "other/microlearn/trees.mpy" in out, out
    assert "IIR [0.5, -2.0]" in out, out
