"""Feature design for spoken digits: which front end, normalisation, augmentation and model
give speaker-independent recognition (leave-one-speaker-out), measured on the Free Spoken
Digit Dataset. The findings are in docs/sound.md.

    .venv/bin/python -m benchmarks.sound_study [--data DIR] [--only NAME ...] [--epochs N]

Procedure (fixed before looking at per-fold results, the same for every fold and setting):
for each held-out speaker, train on the other four speakers' recordings only, test on every
recording of the held-out one; report the accuracy per speaker and their mean. Features are
computed by the host twin of the device front end (microlearn.dsp.AudioFeatures), on a window
of WINDOW samples in which the recording is placed (at random for training, centred for
testing), the rest filled with low-level noise, as a stream would give it. Networks are
trained with a fixed recipe (Adam, fixed epochs, no early stopping, no per-fold choice).

Needs TensorFlow and Keras in the virtualenv (docs/sound.md gives the versions used); a
setting takes 5-25 minutes on 2 cores.
"""

import argparse
import os
import sys
import time

import numpy as np

from microlearn import audio, dsp

RATE = 8000
WINDOW = 8192  # samples: 1.02 s at 8 kHz; longer recordings are cropped (centre for testing)


# ------------------------------------------------------------------------------------------------
# Data and augmentation


def load(data_dir):
    utts, _ = audio.load_dataset(data_dir, log=lambda s: None)
    return utts


def noise(rng, n, level_db):
    """White noise at level_db dBFS (RMS re full scale), as int16-scaled floats."""
    return rng.standard_normal(n) * (10 ** (level_db / 20) * 32768)


def place(x, rng, centre, level_db=-60.0, window=WINDOW):
    """The recording in a window of `window` samples of noise: centred, or at a random offset
    (cropped when longer than the window), as int16."""
    x = np.asarray(x, dtype=np.float64)
    if len(x) > window:
        start = (len(x) - window) // 2 if centre else rng.integers(0, len(x) - window + 1)
        x = x[start:start + window]
    out = noise(rng, window, level_db)
    at = (window - len(x)) // 2 if centre else rng.integers(0, window - len(x) + 1)
    out[at:at + len(x)] += x
    return np.clip(np.rint(out), -32768, 32767).astype(np.int16)


def perturb(x, rng, speed=(0.85, 1.15), snr=(5, 40), gain_db=(-12, 6)):
    """Speed/pitch perturbation (resampling by a random factor: moves pitch and formants, as
    another speaker's vocal tract would), random gain, additive noise at a random SNR."""
    import scipy.signal

    x = np.asarray(x, dtype=np.float64)
    if speed:
        f = rng.uniform(*speed)
        x = scipy.signal.resample(x, max(16, int(round(len(x) / f))))
    x = x * 10 ** (rng.uniform(*gain_db) / 20)
    peak = np.abs(x).max()
    if peak > 32000:
        x *= 32000 / peak
    if snr:
        p = np.mean(x ** 2)
        x = x + rng.standard_normal(len(x)) * np.sqrt(p / 10 ** (rng.uniform(*snr) / 10))
    return x


# ------------------------------------------------------------------------------------------------
# Normalisations of a (frames, n_mels) window of dB values


def normalise(S, how, speaker_mean=None):
    if how == "none":
        return S
    if how == "gain":  # level: the window's mean over all frames and bands
        return S - S.mean(axis=(-2, -1), keepdims=True)
    if how == "cmn":  # per band: the window's mean (cepstral mean normalisation): dsp.center
        return dsp.center(S)
    if how == "cmvn":  # per band: mean and standard deviation over the window
        return (S - S.mean(axis=-2, keepdims=True)) / (S.std(axis=-2, keepdims=True) + 1.0)
    if how == "max":  # level: the window's loudest band value
        return S - S.max(axis=(-2, -1), keepdims=True)
    if how == "bandmax":  # per band: the window's loudest value (speech peaks, not the noise)
        return S - S.max(axis=-2, keepdims=True)
    if how == "speaker":  # per band: the speaker's mean (unsupervised, all their recordings)
        return S - speaker_mean
    raise ValueError(how)


# ------------------------------------------------------------------------------------------------
# Models


def make_model(kind, input_shape, n_classes, seed=0):
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    T, F = input_shape
    inp = keras.Input((T, F))
    if kind == "cnn2d":
        x = layers.Reshape((T, F, 1))(inp)
        x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
        x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
        x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(x)
        x = layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dropout(0.2)(x)
    elif kind == "cnn2d_wide":  # more channels, batch normalisation (folded at conversion)
        x = layers.Reshape((T, F, 1))(inp)
        for ch in (24, 48, 64, 96):
            x = layers.Conv2D(ch, 3, strides=2, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.ReLU()(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dropout(0.3)(x)
    elif kind == "dscnn":  # depthwise-separable, as in the keyword-spotting benchmark
        x = layers.Reshape((T, F, 1))(inp)
        x = layers.Conv2D(32, (5, 3), strides=2, padding="same", activation="relu")(x)
        for _ in range(3):
            x = layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
            x = layers.Conv2D(32, 1, activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
        x = layers.GlobalAveragePooling2D()(x)
        x = layers.Dropout(0.2)(x)
    elif kind == "cnn1d":  # bands as channels, convolution over time
        x = layers.Conv1D(32, 5, strides=2, padding="same", activation="relu")(inp)
        x = layers.Conv1D(48, 5, strides=2, padding="same", activation="relu")(x)
        x = layers.Conv1D(64, 5, strides=2, padding="same", activation="relu")(x)
        x = layers.GlobalMaxPooling1D()(x)
        x = layers.Dropout(0.2)(x)
    elif kind == "gru":
        x = layers.GRU(48)(inp)
        x = layers.Dropout(0.2)(x)
    else:
        raise ValueError(kind)
    out = layers.Dense(n_classes, activation="softmax")(x)
    m = keras.Model(inp, out)
    m.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


def macs(model):
    """Multiply-accumulates of one inference (conv, depthwise, dense, GRU)."""
    total = 0
    for layer in model.layers:
        name = type(layer).__name__
        w = layer.get_weights()
        if not w:
            continue
        out = layer.output.shape
        if name in ("Conv2D", "DepthwiseConv2D"):
            total += int(np.prod(out[1:3])) * int(np.prod(w[0].shape)) // (
                1 if name == "Conv2D" else 1)
        elif name == "Conv1D":
            total += int(out[1]) * int(np.prod(w[0].shape))
        elif name == "Dense":
            total += int(np.prod(w[0].shape))
        elif name == "GRU":
            total += int(layer.input.shape[1]) * (int(np.prod(w[0].shape))
                                                  + int(np.prod(w[1].shape)))
    return total


# ------------------------------------------------------------------------------------------------
# The study


def features_of(waves, cfg):
    fe = dsp.AudioFeatures(cfg)
    return np.stack([fe.frames_of(w) for w in waves])


def build_sets(utts, cfg, n_aug, seed=0):
    """Test windows (centred, no augmentation) of every recording, and n_aug augmented windows
    of every recording (random placement, perturbation)."""
    rng = np.random.default_rng(seed)
    test = features_of([place(u.samples, rng, True) for u in utts], cfg)
    aug = []
    for k in range(n_aug):
        waves = []
        for u in utts:
            x = perturb(u.samples, rng) if k else u.samples
            waves.append(place(x, rng, False, level_db=rng.uniform(-70, -45)))
        aug.append(features_of(waves, cfg))
    return test, np.stack(aug, axis=1)  # (n, T, F), (n, n_aug, T, F)


spec_augment = audio.spec_augment  # the masking the default pipeline uses


def run_setting(name, utts, test, aug, norm, model_kind, epochs, log, masks=False):
    y = np.array([int(u.label) if u.label.isdigit() else 0 for u in utts])
    labels = sorted({u.label for u in utts})
    y = np.array([labels.index(u.label) for u in utts])
    groups = np.array([u.group for u in utts])
    res = {}
    t0 = time.time()
    n_macs = None
    for g in sorted(set(groups)):
        tr, te = groups != g, groups == g
        spk_mean = {s: test[groups == s].mean(axis=(0, 1)) for s in set(groups)}
        Xtr = np.concatenate([normalise(aug[tr][:, k], norm, spk_mean_for(groups[tr], spk_mean))
                              for k in range(aug.shape[1])])
        ytr = np.concatenate([y[tr]] * aug.shape[1])
        Xte = normalise(test[te], norm, spk_mean[g])
        mu, sd = Xtr.mean(axis=(0, 1)), Xtr.std(axis=(0, 1)) + 1e-3  # global standardisation
        model = make_model(model_kind, Xtr.shape[1:], len(labels))
        n_macs = macs(model)
        Xtr = (Xtr - mu) / sd
        if masks:
            Xtr = spec_augment(Xtr, np.random.default_rng(1))
        model.fit(Xtr, ytr, epochs=epochs, batch_size=64, verbose=0, shuffle=True)
        pred = model.predict((Xte - mu) / sd, verbose=0).argmax(1)
        res[g] = float(np.mean(pred == y[te]))
    mean = float(np.mean(list(res.values())))
    log(f"{name:34s} {mean:.3f}  " + " ".join(f"{k}:{v:.2f}" for k, v in res.items())
        + f"  macs {n_macs}  {time.time() - t0:.0f}s")
    return mean, res


def spk_mean_for(groups, spk_mean):
    return np.stack([spk_mean[s] for s in groups])[:, None, :]


MFCC13 = dict(n_mfcc=13)
SETTINGS = {
    # name: (front end overrides, augmentations per recording, normalisation, model[, masks])
    "logmel40 none cnn2d": ({}, 1, "none", "cnn2d"),
    "logmel40 cmn cnn2d": ({}, 1, "cmn", "cnn2d"),
    "logmel40 gain cnn2d": ({}, 1, "gain", "cnn2d"),
    "logmel40 none cnn2d aug4": ({}, 4, "none", "cnn2d"),
    "logmel40 cmn cnn2d aug4": ({}, 4, "cmn", "cnn2d"),
    "logmel40 gain cnn2d aug4": ({}, 4, "gain", "cnn2d"),
    "logmel40 speaker cnn2d aug4": ({}, 4, "speaker", "cnn2d"),
    "logmel40 cmn cnn1d aug4": ({}, 4, "cmn", "cnn1d"),
    "logmel40 cmn gru aug4": ({}, 4, "cmn", "gru"),
    "logmel40 cmn dscnn aug4": ({}, 4, "cmn", "dscnn"),
    "logmel40 cmvn cnn2d aug4": ({}, 4, "cmvn", "cnn2d"),
    "mfcc13 cmn cnn1d aug4": (MFCC13, 4, "cmn", "cnn1d"),
    "logmel40 cmn cnn2d aug8 masks": ({}, 8, "cmn", "cnn2d", True),
    "logmel40 bandmax cnn2d aug4": ({}, 4, "bandmax", "cnn2d"),
    "logmel20 cmn cnn2d aug4": (dict(n_mels=20), 4, "cmn", "cnn2d"),
    "mfcc13 cmn cnn2d aug4": (MFCC13, 4, "cmn", "cnn2d"),
    "logmel40 cmn cnn2d_wide aug4": ({}, 4, "cmn", "cnn2d_wide"),
    "logmel20 cmn cnn2d aug8 masks": (dict(n_mels=20), 8, "cmn", "cnn2d", True),
    "logmel20 cmn cnn2d aug16 masks": (dict(n_mels=20), 16, "cmn", "cnn2d", True),
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(audio.fsdd_dir()))
    ap.add_argument("--only", nargs="*", help="settings to run (default: all)")
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    def log(s):
        print(s, flush=True)

    utts = load(args.data)
    log(f"{len(utts)} recordings from {args.data}")
    cache = {}
    for name, (over, n_aug, norm, kind, *masks) in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        cfg = dsp.AudioConfig(**{**dict(sample_rate=RATE, frame_length=256, hop=128,
                                        n_mels=40), **over})
        key = (cfg.to_json(), n_aug)
        if key not in cache:
            t = time.time()
            cache = {key: build_sets(utts, cfg, n_aug)}
            log(f"  features {cfg.n_features} x {cache[key][0].shape[1]} frames, {n_aug} "
                f"augmented copies: {time.time() - t:.0f}s")
        test, aug = cache[key]
        run_setting(name, utts, test, aug, norm, kind, args.epochs, log, masks=bool(masks))


if __name__ == "__main__":
    sys.exit(main())
