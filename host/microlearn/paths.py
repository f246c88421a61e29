"""Where the project's build products are: build/ at the root of the checkout."""

import os
from pathlib import Path


def root():
    env = os.environ.get("MICROLEARN_ROOT")
    return Path(env) if env else Path(__file__).resolve().parents[2]


def build():
    return root() / "build"


def micropython():
    return build() / "micropython"


def micropython_version():
    """The Debian source package version MicroPython was built from, e.g. '1.25.0+ds-1'."""
    f = micropython() / "DEBIAN_VERSION"
    return f.read_text().strip() if f.exists() else "unknown"


def gestures():
    """The shipped gesture recordings: $MICROLEARN_GESTURES, or ../shared/data/gestures next to
    the checkout."""
    env = os.environ.get("MICROLEARN_GESTURES")
    return Path(env) if env else root().parent / "shared" / "data" / "gestures"


def data():
    """The datasets shipped with the repository (data/<name>/, each with its README)."""
    return root() / "data"
