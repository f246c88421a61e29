"""The HAR application on every target: the device code replays recordings through the
simulated sensor and classifies every window as the host pipeline does (100%), allocating
nothing in the steady state; the recorder writes files the host pipeline reads; and the same
commands work on another dataset without code changes."""

import numpy as np
import pytest

from microlearn import convert, har, paths

from conftest import run


@pytest.fixture(scope="module")
def gesture_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("har")
    acc, est, meta = har.train(paths.shipped_gestures(), out, log=lambda s: None)
    return out, acc, est


def test_device_agrees_with_host_on_every_window(target, gesture_model):
    model_dir, acc, est = gesture_model
    assert acc >= 0.92
    r = har.run_device(model_dir, paths.shipped_gestures(), target, log=lambda s: None)
    assert r.windows == 19 * ((400 - har.WINDOW) // har.HOP + 1)
    assert r.agree == r.windows, f"{r.disagreements}"
    assert r.steady_alloc == 0, f"{r.steady_alloc} bytes allocated in the steady state"
    assert r.overflows == 0
    assert r.accuracy > 0.95  # on the training recordings themselves
    # the binary model file: used in place where the board's filesystem maps it (the emulated
    # boards' ROMFS image), else read into the heap
    m = convert(est)
    assert r.ram["model"] in (m.memory_size("bin", in_place=True), m.memory_size("bin")), r.ram
    assert min(r.latency) > 0


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


def test_device_app_refuses_what_it_cannot_read(session, gesture_model):
    """The board's side of issue 14: a recording with a wrong column count, a value beyond
    int16 (was wrapped into another value), a truncated .npy (was replayed as if complete),
    metadata naming other classes than the model's: a ValueError saying which, not a silent
    wrong answer."""
    import json

    model_dir, _, _ = gesture_model
    meta = json.loads((model_dir / "metadata.json").read_text())
    session.put("model.bin", (model_dir / meta["model_file"]).read_bytes())
    session.put("meta3.json", json.dumps(dict(meta, classes=meta["classes"][:3])).encode())
    session.put("meta.json", (model_dir / "metadata.json").read_bytes())
    session.put("nofile.json", json.dumps({k: v for k, v in meta.items()
                                           if k != "model_file"}).encode())
    session.put("cols.csv", b"x,y,z\n1,2,3\n4,5\n")
    session.put("big.csv", b"x,y,z\n1,2,3\n4,40000,6\n")
    rec = sorted(paths.shipped_gestures().glob("*_wave.npy"))[0].read_bytes()
    session.put("cut.npy", rec[:1000])
    out = run(session, """
import mlhar
for call in ("mlhar.SimulatedSensor('cols.csv')", "mlhar.SimulatedSensor('big.csv')",
             "mlhar.SimulatedSensor('cut.npy')", "mlhar.Classifier(meta_path='meta3.json')",
             "mlhar.Classifier('model.bin', 'meta.json', smoothing=0)",
             "mlhar.Classifier(meta_path='nofile.json')"):
    try:
        eval(call)
        print('NO-ERROR', call)
    except ValueError as e:
        print('ValueError', e)
""")
    assert "NO-ERROR" not in out, out
    for frag in ("line 3: 2 values, expected 3", "line 3: 40000 is not an int16 value",
                 "cut.npy: the header says 400 frames, the file holds", "names 3 classes, the "
                 "model has 4", "smoothing is 0, expected at least 1",
                 "nofile.json names no model_file: pass model_path"):
        assert frag in out, f"{session.target.name}: {frag!r} not in\n{out}"


@pytest.fixture(scope="module")
def anomaly_model(tmp_path_factory):
    """`har train --anomaly --novel wave`: the classifier and the k-means distance detector
    learn idle, snake and updown; wave is the gesture never seen."""
    out = tmp_path_factory.mktemp("har-anomaly")
    _, _, meta = har.train(paths.shipped_gestures(), out, log=lambda s: None, anomaly="kmeans",
                           novel=("wave",))
    return out, meta


@pytest.mark.parametrize("target", ["unix", "cortex-m3", "cortex-m0"])
def test_device_app_reports_anomalies_as_the_host(target, anomaly_model):
    """The fourth gesture scores as an anomaly (ROC AUC >= 0.9, leave-one-recording-out),
    fewer than 5% of held-out windows of the three known gestures are flagged; the device
    application (classifier, features and detector: three native modules) flags every window
    as the host's detector does, its scores within 1e-5, allocating nothing in the steady
    state."""
    model_dir, meta = anomaly_model
    a = meta["anomaly"]
    print(f"anomaly: ROC AUC {a['auc']:.3f}, {a['false_alarms_loro']:.1%} of held-out windows "
          f"of the known gestures flagged")
    assert a["auc"] >= 0.9 and a["false_alarms_loro"] < 0.05, a
    r = har.run_device(model_dir, paths.shipped_gestures(), target, log=lambda s: None)
    assert r.agree == r.windows and r.steady_alloc == 0 and r.overflows == 0
    assert r.anomaly and r.anomaly_agree == r.windows, (r.anomaly_agree, r.windows)
    assert r.anomaly_worst <= har.ANOMALY_TOLERANCE, r.anomaly_worst
    assert r.other_windows > 0 and r.flagged_other / r.other_windows >= 0.9
    # the known gestures' recordings are the training windows: none is beyond the threshold
    # (the largest training distance), but the one at the threshold itself may be
    assert r.flagged_known <= r.at_threshold <= 1, (r.flagged_known, r.at_threshold)


@pytest.mark.parametrize("target", ["cortex-m3", "cortex-m0"])
def test_board_detector_scores_as_the_host(target, anomaly_model):
    """The converted detector on the boards, on the windows of one recording of each gesture
    (the novel one included): the same flags, scores, decisions and distances within 1e-5."""
    from microlearn import convert, dsp, verify

    model_dir, meta = anomaly_model
    m, est, cfg = har.load_model_dir(model_dir)
    det = har.load_detector(model_dir, m, cfg)
    recs, _ = har.load_dataset(paths.shipped_gestures(), log=lambda s: None)
    one = list({r.label: r for r in recs}.values())
    X = dsp.features_many(har.windows_of(one, har.WINDOW, har.HOP)[0], cfg).astype(np.float32)
    rep = verify.verify(det, convert(det), X, target, repeat=1)
    assert rep.ok(), rep.summary()
    assert np.sum(det.predict(X) < 0) >= 13  # the wave recording's windows at least
