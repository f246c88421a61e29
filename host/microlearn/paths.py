"""Where the project's build products are: build/ at the root of the checkout."""

import os
from pathlib import Path


def root():
    env = os.environ.get("MICROLEARN_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[2]


def build():
    return root() / "build"


def mp_suite():
    """The Debian suite MicroPython comes from: trixie (the stable release, the default) or
    sid (the development one), as `make MP_SUITE=...` sets it."""
    return os.environ.get("MICROLEARN_MP_SUITE", "trixie")


def _suffix():
    return "" if mp_suite() == "trixie" else "-" + mp_suite()


def micropython():
    return build() / ("micropython" + _suffix())


def natmod():
    """The native modules built against micropython(): natmod/<arch>/microlearn/*.mpy."""
    return build() / ("natmod" + _suffix())


def device_mpy():
    """device/*.py compiled with micropython()'s mpy-cross."""
    return build() / ("device-mpy" + _suffix())


def micropython_version():
    """The Debian source package version MicroPython was built from, e.g. '1.25.0+ds-1'."""
    f = micropython() / "DEBIAN_VERSION"
    return f.read_text().strip() if f.exists() else "unknown"


def data():
    """The data sets shipped in the repository (data/README.md lists them)."""
    return root() / "data"


def shipped_gestures():
    """The gesture recordings shipped in data/gestures (what the tests' figures are about)."""
    return data() / "gestures"


def gestures():
    """The gesture recordings the demo and the commands use by default: $MICROLEARN_GESTURES if
    set (your own recordings, anywhere), else the shipped ones in data/gestures."""
    env = os.environ.get("MICROLEARN_GESTURES")
    return Path(env) if env else shipped_gestures()
