"""Sound classification from WAV files: the host side.

A dataset is a folder of 16-bit PCM mono WAV files, either

- flat: `{label}_{group}_{index}.wav` (the Free Spoken Digit Dataset's naming:
  `7_jackson_32.wav` is digit 7 said by speaker jackson), or
- one subfolder per label: `{label}/{group}_{anything}.wav` (group: the name up to the first
  `_`, e.g. the speaker id of Google's Speech Commands `yes/0a7c2a8d_nohash_0.wav`).

The group is what leave-one-group-out evaluation holds out (a speaker, a recording session):
a model must recognise speakers it has never heard. Files that cannot be read (not WAV, not
16-bit mono PCM, empty, truncated, another sample rate than the rest) are reported with the
reason and skipped; the others are used.

    utts, skipped = audio.load_dataset("data/fsdd")
    utts[0].label, utts[0].group, utts[0].samples, utts[0].sample_rate
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import paths, wav

__all__ = ["Utterance", "DatasetError", "parse_name", "load_dataset", "fsdd_dir"]


@dataclass
class Utterance:
    path: Path
    label: str
    group: str
    samples: np.ndarray  # int16
    sample_rate: int


class DatasetError(ValueError):
    pass


def fsdd_dir():
    """The spoken-digit recordings: $MICROLEARN_FSDD (e.g. the full 2,500-file set), or the
    subset shipped in data/fsdd."""
    env = os.environ.get("MICROLEARN_FSDD")
    return Path(env) if env else paths.root() / "data" / "fsdd"


def parse_name(path, root):
    """(label, group) of a WAV file of a dataset folder `root`; ValueError if the name does not
    follow either layout."""
    path, root = Path(path), Path(root)
    stem = path.stem
    if path.parent != root:  # {label}/{group}_{anything}.wav
        return path.parent.name, stem.split("_", 1)[0]
    parts = stem.split("_")
    if len(parts) < 3 or not parts[0] or not parts[-1]:
        raise ValueError("the file name is not {label}_{group}_{index}.wav")
    return parts[0], "_".join(parts[1:-1])


def load_dataset(directory, log=print):
    """The readable utterances of a dataset folder, sorted by path, and the skipped files as
    (name, reason). The sample rate is the most common one; files at another rate are skipped."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"{directory} is not a folder")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".wav")
    for sub in sorted(p for p in directory.iterdir() if p.is_dir()):
        files += sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() == ".wav")
    utts, skipped = [], []
    for path in files:
        rel = str(path.relative_to(directory))
        try:
            samples, rate = wav.read(path)
            label, group = parse_name(path, directory)
        except ValueError as e:  # a broken file must not stop the others
            msg = str(e)
            if msg.startswith(path.name + ": "):
                msg = msg[len(path.name) + 2:]
            skipped.append((rel, msg))
            log(f"      skipped {rel}: {msg}")
            continue
        utts.append(Utterance(path, label, group, samples, rate))
    if not utts:
        raise DatasetError(f"no readable WAV files in {directory}")
    rates = [u.sample_rate for u in utts]
    common = max(set(rates), key=rates.count)
    keep = []
    for u in utts:
        if u.sample_rate != common:
            rel = str(u.path.relative_to(directory))
            msg = f"sample rate {u.sample_rate} Hz, the other files have {common} Hz"
            skipped.append((rel, msg))
            log(f"      skipped {rel}: {msg}")
        else:
            keep.append(u)
    return keep, skipped


# ------------------------------------------------------------------------------------------------
# The default pipeline: front end, window, augmentation, network. Chosen once by the study in
# benchmarks/sound_study.py on the spoken digits (docs/sound.md, section 4) and fixed: not tuned
# per fold, nor per dataset.

FRAME_SECONDS = 0.032  # analysis frame (256 samples at 8 kHz); frames every half of it
N_MELS = 40
WINDOW_FRAMES = 63  # the network sees 63 frames: 1.02 s at 8 kHz
COPIES = 8  # augmented windows of every training recording (the first one unperturbed)
EPOCHS = 20
BATCH = 64
LABEL_SMOOTHING = 0.1
NETWORKS = ("cnn", "dscnn")  # make_network
BACKGROUND = "_background"  # the class of windows without a whole word (detection)
# A window every 20 frames (320 ms at 8 kHz): the previous rule of `audio detect` (host only now:
# benchmarks/sound_events.py --rule steps). `audio detect` classifies once per segment of sound
# (DETECTOR), and `audio run` quotes a cost per second at DETECTOR's min_gap.
STEP_FRAMES = 20
# `audio detect`'s segmenter (metadata.json "detector"; docs/sound.md, section 5): a hop's level
# is the sum of |x| over every `sub`-th sample of it (64 values of a 128-sample hop); the noise
# floor is the smallest level of the last one or two blocks of `block` hops (1-2 s: words are
# shorter, the silences between them are not), at least `floor`; a segment opens at a level of
# `on` 16ths of the floor, from the first hop of that run above `off` 16ths; it ends after
# `hang` hops in a row at or below `off` 16ths (or `max_hops` after its start). A segment of
# `min_hops` hops or more is classified once, in the window centred on it, and at least
# `min_gap` hops after the previous one (which bounds the network's runs at 2.6 a second).
DETECTOR = dict(sub=2, block=64, floor=160, on=48, off=24, hang=8, min_hops=5, max_hops=56,
                min_gap=24)


class AudioError(DatasetError):
    """A dataset or model folder the commands cannot use; the message names the file."""


def feature_config(sample_rate, n_mels=N_MELS, n_mfcc=0):
    """The front end for a sample rate: 32 ms frames every 16 ms, 40 log-mel bands."""
    from . import dsp

    fl = max(16, int(round(sample_rate * FRAME_SECONDS)))
    return dsp.AudioConfig(sample_rate=sample_rate, frame_length=fl, hop=fl // 2, n_mels=n_mels,
                           n_mfcc=n_mfcc)


def window_samples(cfg, frames=WINDOW_FRAMES):
    """Samples of a window of `frames` frames."""
    return cfg.frame_length + (frames - 1) * cfg.hop


def centred(x, n):
    """A recording as a window of n samples, as `run` gives it to the network: centred in
    digital silence, or its middle n samples when it is longer."""
    x = np.asarray(x, dtype=np.int16)
    if len(x) >= n:
        start = (len(x) - n) // 2
        return x[start:start + n].copy()
    out = np.zeros(n, dtype=np.int16)
    at = (n - len(x)) // 2
    out[at:at + len(x)] = x
    return out


def _to_int16(x):
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def background(rng, n):
    """Background for training windows: digital silence (a quarter of them) or white noise at a
    level between -75 and -40 dB re full scale."""
    if rng.random() < 0.25:
        return np.zeros(n)
    return rng.standard_normal(n) * (10 ** (rng.uniform(-75, -40) / 20) * 32768)


def perturb(x, rng, speed=(0.85, 1.15), gain_db=(-12, 6), snr_db=(5, 40)):
    """Another voice and another room, roughly: resampled by a random factor (moves pitch and
    formants together, as a longer or shorter vocal tract does), a random gain, white noise at a
    random signal-to-noise ratio."""
    import scipy.signal

    x = np.asarray(x, dtype=np.float64)
    f = rng.uniform(*speed)
    x = scipy.signal.resample(x, max(16, int(round(len(x) / f))))
    x = x * 10 ** (rng.uniform(*gain_db) / 20)
    peak = np.abs(x).max()
    if peak > 32000:
        x *= 32000 / peak
    p = np.mean(x ** 2)
    return x + rng.standard_normal(len(x)) * np.sqrt(p / 10 ** (rng.uniform(*snr_db) / 10))


def placed(x, rng, n, bg=None):
    """x (float) at a random place in n samples of background (cropped at random if longer)."""
    if len(x) > n:
        start = rng.integers(0, len(x) - n + 1)
        x = x[start:start + n]
    out = background(rng, n) if bg is None else bg
    at = rng.integers(0, n - len(x) + 1)
    out[at:at + len(x)] += x
    return _to_int16(out)


def partial(x, rng, n):
    """A background window that holds only the first or last 5-35% of a recording at its edge:
    not a whole word (what a stream's window shows as a word enters or leaves it)."""
    keep = max(1, int(len(x) * rng.uniform(0.05, 0.35)))
    out = background(rng, n)
    k = min(keep, n)
    if rng.random() < 0.5:  # the word's start at the window's end
        out[n - k:] += x[:k]
    else:  # the word's end at the window's start
        out[:k] += x[len(x) - k:]
    return _to_int16(out)


def normalise(frames):
    """What the network sees of a window of log-mel frames: each band minus its mean over the
    window (dsp.center on the board), which removes the level and the microphone's and the
    voice's average spectrum."""
    from . import dsp

    return dsp.center(frames)


def window_features(waves, cfg):
    """(n, frames, n_features) float32 normalised features of equal-length windows."""
    from . import dsp

    fe = dsp.AudioFeatures(cfg)
    return np.stack([normalise(fe.frames_of(w)) for w in waves])


def training_windows(utts, labels, cfg, rng, copies=COPIES, frames=WINDOW_FRAMES):
    """(X, y, groups): `copies` windows of every recording (the first unperturbed, all at
    random places in background), and as many background windows as a word class has (half of
    them noise, group None; half a word cut at the edge, the word's group), labelled
    len(labels)."""
    n = window_samples(cfg, frames)
    waves, y, groups = [], [], []
    n_bg = max(1, len(utts) // max(1, len(labels)))
    for k in range(copies):
        for u in utts:
            x = perturb(u.samples, rng) if k else u.samples.astype(np.float64)
            waves.append(placed(x, rng, n))
            y.append(labels.index(u.label))
            groups.append(u.group)
        for i in rng.choice(len(utts), n_bg, replace=len(utts) < n_bg):
            if rng.random() < 0.5:
                waves.append(_to_int16(background(rng, n)))
                groups.append(None)
            else:
                waves.append(partial(perturb(utts[i].samples, rng), rng, n))
                groups.append(utts[i].group)
            y.append(len(labels))
    return window_features(waves, cfg), np.array(y), np.array(groups, dtype=object)


def spec_augment(X, rng, time_width=8, band_width=6):
    """One band of up to 8 frames and one of up to 6 mel bands set to 0 (the window's mean)
    in every window: the network cannot rely on any single frame or band."""
    X = X.copy()
    T, F = X.shape[1:]
    for x in X:
        t, f = rng.integers(0, time_width + 1), rng.integers(0, band_width + 1)
        t0, f0 = rng.integers(0, T - t + 1), rng.integers(0, F - f + 1)
        x[t0:t0 + t] = 0.0
        x[:, f0:f0 + f] = 0.0
    return X


def make_network(frames, n_features, n_classes, seed=0, kind="cnn"):
    """The default network ("cnn"): four 3x3 convolutions of stride 2 over (time, band) (16,
    32, 32, 64 channels, ReLU), global average pooling, dropout, softmax; 1.42 M
    multiply-accumulates for 63 frames of 40 bands. "dscnn": a depthwise-separable CNN as in the
    keyword-spotting benchmark (a 5x3 convolution of stride 2 to 16 channels, then three blocks
    of a 3x3 depthwise and a 1x1 convolution to 32, 64, 64 channels, the first and last of
    stride 2; batch normalisation, folded into the convolutions at conversion); 0.82 M
    multiply-accumulates, half the default's arena. The input is scaled by 1/16
    (dB around the window's mean to about unit size)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inp = keras.Input((frames, n_features))
    x = layers.Reshape((frames, n_features, 1))(inp)
    x = layers.Rescaling(1 / 16)(x)
    if kind == "cnn":
        for ch in (16, 32, 32, 64):
            x = layers.Conv2D(ch, 3, strides=2, padding="same", activation="relu")(x)
    elif kind == "dscnn":
        x = layers.Conv2D(16, (5, 3), strides=2, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        for stride, ch in ((2, 32), (1, 64), (2, 64)):
            x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False)(x)
            x = layers.ReLU()(layers.BatchNormalization()(x))
            x = layers.Conv2D(ch, 1, use_bias=False)(x)
            x = layers.ReLU()(layers.BatchNormalization()(x))
    else:
        raise ValueError(f"network {kind!r}: expected one of {', '.join(NETWORKS)}")
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    out = layers.Dense(n_classes, activation="softmax")(x)
    m = keras.Model(inp, out)
    m.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def fit_network(X, y, n_classes, epochs=EPOCHS, seed=0, kind="cnn"):
    """The default training: Adam with a learning rate decaying from 2e-3 to 0 along a cosine
    over the epochs, labels smoothed by 0.1 (the network is not pushed to certainty on the
    training speakers), and new time and band masks drawn for every window at every epoch."""
    import keras

    net = make_network(X.shape[1], X.shape[2], n_classes, seed=seed, kind=kind)
    steps = epochs * -(-len(X) // BATCH)
    net.compile(optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(
                    2e-3, steps)),
                loss=keras.losses.CategoricalCrossentropy(label_smoothing=LABEL_SMOOTHING),
                metrics=["accuracy"])
    Y = np.eye(n_classes, dtype=np.float32)[y]
    rng = np.random.default_rng(seed + 1)
    for _ in range(epochs):
        net.fit(spec_augment(X, rng), Y, epochs=1, batch_size=BATCH, verbose=0, shuffle=True)
    return net


def quantized_scores(model, X):
    """int8 outputs of a converted model for normalised windows X: TFLite's reference kernels,
    which the device's are identical to (docs/nn.md)."""
    from .nn.verify import device_inputs, tflite_outputs

    return tflite_outputs(model.tflite, device_inputs(model, X)).reshape(len(X), -1)


def word_label(scores, n_words):
    """The label of a window known to hold a word: the largest score among the words (the
    background class is for streams)."""
    return np.asarray(scores)[..., :n_words].argmax(axis=-1)


def convert_network(net, X, seed=0):
    """The int8 model of a trained network, calibrated on 300 of its training windows."""
    from . import convert

    rng = np.random.default_rng(seed)
    rep = X[rng.choice(len(X), min(300, len(X)), replace=False)]
    with _quiet():
        return convert(net, quantize="int8", representative_data=rep)


class _quiet:
    """Silences the TensorFlow converter, which prints to the process's stdout and stderr (from
    C++) and to sys.stdout (from Python)."""

    def __enter__(self):
        import contextlib
        import io
        import sys

        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = [os.dup(1), os.dup(2)]
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        os.close(null)
        self.py = contextlib.redirect_stdout(io.StringIO())
        self.py.__enter__()

    def __exit__(self, *exc):
        self.py.__exit__(*exc)
        for fd, saved in zip((1, 2), self.saved):
            os.dup2(saved, fd)
            os.close(saved)


@dataclass
class Evaluation:
    groups: list  # the held-out groups, in order
    accuracy: dict  # group -> accuracy of the int8 model on its recordings
    confusion: np.ndarray  # (words, words): true label (row) by predicted label, all folds
    seconds: float = 0.0
    accuracy_float: dict = field(default_factory=dict)  # group -> the float network's accuracy

    @property
    def mean(self):
        return float(np.mean([self.accuracy[g] for g in self.groups]))

    @property
    def mean_float(self):
        return float(np.mean([self.accuracy_float[g] for g in self.groups]))


def leave_one_group_out(utts, labels, cfg, X, y, groups, Xtest, epochs=EPOCHS, log=print,
                        keep=None, kind="cnn"):
    """Leave-one-group-out accuracy of the int8 network: for each group, a network trained on the
    windows of the other groups' recordings (and the background), converted, tested on the
    group's recordings (centred windows); the float network's accuracy is printed beside it.
    `keep(group, model)`, if given, receives every fold's int8 model (to test streams of a
    speaker the model has not heard)."""
    import time

    t0 = time.time()
    utt_groups = np.array([u.group for u in utts])
    truth = np.array([labels.index(u.label) for u in utts])
    names = sorted(set(utt_groups))
    conf = np.zeros((len(labels), len(labels)), dtype=int)
    acc, acc_float = {}, {}
    for g in names:
        tr = groups != g  # noise windows (None) are in every fold
        net = fit_network(X[tr], y[tr], len(labels) + 1, epochs=epochs, kind=kind)
        model = convert_network(net, X[tr])
        te = utt_groups == g
        pred = word_label(quantized_scores(model, Xtest[te]), len(labels))
        acc[g] = float(np.mean(pred == truth[te]))
        fpred = word_label(net.predict(Xtest[te], verbose=0, batch_size=256), len(labels))
        acc_float[g] = float(np.mean(fpred == truth[te]))
        np.add.at(conf, (truth[te], pred), 1)
        log(f"{g}: {acc[g]:.3f} (int8; float32 {acc_float[g]:.3f}; {int(te.sum())} recordings, "
            f"{time.time() - t0:.0f} s)")
        if keep:
            keep(g, model)
    return Evaluation(names, acc, conf, time.time() - t0, acc_float)


# ------------------------------------------------------------------------------------------------
# microlearn audio train

QUICK = dict(per_class_group=6, copies=4, epochs=40)  # `--quick`: a short run (demo, tests)
MODEL_FILES = ("model.nn (int8), model.tflite, features.json and metadata.json, as `audio train "
               "--out` writes them")


def _subset(utts, per_class_group):
    """The first `per_class_group` recordings of every (label, group)."""
    seen, keep = {}, []
    for u in utts:
        k = (u.label, u.group)
        if seen.get(k, 0) < per_class_group:
            seen[k] = seen.get(k, 0) + 1
            keep.append(u)
    return keep


def test_windows(utts, cfg, frames=WINDOW_FRAMES):
    """Normalised features of every recording centred in a window (what `audio run` classifies)."""
    n = window_samples(cfg, frames)
    return window_features([centred(u.samples, n) for u in utts], cfg)


def model_metadata(labels, cfg, **extra):
    """metadata.json of a model folder (what `run` and `detect` read), with `extra` entries."""
    return dict(version=1, labels=list(labels), background=BACKGROUND,
                sample_rate=cfg.sample_rate, features=cfg.to_dict(), window_frames=WINDOW_FRAMES,
                window_samples=window_samples(cfg), step_frames=STEP_FRAMES,
                detector=dict(DETECTOR), model_file="model.nn", **extra)


def write_model_dir(d, model, cfg, meta):
    """A model folder: model.nn (int8), model.tflite, features.json, metadata.json (`meta` with
    the model's size, multiply-accumulates and arena). Returns the metadata written."""
    import json

    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    model.save(file=str(d / "model.nn"))
    (d / "model.tflite").write_bytes(model.tflite)
    (d / "features.json").write_text(cfg.to_json() + "\n")
    meta = dict(meta, model_bytes=(d / "model.nn").stat().st_size, macs=int(model.macs()),
                arena_bytes=int(model.arena_size))
    (d / "metadata.json").write_text(json.dumps(meta, indent=1) + "\n")
    return meta


def train(dataset_dir, out_dir, quick=False, log=print, network="cnn"):
    """Trains the default network on a folder of WAV files, evaluates it leaving one group out,
    writes the model folder. Returns the metadata written."""
    import time

    from . import convert

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported
    t0 = time.monotonic()
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise AudioError(f"{out_dir} is a file: expected a folder to write the model into")
    copies, epochs = (QUICK["copies"], QUICK["epochs"]) if quick else (COPIES, EPOCHS)
    log(f"[1/5] reading WAV files from {dataset_dir}")
    utts, skipped = load_dataset(dataset_dir, log=log)
    if quick:
        utts = _subset(utts, QUICK["per_class_group"])
    labels = sorted({u.label for u in utts})
    names = sorted({u.group for u in utts})
    if len(labels) < 2:
        raise AudioError(f"{dataset_dir}: one label ({labels[0]}): expected two or more")
    if len(names) < 2:
        raise AudioError(f"{dataset_dir}: one group ({names[0]}): leave-one-group-out needs two "
                         f"or more (speakers, sessions: the part of the file name after the label)")
    rate = utts[0].sample_rate
    cfg = feature_config(rate)
    log(f"      {len(utts)} recordings ({len(skipped)} skipped) at {rate} Hz, {len(labels)} "
        f"labels, {len(names)} groups: {', '.join(names)}")

    log(f"[2/5] features: {cfg.n_mels} log-mel bands, {WINDOW_FRAMES} frames of "
        f"{cfg.frame_length} samples every {cfg.hop}; {copies} augmented copies per recording")
    rng = np.random.default_rng(0)
    X, y, groups = training_windows(utts, labels, cfg, rng, copies=copies)
    Xtest = test_windows(utts, cfg)
    log(f"      {len(X)} training windows ({int(np.sum(y == len(labels)))} background), "
        f"{time.monotonic() - t0:.0f} s")

    log(f"[3/5] leave-one-group-out: {len(names)} networks of {epochs} epochs, int8")

    def keep(g, model):  # folds/{group}/: a model folder that has not heard the group
        write_model_dir(out_dir / "folds" / g, model, cfg,
                        model_metadata(labels, cfg, network=network, held_out_group=g))

    ev = leave_one_group_out(utts, labels, cfg, X, y, groups, Xtest, epochs=epochs,
                             log=lambda s: log("      " + s), keep=keep, kind=network)
    log(f"      mean: int8 {ev.mean:.3f}, float32 {ev.mean_float:.3f}")

    log("[4/5] final network on every recording, converted to int8 and float32")
    net = fit_network(X, y, len(labels) + 1, epochs=epochs, kind=network)
    model = convert_network(net, X)
    meta = model_metadata(
        labels, cfg, network=network, float_model_file="model_float.nn",
        accuracy_logo=round(ev.mean, 4),
        accuracy_per_group={g: round(a, 4) for g, a in ev.accuracy.items()},
        accuracy_logo_float=round(ev.mean_float, 4),
        accuracy_per_group_float={g: round(a, 4) for g, a in ev.accuracy_float.items()},
        fold_models="folds/{group}/", quick=bool(quick), recordings=len(utts),
        skipped=[name for name, _ in skipped])
    meta = write_model_dir(out_dir, model, cfg, meta)
    size = meta["model_bytes"]
    with _quiet():
        convert(net).save(file=str(out_dir / "model_float.nn"))

    log("[5/5] confusion matrix")
    _confusion_png(out_dir / "confusion.png", ev.confusion, labels, ev.mean)
    log(f"      {out_dir / 'confusion.png'}; {model.macs():,} multiply-accumulates, arena "
        f"{model.arena_size} bytes; {time.monotonic() - t0:.0f} s")
    log(f"accuracy: {ev.mean:.3f}")
    log(f"model: {size} bytes")
    return meta


def _confusion_png(path, conf, labels, accuracy):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1 + 0.5 * len(labels), 1 + 0.5 * len(labels)))
    ax.imshow(conf, cmap="Blues")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(conf[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if conf[i, j] > conf.max() / 2 else "black")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted (int8 model)")
    ax.set_ylabel("true")
    ax.set_title(f"leave-one-group-out, accuracy {accuracy:.3f}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ------------------------------------------------------------------------------------------------
# A model folder

@dataclass
class AudioModel:
    meta: dict
    cfg: object  # dsp.AudioConfig
    model: object  # NNModel (int8)
    files: dict  # name -> bytes: what a board needs

    @property
    def labels(self):
        return self.meta["labels"]

    def scores(self, windows):
        """int8 outputs (words then background) for normalised windows (n, frames, features)."""
        return quantized_scores(self.model, windows)


def load_model_dir(model_dir):
    import json

    from . import dsp
    from .nn import convert_tflite

    d = Path(model_dir)
    if not d.is_dir():
        raise AudioError(f"{d} is not a folder: expected a model folder ({MODEL_FILES})")
    files = {}
    for name in ("metadata.json", "features.json", "model.nn", "model.tflite"):
        if not (d / name).is_file():
            raise AudioError(f"{d / name} is missing: expected {MODEL_FILES}")
        files[name] = (d / name).read_bytes()
    try:
        meta = json.loads(files["metadata.json"])
        cfg = dsp.AudioConfig.from_dict(json.loads(files["features.json"]))
        labels, frames, step = meta["labels"], int(meta["window_frames"]), int(meta["step_frames"])
    except (ValueError, KeyError, TypeError) as e:
        raise AudioError(f"{d}: metadata.json or features.json cannot be used ({e}): expected "
                         f"what audio train writes") from None
    try:
        model = convert_tflite(files["model.tflite"])
    except Exception as e:
        raise AudioError(f"{d / 'model.tflite'} cannot be read ({e})") from None
    if model.to_bytes() != files["model.nn"]:
        raise AudioError(f"{d / 'model.nn'} does not match {d / 'model.tflite'} (damaged, or "
                         f"from another training): train again")
    if model.input.count != frames * cfg.n_features or model.output.count != len(labels) + 1:
        raise AudioError(f"{d}: the model takes {model.input.count} values and gives "
                         f"{model.output.count}, metadata.json describes {frames} frames of "
                         f"{cfg.n_features} features and {len(labels)} labels + background")
    if not 1 <= step <= frames:
        raise AudioError(f"{d / 'metadata.json'}: step_frames {step}, expected 1..{frames}")
    return AudioModel(meta, cfg, model, {k: files[k] for k in ("model.nn", "features.json")})


# ------------------------------------------------------------------------------------------------
# microlearn audio run: every file through the device's front end and network

_RUN = r"""
import array, gc, json, mlclock
from microlearn import dsp, nn
fe = dsp.AudioFeatures(json.load(open("features.json")))
T, NF, HOP, N, NW = {frames}, fe.n_features, fe.hop, {n}, {n_words}
frames = array.array("f", bytes(4 * T * NF))
x = array.array("b", bytes(T * NF))
y = array.array("b", bytes(NW + 1))
chunk = array.array("h", bytes(2 * HOP))
one = array.array("h", [0])
gc.collect()  # the large buffers first, while the heap is in one piece
try:
    m = nn.load(memoryview(open("model.nn", "rb")))  # in place, as from flash (ROMFS)
except TypeError:  # a file system without in-place files
    m = nn.load("model.nn")
print("ram", m.arena, fe.memory, 5 * T * NF + 2 * HOP + NW + 3, gc.mem_alloc())
for i, name in enumerate({names!r}):
    w = dsp.WavReader(name)
    n = w.n_samples
    # The window the network sees: the recording centred in N samples of digital silence, or
    # its middle N samples; fed to the front end a hop at a time, as from a microphone.
    lead = (N - n) // 2 if n < N else 0
    end = lead + min(n, N)
    s = (n - N) // 2 if n > N else 0
    while s >= HOP:
        s -= w.read(chunk)
    while s:
        s -= w.read(one)
    gc.collect()
    a0 = gc.mem_alloc()
    fe.reset()
    k = tf = at = 0
    while at < N:  # (a range with a variable step would be an object on the heap)
        if lead <= at and at + HOP <= end:
            w.read(chunk)
        else:  # the edges, a sample at a time
            for j in range(HOP):
                if lead <= at + j < end:
                    w.read(one)
                    chunk[j] = one[0]
                else:
                    chunk[j] = 0
        t0 = mlclock.ticks()
        k += fe.process(chunk, frames, k)  # frame k of the window goes to row k
        tf += mlclock.diff(mlclock.ticks(), t0)
        at += HOP
    t1 = mlclock.ticks()
    dsp.center(frames, frames, NF)
    m.quantize(frames, x)
    m.run(x, y)
    best = 0
    for j in range(1, NW):
        if y[j] > y[best]:
            best = j
    t2 = mlclock.ticks()
    a1 = gc.mem_alloc()
    w.close()
    print("r", i, best, k, tf, mlclock.diff(t2, t1), a1 - a0, bytes(y).hex())
print("unit", mlclock.UNIT, mlclock.to_unit(1000) / 1000)
"""


@dataclass
class DeviceRun:
    target: str
    files: int = 0
    agree: int = 0  # files whose device label is the host pipeline's
    scores_agree: int = 0  # files whose every int8 output is the host's
    correct: int = 0  # files whose device label is the file's label
    feature_ticks: list = None  # per file, in unit (1.02 s of audio each)
    model_ticks: list = None
    unit: str = ""
    steady_alloc: int = 0
    ram: dict = None
    disagreements: list = None
    window_seconds: float = 0.0
    step_seconds: float = 0.0

    @property
    def accuracy(self):
        return self.correct / self.files if self.files else 0.0

    def per_second(self):
        """(features, model, both) per second of audio when a stream is classified every
        step_seconds (the detector's min_gap: the most often `audio detect` runs the network,
        whatever it hears), in unit."""
        f = float(np.median(self.feature_ticks)) / self.window_seconds
        m = float(np.median(self.model_ticks)) / self.step_seconds
        return f, m, f + m


def _batches(files, budget):
    """Groups of file names whose sizes fit in `budget` bytes (a board's file space)."""
    group, size = [], 0
    for name, data in files.items():
        if group and size + len(data) > budget:
            yield group
            group, size = [], 0
        group.append(name)
        size += len(data)
    if group:
        yield group


def _session_budget(t, model_files):
    if t.files_region is None:
        return 1 << 62
    return t.files_region[1] - sum(len(v) for v in model_files.values()) - (64 << 10)


def run_device(model_dir, dataset_dir, target, utts=None, log=print, model=None):
    """Every recording through the device's WAV reader, front end and network on `target`;
    compared with the host pipeline (host twin of the front end, TFLite's reference kernels)."""
    from . import targets

    am = model or load_model_dir(model_dir)
    if utts is None:
        utts, _ = load_dataset(dataset_dir, log=log)
    rate = am.meta["sample_rate"]
    utts = [u for u in utts if u.sample_rate == rate]
    if not utts:
        raise AudioError(f"{dataset_dir}: no recording at the model's {rate} Hz")
    labels = am.labels
    frames = am.meta["window_frames"]
    host = am.scores(test_windows(utts, am.cfg, frames))
    host_labels = word_label(host, len(labels))
    t = targets.get(target) if isinstance(target, str) else target
    wavs = {f"a{i:04d}.wav": u.path.read_bytes() for i, u in enumerate(utts)}
    n = window_samples(am.cfg, frames)
    run = DeviceRun(t.name, feature_ticks=[], model_ticks=[], disagreements=[],
                    window_seconds=n / rate,
                    step_seconds=detector_settings(am.meta, am.cfg.hop)["min_gap"] * am.cfg.hop
                    / rate)
    index = {name: i for i, name in enumerate(wavs)}
    for group in _batches(wavs, _session_budget(t, am.files)):
        files = dict(am.files, **{name: wavs[name] for name in group})
        script = _RUN.format(frames=frames, n=n, n_words=len(labels), names=group)
        with t.session(files) as s:
            res = s.exec(script)
        if not res.ok:
            raise targets.TargetError(f"{t.name}: the device application failed:\n{res.output}")
        scale = 1.0
        feat, mod = [], []
        for line in res.output.splitlines():
            p = line.split()
            if not p:
                continue
            if p[0] == "ram":
                run.ram = dict(arena=int(p[1]), state=int(p[2]), buffers=int(p[3]),
                               heap=int(p[4]))
            elif p[0] == "r":
                i = index[group[int(p[1])]]
                label, k, tf, tm, alloc = map(int, p[2:7])
                out = np.frombuffer(bytes.fromhex(p[7]), dtype=np.int8)
                run.files += 1
                run.agree += int(label == host_labels[i] and k == frames)
                run.scores_agree += int(np.array_equal(out, host[i]))
                run.correct += int(label == labels.index(utts[i].label))
                if int(p[1]):  # the first file of a session pays one-time allocations
                    run.steady_alloc += alloc
                if label != host_labels[i] or not np.array_equal(out, host[i]):
                    run.disagreements.append(str(utts[i].path.name))
                feat.append(tf)
                mod.append(tm)
            elif p[0] == "unit":
                run.unit, scale = p[1], float(p[2])
        run.feature_ticks += [v * scale for v in feat]
        run.model_ticks += [v * scale for v in mod]
        log(f"      {run.files}/{len(utts)} files")
    return run


def report_run(run, log=print):
    f, m, both = run.per_second()
    log(f"agreement: {run.agree}/{run.files} (int8 outputs identical: {run.scores_agree}/"
        f"{run.files})")
    log(f"accuracy: {run.accuracy:.3f}")
    log(f"per window: features {np.median(run.feature_ticks):,.0f} {run.unit} "
        f"({run.window_seconds:.2f} s of audio), network {np.median(run.model_ticks):,.0f} "
        f"{run.unit}")
    log(f"per second of audio, classified every {run.step_seconds * 1000:.0f} ms (the most "
        f"often `audio detect` runs the network): features {f:,.0f} + network {m:,.0f} = "
        f"{both:,.0f} {run.unit} (an upper bound: `audio detect` measures a stream)")
    if run.ram:
        log(f"RAM: arena {run.ram['arena']} bytes, front end state {run.ram['state']} bytes, "
            f"features and buffers {run.ram['buffers']} bytes; heap in use after setup "
            f"{run.ram['heap']} bytes; allocated in the steady state: {run.steady_alloc} bytes")
    for name in run.disagreements:
        log(f"  {name} differs from the host")


# ------------------------------------------------------------------------------------------------
# Segments of sound in a stream: the part of `audio detect` that decides when to classify. The
# same source runs on the board (in the _DETECT loop) and on the host (exec'd hop by hop: the
# host twin), on integers only, so both make the same decisions to the hop, and the board
# allocates nothing (a function call with this many locals would allocate its frame).

_DETECTOR_KEYS = ("block", "floor", "on", "off", "hang", "min_hops", "max_hops", "min_gap")

# S: [previous block's smallest level, this block's, segment start (-1: none), last loud hop,
# first hop of the current loud run (-1: none), hop to classify at (-1: none), the segment to
# classify: start, end (hops), the hop of the last classification]; P: [window frames] + the
# settings in _DETECTOR_KEYS' order.
# In: c, the hop's index (c frames are complete after it), lv, its level. Out: fire, 1 when the
# window ending at frame c is to be classified now, for the segment S[6]..S[7].
_SEG_STEP = """\
fl = S[0] if S[0] < S[1] else S[1]
if fl < P[2]:
    fl = P[2]
if c % P[1] == 0:
    S[0] = S[1]
    S[1] = lv
elif lv < S[1]:
    S[1] = lv
loud = lv * 16 > fl * P[4]
if S[2] < 0:
    if not loud:
        S[4] = -1
    elif S[4] < 0:
        S[4] = c
    if lv * 16 > fl * P[3]:
        S[2] = S[4]
        S[3] = c
else:
    if loud:
        S[3] = c
    if S[5] < 0 and (c - S[3] >= P[5] or c - S[2] >= P[7]):
        if S[3] + 1 - S[2] >= P[6]:
            # the window of T frames (T + 1 hops) centred on the segment ends at frame t
            t = (S[2] + S[3] + 1) // 2 + P[0] // 2
            if t < c:
                t = c
            if t < P[0]:
                t = P[0]
            if t < S[8] + P[8]:
                t = S[8] + P[8]
            S[5] = t
            S[6] = S[2]
            S[7] = S[3] + 1
        S[2] = -1
        S[4] = -1
fire = 0
if S[5] == c:
    S[5] = -1
    S[8] = c
    fire = 1
"""

# At the end of the stream (c: the last hop): fire while a segment is left, to be classified in
# the last window (none before the first T frames).
_SEG_END = """\
fire = 0
if S[5] >= 0 and c >= P[0]:
    S[5] = -1
    fire = 1
elif S[2] >= 0 and S[3] + 1 - S[2] >= P[6] and c >= P[0]:
    S[6] = S[2]
    S[7] = S[3] + 1
    S[2] = -1
    fire = 1
"""


# ------------------------------------------------------------------------------------------------
# microlearn audio detect: a long recording, a window classified once per segment of sound

_DETECT = r"""
import array, gc, json, mlclock
from microlearn import dsp, nn
fe = dsp.AudioFeatures(json.load(open("features.json")))
T, NF, HOP, NC = {frames}, fe.n_features, fe.hop, {n_classes}
ring = array.array("f", bytes(4 * T * NF))
norm = array.array("f", bytes(4 * T * NF))
x = array.array("b", bytes(T * NF))
y = array.array("b", bytes(NC))
chunk = array.array("h", bytes(2 * HOP))
S = {state!r}  # the segmenter's state and settings (_SEG_STEP)
P = {settings!r}
gc.collect()  # the large buffers first, while the heap is in one piece
try:
    m = nn.load(memoryview(open("model.nn", "rb")))  # in place, as from flash (ROMFS)
except TypeError:  # a file system without in-place files
    m = nn.load("model.nn")
w = dsp.WavReader({name!r})
print("ram", m.arena, fe.memory, 9 * T * NF + 2 * HOP + NC, gc.mem_alloc())


def classify():  # the window of the last T frames: the index of the largest output
    dsp.center(ring, norm, NF, slot)
    m.quantize(norm, x)
    m.run(x, y)
    best = 0
    for j in range(1, NC):
        if y[j] > y[best]:
            best = j
    return best


# every global the loop assigns, before counting: a new one would grow the globals' table
slot = c = ticks = lv = v = j = fl = loud = t = fire = best = alloc = 0
c = -1  # the hop's index: c frames are complete after it
gc.collect()
a = gc.mem_alloc()
while w.read(chunk) == HOP:
    t0 = mlclock.ticks()
    c += 1
    lv = 0
    for j in range(0, HOP, {sub}):
        v = chunk[j]
        lv += v if v >= 0 else -v
    if fe.process(chunk, ring, slot):  # one frame per hop from the second on
        slot += 1
        if slot == T:
            slot = 0
{seg_step}
    if fire:
        best = classify()
    ticks += mlclock.diff(mlclock.ticks(), t0)
    if fire:  # printing is not counted
        alloc += gc.mem_alloc() - a
        print("e", c, S[6], S[7], best, bytes(y).hex())
        a = gc.mem_alloc()
t0 = mlclock.ticks()
{seg_end}
while fire:
    best = classify()
    alloc += gc.mem_alloc() - a
    print("e", c, S[6], S[7], best, bytes(y).hex())
    a = gc.mem_alloc()
{seg_end_in}
ticks += mlclock.diff(mlclock.ticks(), t0)
alloc += gc.mem_alloc() - a
print("end", c + 1, ticks, alloc)
print("unit", mlclock.UNIT, mlclock.to_unit(1000) / 1000)
"""


@dataclass
class Event:
    label: str
    start: float  # seconds
    end: float


def stream_scores(am, samples):
    """The host's int8 outputs of every step of a stream, (steps, classes), and the frame count
    at each step: the windows the device classifies (its features equal the whole recording's)."""
    from . import dsp

    T, step, hop = am.meta["window_frames"], am.meta["step_frames"], am.cfg.hop
    x = np.asarray(samples, dtype=np.int16)
    x = x[:len(x) // hop * hop]  # the device reads whole hops
    F = dsp.AudioFeatures(am.cfg).frames_of(x)
    ends = np.arange(T, len(F) + 1, step)
    if not len(ends):
        return np.zeros((0, len(am.labels) + 1), np.int8), ends
    W = np.stack([normalise(F[e - T:e]) for e in ends])
    return am.scores(W), ends


def events_from_scores(scores, ends, labels, hop_seconds, window_frames, step_frames,
                       threshold=0, min_steps=2):
    """Events from the outputs of consecutive steps: a step says word k when k is its largest
    output and at least `threshold` (int8; 0 is a probability of 0.5); `min_steps` or more steps
    in a row saying the same word make one event. A word is classified while it is whole in the
    window, so it ends about where the window ends at the first step and starts about where the
    window starts at the last one (plus half a step: it left the window between two steps)."""
    events, run = [], None
    n_words = len(labels)

    def close(run):
        k, first, last, count = run
        if count >= min_steps:
            start = max(0.0, (last - window_frames + step_frames / 2) * hop_seconds)
            end = max(first * hop_seconds, start + hop_seconds)
            events.append(Event(labels[k], round(start, 3), round(end, 3)))

    for s, e in zip(scores, ends):
        k = int(np.argmax(s))
        word = k if k < n_words and s[k] >= threshold else None
        if run and word == run[0]:
            run[2], run[3] = e, run[3] + 1
            continue
        if run:
            close(run)
        run = [word, e, e, 1] if word is not None else None
    if run:
        close(run)
    return events


def hop_levels(samples, hop, sub):
    """The level of every whole hop of a stream: the sum of |x| over every sub-th sample (the
    board's loop in _DETECT, in integers)."""
    x = np.asarray(samples, dtype=np.int16)
    n = len(x) // hop
    return np.abs(x[:n * hop].reshape(n, hop)[:, ::sub].astype(np.int64)).sum(axis=1)


def detector_settings(meta, hop, where="metadata.json"):
    """The detector's settings of a model folder's metadata (DETECTOR where it has none),
    checked: the board computes in small ints (below 2^30 on a 32-bit board)."""
    st = dict(DETECTOR, **meta.get("detector", {}))
    try:
        st = {k: int(v) for k, v in st.items()}
    except (TypeError, ValueError):
        raise AudioError(f"{where}: detector {st}: expected integers") from None
    top = -(-hop // max(1, st["sub"])) * 32768  # the largest level
    if (min(st.values()) < 1 or st["off"] > st["on"] or st["min_hops"] > st["max_hops"]
            or top * max(16, st["on"]) >= 1 << 30):
        raise AudioError(f"{where}: detector {st}: expected positive integers, off <= on, "
                         f"min_hops <= max_hops, and levels times `on` below 2^30")
    return st


def _seg_state(hop, settings):
    top = -(-hop // settings["sub"]) * 32768  # no floor yet: the largest level
    return [top, top, -1, -1, -1, -1, -1, -1, -(1 << 20)]


def _seg_settings(window_frames, settings):
    return [window_frames] + [settings[k] for k in _DETECTOR_KEYS]


def segment_stream(levels, window_frames, hop, settings):
    """The host twin of the board's segmenter: (t, start, end) of every segment to classify, t
    the frame the window ends at, start and end in hops; the _SEG_STEP and _SEG_END source run
    hop by hop."""
    step, end = compile(_SEG_STEP, "_SEG_STEP", "exec"), compile(_SEG_END, "_SEG_END", "exec")
    ns = dict(S=_seg_state(hop, settings), P=_seg_settings(window_frames, settings))
    out = []
    for c, lv in enumerate(levels):
        ns["c"], ns["lv"] = c, int(lv)
        exec(step, ns)
        if ns["fire"]:
            out.append((c, ns["S"][6], ns["S"][7]))
    ns["c"] = len(levels) - 1
    while True:
        exec(end, ns)
        if not ns["fire"]:
            return out
        out.append((ns["c"], ns["S"][6], ns["S"][7]))


def segment_scores(am, samples, settings=None):
    """The host's decisions on a stream: the segments (t, start, end) and the int8 outputs of
    the window ending at frame t for each, (segments, classes)."""
    from . import dsp

    T, hop = am.meta["window_frames"], am.cfg.hop
    settings = settings or detector_settings(am.meta, hop)
    x = np.asarray(samples, dtype=np.int16)
    x = x[:len(x) // hop * hop]  # the board reads whole hops
    segs = segment_stream(hop_levels(x, hop, settings["sub"]), T, hop, settings)
    if not segs:
        return segs, np.zeros((0, len(am.labels) + 1), np.int8)
    F = dsp.AudioFeatures(am.cfg).frames_of(x)
    return segs, am.scores(np.stack([normalise(F[t - T:t]) for t, _, _ in segs]))


def segment_label(scores, n_words):
    """The word of a segment's window, or None when the background scores highest."""
    k = int(np.argmax(scores))
    return k if k < n_words else None


def segment_events(segs, scores, labels, hop_seconds):
    """Events of classified segments: label, and the segment's start and end."""
    events = []
    for (t, on, off), s in zip(segs, scores):
        k = segment_label(s, len(labels))
        if k is not None:
            events.append(Event(labels[k], round(on * hop_seconds, 3), round(off * hop_seconds, 3)))
    return events


def matched_events(found, truth, tolerance=0.2):
    """How many detected events are right: each matches an unmatched true event with its label
    and an onset within `tolerance` seconds."""
    used, hits = set(), 0
    for ev in found:
        for i, t in enumerate(truth):
            if i not in used and t.label == ev.label and abs(t.start - ev.start) <= tolerance:
                used.add(i)
                hits += 1
                break
    return hits


def precision_recall_f1(n_found, n_true, hits):
    p = hits / n_found if n_found else 0.0
    r = hits / n_true if n_true else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def score_events(found, truth, tolerance=0.2):
    """(precision, recall, F1) of detected events against the true ones (matched_events)."""
    return precision_recall_f1(len(found), len(truth), matched_events(found, truth, tolerance))


def build_stream(utts, rate, rng, gap=(0.4, 1.2), noise_db=(-70, -50)):
    """A long recording: the utterances one after another, separated by random gaps of
    silence, over low white noise; and the true events."""
    parts, truth, at = [], [], 0
    for u in utts:
        g = int(rng.uniform(*gap) * rate)
        parts += [np.zeros(g), u.samples.astype(np.float64)]
        truth.append(Event(u.label, round((at + g) / rate, 3), round((at + g + len(u.samples))
                                                                      / rate, 3)))
        at += g + len(u.samples)
    parts.append(np.zeros(int(gap[1] * rate)))
    x = np.concatenate(parts)
    x += rng.standard_normal(len(x)) * 10 ** (rng.uniform(*noise_db) / 20) * 32768
    return _to_int16(x), truth


@dataclass
class Detection:
    events: list  # from the board's decisions and outputs
    segments: int = 0  # windows the board classified
    host_segments: int = 0  # the host twin's
    agree: int = 0  # the board's segments (hops, window) and int8 outputs equal to the host's
    seconds: float = 0.0
    ticks: float = 0.0
    unit: str = ""
    steady_alloc: int = 0
    ram: dict = None
    host_events: list = None


def detect(model_dir, stream_path, target, log=print, model=None):
    """Streams a WAV file through the board in hops: the segmenter (_SEG_STEP) decides when to
    classify, the network classifies the window centred on each segment. The board's decisions
    and int8 outputs are compared with the host twin's (segment_scores); the events are the
    board's."""
    import textwrap

    from . import targets

    am = model or load_model_dir(model_dir)
    samples, rate = wav.read(stream_path)
    if rate != am.meta["sample_rate"]:
        raise AudioError(f"{stream_path}: {rate} Hz, the model was trained at "
                         f"{am.meta['sample_rate']} Hz")
    T, hop, n_classes = am.meta["window_frames"], am.cfg.hop, len(am.labels) + 1
    settings = detector_settings(am.meta, hop, Path(model_dir) / "metadata.json")
    host_segs, host = segment_scores(am, samples, settings)
    t = targets.get(target) if isinstance(target, str) else target
    script = _DETECT.format(
        frames=T, n_classes=n_classes, name="stream.wav", sub=int(settings["sub"]),
        settings=_seg_settings(T, settings), state=_seg_state(hop, settings),
        seg_step=textwrap.indent(_SEG_STEP, "    "), seg_end=_SEG_END,
        seg_end_in=textwrap.indent(_SEG_END, "    "))
    files = dict(am.files, **{"stream.wav": Path(stream_path).read_bytes()})
    if t.files_region is not None and sum(map(len, files.values())) > t.files_region[1]:
        raise AudioError(f"{stream_path}: too long for {t.name}'s file space "
                         f"({t.files_region[1] >> 10} kB with the model)")
    with t.session(files) as s:
        res = s.exec(script)
    if not res.ok:
        raise targets.TargetError(f"{t.name}: the device application failed:\n{res.output}")
    segs, outs, labels = [], [], []
    d = Detection([], seconds=len(samples) / rate)
    for line in res.output.splitlines():
        p = line.split()
        if not p:
            continue
        if p[0] == "e":
            segs.append(tuple(map(int, p[1:4])))
            labels.append(int(p[4]))
            outs.append(np.frombuffer(bytes.fromhex(p[5]), dtype=np.int8))
        elif p[0] == "ram":
            d.ram = dict(arena=int(p[1]), state=int(p[2]), buffers=int(p[3]), heap=int(p[4]))
        elif p[0] == "end":
            d.ticks, d.steady_alloc = float(p[2]), int(p[3])
        elif p[0] == "unit":
            d.unit = p[1]
            d.ticks *= float(p[2])
    outs = np.array(outs, dtype=np.int8).reshape(-1, n_classes)
    d.segments, d.host_segments = len(segs), len(host_segs)
    if segs == host_segs:
        d.agree = int(sum(np.array_equal(a, b) and k == int(np.argmax(a))
                          for a, b, k in zip(outs, host, labels)))
    d.events = segment_events(segs, outs, am.labels, hop / rate)
    d.host_events = segment_events(host_segs, host, am.labels, hop / rate)
    return d


def report_detection(d, log=print):
    for ev in d.events:
        log(f"{ev.label} {ev.start:.3f} {ev.end:.3f}")
    log(f"events: {len(d.events)}")
    log(f"agreement: {d.agree}/{d.host_segments} segments (where the board classified, and its "
        f"int8 outputs, as the host's)")
    log(f"per second of audio: {d.ticks / d.seconds:,.0f} {d.unit} (levels and features every "
        f"hop, the network once per segment)")
    if d.ram:
        log(f"RAM: arena {d.ram['arena']} bytes, front end state {d.ram['state']} bytes, "
            f"features and buffers {d.ram['buffers']} bytes; allocated while streaming: "
            f"{d.steady_alloc} bytes")


# ------------------------------------------------------------------------------------------------
# Command line (cli.py)

def _cli(command, go):
    import sys

    from . import targets

    try:
        return go()
    except (AudioError, DatasetError, wav.WavError, targets.TargetError) as e:
        print(f"microlearn audio {command}: {e}", file=sys.stderr)
    except OSError as e:
        print(f"microlearn audio {command}: {e.filename or ''}: {e.strerror or e}",
              file=sys.stderr)
    return 2


def main_train(args):
    def go():
        train(args.dataset or fsdd_dir(), args.out, quick=args.quick, network=args.network)
        return 0
    return _cli("train", go)


def main_run(args):
    def go():
        am = load_model_dir(args.model_dir)
        data = args.data or fsdd_dir()
        print(f"[1/2] reading WAV files from {data}")
        utts, _ = load_dataset(data)
        if args.limit:
            utts = utts[:args.limit]
        print(f"[2/2] {len(utts)} files through the device front end and network on "
              f"{args.target}")
        run = run_device(args.model_dir, data, args.target, utts=utts, model=am)
        report_run(run)
        return 0 if run.agree == run.files and run.steady_alloc == 0 else 1
    return _cli("run", go)


def main_detect(args):
    def go():
        d = detect(args.model_dir, args.stream, args.target)
        report_detection(d)
        ok = d.agree == d.host_segments == d.segments and d.steady_alloc == 0
        return 0 if ok else 1
    return _cli("detect", go)


def add_commands(sub, target_help):
    p = sub.add_parser("audio", help="sound classification: train, run, detect")
    a = p.add_subparsers(dest="audio_command", required=True)
    q = a.add_parser("train", help="train the default network on a folder of WAV files")
    q.add_argument("dataset", nargs="?", help="folder of {label}_{group}_{index}.wav files or "
                   "of one subfolder per label (default: $MICROLEARN_FSDD, else data/fsdd)")
    q.add_argument("--out", required=True, help="model folder to write")
    q.add_argument("--quick", action="store_true", help="a short run: 6 recordings per label "
                   "and group, 4 copies, 40 epochs")
    q.add_argument("--network", choices=NETWORKS, default="cnn", help="the default CNN, or a "
                   "depthwise-separable one (docs/sound.md)")
    q.set_defaults(func=main_train)
    q = a.add_parser("run", help="every file through the device's front end and network")
    q.add_argument("model_dir")
    q.add_argument("--data", help="folder of WAV files (default: as for train)")
    q.add_argument("--target", default="unix", help=target_help)
    q.add_argument("--limit", type=int, help="only the first N files")
    q.set_defaults(func=main_run)
    q = a.add_parser("detect", help="events in a long recording, on the device")
    q.add_argument("model_dir")
    q.add_argument("stream", help="a WAV file at the model's sample rate")
    q.add_argument("--target", default="unix", help=target_help)
    q.set_defaults(func=main_detect)
