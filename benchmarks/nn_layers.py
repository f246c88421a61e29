"""Instructions per operator of the benchmark networks on the emulated Cortex-M3: where an
inference's instructions go, layer by layer (python -m benchmarks.nn gives whole inferences).

    .venv/bin/python -m benchmarks.nn_layers                      # every model of benchmarks.nn
    .venv/bin/python -m benchmarks.nn_layers --models emlearn_shape

Each model is compiled with the C core into a bare-metal firmware for qemu's mps2-an385 board
(benchmarks/nn_layers/boot.c: -Os, Thumb-2, as armv7m native modules are built) that runs it
operator by operator under `qemu -icount shift=0` and reads the board's timer around each one
(to 40 instructions); the output is compared with TFLite's reference kernels. No MicroPython
is involved: the call from Python and the copies in and out (about 2,000 instructions) are not
counted.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from microlearn import paths

from . import nn as bench_nn

HERE = Path(__file__).resolve().parent / "nn_layers"
CFLAGS = ["-std=c99", "-Os", "-mthumb", "-mcpu=cortex-m3", "-fpic", "-fno-common",
          "-ffp-contract=off", "-Wall", "-Werror", "-nostartfiles", "-specs=nano.specs",
          "-specs=nosys.specs"]
CORE = ["ml_nn.c", "ml_nn_ops.c", "ml_blob.c", "ml_error.c", "ml_softfp.c"]


def _array(name, data):
    return (f"static const uint8_t {name}[{len(data)}] __attribute__((aligned(4))) = {{"
            + ",".join(str(b) for b in data) + "};\n")


def firmware(name, nn_bytes, x, ref, arena):
    """Builds the firmware of one model; returns its path."""
    out = paths.build() / "bench-nn-layers" / name
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.h").write_text(
        f"#define MODEL_ARENA ({arena})\n" + _array("model_nn", nn_bytes)
        + _array("model_x", x.tobytes()) + _array("model_ref", ref.tobytes()))
    core = paths.root() / "core"
    sources = [HERE / "boot.c"] + [core / f for f in CORE] + sorted(core.glob("ml_math_*.c"))
    elf = out / "firmware.elf"
    subprocess.run(["arm-none-eabi-gcc", *CFLAGS, f"-I{core}", f"-I{out}",
                    f"-T{HERE / 'link.ld'}", "-o", str(elf), *map(str, sources)], check=True)
    return elf


def run(elf, timeout=600):
    """The per-operator instruction counts [(index, code, instructions)] and whether the output
    matched."""
    p = subprocess.run(["qemu-system-arm", "-M", "mps2-an385", "-cpu", "cortex-m3",
                        "-nographic", "-monitor", "none", "-serial", "stdio", "-semihosting",
                        "-icount", "shift=0", "-kernel", str(elf)],
                       capture_output=True, text=True, timeout=timeout)
    ops = [tuple(map(int, line.split()[1:4])) for line in p.stdout.splitlines()
           if line.startswith("OP ")]
    same = "OUTPUT same" in p.stdout
    if not ops or ("OUTPUT" not in p.stdout):
        raise RuntimeError(f"firmware failed: {p.stdout[-500:]} {p.stderr[-500:]}")
    return ops, same


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.nn_layers", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(bench_nn.TITLES),
                   help="comma-separated subset of " + ", ".join(bench_nn.TITLES))
    args = p.parse_args(argv)
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if not shutil.which(tool):
            sys.exit(f"nn_layers: {tool} not found (make installs it)")
    from microlearn.nn import convert_tflite
    from microlearn.nn.model import OP_NAMES

    names = args.models.split(",")
    models = bench_nn.build_models(names)
    print("Instructions per operator on the emulated Cortex-M3 (`python -m benchmarks.nn_layers`;"
          " the MicroPython call not included).\n")
    for name in names:
        m = models[name]
        c = convert_tflite(m["tflite"])
        ref = bench_nn.tflite_reference(m["tflite"], m["x"])
        ops, same = run(firmware(name, c.to_bytes(), m["x"], ref, c.arena_size))
        total = sum(n for _, _, n in ops)
        macs = bench_nn.macs(c)
        print(f"{bench_nn.TITLES.get(name, name)}: {total:,} instructions, {macs:,} MACs "
              f"({total / macs:.2f} per MAC); output "
              f"{'identical to' if same else 'DIFFERENT from'} TFLite's reference kernels\n")
        print("| # | operator | MACs | instructions | per MAC |")
        print("| ---: | --- | ---: | ---: | ---: |")
        for (k, code, n), op in zip(ops, c.ops):
            per = f"{n / op.macs:.2f}" if op.macs and code in (1, 2, 3) else ""
            print(f"| {k} | {OP_NAMES[code]} | {op.macs:,} | {n:,} | {per} |")
        print()
        if not same:
            sys.exit(f"nn_layers: {name}: the output differs from TFLite's reference kernels")


if __name__ == "__main__":
    main()
