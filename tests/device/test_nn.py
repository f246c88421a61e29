"""microlearn.nn on every target: each operator alone and whole networks give every output
byte TFLite's reference kernels give (int8), or agree within 1e-5 (float32); bad models and
arguments raise clear errors; run allocates nothing."""

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import TARGETS, expect_error, run
from microlearn import targets
from microlearn.nn import convert_tflite

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nn_models  # noqa: E402

_RUN_ALL = r"""
import array, gc
from microlearn import nn
TC = {"int8": "b", "uint8": "B", "float32": "f"}
SIZE = {"b": 1, "B": 1, "f": 4}
for name in NAMES:
    m = nn.load(name + ".nn")
    nx = 1
    for d in m.input_shape:
        nx *= d
    ny = 1
    for d in m.output_shape:
        ny *= d
    tx, ty = TC[m.input_type], TC[m.output_type]
    x = array.array(tx, bytes(nx * SIZE[tx]))
    y = array.array(ty, bytes(ny * SIZE[ty]))
    out = []
    with open(name + ".x", "rb") as f:
        while f.readinto(x) == len(x) * SIZE[tx]:
            gc.collect()
            a0 = gc.mem_alloc()
            m.run(x, y)
            k = m.predict(x)
            assert gc.mem_alloc() == a0, "run allocated"
            out.append(bytes(y).hex())
    # Piece by piece: one joined string of every output would need a large block of the
    # Cortex-M0's small heap.
    print("RESULT", name, end=" ")
    for i, h in enumerate(out):
        print("," + h if i else h, end="")
    print()
    del m
    gc.collect()
"""


@pytest.fixture(scope="module")
def models():
    return nn_models.build()


@pytest.fixture(scope="module", params=TARGETS)
def session(request, models):
    """One MicroPython per target with every model and its inputs in place at boot."""
    files = {}
    for name, case in models.items():
        files[name + ".nn"] = convert_tflite(case["tflite"]).to_bytes()
        files[name + ".x"] = case["x"].tobytes()
    data = bytearray(files["cnn.nn"])
    data[len(data) // 2] ^= 0x55
    files["corrupt.nn"] = bytes(data)
    files["short.nn"] = files["cnn.nn"][:len(data) // 2]
    with targets.get(request.param).session(files) as s:
        yield s


def test_every_case_matches_tflite(session, models):
    names = list(models)
    out = run(session, f"NAMES = {names!r}\n" + _RUN_ALL)
    got = {}
    for line in out.splitlines():
        if line.startswith("RESULT"):
            _, name, hexes = line.split(" ", 2)
            got[name] = hexes.split(",")
    for name, case in models.items():
        want = case["y"].reshape(len(case["y"]), -1)
        assert len(got[name]) == len(want), name
        for i, (h, w) in enumerate(zip(got[name], want)):
            y = np.frombuffer(bytes.fromhex(h), w.dtype)
            if case["quantized"]:
                assert np.array_equal(y, w), f"{session.target.name} {name} input {i}: " \
                                             f"{list(y)} != TFLite {list(w)}"
            else:
                tol = 1e-5 * max(1.0, float(np.abs(w).max()))
                assert np.abs(y - w).max() <= tol, f"{session.target.name} {name} input {i}"


def test_in_place_and_bad_input(session, models):
    m = convert_tflite(models["cnn"]["tflite"])
    data = m.to_bytes()
    setup = ("import array, gc\nfrom microlearn import nn\n"
             "good = nn.load('cnn.nn')\nx = array.array('b', bytes(144))\n"
             "y = array.array('b', bytes(10))\n")
    expect_error(session, setup, "nn.load('corrupt.nn')", "ValueError", "checksum")
    expect_error(session, setup, "nn.load('short.nn')", "ValueError", "truncated")
    expect_error(session, setup, "good.run(array.array('b', bytes(143)), y)", "ValueError",
                 "x has 143 values, expected 144")
    expect_error(session, setup, "good.run(array.array('f', bytes(576)), y)", "TypeError",
                 "x must be array('b')")
    expect_error(session, setup, "good.run(x, array.array('b', bytes(9)))", "ValueError",
                 "out has 9 values, expected 10")
    # in place: a buffer is used without copying; the file is copied once
    out = run(session, setup + (
        "data = open('cnn.nn', 'rb').read()\n"
        "gc.collect(); a0 = gc.mem_alloc()\nm = nn.load(data)\ngc.collect()\n"
        "print('INPLACE', gc.mem_alloc() - a0, m.arena, m.memory, good.memory)\n"
        "print('SAME', m.run(x, y) == good.run(x, array.array('b', bytes(10))))\n"
        "print('ATTR', m.input_shape, m.output_shape, m.input_type, m.output_type, "
        "m.input_zero_point, m.output_zero_point, m.output_scale)\n"
        "xf = array.array('f', [0.5] * 144); m.quantize(xf, x)\n"
        "yf = array.array('f', bytes(40)); m.dequantize(y, yf); print('Q', x[0], yf[0])\n"))
    line = [l for l in out.splitlines() if l.startswith("INPLACE")][0].split()
    grew, arena, mem_inplace, mem_copied = map(int, line[1:])
    assert grew < arena + 256, "loading a buffer copied it"
    assert mem_copied >= mem_inplace + len(data)
    attr = [l for l in out.splitlines() if l.startswith("ATTR")][0]
    assert "(1, 12, 12, 1) (1, 10) int8 int8" in attr and "-128" in attr
    q = [l for l in out.splitlines() if l.startswith("Q")][0].split()
    tin = m.input
    assert int(q[1]) == int(np.clip(np.round(0.5 / np.float32(tin.scale)) + tin.zero_point,
                                    -128, 127))


@pytest.mark.parametrize("name", ["cnn", "float_dense"])
def test_verify(session, models, name):
    """microlearn's verify: float samples quantized as TFLite users do, TFLite's reference
    outputs, the device's agreement, memory, allocation and time."""
    from microlearn.nn.verify import verify

    m = convert_tflite(models[name]["tflite"])
    X = np.random.default_rng(1).normal(size=(8,) + m.input_shape[1:]).astype(np.float32)
    rep = verify(m, X, session.target, session=session, repeat=3)
    assert rep.ok(), rep.summary() + "\n" + rep.output
    assert rep.n == 8 and rep.arena == m.arena_size and rep.time > 0 and rep.repeats >= 1
    assert rep.unit == ("instr" if session.target.is_qemu else "us")  # x86: a unix port too
