"""Helpers shared by the benchmarks: the unix port run directly (in a folder of files, with a
chosen heap size, or under callgrind), and heap-size bisection.

The benchmarks run MicroPython scripts in a working folder holding the files they read, with
MICROPYPATH set to the native modules of x64 and the device helper modules (mlclock, mltrees_py)
compiled by mpy-cross, like targets.UnixSession does, but without copying per run.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

from microlearn import paths, targets


def unix_binary():
    return paths.micropython() / "ports/unix/build-standard/micropython"


def micropypath(extra=()):
    """The unix port's module path: the x64 native modules, the device helpers, the emlearn
    stand-in (benchmarks/emlearn_standin, built by `make bench`), and `extra`."""
    targets.device_modules()  # compiled (cached) into build/device-mpy
    dirs = [paths.natmod() / "x64", paths.device_mpy(),
            paths.build() / "bench-natmod" / "x64", *extra]
    return ":".join(str(d) for d in dirs)


def _env(path):
    return dict(os.environ, MICROPYPATH=path or micropypath())


def run_unix(script_text, workdir, path=None, heapsize=None, timeout=600, name="bench_run.py",
             binary=None):
    """Runs a script on the unix port (or `binary`, a build of it) in `workdir`. Returns
    (returncode, output)."""
    script = Path(workdir) / name
    script.write_text(script_text)
    args = [str(binary or unix_binary())]
    if heapsize:
        args += ["-X", f"heapsize={int(heapsize)}"]
    r = subprocess.run(args + [script.name], cwd=workdir, env=_env(path), capture_output=True,
                       text=True, timeout=timeout)
    return r.returncode, r.stdout + r.stderr


def callgrind_available():
    return shutil.which("valgrind") is not None


def callgrind_count(script_text, workdir, path=None, timeout=900, name="bench_cg.py"):
    """Instructions (callgrind's Ir) the unix port executes to run a script, from its start to
    its exit. Addresses are made repeatable (setarch -R) so the count is too."""
    script = Path(workdir) / name
    script.write_text(script_text)
    out_file = Path(workdir) / (name + ".cg.out")
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}",
           str(unix_binary()), script.name]
    if shutil.which("setarch"):
        cmd = ["setarch", os.uname().machine, "-R"] + cmd
    r = subprocess.run(cmd, cwd=workdir, env=_env(path), capture_output=True, text=True,
                       timeout=timeout)
    out_file.unlink(missing_ok=True)
    if r.returncode != 0:
        raise RuntimeError(f"callgrind failed on {name}:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
    m = re.search(r"Collected\s*:\s*(\d+)", r.stderr)
    if not m:
        raise RuntimeError(f"callgrind printed no count:\n{r.stderr[-2000:]}")
    return int(m.group(1))


def min_heap(script_text, workdir, path=None, hi=64 << 20, resolution=256, ok_marker="BENCH-OK",
             name="bench_heap.py", binary=None):
    """The smallest `-X heapsize` (bytes) at which the script prints ok_marker, by bisection;
    None if it fails even at `hi`."""
    def ok(h):
        rc, out = run_unix(script_text, workdir, path, heapsize=h, timeout=120, name=name,
                           binary=binary)
        return rc == 0 and ok_marker in out

    if not ok(hi):
        return None
    lo = 1024  # fails: below what the interpreter itself needs
    while hi - lo > resolution:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi
