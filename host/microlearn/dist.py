"""Lay out the native modules for installation with mip (`make dist`).

    dist/<arch>_<mpy abi>/microlearn/__init__.py, trees.mpy, ...
    dist/<arch>_<mpy abi>/package.json

so that on a board of that architecture

    import mip
    mip.install("<base url>/<arch>_<mpy abi>/package.json")

(or `mpremote mip install <url>`) installs the package into /lib. mip of MicroPython 1.25 needs
absolute URLs in package.json: give the address dist/ is served from with --base-url
(DIST_URL=... for make), e.g. http://192.168.1.10:8000 or github:<user>/<repo>/dist.
"""

import argparse
import json
import shutil
from pathlib import Path

from . import __version__

ARCHS = ("x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
         "xtensa", "xtensawin", "rv32imc")


def mpy_abi(path):
    """'6.3' for a native .mpy of MicroPython 1.23 to 1.25: version and sub-version."""
    head = Path(path).read_bytes()[:4]
    if len(head) < 4 or head[0] != ord("M"):
        raise ValueError(f"{path} is not a .mpy file")
    return f"{head[1]}.{head[2] & 3}"


def mpy_arch(path):
    return ARCHS[(Path(path).read_bytes()[2] >> 2) - 1]


def build(natmod_dir, out_dir, archs, base_url):
    natmod_dir, out_dir = Path(natmod_dir), Path(out_dir)
    base_url = base_url.rstrip("/")
    made = []
    for arch in archs:
        src = natmod_dir / arch / "microlearn"
        files = sorted(src.glob("*.mpy"))
        if not files:
            raise SystemExit(f"dist: no modules built for {arch} in {src}; run make modules-all")
        abi = mpy_abi(files[0])
        name = f"{arch}_{abi}"
        dst = out_dir / name
        if dst.exists():
            shutil.rmtree(dst)
        (dst / "microlearn").mkdir(parents=True)
        urls = []
        for f in files + sorted(src.glob("*.py")):
            if f.suffix == ".mpy" and mpy_arch(f) != arch:
                raise SystemExit(f"dist: {f} is built for {mpy_arch(f)}, not {arch}")
            shutil.copyfile(f, dst / "microlearn" / f.name)
            urls.append([f"microlearn/{f.name}", f"{base_url}/{name}/microlearn/{f.name}"])
        package = {"urls": urls, "version": __version__}
        (dst / "package.json").write_text(json.dumps(package, indent=2) + "\n")
        size = {f.name: f.stat().st_size for f in files}
        made.append((name, size))
        print(f"dist: {name}: " + ", ".join(f"{k} {v} bytes" for k, v in size.items()))
    return made


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--natmod", required=True, help="build/natmod")
    p.add_argument("--out", required=True, help="dist folder")
    p.add_argument("--archs", required=True, help="space-separated architectures")
    p.add_argument("--base-url", default="http://localhost:8000",
                   help="where the dist folder will be served from")
    a = p.parse_args(argv)
    build(a.natmod, a.out, a.archs.split(), a.base_url)
    print(f"dist: install on a board with mip.install(\"{a.base_url.rstrip('/')}/"
          f"<arch>_<abi>/package.json\")")


if __name__ == "__main__":
    main()
