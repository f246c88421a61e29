"""microlearn.nn on the host: the .tflite reader and lowering, the numpy reference against
TFLite's reference kernels (every output byte for int8), the model file, refusals."""

import sys
from pathlib import Path

import numpy as np
import pytest

import microlearn
from microlearn import blob
from microlearn.nn import ConversionError, convert_tflite, fixedpoint as fp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nn_models  # noqa: E402


@pytest.fixture(scope="module")
def models():
    return nn_models.build()


def test_every_case_matches_tflite(models):
    for name, case in models.items():
        m = convert_tflite(case["tflite"])
        for x, want in zip(case["x"], case["y"]):
            got = m.run(x)
            if case["quantized"]:
                assert np.array_equal(got.reshape(-1), want.reshape(-1)), name
            else:
                tol = 1e-5 * max(1.0, float(np.abs(want).max()))
                assert np.abs(got.reshape(-1) - want.reshape(-1)).max() <= tol, name


def test_model_file_and_summary(models, tmp_path):
    m = microlearn.convert(models["cnn"]["tflite"])
    data = m.to_bytes()
    kind, version, sections = blob.unpack(data, blob.NN)
    assert version == 1 and set(sections) == {b"head", b"tens", b"ops ", b"data"}
    assert len(sections[b"ops "]) == 48 * len(m.ops)
    assert len(sections[b"tens"]) == 32 * len(m.tensors)
    m.save(file=str(tmp_path / "m.nn"))
    assert (tmp_path / "m.nn").read_bytes() == data
    m.save(file=str(tmp_path / "m.h"), format="c")
    text = (tmp_path / "m.h").read_text()
    assert f"static const uint8_t m[{len(data)}]" in text and "M_ARENA_SIZE" in text
    summary = m.summary()
    for op in ("CONV_2D", "DEPTHWISE_CONV_2D", "MEAN", "FULLY_CONNECTED", "SOFTMAX"):
        assert op in summary
    assert m.memory_size() == m.arena_size + 64
    assert m.memory_size(in_place=False) == m.arena_size + 64 + len(data)
    # a path to a .tflite file converts the same
    (tmp_path / "m.tflite").write_bytes(models["cnn"]["tflite"])
    assert microlearn.convert(str(tmp_path / "m.tflite")).to_bytes() == data


def test_arena_reuse(models):
    """Tensors that are not alive at once share the arena."""
    m = convert_tflite(models["cnn"]["tflite"])
    arena_tensors = [t for t in m.tensors if t.storage == 0]
    assert m.arena_size < sum(t.nbytes for t in arena_tensors)
    assert m.arena_size >= max(t.offset + t.nbytes for t in arena_tensors)


def test_refusals():
    with pytest.raises(ConversionError, match="not a TensorFlow Lite model"):
        convert_tflite(b"\0" * 64)
    import os
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from microlearn.nn.from_keras import to_tflite

    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3),
                          keras.layers.Activation("exponential")])
    with pytest.raises(ConversionError, match=r"EXP is not supported\. Supported operators: "
                                              r"CONV_2D, DEPTHWISE_CONV_2D"):
        convert_tflite(to_tflite(m))


def test_fixed_point_helpers():
    # RoundingDivideByPOT rounds ties away from zero; the doubling high multiply saturates.
    assert list(fp.rdbpot(np.array([5, -5, 6, -6, 7]), 1)) == [3, -3, 3, -3, 4]
    assert int(fp.srdhm(fp.INT32_MIN, fp.INT32_MIN)) == fp.INT32_MAX
    assert fp.quantize_multiplier(0.5) == (1 << 30, 0)
    assert fp.quantize_multiplier(1.0) == (1 << 30, 1)
    assert list(fp.clz32(np.array([0, 1, 0x80000000, 0x7fffffff]))) == [32, 31, 0, 1]


def test_cli_convert_and_verify(models, tmp_path):
    """`microlearn convert model.tflite` and `microlearn verify model.tflite X.npy`."""
    import subprocess

    case = models["mobilenet_v3_block"]
    (tmp_path / "m.tflite").write_bytes(case["tflite"])
    X = np.random.default_rng(2).normal(size=(5, 9, 9, 3)).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    cli = [sys.executable, "-m", "microlearn.cli"]
    out = subprocess.run(cli + ["convert", str(tmp_path / "m.tflite"), "-o",
                                str(tmp_path / "m.nn")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "PAD+CONV_2D" in out.stdout and "ADD" in out.stdout and "bytes of RAM" in out.stdout
    assert (tmp_path / "m.nn").read_bytes() == convert_tflite(case["tflite"]).to_bytes()
    out = subprocess.run(cli + ["verify", str(tmp_path / "m.tflite"), str(tmp_path / "X.npy"),
                                "--target", "unix"], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    for text in ("outputs identical to TFLite (reference kernels): 5/5",
                 "labels (largest output) identical: 5/5", "time per inference:",
                 "allocated by run and predict: 0 bytes", "verify: OK"):
        assert text in out.stdout, out.stdout
    # samples of the wrong size are refused with what was expected
    np.save(tmp_path / "bad.npy", X[:, :8])
    out = subprocess.run(cli + ["verify", str(tmp_path / "m.tflite"), str(tmp_path / "bad.npy"),
                                "--target", "unix"], capture_output=True, text=True)
    assert out.returncode == 2 and "expected samples of 243 values" in out.stderr


def test_verify_reports_a_wrong_model(models):
    """A model whose weights differ from the .tflite file's is reported, not passed."""
    from microlearn.nn.model import OP_FULLY_CONNECTED
    from microlearn.nn.verify import verify

    m = convert_tflite(models["dense_relu"]["tflite"])
    fc = next(op for op in m.ops if op.code == OP_FULLY_CONNECTED)
    w = m.tensors[fc.inputs[1]]
    data = bytearray(m.data)
    for i in range(w.offset, w.offset + w.nbytes):
        data[i] = (data[i] + 64) & 0xFF
    m.data = bytes(data)
    X = models["dense_relu"]["x"]
    rep = verify(m, X, "unix")
    assert not rep.ok() and rep.agree < rep.n and rep.mismatches
