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
from dataclasses import dataclass
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
BACKGROUND = "_background"  # the class of windows without a whole word (detection)
STEP_FRAMES = 8  # a stream is classified every 8 frames (128 ms at 8 kHz)


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


def make_network(frames, n_features, n_classes, seed=0):
    """The default network: four 3x3 convolutions of stride 2 over (time, band) (16, 32, 32,
    64 channels, ReLU), global average pooling, dropout, softmax. The input is scaled by 1/16
    (dB around the window's mean to about unit size)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inp = keras.Input((frames, n_features))
    x = layers.Reshape((frames, n_features, 1))(inp)
    x = layers.Rescaling(1 / 16)(x)
    for ch in (16, 32, 32, 64):
        x = layers.Conv2D(ch, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    out = layers.Dense(n_classes, activation="softmax")(x)
    m = keras.Model(inp, out)
    m.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def fit_network(X, y, n_classes, epochs=EPOCHS, seed=0):
    net = make_network(X.shape[1], X.shape[2], n_classes, seed=seed)
    Xa = spec_augment(X, np.random.default_rng(seed + 1))
    net.fit(Xa, y, epochs=epochs, batch_size=BATCH, verbose=0, shuffle=True)
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
    return convert(net, quantize="int8", representative_data=rep)


@dataclass
class Evaluation:
    groups: list  # the held-out groups, in order
    accuracy: dict  # group -> accuracy of the int8 model on its recordings
    confusion: np.ndarray  # (words, words): true label (row) by predicted label, all folds
    seconds: float = 0.0

    @property
    def mean(self):
        return float(np.mean([self.accuracy[g] for g in self.groups]))


def leave_one_group_out(utts, labels, cfg, X, y, groups, Xtest, epochs=EPOCHS, log=print):
    """Leave-one-group-out accuracy of the int8 network: for each group, a network trained on the
    windows of the other groups' recordings (and the background), converted, tested on the
    group's recordings (centred windows)."""
    import time

    t0 = time.time()
    utt_groups = np.array([u.group for u in utts])
    truth = np.array([labels.index(u.label) for u in utts])
    names = sorted(set(utt_groups))
    conf = np.zeros((len(labels), len(labels)), dtype=int)
    acc = {}
    for g in names:
        tr = groups != g  # noise windows (None) are in every fold
        net = fit_network(X[tr], y[tr], len(labels) + 1)
        model = convert_network(net, X[tr])
        te = utt_groups == g
        pred = word_label(quantized_scores(model, Xtest[te]), len(labels))
        acc[g] = float(np.mean(pred == truth[te]))
        np.add.at(conf, (truth[te], pred), 1)
        log(f"{g}: {acc[g]:.3f} ({int(te.sum())} recordings)")
    return Evaluation(names, acc, conf, time.time() - t0)
