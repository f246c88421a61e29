"""The HAR pipeline on the host: reading datasets (truncated files reported and skipped, the
recorder's CSV), windows as the device sees them, training output, and the tuning procedure
that chose the defaults."""

import json
import numpy as np
import pytest

import microlearn
from microlearn import dsp, har, paths


def gestures_dir():
    d = paths.shipped_gestures()
    assert d.is_dir(), f"the gesture recordings are not at {d}"
    return d


def test_truncated_files_are_reported_and_skipped():
    logged = []
    recs, skipped = har.load_dataset(gestures_dir(), log=logged.append)
    assert len(recs) == 19 and len(skipped) == 5
    assert all("could only read" in why for _, why in skipped)
    assert all(r.data.shape == (400, 3) and r.data.dtype == np.int16 for r in recs)
    assert len(logged) == 5 and all(line.strip().startswith("skipped") for line in logged)


def test_recorder_csv_is_read(tmp_path):
    (tmp_path / "a_wave.csv").write_text("# sample_rate=50 label=wave\nx,y,z\n1,2,3\n-4,5,-6\n")
    (tmp_path / "b_idle.csv").write_text("x,y,z\n1,2\n")
    (tmp_path / "c_idle.npy").write_bytes(b"not a npy file")
    logged = []
    recs, skipped = har.load_dataset(tmp_path, log=logged.append)
    assert [r.label for r in recs] == ["wave"] and recs[0].sample_rate == 50
    assert recs[0].data.tolist() == [[1, 2, 3], [-4, 5, -6]]
    assert {name for name, _ in skipped} == {"b_idle.csv", "c_idle.npy"}
    assert any("line 2: 2 values, expected 3" in why for _, why in skipped)


def test_odd_recordings_are_reported(tmp_path):
    np.save(tmp_path / "a_wave.npy", np.array([[-32768, 0, 32767]] * 4, dtype=np.int32))
    np.save(tmp_path / "b_wave.npy", np.zeros((4, 0), dtype=np.int16))
    np.save(tmp_path / "c_wave.npy", np.zeros((4, 17), dtype=np.int16))
    np.save(tmp_path / "d_wave.npy", np.array([[40000, 0, 0]], dtype=np.int32))
    np.save(tmp_path / "e_.npy", np.zeros((4, 3), dtype=np.int16))
    (tmp_path / "f_wave.csv").write_text("# sample_rate=nan\nx,y,z\n1,2,3\n")
    (tmp_path / "g_wave.csv").write_text("# sample_rate=-5\nx,y,z\n1,2,3\n")
    recs, skipped = har.load_dataset(tmp_path, log=lambda s: None)
    assert [r.path.name for r in recs] == ["a_wave.npy"]  # -32768 is an int16 value
    why = dict(skipped)
    assert "1..16 axes" in why["b_wave.npy"] and "1..16 axes" in why["c_wave.npy"]
    assert "int32 from 0 to 40000" in why["d_wave.npy"]
    assert "no _<label>" in why["e_.npy"]
    assert "sample_rate is nan" in why["f_wave.csv"] and "-5" in why["g_wave.csv"]


def test_windows_are_the_devices():
    x = np.arange(30).reshape(10, 3)
    w = dsp.Window(4, 2, n_axes=3)
    device = [w.window.copy() for k in range(5) if w.push(x[2 * k:2 * k + 2])]
    W, labels, groups = har.windows_of([har.Recording(None, "a", x, 100)], 4, 2)
    assert np.array_equal(np.array(device), W)


def test_train_writes_what_the_device_needs(tmp_path):
    acc, est, meta = har.train(gestures_dir(), tmp_path, log=lambda s: None)
    assert acc >= 0.92
    for f in ("model.bin", "metadata.json", "estimator.joblib", "confusion.png",
              "importance.png", "report.txt"):
        assert (tmp_path / f).stat().st_size > 0, f
    m = json.loads((tmp_path / "metadata.json").read_text())
    # the binary model file (usable in place from a board's flash), the estimator's conversion
    assert m["model_file"] == "model.bin"
    assert (tmp_path / "model.bin").read_bytes() == microlearn.convert(est).to_bin()
    assert m["classes"] == ["idle", "snake", "updown", "wave"]
    assert (m["window"], m["hop"]) == (har.WINDOW, har.HOP)
    assert len(m["feature_names"]) == dsp.FeatureConfig.from_dict(m["features"]).n_features
    assert len(m["skipped"]) == 5


def test_tune_picks_the_defaults():
    best = har.tune(gestures_dir(), log=lambda s: None)
    assert (best["window"], best["hop"]) == (har.WINDOW, har.HOP)
    assert best["time"] == har.TIME_FEATURES
    assert (best["magnitude"], best["spectral"]) == (har.MAGNITUDE, har.SPECTRAL)
    assert best["accuracy"] >= 0.92


def test_anomaly_detector_flags_the_fourth_gesture(tmp_path, capsys):
    """`har train --anomaly` on three gestures: the windows of the fourth (wave) score as
    anomalies (ROC AUC >= 0.9 against held-out windows of the three, leave-one-recording-out)
    and fewer than 5% of those held-out windows are flagged; both printed."""
    from microlearn import cli

    assert cli.main(["har", "train", str(gestures_dir()), "--out", str(tmp_path),
                     "--anomaly", "--novel", "wave"]) == 0
    out = capsys.readouterr().out
    m = json.loads((tmp_path / "metadata.json").read_text())
    a = m["anomaly"]
    assert m["classes"] == ["idle", "snake", "updown"] and a["method"] == "kmeans"
    assert a["auc"] >= 0.9 and a["false_alarms_loro"] < 0.05, a
    assert f"anomaly ROC AUC (novel against held-out known windows): {a['auc']:.3f}" in out
    assert f"anomaly false alarms (held-out windows of known gestures): " \
           f"{a['false_alarms_loro']:.1%}" in out
    # the detector saved is the one converted; it flags no training window (threshold: the
    # largest training distance) and most of the novel gesture's
    import joblib

    meta, est, cfg = har.load_model_dir(tmp_path)
    det = har.load_detector(tmp_path, meta, cfg)
    recs, _ = har.load_dataset(gestures_dir(), log=lambda s: None)
    for label, most in (("idle", 0.0), ("wave", 0.9)):
        W, _, _ = har.windows_of([r for r in recs if r.label == label], har.WINDOW, har.HOP)
        flagged = np.mean(det.predict(dsp.features_many(W, cfg)) < 0)
        assert (flagged == 0) if label == "idle" else (flagged >= most), (label, flagged)


@pytest.mark.parametrize("kind", ["isolation-forest", "ocsvm", "elliptic"])
def test_other_detectors_threshold_rule(kind):
    """Every detector's threshold is the largest training score: no training window is
    flagged (libsvm's one-class predict flags a decision of exactly 0: the window that set the
    threshold), by predict as by the score (the rule of har.ANOMALY_QUANTILE)."""
    recs, _ = har.load_dataset(gestures_dir(), log=lambda s: None)
    cfg = har.default_features()
    W, _, _ = har.windows_of(recs, har.WINDOW, har.HOP)
    X = dsp.features_many(W, cfg)
    det = har.fit_detector(kind, X, 4)
    scores = har.anomaly_scores(det, X)
    flagged = det.predict(X) < 0
    assert flagged.sum() <= (kind == "ocsvm"), flagged.sum()
    assert np.all(scores <= 1e-12) and np.isclose(scores.max(), 0, atol=1e-12)
    assert np.all(np.abs(scores[flagged]) <= 1e-12)


def test_anomaly_options_are_checked(tmp_path, capsys):
    from microlearn import cli

    assert cli.main(["har", "train", str(gestures_dir()), "--out", str(tmp_path),
                     "--novel", "wave"]) == 2
    assert "--novel needs --anomaly" in capsys.readouterr().err
    assert cli.main(["har", "train", str(gestures_dir()), "--out", str(tmp_path),
                     "--anomaly", "--novel", "jump"]) == 2
    assert "--novel jump: no recording of that label" in capsys.readouterr().err
