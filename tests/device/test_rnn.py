"""GRU and LSTM in microlearn.nn on every target: float32 within 1e-5 of Keras, q15 equal to
the numpy reference bit for bit; stepping frame by frame gives run's outputs, allocating
nothing; bad input is refused with a clear error."""

import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import TARGETS, expect_error, run
from microlearn import targets
from microlearn.nn import rnn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import rnn_models  # noqa: E402

# Runs every model on every input, whole (run) and frame by frame (step), and prints the
# outputs as hex: RUN name i hex, STEP name i hex (the step outputs of every frame joined).
_RUN_ALL = r"""
import array, gc
from microlearn import nn
a0 = a1 = t = 0  # globals made before measuring: a first store grows the globals' table
for name in NAMES:
    m = nn.load(name + ".nn")
    n = 1
    for d in m.output_shape:
        n *= d
    x = array.array("f", bytes(4 * STEPS * FEATURES))
    y = array.array("f", bytes(4 * n))
    stepping = not name.startswith("gru_sequences_dense")
    if stepping:
        k = m.step_length
        steps = array.array("f", bytes(4 * k * STEPS))
        # the frames and outputs as views made beforehand: slicing in the loop would allocate
        frames = [memoryview(x)[t * FEATURES:(t + 1) * FEATURES] for t in range(STEPS)]
        outs = [memoryview(steps)[t * k:(t + 1) * k] for t in range(STEPS)]
    with open(name + ".x", "rb") as f:
        i = 0
        while f.readinto(x) == len(x) * 4:
            gc.collect()
            a0 = gc.mem_alloc()
            m.run(x, y)
            a1 = gc.mem_alloc()
            assert a1 == a0, ("run allocated", name, a1 - a0)
            print("RUN", name, i, bytes(y).hex())
            if stepping:
                m.reset()
                gc.collect()
                a0 = gc.mem_alloc()
                for t in range(STEPS):
                    m.step(frames[t], outs[t])
                assert gc.mem_alloc() == a0, "step allocated"
                print("STEP", name, i, bytes(steps).hex())
            i += 1
"""


@pytest.fixture(scope="module")
def models():
    return rnn_models.build()


@pytest.fixture(scope="module", params=TARGETS)
def session(request, models):
    files = {}
    for name, case in models.items():
        files[name + ".f.nn"] = case["float"].to_bytes()
        files[name + ".q.nn"] = case["q15"].to_bytes()
        files[name + ".f.x"] = files[name + ".q.x"] = case["x"].tobytes()
    for kind, m in models["gru"]["stream"].items():
        files[f"stream.{kind}.nn"] = m.to_bytes()
    with targets.get(request.param).session(files) as s:
        yield s


def _outputs(out, kind):
    got = {}
    for line in out.splitlines():
        if line.startswith(kind + " "):
            _, name, i, h = line.split(" ")
            got[(name, int(i))] = np.frombuffer(bytes.fromhex(h), np.float32)
    return got


def test_float_and_q15_match_keras_and_reference(session, models):
    names = [n + k for n in models for k in (".f", ".q")]
    out = run(session, f"NAMES = {names!r}\nSTEPS = {rnn_models.STEPS}\n"
                       f"FEATURES = {rnn_models.FEATURES}\n" + _RUN_ALL)
    ran, stepped = _outputs(out, "RUN"), _outputs(out, "STEP")
    for name, case in models.items():
        for i, x in enumerate(case["x"]):
            y = ran[(name + ".f", i)]
            want = case["keras"][i].reshape(-1)
            assert np.abs(y - want).max() <= 1e-5, f"{session.target.name} {name} float {i}"
            q = ran[(name + ".q", i)]
            ref = case["q15"].run(x).reshape(-1)
            if case["q15"].ops[-1].code in (17, 18):  # recurrent last: q15 values, exact
                assert np.array_equal(q, ref), f"{session.target.name} {name} q15 {i}"
            else:  # a float32 Dense after it: the sums' order differs
                assert np.abs(q - ref).max() <= 1e-6, f"{session.target.name} {name} q15 {i}"
            for kind, whole in (("f", y), ("q", q)):
                key = (f"{name}.{kind}", i)
                if name == "gru_sequences_dense":
                    assert key not in stepped
                    continue
                steps = stepped[key].reshape(rnn_models.STEPS, -1)
                if steps.shape[1] * rnn_models.STEPS == whole.size:  # every state
                    assert np.array_equal(steps.reshape(-1), whole), key
                else:  # the last step's output is run's
                    assert np.array_equal(steps[-1], whole), key


def test_bad_input(session, models):
    setup = ("import array\nfrom microlearn import nn\nm = nn.load('gru.q.nn')\n"
             "d = nn.load('gru_sequences_dense.f.nn')\n"
             f"f = array.array('f', [0.5] * {rnn_models.FEATURES})\n"
             "s = array.array('f', bytes(32))\nm.step(f, s)\n"
             "print('LENGTHS', m.frame_length, m.step_length, m.state)\n")
    F = rnn_models.FEATURES
    out = run(session, setup)
    assert f"LENGTHS {F} 8 16" in out  # 8 units of int16 state
    expect_error(session, setup, "m.step(array.array('f', [0.5] * 5), s)", "ValueError",
                 f"frame has 5 values, expected {F}")
    expect_error(session, setup, f"m.step(array.array('b', bytes({F})), s)", "TypeError",
                 "frame must be array('f')")
    expect_error(session, setup, "m.step(f, array.array('f', bytes(28)))", "ValueError",
                 "out has 7 values, expected 8")
    expect_error(session, setup, "f[2] = float('nan'); m.step(f, s)", "ValueError",
                 "frame[2] is not a finite number")
    expect_error(session, setup, "m.run(array.array('f', [float('inf')] * "
                 f"{rnn_models.STEPS * F}), s)", "ValueError", "x[0] is not a finite number")
    expect_error(session, setup, "d.step(f, array.array('f', bytes(12)))", "ValueError",
                 "reads every state", "whole sequence")
    # the state is intact after the errors: stepping from a reset gives the reference
    q = models["gru"]["q15"]
    w = rnn.run_op(q, q.ops[0], np.full((1, F), 0.5, np.float32))[0]
    out = run(session, setup + "m.reset(); m.step(f, s); print('STATE', bytes(s).hex())\n")
    got = np.frombuffer(bytes.fromhex(out.split("STATE ")[1].split()[0]), np.float32)
    assert np.array_equal(got, w.reshape(-1))


def test_streaming_model_of_one_frame(session, models):
    """keras.Input((None, F)): a model of one frame (its arena holds a frame, not a sequence)
    that steps through a sequence to the fixed-length model's output."""
    case = models["gru"]
    F = rnn_models.FEATURES
    script = "import array\nfrom microlearn import nn\n"
    for kind, ext in (("float", "f"), ("q15", "q")):
        x = ", ".join(repr(float(v)) for v in case["x"][0].reshape(-1))
        script += (f"m = nn.load('stream.{kind}.nn')\nx = array.array('f', [{x}])\n"
                   "s = array.array('f', bytes(32))\nm.reset()\n"
                   f"for t in range({rnn_models.STEPS}):\n"
                   f"    m.step(x[t * {F}:(t + 1) * {F}], s)\n"
                   f"print('{ext}', m.input_shape, m.arena, bytes(s).hex())\n")
    out = run(session, script)
    for kind, ext in (("float", "f"), ("q15", "q")):
        line = [l for l in out.splitlines() if l.startswith(ext + " ")][0]
        assert f"(1, {F})" in line
        got = np.frombuffer(bytes.fromhex(line.split()[-1]), np.float32)
        want = case[kind if kind == "q15" else "float"].run(case["x"][0]).reshape(-1)
        if kind == "float":
            assert np.abs(got - case["keras"][0]).max() <= 1e-5
        else:
            assert np.array_equal(got, want)
        assert case["stream"][kind].arena_size < case[kind].arena_size
