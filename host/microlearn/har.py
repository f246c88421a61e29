"""Gesture and activity recognition from accelerometer recordings: the host side.

    microlearn har train DATASET_DIR --out MODEL_DIR
    microlearn har run MODEL_DIR --data DATASET_DIR --target cortex-m3

DATASET_DIR defaults to $MICROLEARN_GESTURES, else to the recordings shipped in data/gestures.

A dataset is a folder of recordings named `<anything>_<label>.npy` (int16, shape (n, axes)) or
`<anything>_<label>.csv` (what the device recorder writes, device/mlhar.py). Each recording is
cut into overlapping windows exactly as the device's dsp.Window sees a stream; each window
becomes a feature vector through the host reference of the device's dsp.Features; a tree model
learns the label. Accuracy is estimated leaving one recording out at a time (windows of one
recording never in both train and test). The model directory holds what the device needs:
model.csv (the trees), metadata.json (window, hop, features, classes), and the plots.
"""

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import dsp, paths

SAMPLE_RATE = 100.0  # Hz, the shipped recordings' rate; a recorder CSV carries its own

SCALE = 1.0 / 16384  # raw counts to g (MPU6886 at +-2 g)
MODELS = ("randomforest", "extratrees", "gradientboosting", "histgradientboosting")

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
    if "_" not in stem:
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
    if data.ndim != 2 or data.shape[0] == 0:
        raise ValueError(f"expected a (frames, axes) array, got shape {data.shape}")
    if data.dtype != np.int16:
        if not np.issubdtype(data.dtype, np.integer) or np.abs(data).max() > 32767:
            raise ValueError(f"expected int16 samples, got {data.dtype}")
        data = data.astype(np.int16)
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
        raise SystemExit(f"har: {directory} is not a folder")
    recordings, skipped = [], []
    for path in sorted(p for p in directory.iterdir() if p.suffix in (".npy", ".csv")):
        try:
            recordings.append(read_recording(path, sample_rate))
        except Exception as e:  # a broken file must not stop the others
            skipped.append((path.name, str(e)))
            log(f"      skipped {path.name}: {e}")
    if not recordings:
        raise SystemExit(f"har: no readable recordings in {directory}")
    axes = {r.data.shape[1] for r in recordings}
    rates = {r.sample_rate for r in recordings}
    if len(axes) != 1 or len(rates) != 1:
        raise SystemExit(f"har: recordings differ in axes {sorted(axes)} or sample rate "
                         f"{sorted(rates)}")
    return recordings, skipped


def windows_of(recordings, length, hop):
    """Windows as the device sees them, their labels, and the recording each comes from."""
    W, labels, groups = [], [], []
    for i, r in enumerate(recordings):
        w = dsp.sliding_windows(r.data, length, hop)
        W.append(w)
        labels += [r.label] * len(w)
        groups += [i] * len(w)
    if not labels:
        raise SystemExit(f"har: no recording is as long as a window ({length} frames)")
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


def train(dataset_dir, out_dir, model="randomforest", window=WINDOW, hop=HOP, log=print):
    from sklearn.metrics import accuracy_score, classification_report

    from . import convert

    t0 = time.monotonic()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log(f"[1/5] reading recordings from {dataset_dir}")
    recordings, skipped = load_dataset(dataset_dir, log=log)
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
    m.save(file=str(out_dir / "model.csv"))
    import joblib

    joblib.dump(est, out_dir / "estimator.joblib")  # the host pipeline's model, for `har run`
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
        "model_file": "model.csv",
        "accuracy_loro": round(float(accuracy), 4),
        "n_windows": int(len(X)),
        "recordings": [r.path.name for r in recordings],
        "skipped": [name for name, _ in skipped],
    }
    (out_dir / "metadata.json").write_text(json.dumps(meta, indent=1) + "\n")

    log("[5/5] plots")
    _plots(out_dir, y, pred, classes, est, cfg.names())
    (out_dir / "report.txt").write_text(
        f"leave-one-recording-out accuracy: {accuracy:.3f}\n\n{report}\n")
    size = (out_dir / "model.csv").stat().st_size
    log(f"      {out_dir / 'confusion.png'}, {out_dir / 'importance.png'}; "
        f"{m.n_trees} trees, {m.n_nodes} nodes, {m.memory_size()} bytes of RAM on the board; "
        f"{time.monotonic() - t0:.0f} s")
    log(f"accuracy: {accuracy:.3f}")
    log(f"model: {size} bytes")
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
import array, gc, mlclock, mlhar
clf = mlhar.Classifier("model.csv", "metadata.json")
gc.collect()
print("ram", gc.mem_alloc(), clf.model.memory, clf.features.memory, clf.window.memory)
labels = array.array("b", bytes({max_windows}))
ticks = array.array("i", bytes(4 * {max_windows}))
for i, name in enumerate({names!r}):
    s = mlhar.SimulatedSensor(name, {rate!r}, {n_axes})
    clf.reset()
    n = 0
    gc.collect()
    a0 = -1
    while not s.done(clf.hop):
        if clf.step(s):
            labels[n] = clf.label
            ticks[n] = clf.ticks
            n += 1
            if n == 1:
                a0 = gc.mem_alloc()  # the steady state starts after the first window
    alloc = gc.mem_alloc() - a0 if a0 >= 0 else 0
    s.close()
    print("r", i, n, alloc, s.overflows)
    print("l", " ".join([str(labels[j]) for j in range(n)]))
    print("t", " ".join([str(ticks[j]) for j in range(n)]))
print("unit", mlclock.UNIT, mlclock.to_unit(1000) / 1000)
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

    @property
    def accuracy(self):
        return self.correct / self.windows if self.windows else 0.0


def run_device(model_dir, dataset_dir, target, recordings=None, log=print):
    """Replays recordings through the device application on `target`; compares every window's
    label with the host pipeline's (the same windows, host features, the original estimator)."""
    import joblib

    from . import targets

    model_dir = Path(model_dir)
    meta = json.loads((model_dir / "metadata.json").read_text())
    est = joblib.load(model_dir / "estimator.joblib")
    cfg = dsp.FeatureConfig.from_dict(meta["features"])
    if recordings is None:
        recordings, _ = load_dataset(dataset_dir, log=log)
    classes = meta["classes"]
    host, truth = [], []
    for r in recordings:
        W = dsp.sliding_windows(r.data, meta["window"], meta["hop"])
        host.append(est.predict(dsp.features_many(W, cfg)) if len(W) else np.array([]))
        truth.append(classes.index(r.label) if r.label in classes else -1)
    files = {"model.csv": (model_dir / meta["model_file"]).read_bytes(),
             "metadata.json": (model_dir / "metadata.json").read_bytes()}
    names = []
    for i, r in enumerate(recordings):
        name = f"rec{i:03d}.bin"  # raw frames; the recording's own format is read on the host
        files[name] = np.ascontiguousarray(r.data, dtype="<i2").tobytes()
        names.append(name)
    script = _RUN.format(max_windows=max(len(h) for h in host) + 1, names=names,
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
        elif p[0] == "unit":
            run.unit, scale = p[1], float(p[2])
    run.latency = [v * scale for v in run.latency]
    return run


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
    if run.overflows:
        log(f"FIFO overflows: {run.overflows} frames lost")
    for name in run.disagreements:
        log(f"  windows of {name} differ from the host")


def main_train(args):
    train(args.dataset or paths.gestures(), args.out, model=args.model, window=args.window,
          hop=args.hop)
    return 0


def main_run(args):
    from . import targets

    log = print
    args.data = args.data or paths.gestures()
    log(f"[1/2] reading recordings from {args.data}")
    recordings, _ = load_dataset(args.data, log=log)
    log(f"[2/2] replaying {len(recordings)} recordings through the device application on "
        f"{args.target}")
    try:
        run = run_device(args.model_dir, args.data, args.target, recordings=recordings, log=log)
    except targets.TargetError as e:
        print(f"microlearn har run: {e}", file=sys.stderr)
        return 2
    report_run(run, log)
    return 0 if run.agree == run.windows and run.steady_alloc == 0 else 1


def main_tune(args):
    tune(args.dataset or paths.gestures())
    return 0
