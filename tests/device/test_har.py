"""The HAR application on every target: the device code replays recordings through the
simulated sensor and classifies every window as the host pipeline does (100%), allocating
nothing in the steady state; the recorder writes files the host pipeline reads; and the same
commands work on another dataset without code changes."""

import numpy as np
import pytest

from microlearn import har, paths

from conftest import run


@pytest.fixture(scope="module")
def gesture_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("har")
    acc, _, meta = har.train(paths.shipped_gestures(), out, log=lambda s: None)
    return out, acc


def test_device_agrees_with_host_on_every_window(target, gesture_model):
    model_dir, acc = gesture_model
    assert acc >= 0.92
    r = har.run_device(model_dir, paths.shipped_gestures(), target, log=lambda s: None)
    assert r.windows == 19 * ((400 - har.WINDOW) // har.HOP + 1)
    assert r.agree == r.windows, f"{r.disagreements}"
    assert r.steady_alloc == 0, f"{r.steady_alloc} bytes allocated in the steady state"
    assert r.overflows == 0
    assert r.accuracy > 0.95  # on the training recordings themselves
    assert r.ram["model"] > 0 and min(r.latency) > 0


def test_recorder_files_read_back(session):
    rec = sorted(p for p in paths.shipped_gestures().glob("*_wave.npy"))[0]
    data = np.load(rec)
    session.put("src.npy", rec.read_bytes())
    run(session, """
import mlhar
for name in ("rec_wave.csv", "rec_wave.npy"):
    s = mlhar.SimulatedSensor("src.npy", 100, 3)
    print(mlhar.Recorder(s, hop=25).record(name, 150, label="wave"))
""")
    csv = session.get("rec_wave.csv").decode()
    npy = session.get("rec_wave.npy")
    import io
    import tempfile
    from pathlib import Path

    d = Path(tempfile.mkdtemp())
    (d / "rec_wave.csv").write_text(csv)
    (d / "rec_wave.npy").write_bytes(npy)
    recs, skipped = har.load_dataset(d, log=lambda s: None)
    assert not skipped
    for r in recs:
        assert r.label == "wave" and r.sample_rate == 100
        assert np.array_equal(r.data, data[:150])
    assert np.array_equal(np.load(io.BytesIO(npy)), data[:150])


def synthetic_dataset(d, rate=50):
    """Two classes of 3-axis signals at another sample rate, as recorder CSV files."""
    rng = np.random.default_rng(1)
    t = np.arange(300) / rate
    for i in range(6):
        for label, f in (("slow", 1.0), ("fast", 4.0)):
            sig = np.stack([np.sin(2 * np.pi * f * t + k + i) for k in range(3)], 1)
            raw = (sig * 8000 + rng.normal(0, 800, sig.shape)).astype(np.int16)
            rows = "\n".join(",".join(map(str, r)) for r in raw)
            (d / f"r{i}_{label}.csv").write_text(f"# sample_rate={rate}\nx,y,z\n{rows}\n")


@pytest.mark.parametrize("target", ["unix", "cortex-m0"])
def test_another_dataset_without_code_changes(tmp_path, target):
    data = tmp_path / "data"
    data.mkdir()
    synthetic_dataset(data)
    acc, _, meta = har.train(data, tmp_path / "model", log=lambda s: None)
    assert meta["sample_rate"] == 50 and meta["classes"] == ["fast", "slow"]
    r = har.run_device(tmp_path / "model", data, target, log=lambda s: None)
    assert r.agree == r.windows > 0 and r.steady_alloc == 0
