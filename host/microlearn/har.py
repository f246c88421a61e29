"""Gesture and activity recognition from accelerometer recordings: the host side.

    microlearn har train DATASET_DIR --out MODEL_DIR
    microlearn har run MODEL_DIR --data DATASET_DIR --target cortex-m3
    microlearn har train DATASET_DIR --out MODEL_DIR --anomaly [kmeans] [--novel LABEL]

DATASET_DIR defaults to $MICROLEARN_GESTURES, else to the recordings shipped in data/gestures.

A dataset is a folder of recordings named `<anything>_<label>.npy` (int16, shape (n, axes)) or
`<anything>_<label>.csv` (what the device recorder writes, device/mlhar.py). Each recording is
cut into overlapping windows exactly as the device's dsp.Window sees a stream; each window
becomes a feature vector through the host reference of the device's dsp.Features; a tree model
learns the label. Accuracy is estimated leaving one recording out at a time (windows of one
recording never in both train and test). The model directory holds what the device needs:
model.bin (the trees, the binary model file), metadata.json (window, hop, features, classes),
and the plots.

With --anomaly, an anomaly detector learns the same features of every training window
(anomaly.mlb for the board, anomaly.joblib for the host): the device reports `anomaly` for a
window unlike the training data. --novel LABEL leaves that gesture's recordings out of
training, as examples of what the detector should flag.
"""

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import dsp, paths

SAMPLE_RATE = 100.0  # Hz, the shipped recordings' rate; a recorder CSV carries its own


class HarError(ValueError):
    """A dataset or model folder the commands cannot use. The message names the file (or
    folder) and what was expected; the command line prints it as one line and exits 2."""


SCALE = 1.0 / 16384  # raw counts to g (MPU6886 at +-2 g)
MODELS = ("randomforest", "extratrees", "gradientboosting", "histgradientboosting")
MODEL_FILE = "model.bin"  # the trees, in the binary form (usable in place from flash)

# The feature sets `tune` compares.
TIME_5 = ("mean", "std", "min", "max", "ptp")
TIME_9 = TIME_5 + ("rms", "skew", "kurtosis", "mean_crossings")

# The defaults were chosen once by `microlearn har tune` on the shipped recordings (the grid and
# the rule are in `tune`, the table in docs/har.md) and are fixed: not tuned per fold, nor per
# dataset. tests/host/test_har.py checks that tune still picks them.
WINDOW = 100  # frames: 1 s at 100 Hz
HOP = WINDOW // 4  # a new classification every 0.25 s
TIME_FEATURES = TIME_9
MAGNITUDE = True
SPECTRAL = False


def feature_config(window, n_axes, sample_rate, time=TIME_FEATURES, magnitude=MAGNITUDE,
                   spectral=SPECTRAL):
    sp = None
    if spectral:  # 8 log-power bands of a 64-point FFT (fewer points for short windows)
        sp = dsp.SpectralConfig(fft_length=min(64, _pow2_floor(window)), n_bins=8, agg="max",
                                log=True, stats=False)
    return dsp.FeatureConfig(length=window, n_axes=n_axes, sample_rate=sample_rate, scale=SCALE,
                             magnitude=magnitude, time=time, spectral=sp)


def default_features(window=WINDOW, n_axes=3, sample_rate=SAMPLE_RATE):
    return feature_config(window, n_axes, sample_rate)


def _pow2_floor(n):
    p = 16
    while p * 2 <= n:
        p *= 2
    return p


def make_estimator(kind="randomforest", random_state=0):
    from sklearn import ensemble

    if kind == "randomforest":
        # Bounded so the model stays a few kB on the board.
        return ensemble.RandomForestClassifier(n_estimators=100, max_depth=8, min_samples_leaf=2,
                                               random_state=random_state)
    if kind == "extratrees":
        return ensemble.ExtraTreesClassifier(n_estimators=100, max_depth=8, min_samples_leaf=2,
                                             random_state=random_state)
    if kind == "gradientboosting":
        return ensemble.GradientBoostingClassifier(n_estimators=30, max_depth=3,
                                                   random_state=random_state)
    if kind == "histgradientboosting":
        return ensemble.HistGradientBoostingClassifier(max_iter=30, max_leaf_nodes=8,
                                                       random_state=random_state)
    raise ValueError(f"model must be one of {', '.join(MODELS)}, got {kind!r}")


# Anomaly detectors (`har train --anomaly KIND`) and their threshold rule: a window is an anomaly
# when its score is beyond every training window's (ANOMALY_QUANTILE = 1: the largest distance
# to the nearest k-means centre, the lowest score_samples of the others). Chosen on the shipped
# recordings with leave-one-recording-out (docs/har.md): a lower quantile, or more centres than
# gestures, flags over 5% of new windows of the known gestures, whose recordings differ from
# one another more than the windows of one recording do. The converted detector's `predict`
# applies the threshold (-1: anomaly), on the board as on the host.
ANOMALY = ("kmeans", "isolation-forest", "ocsvm", "elliptic")
ANOMALY_QUANTILE = 1.0


def make_detector(kind="kmeans", n_classes=3, random_state=0):
    """An unfitted detector: the features standardized (they range from counts to kurtosis),
    then k-means distance (one centre per gesture), an isolation forest, a one-class SVM or an
    elliptic envelope."""
    from sklearn import covariance, ensemble, pipeline, preprocessing, svm

    from .cluster import KMeansDetector

    sc = preprocessing.StandardScaler
    if kind == "kmeans":
        return pipeline.make_pipeline(sc(), KMeansDetector(n_classes, ANOMALY_QUANTILE,
                                                           random_state=random_state))
    if kind == "isolation-forest":
        # 50 trees of 128 samples: about 100 kB of model, used in place from flash
        return ensemble.IsolationForest(n_estimators=50, random_state=random_state)
    if kind == "ocsvm":
        return pipeline.make_pipeline(sc(), svm.OneClassSVM(nu=0.05, gamma="scale"))
    if kind == "elliptic":
        return pipeline.make_pipeline(sc(), covariance.EllipticEnvelope(
            support_fraction=1.0, random_state=random_state))
    raise ValueError(f"anomaly must be one of {', '.join(ANOMALY)}, got {kind!r}")


def fit_detector(kind, X, n_classes, random_state=0):
    """The detector fitted on X, its threshold at the ANOMALY_QUANTILE of X's scores."""
    det = make_detector(kind, n_classes, random_state).fit(X)
    final = det.steps[-1][1] if hasattr(det, "steps") else det
    if kind != "kmeans":  # KMeansDetector applies the rule itself
        # score_samples: higher = more normal; the threshold is the low quantile
        t = float(np.quantile(det.score_samples(X), 1.0 - ANOMALY_QUANTILE))
        if kind == "ocsvm":  # libsvm's decision is the score plus the intercept
            final._intercept_ = np.array([-t])
            final.intercept_ = np.array([-t])
            final.offset_ = np.array([t])
        else:  # isolation forest, elliptic envelope: decision = score - offset_
            final.offset_ = t
    return det


def anomaly_scores(det, X):
    """How anomalous each window is: minus the detector's decision function, so that 0 is the
    threshold and a larger score is more anomalous (comparable across training folds)."""
    return -det.decision_function(X)


def evaluate_detector(kind, X, groups, X_novel, n_classes):
    """Leave-one-recording-out: each known recording's windows scored by a detector trained
    without that recording (their fraction flagged is the false-alarm rate on new windows of
    the known gestures); the novel windows scored by every fold's detector. Returns
    (false-alarm rate, ROC AUC of novel against held-out known windows or None, detection
    rate of the novel windows or None)."""
    from sklearn.metrics import roc_auc_score

    known, novel = np.empty(len(X)), []
    for g in np.unique(groups):
        test = groups == g
        det = fit_detector(kind, X[~test], n_classes)
        known[test] = anomaly_scores(det, X[test])
        if len(X_novel):
            novel.append(anomaly_scores(det, X_novel))
    false_alarms = float(np.mean(known > 0))
    if not novel:
        return false_alarms, None, None
    novel = np.concatenate(novel)
    auc = float(roc_auc_score(np.r_[np.zeros(len(known)), np.ones(len(novel))],
                              np.r_[known, novel]))
    return false_alarms, auc, float(np.mean(novel > 0))


# ------------------------------------------------------------------------------------------------
# Datasets


@dataclass
class Recording:
    path: Path
    label: str
    data: np.ndarray  # int16, (n_frames, n_axes)
    sample_rate: float


def _label_of(path):
    stem = path.stem
    if "_" not in stem or not stem.rsplit("_", 1)[1]:
        raise ValueError("the file name has no _<label> suffix")
    return stem.rsplit("_", 1)[1]


def read_recording(path, sample_rate=SAMPLE_RATE):
    """One recording, or ValueError saying what is wrong with the file."""
    path = Path(path)
    label = _label_of(path)
    if path.suffix == ".npy":
        data = np.load(path, allow_pickle=False)
    elif path.suffix == ".csv":
        data, meta = _read_recorder_csv(path)
        label = meta.get("label", label)
        sample_rate = float(meta.get("sample_rate", sample_rate))
    else:
        raise ValueError(f"unknown file type {path.suffix}")
    if data.ndim != 2 or data.shape[0] == 0 or not 1 <= data.shape[1] <= dsp.MAX_AXES:
        raise ValueError(f"expected a (frames, axes) array with 1..{dsp.MAX_AXES} axes, got "
                         f"shape {data.shape}")
    if data.dtype != np.int16:
        if not np.issubdtype(data.dtype, np.integer) or data.min() < -32768 or data.max() > 32767:
            raise ValueError(f"expected int16 samples, got {data.dtype}"
                             + (f" from {data.min()} to {data.max()}"
                                if np.issubdtype(data.dtype, np.integer) else ""))
        data = data.astype(np.int16)
    if not (np.isfinite(sample_rate) and sample_rate > 0):
        raise ValueError(f"sample_rate is {sample_rate}, expected a positive number")
    return Recording(path, label, data, sample_rate)


def _read_recorder_csv(path):
    """The device recorder's CSV: '# key=value' lines, a header of axis names, int rows."""
    meta, rows, header = {}, [], None
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith("#"):
            for item in line[1:].split():
                if "=" in item:
                    k, v = item.split("=", 1)
                    meta[k] = v
            continue
        if header is None:
            header = line.split(",")
            continue
        fields = line.split(",")
        if len(fields) != len(header):
            raise ValueError(f"line {n}: {len(fields)} values, expected {len(header)}")
        try:
            rows.append([int(v) for v in fields])
        except ValueError:
            raise ValueError(f"line {n}: not integers: {line!r}") from None
    if not rows:
        raise ValueError("no samples")
    return np.array(rows, dtype=np.int64), meta


def load_dataset(directory, sample_rate=SAMPLE_RATE, log=print):
    """The readable recordings of a folder; unreadable or truncated files are reported and
    skipped (never padded)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise HarError(f"{directory} is not a folder: expected a folder of recordings "
                       f"(<anything>_<label>.npy or .csv)")
    recordings, skipped = [], []
    for path in sorted(p for p in directory.iterdir() if p.suffix in (".npy", ".csv")):
        try:
            recordings.append(read_recording(path, sample_rate))
        except Exception as e:  # a broken file must not stop the others
            skipped.append((path.name, str(e)))
            log(f"      skipped {path.name}: {e}")
    if not recordings:
        raise HarError(f"{directory}: no readable recordings (expected <anything>_<label>.npy "
                       f"or .csv files)")
    axes = {r.data.shape[1] for r in recordings}
    rates = {r.sample_rate for r in recordings}
    if len(axes) != 1 or len(rates) != 1:
        raise HarError(f"{directory}: recordings differ in axes {sorted(axes)} or sample rate "
                       f"{sorted(rates)}, expected one of each")
    return recordings, skipped


def _first_window(window, hop):
    """Frames a recording needs for its first window (the device's first full window)."""
    return -(-window // hop) * hop


def check_training_set(recordings, window, hop, directory):
    """What leave-one-recording-out training needs, or HarError saying what is missing: at
    least two classes, and at least two recordings with a window in every class (with one, the
    class is absent from the training set of its own fold)."""
    try:
        dsp.Window(window, hop)
    except (TypeError, ValueError) as e:
        raise HarError(f"--window {window} --hop {hop}: {e}") from None
    need = _first_window(window, hop)
    by_class = {}
    for r in recordings:
        by_class.setdefault(r.label, [])
        if len(r.data) >= need:
            by_class[r.label].append(r.path.name if r.path else "?")
    for label, names in sorted(by_class.items()):
        if not names:
            raise HarError(f"{directory}: class {label!r} has no recording of at least {need} "
                           f"frames (one window of {window}, hop {hop})")
    if len(by_class) < 2:
        label, names = next(iter(by_class.items()))
        raise HarError(f"{directory}: only one class ({label!r}, {len(names)} recording"
                       f"{'s' if len(names) > 1 else ''}): a classifier needs recordings of at "
                       f"least two classes (<anything>_<label>.npy)")
    for label, names in sorted(by_class.items()):
        if len(names) < 2:
            raise HarError(f"{directory}: class {label!r} has one recording ({names[0]}): "
                           f"leave-one-recording-out needs at least two recordings per class")


def windows_of(recordings, length, hop):
    """Windows as the device sees them, their labels, and the recording each comes from."""
    W, labels, groups = [], [], []
    for i, r in enumerate(recordings):
        w = dsp.sliding_windows(r.data, length, hop)
        W.append(w)
        labels += [r.label] * len(w)
        groups += [i] * len(w)
    if not labels:
        raise HarError(f"no recording is as long as a window ({length} frames)")
    return np.concatenate(W), np.array(labels), np.array(groups)


# ------------------------------------------------------------------------------------------------
# Training


def loro_predictions(make, X, y, groups):
    """Leave-one-recording-out predictions of every window."""
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict

    return cross_val_predict(make(), X, y, groups=groups, cv=LeaveOneGroupOut(), n_jobs=2)


def tune(dataset_dir, log=print):
    """The procedure that chose the defaults. Grid: window 64, 100 or 128 frames (at most 1.28 s
    at 100 Hz, so a gesture is answered within about a second) with hop = window / 4; time
    features TIME_5 or TIME_9; with or without the vector magnitude channel; with or without
    8 spectral bands. Score: leave-one-recording-out accuracy of the default RandomForest.
    Rule: the highest score; ties go to fewer features, then the shorter window."""
    from sklearn.metrics import accuracy_score

    recordings, _ = load_dataset(dataset_dir, log=lambda s: None)
    n_axes, rate = recordings[0].data.shape[1], recordings[0].sample_rate
    classes = sorted({r.label for r in recordings})
    rows = []
    log("window  hop  time  magnitude  spectral  features  windows  accuracy")
    for window in (64, 100, 128):
        hop = window // 4
        check_training_set(recordings, window, hop, dataset_dir)
        W, labels, groups = windows_of(recordings, window, hop)
        y = np.array([classes.index(l) for l in labels])
        for tname, time_f in (("5", TIME_5), ("9", TIME_9)):
            for magnitude in (False, True):
                for spectral in (False, True):
                    cfg = feature_config(window, n_axes, rate, time_f, magnitude, spectral)
                    X = dsp.features_many(W, cfg)
                    acc = accuracy_score(y, loro_predictions(make_estimator, X, y, groups))
                    rows.append((acc, -cfg.n_features, -window, window, hop, tname, magnitude,
                                 spectral, cfg.n_features))
                    log(f"{window:6d} {hop:4d} {tname:>5} {str(magnitude):>10} "
                        f"{str(spectral):>9} {cfg.n_features:9d} {len(X):8d} {acc:9.3f}")
    best = max(rows)
    acc, _, _, window, hop, tname, magnitude, spectral, nf = best
    log(f"best: window {window}, hop {hop}, time features {tname}, magnitude {magnitude}, "
        f"spectral {spectral}: {nf} features, accuracy {acc:.3f}")
    return dict(window=window, hop=hop, time=TIME_5 if tname == "5" else TIME_9,
                magnitude=magnitude, spectral=spectral, accuracy=acc)


def train(dataset_dir, out_dir, model="randomforest", window=WINDOW, hop=HOP, log=print,
          anomaly=None, novel=()):
    """Trains the classifier (and with `anomaly`, one of ANOMALY, a detector) and writes the
    model folder. `novel`: labels whose recordings are left out of training, to evaluate the
    detector on gestures it has never seen."""
    from sklearn.metrics import accuracy_score, classification_report

    from . import convert

    t0 = time.monotonic()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise HarError(f"{out_dir} is a file: expected a folder to write the model into")
    log(f"[1/5] reading recordings from {dataset_dir}")
    recordings, skipped = load_dataset(dataset_dir, log=log)
    if novel and anomaly is None:
        raise HarError("--novel needs --anomaly: the novel gestures evaluate the detector")
    if anomaly is not None and anomaly not in ANOMALY:
        raise HarError(f"--anomaly {anomaly}: expected one of {', '.join(ANOMALY)}")
    labels_found = {r.label for r in recordings}
    for label in novel:
        if label not in labels_found:
            raise HarError(f"{dataset_dir}: --novel {label}: no recording of that label "
                           f"(labels: {', '.join(sorted(labels_found))})")
    novel_recs = [r for r in recordings if r.label in novel]
    recordings = [r for r in recordings if r.label not in novel]
    check_training_set(recordings, window, hop, dataset_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_axes = recordings[0].data.shape[1]
    rate = recordings[0].sample_rate
    classes = sorted({r.label for r in recordings})
    log(f"      {len(recordings)} recordings ({len(skipped)} skipped), {n_axes} axes at "
        f"{rate:g} Hz, classes: " + ", ".join(
            f"{c} ({sum(r.label == c for r in recordings)})" for c in classes))

    log(f"[2/5] windows of {window} frames every {hop} frames, features")
    cfg = default_features(window, n_axes, rate)
    W, labels, groups = windows_of(recordings, window, hop)
    X = dsp.features_many(W, cfg)
    y = np.array([classes.index(l) for l in labels])
    log(f"      {len(X)} windows x {cfg.n_features} features")

    log(f"[3/5] {model}: leave-one-recording-out cross-validation ({len(recordings)} folds)")
    pred = loro_predictions(lambda: make_estimator(model), X, y, groups)
    accuracy = accuracy_score(y, pred)
    report = classification_report(y, pred, target_names=classes, digits=3, zero_division=0)
    for line in report.rstrip().splitlines():
        log("      " + line)

    log("[4/5] final model on all windows, converted")
    est = make_estimator(model).fit(X, y)
    m = convert(est)
    for stale in ("model.csv", "model.bin"):  # (earlier trainings wrote the text form)
        (out_dir / stale).unlink(missing_ok=True)
    m.save(file=str(out_dir / MODEL_FILE))
    import joblib

    joblib.dump(est, out_dir / "estimator.joblib")  # the host pipeline's model, for `har run`
    anomaly_meta = None
    for stale in ("anomaly.mlb", "anomaly.joblib"):  # of an earlier training into this folder
        (out_dir / stale).unlink(missing_ok=True)
    if anomaly is not None:
        Xn = np.empty((0, X.shape[1]))
        if novel_recs:
            Xn = dsp.features_many(windows_of(novel_recs, window, hop)[0], cfg)
        false_alarms, auc, detected = evaluate_detector(anomaly, X, groups, Xn, len(classes))
        det = fit_detector(anomaly, X, len(classes))
        dm = convert(det)
        dm.save(file=str(out_dir / "anomaly.mlb"))
        joblib.dump(det, out_dir / "anomaly.joblib")
        anomaly_meta = {"method": anomaly, "model_file": "anomaly.mlb", "module": dm.module,
                        "quantile": ANOMALY_QUANTILE,
                        "false_alarms_loro": round(false_alarms, 4)}
        log(f"      anomaly detector: {anomaly} ({dm.describe()}); threshold: the "
            f"{ANOMALY_QUANTILE:g} quantile of the training windows' scores"
            f"{' (the largest)' if ANOMALY_QUANTILE == 1 else ''}; {dm.memory_size()} bytes "
            f"of RAM on the board")
        if auc is not None:
            anomaly_meta.update(novel=sorted(novel), auc=round(auc, 4),
                                novel_detected=round(detected, 4))
            log(f"      novel gesture{'s' if len(novel) > 1 else ''} "
                f"{', '.join(sorted(novel))}: {len(Xn)} windows, {detected:.1%} flagged")
    meta = {
        "version": 1,
        "classes": classes,
        "window": window,
        "hop": hop,
        "sample_rate": rate,
        "n_axes": n_axes,
        "features": cfg.to_dict(),
        "feature_names": cfg.names(),
        "model": model,
        "model_file": MODEL_FILE,
        "accuracy_loro": round(float(accuracy), 4),
        "n_windows": int(len(X)),
        "recordings": [r.path.name for r in recordings],
        "skipped": [name for name, _ in skipped],
    }
    if anomaly_meta:
        meta["anomaly"] = anomaly_meta
    (out_dir / "metadata.json").write_text(json.dumps(meta, indent=1) + "\n")

    log("[5/5] plots")
    _plots(out_dir, y, pred, classes, est, cfg.names())
    (out_dir / "report.txt").write_text(
        f"leave-one-recording-out accuracy: {accuracy:.3f}\n\n{report}\n")
    size = (out_dir / MODEL_FILE).stat().st_size
    log(f"      {out_dir / 'confusion.png'}, {out_dir / 'importance.png'}; "
        f"{m.n_trees} trees, {m.n_nodes} nodes, {m.memory_size('bin')} bytes of RAM on the board "
        f"read from a file ({m.memory_size('bin', in_place=True)} used in place from flash); "
        f"{time.monotonic() - t0:.0f} s")
    log(f"accuracy: {accuracy:.3f}")
    log(f"model: {size} bytes")
    if anomaly_meta:
        log(f"anomaly false alarms (held-out windows of known gestures): "
            f"{anomaly_meta['false_alarms_loro']:.1%}")
        if "auc" in anomaly_meta:
            log(f"anomaly ROC AUC (novel against held-out known windows): "
                f"{anomaly_meta['auc']:.3f}")
    return accuracy, est, meta


def _plots(out_dir, y, pred, classes, est, names):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(5, 4.5))
    ConfusionMatrixDisplay.from_predictions(y, pred, display_labels=classes, ax=ax,
                                            colorbar=False)
    ax.set_title("leave-one-recording-out, per window")
    fig.tight_layout()
    fig.savefig(out_dir / "confusion.png", dpi=100)
    plt.close(fig)

    imp = getattr(est, "feature_importances_", None)
    if imp is not None:
        order = np.argsort(imp)[::-1][:20][::-1]
        fig, ax = plt.subplots(figsize=(6, 5))
        ax.barh([names[i] for i in order], imp[order])
        ax.set_xlabel("importance (impurity decrease)")
        ax.set_title("the 20 most important features")
        fig.tight_layout()
        fig.savefig(out_dir / "importance.png", dpi=100)
        plt.close(fig)


# ------------------------------------------------------------------------------------------------
# Running the device application on a target

_RUN = r"""
{first}import array, gc, mlclock, mlhar
clf = mlhar.Classifier(meta_path="metadata.json")
gc.collect()
print("ram", gc.mem_alloc(), clf.model.memory, clf.features.memory, clf.window.memory)
labels = array.array("b", bytes({max_windows}))
ticks = array.array("i", bytes(4 * {max_windows}))
{anomaly_setup}for i, name in enumerate({names!r}):
    s = mlhar.SimulatedSensor(name, {rate!r}, {n_axes})
    clf.reset()
    n = 0
    gc.collect()
    a0 = -1
    while not s.done(clf.hop):
        if clf.step(s):
            labels[n] = clf.label
            ticks[n] = clf.ticks
{anomaly_step}
            n += 1
            if n == 1:
                a0 = gc.mem_alloc()  # the steady state starts after the first window
    alloc = gc.mem_alloc() - a0 if a0 >= 0 else 0
    s.close()
    print("r", i, n, alloc, s.overflows)
    print("l", " ".join([str(labels[j]) for j in range(n)]))
    print("t", " ".join([str(ticks[j]) for j in range(n)]))
{anomaly_print}print("unit", mlclock.UNIT, mlclock.to_unit(1000) / 1000)
"""


_ANOMALY_SETUP = """flags = array.array("b", bytes({max_windows}))
scores = array.array("f", bytes(4 * {max_windows}))
mv = memoryview(scores)
views = [mv[j:j + 1] for j in range({max_windows})]  # made before timing
"""


@dataclass
class DeviceRun:
    target: str
    windows: int = 0
    agree: int = 0  # windows whose device label equals the host pipeline's
    correct: int = 0  # windows whose device label is the recording's label
    latency: list = None  # per window, in unit
    unit: str = ""
    steady_alloc: int = 0  # bytes allocated after the first window, summed over recordings
    overflows: int = 0
    ram: dict = None
    disagreements: list = None
    # with an anomaly detector: windows flagged on the device, of recordings of the model's
    # classes and of other labels; flags equal to the host's; largest relative difference of
    # the scores; flags that differ at the threshold itself (|decision| within the tolerance)
    anomaly: bool = False
    flagged_known: int = 0
    known_windows: int = 0
    flagged_other: int = 0
    other_windows: int = 0
    anomaly_agree: int = 0
    anomaly_worst: float = 0.0
    at_threshold: int = 0

    @property
    def accuracy(self):
        return self.correct / self.windows if self.windows else 0.0


MODEL_FILES = ("the model file metadata.json names, metadata.json and estimator.joblib, as "
               "`har train --out` writes them")
_META_TYPES = {"classes": (list, "a list of class names"), "window": (int, "an int"),
               "hop": (int, "an int"), "sample_rate": ((int, float), "a number"),
               "n_axes": (int, "an int"), "features": (dict, "a feature configuration"),
               "model_file": (str, "a file name")}


def load_model_dir(model_dir):
    """(metadata, estimator, FeatureConfig) of a model folder, every file checked against the
    others; HarError naming the missing or broken file and what was expected otherwise."""
    import joblib

    d = Path(model_dir)
    if not d.is_dir():
        raise HarError(f"{d} is not a folder: expected a model folder ({MODEL_FILES})")
    meta_path = d / "metadata.json"
    if not meta_path.is_file():
        raise HarError(f"{meta_path} is missing: expected {MODEL_FILES}")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise HarError(f"{meta_path} is not UTF-8 text: expected the JSON har train "
                       f"writes") from None
    except json.JSONDecodeError as e:
        raise HarError(f"{meta_path} is not valid JSON (line {e.lineno} column {e.colno}: "
                       f"{e.msg}): expected the JSON har train writes") from None
    if not isinstance(meta, dict):
        raise HarError(f"{meta_path} holds a {type(meta).__name__}, expected a JSON object")
    for key, (types, what) in _META_TYPES.items():
        if key not in meta:
            raise HarError(f"{meta_path} has no {key!r}: expected the keys har train writes")
        v = meta[key]
        if isinstance(v, bool) or not isinstance(v, types):
            raise HarError(f"{meta_path}: {key} is {v!r}, expected {what}")
    classes = meta["classes"]
    if len(classes) < 2 or not all(isinstance(c, str) for c in classes) or len(
            set(classes)) != len(classes):
        raise HarError(f"{meta_path}: classes is {classes!r}, expected two or more distinct "
                       f"names")
    try:
        cfg = dsp.FeatureConfig.from_dict(meta["features"])
    except (TypeError, ValueError) as e:
        raise HarError(f"{meta_path}: features: {e}") from None
    window, hop, n_axes = meta["window"], meta["hop"], meta["n_axes"]
    if (cfg.length, cfg.n_axes) != (window, n_axes):
        raise HarError(f"{meta_path}: the features are for windows of {cfg.length} frames of "
                       f"{cfg.n_axes} axes, but window is {window} and n_axes {n_axes}")
    if not 1 <= hop <= window:
        raise HarError(f"{meta_path}: hop is {hop}, expected 1..{window} (the window)")
    if not (np.isfinite(meta["sample_rate"]) and meta["sample_rate"] > 0):
        raise HarError(f"{meta_path}: sample_rate is {meta['sample_rate']}, expected a "
                       f"positive number")
    names = meta.get("feature_names")
    if names is not None and (not isinstance(names, list) or len(names) != cfg.n_features):
        got = len(names) if isinstance(names, list) else repr(names)
        raise HarError(f"{meta_path}: feature_names has {got} names, the features are "
                       f"{cfg.n_features}")
    name = meta["model_file"]
    if Path(name).name != name or name in ("", ".", ".."):
        raise HarError(f"{meta_path}: model_file is {name!r}, expected a file name in the "
                       f"model folder")
    model_path, est_path = d / name, d / "estimator.joblib"
    for f in (model_path, est_path):
        if not f.is_file():
            raise HarError(f"{f} is missing: expected {MODEL_FILES}")
    try:
        est = joblib.load(est_path)
    except Exception as e:  # whatever unpickling a damaged file raises
        raise HarError(f"{est_path} cannot be read ({type(e).__name__}: {e}): expected the "
                       f"scikit-learn model har train saved") from None
    n_in = getattr(est, "n_features_in_", None)
    if not hasattr(est, "predict") or n_in is None or not hasattr(est, "classes_"):
        raise HarError(f"{est_path} holds a {type(est).__name__}, expected a fitted "
                       f"scikit-learn classifier")
    if n_in != cfg.n_features:
        raise HarError(f"{est_path}: the model takes {n_in} features, but {meta_path} "
                       f"describes {cfg.n_features}")
    if list(est.classes_) != list(range(len(classes))):
        raise HarError(f"{est_path}: the model has {len(est.classes_)} classes, but "
                       f"{meta_path} names {len(classes)}")
    _check_model_file(model_path, est, est_path)
    return meta, est, cfg


def load_detector(model_dir, meta, cfg):
    """The anomaly detector of a model folder (None if it has none), checked as the model."""
    import joblib

    a = meta.get("anomaly")
    if a is None:
        return None
    d = Path(model_dir)
    if not isinstance(a, dict) or not isinstance(a.get("model_file"), str) or Path(
            a["model_file"]).name != a["model_file"] or not isinstance(a.get("module"), str):
        raise HarError(f"{d / 'metadata.json'}: anomaly is {a!r}, expected the detector's "
                       f"model_file and module as har train writes them")
    model_path, est_path = d / a["model_file"], d / "anomaly.joblib"
    for f in (model_path, est_path):
        if not f.is_file():
            raise HarError(f"{f} is missing: expected {a['model_file']} and anomaly.joblib, "
                           f"as `har train --anomaly` writes them")
    try:
        det = joblib.load(est_path)
    except Exception as e:  # whatever unpickling a damaged file raises
        raise HarError(f"{est_path} cannot be read ({type(e).__name__}: {e}): expected the "
                       f"detector har train saved") from None
    if not hasattr(det, "score_samples") or getattr(det, "n_features_in_", None) != \
            cfg.n_features:
        raise HarError(f"{est_path} holds a {type(det).__name__}, expected a fitted detector "
                       f"of {cfg.n_features} features")
    _check_model_file(model_path, det, est_path)
    return det


def _check_model_file(model_path, est, est_path):
    """The model file must be the estimator's conversion, byte for byte (as train saved it):
    otherwise the board would run another model than the one the host compares with."""
    import tempfile

    from . import convert

    with tempfile.TemporaryDirectory() as tmp:
        mine = Path(tmp) / model_path.name
        convert(est).save(file=str(mine))
        if mine.read_bytes() != model_path.read_bytes():
            raise HarError(f"{model_path} does not match {est_path} (damaged, or from another "
                           f"training): expected the file har train converted; train again")


def check_recordings_fit(recordings, meta, directory):
    """Recordings must have the model's axes and sample rate, or the device would classify
    other signals than the ones it was trained on."""
    r = recordings[0]
    if r.data.shape[1] != meta["n_axes"]:
        raise HarError(f"{directory}: recordings have {r.data.shape[1]} axes, the model was "
                       f"trained on {meta['n_axes']}")
    if r.sample_rate != meta["sample_rate"]:
        raise HarError(f"{directory}: recordings are at {r.sample_rate:g} Hz, the model was "
                       f"trained at {meta['sample_rate']:g} Hz")


def run_device(model_dir, dataset_dir, target, recordings=None, log=print, model=None):
    """Replays recordings through the device application on `target`; compares every window's
    label with the host pipeline's (the same windows, host features, the original estimator)."""
    from . import targets

    model_dir = Path(model_dir)
    meta, est, cfg = model or load_model_dir(model_dir)
    det = load_detector(model_dir, meta, cfg)
    if recordings is None:
        recordings, _ = load_dataset(dataset_dir, log=log)
    check_recordings_fit(recordings, meta, dataset_dir)
    classes = meta["classes"]
    host, truth, host_scores, host_decisions = [], [], [], []
    for r in recordings:
        W = dsp.sliding_windows(r.data, meta["window"], meta["hop"])
        X = dsp.features_many(W, cfg) if len(W) else None
        host.append(est.predict(X) if len(W) else np.array([]))
        truth.append(classes.index(r.label) if r.label in classes else -1)
        if det is not None:
            # the board's features are float32: the detector sees those values
            X32 = X.astype(np.float32) if len(W) else None
            host_scores.append(det.score_samples(X32) if len(W) else np.array([]))
            host_decisions.append(det.decision_function(X32) if len(W) else np.array([]))
    files = {meta["model_file"]: (model_dir / meta["model_file"]).read_bytes(),
             "metadata.json": (model_dir / "metadata.json").read_bytes()}
    if det is not None:
        files[meta["anomaly"]["model_file"]] = (model_dir / meta["anomaly"]["model_file"]
                                                ).read_bytes()
    names = []
    for i, r in enumerate(recordings):
        name = f"rec{i:03d}.bin"  # raw frames; the recording's own format is read on the host
        files[name] = np.ascontiguousarray(r.data, dtype="<i2").tobytes()
        names.append(name)
    if not any(len(h) for h in host):
        raise HarError(f"{dataset_dir}: no recording is as long as a window "
                       f"({_first_window(meta['window'], meta['hop'])} frames)")
    # The detector's module first, while the heap is one free block: its code needs ~18 kB
    # in one piece, which a Cortex-M3's heap may not have once the app has loaded (docs/har.md)
    first = f"from microlearn import {meta['anomaly']['module']}\n" if det is not None else ""
    # Only with a detector (the Cortex-M0's heap has no room to spare for unused code)
    mw = max(len(h) for h in host) + 1
    parts = dict(anomaly_setup="", anomaly_step="", anomaly_print="")
    if det is not None:
        parts = dict(
            anomaly_setup=_ANOMALY_SETUP.format(max_windows=mw),
            anomaly_step="            flags[n] = clf.anomaly\n"
                         "            clf.detector.score_samples(clf.x, views[n])  # compared",
            anomaly_print="    print('a', ' '.join([str(flags[j]) for j in range(n)]))\n"
                          "    print('s', ' '.join([repr(scores[j]) for j in range(n)]))\n")
    script = _RUN.format(first=first, **parts, max_windows=max(len(h) for h in host) + 1, names=names,
                         rate=meta["sample_rate"], n_axes=meta["n_axes"])
    t = targets.get(target) if isinstance(target, str) else target
    with t.session(files) as s:
        res = s.exec(script)
    if not res.ok:
        raise targets.TargetError(f"{t.name}: the device application failed:\n{res.output}")
    run = DeviceRun(t.name, latency=[], disagreements=[])
    lines = iter(res.output.splitlines())
    scale = 1.0
    for line in lines:
        p = line.split()
        if not p:
            continue
        if p[0] == "ram":
            run.ram = dict(heap=int(p[1]), model=int(p[2]), features=int(p[3]), window=int(p[4]))
        elif p[0] == "r":
            i, n, alloc, over = map(int, p[1:5])
            labels = np.array(next(lines).split()[1:], dtype=int)
            ticks = np.array(next(lines).split()[1:], dtype=float)
            run.windows += n
            run.steady_alloc += alloc
            run.overflows += over
            run.agree += int(np.sum(labels == host[i][:n])) if len(host[i]) == n else 0
            if len(host[i]) != n or np.any(labels != host[i]):
                run.disagreements.append(recordings[i].path.name)
            run.correct += int(np.sum(labels == truth[i]))
            run.latency += list(ticks)
            if det is not None:
                _compare_anomaly(run, i, truth[i], next(lines).split()[1:],
                                 next(lines).split()[1:], host_scores[i], host_decisions[i])
        elif p[0] == "unit":
            run.unit, scale = p[1], float(p[2])
    run.latency = [v * scale for v in run.latency]
    return run


ANOMALY_TOLERANCE = 1e-5  # relative, of the scores (float64 on both sides, float32 features)


def _compare_anomaly(run, i, truth, flags, scores, host_scores, host_decisions):
    flags = np.array(flags, dtype=int) != 0
    scores = np.array(scores, dtype=float)
    run.anomaly = True
    if len(flags) != len(host_scores):
        return  # the label comparison reports the recording
    known = truth >= 0
    run.known_windows += len(flags) * known
    run.other_windows += len(flags) * (not known)
    run.flagged_known += int(flags.sum()) * known
    run.flagged_other += int(flags.sum()) * (not known)
    scale = np.maximum(np.abs(host_scores), 1.0)
    if len(scores):
        run.anomaly_worst = max(run.anomaly_worst,
                                float(np.max(np.abs(scores - host_scores) / scale)))
    # A window whose decision is within the score tolerance of the threshold may fall on
    # either side of it: the flag is compared only beyond that.
    at = np.abs(host_decisions) <= ANOMALY_TOLERANCE * scale
    same = flags == (host_decisions < 0)
    run.at_threshold += int(np.sum(at & ~same))
    run.anomaly_agree += int(np.sum(same | at))


def report_run(run, log=print):
    lat = np.array(run.latency)
    log(f"agreement: {run.agree}/{run.windows}")
    log(f"accuracy: {run.accuracy:.3f}")
    log(f"latency per window: median {np.median(lat):.0f} {run.unit} (min {lat.min():.0f}, max "
        f"{lat.max():.0f}); read, decode, features and trees")
    if run.ram:
        log(f"RAM: model {run.ram['model']} bytes, features {run.ram['features']} bytes, window "
            f"{run.ram['window']} bytes; heap in use after setup {run.ram['heap']} bytes; "
            f"allocated in the steady state: {run.steady_alloc} bytes")
    if run.anomaly:
        log(f"anomaly flags equal to the host's: {run.anomaly_agree}/{run.windows}"
            + (f" ({run.at_threshold} at the threshold itself)" if run.at_threshold else "")
            + f"; scores within {run.anomaly_worst:.2g} (relative) of the host's")
        log(f"anomaly: {run.flagged_known}/{run.known_windows} windows of the model's gestures"
            + (f", {run.flagged_other}/{run.other_windows} windows of other labels"
               if run.other_windows else ""))
    if run.overflows:
        log(f"FIFO overflows: {run.overflows} frames lost")
    for name in run.disagreements:
        log(f"  windows of {name} differ from the host")


def _cli(command, run):
    """Runs a har command: a dataset or model folder it cannot use is one line on stderr and
    exit status 2, not a traceback."""
    try:
        return run()
    except HarError as e:
        print(f"microlearn har {command}: {e}", file=sys.stderr)
    except OSError as e:  # a folder or file that cannot be read or written
        print(f"microlearn har {command}: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
    return 2


def main_train(args):
    def go():
        train(args.dataset or paths.gestures(), args.out, model=args.model, window=args.window,
              hop=args.hop, anomaly=args.anomaly, novel=tuple(args.novel or ()))
        return 0
    return _cli("train", go)


def main_run(args):
    return _cli("run", lambda: _run(args))


def _run(args):
    from . import targets

    log = print
    data = args.data or paths.gestures()
    model = load_model_dir(args.model_dir)  # first: a broken model folder says so at once
    log(f"[1/2] reading recordings from {data}")
    recordings, _ = load_dataset(data, log=log)
    log(f"[2/2] replaying {len(recordings)} recordings through the device application on "
        f"{args.target}")
    try:
        run = run_device(args.model_dir, data, args.target, recordings=recordings, log=log,
                         model=model)
    except targets.TargetError as e:
        print(f"microlearn har run: {e}", file=sys.stderr)
        return 2
    report_run(run, log)
    anomaly_ok = not run.anomaly or (run.anomaly_agree == run.windows
                                     and run.anomaly_worst <= ANOMALY_TOLERANCE)
    return 0 if run.agree == run.windows and run.steady_alloc == 0 and anomaly_ok else 1


def main_tune(args):
    def go():
        tune(args.dataset or paths.gestures())
        return 0
    return _cli("tune", go)
