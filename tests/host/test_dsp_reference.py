"""The host reference microlearn.dsp against numpy/scipy and against independent
implementations of its own definitions (where the reference is not scipy itself): statistics,
windows, framing, decoding, mel filterbank, the spectral block, feature configs."""

import json
import struct

import numpy as np
import pytest
import scipy.signal
import scipy.stats

from microlearn import dsp, paths

GESTURES = paths.shipped_gestures()


def load_gestures():
    """The complete (400, 3) int16 recordings; the truncated files are skipped (np.load fails
    or gives fewer rows), as the data set's README asks."""
    out, skipped = [], []
    for f in sorted(GESTURES.glob("*.npy")):
        try:
            a = np.load(f)
        except ValueError:
            skipped.append(f.name)
            continue
        if a.shape != (400, 3) or a.dtype != np.int16:
            skipped.append(f.name)
            continue
        out.append(a)
    return out, skipped


@pytest.fixture(scope="module")
def gestures():
    data, skipped = load_gestures()
    assert len(data) == 19 and len(skipped) == 5, skipped  # the README's five truncated files
    return data


def signals(gestures):
    rng = np.random.default_rng(7)
    t = np.arange(400) / 100
    out = [g[:, k].astype(np.float32) for g in gestures[:8] for k in range(3)]
    out.append((3000 * scipy.signal.chirp(t, 0.1, 4, 45)).astype(np.float32))
    out.append(rng.normal(0, 1, 400).astype(np.float32))
    out.append(np.full(50, 3.25, dtype=np.float32))
    return out


# --------------------------------------------------------------------------------------------
# Statistics


def test_stats_match_numpy_and_scipy(gestures):
    for x in signals(gestures):
        s = dsp.stats(x)
        x64 = x.astype(np.float64)
        assert s["mean"] == pytest.approx(np.mean(x64), rel=1e-12, abs=1e-12)
        assert s["std"] == pytest.approx(np.std(x64), rel=1e-9, abs=1e-12)  # ddof=0
        assert s["rms"] == pytest.approx(np.sqrt(np.mean(x64 ** 2)), rel=1e-12)
        assert s["energy"] == pytest.approx(np.sum(x64 ** 2), rel=1e-12)
        assert s["min"] == x.min() and s["max"] == x.max()
        assert s["ptp"] == pytest.approx(np.ptp(x64))
        if np.std(x64) > 0:
            # Biased moments; Fisher (excess) kurtosis: scipy.stats' defaults.
            assert s["skew"] == pytest.approx(scipy.stats.skew(x64), rel=1e-7, abs=1e-9)
            assert s["kurtosis"] == pytest.approx(scipy.stats.kurtosis(x64), rel=1e-7, abs=1e-9)
        else:
            assert s["skew"] == 0 and s["kurtosis"] == 0


def test_crossings_definition():
    x = np.array([1, -2, 3, 0, -0.0, 5, 2], dtype=np.float32)
    s = dsp.stats(x)
    # 0 and -0 are non-negative: + - + + + + + -> 2; against the mean 9/7: - - + - - + + -> 3
    assert s["zero_crossings"] == 2
    assert s["mean_crossings"] == 3
    rng = np.random.default_rng(1)
    for _ in range(20):
        y = rng.normal(0.3, 1, 101).astype(np.float32)
        s = dsp.stats(y)
        zc = sum((y[i - 1] < 0) != (y[i] < 0) for i in range(1, len(y)))
        m = np.mean(y.astype(np.float64))
        mc = sum((y[i - 1] < m) != (y[i] < m) for i in range(1, len(y)))
        assert (s["zero_crossings"], s["mean_crossings"]) == (zc, mc)


# --------------------------------------------------------------------------------------------
# Windows, FFT, framing


@pytest.mark.parametrize("kind", ["hann", "hamming"])
def test_windows_are_periodic(kind):
    n = 64
    w = dsp.get_window(kind, n)
    a0 = 0.5 if kind == "hann" else 0.54
    ref = a0 - (1 - a0) * np.cos(2 * np.pi * np.arange(n) / n)
    np.testing.assert_allclose(w, ref, atol=1e-15)
    np.testing.assert_allclose(w[1:], w[1:][::-1], atol=1e-15)  # w[k] == w[n - k]
    # numpy's hanning is the symmetric one: it is not what we use
    assert not np.allclose(w, np.hanning(n) if kind == "hann" else np.hamming(n))
    np.testing.assert_array_equal(dsp.get_window(None, 8), np.ones(8))
    with pytest.raises(ValueError, match="window must be"):
        dsp.get_window("blackman", 8)


def test_fft_layout():
    rng = np.random.default_rng(2)
    x = rng.normal(size=128)
    f = dsp.FFT(128, window="hann")
    spec = np.fft.rfft(x * scipy.signal.get_window("hann", 128))
    out = f.rfft(x)
    assert out.shape == (130,)
    np.testing.assert_allclose(out[0::2] + 1j * out[1::2], spec)
    np.testing.assert_allclose(f.magnitude(x), np.abs(spec))
    np.testing.assert_allclose(f.power(x), np.abs(spec) ** 2)
    for bad in (8, 100, 8192):
        with pytest.raises(ValueError, match="power of two"):
            dsp.FFT(bad)


def test_sliding_windows_match_window_pushes():
    rng = np.random.default_rng(3)
    x = rng.integers(-1000, 1000, size=(103, 3)).astype(np.int16)
    for length, hop in [(20, 5), (20, 20), (21, 4), (16, 1)]:
        win = dsp.Window(length, hop, n_axes=3)
        seen = []
        for i in range(0, len(x) - hop + 1, hop):
            if win.push(x[i:i + hop]):
                seen.append(win.window.copy())
        ref = dsp.sliding_windows(x, length, hop)
        assert len(seen) == len(ref)
        for a, b in zip(seen, ref):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="hop is 9"):
        dsp.Window(8, 9)


def test_decode_matches_struct():
    rng = np.random.default_rng(4)
    vals = rng.integers(-32768, 32767, size=60).astype(np.int16)
    for order, fmt in (("little", "<"), ("big", ">")):
        data = struct.pack(f"{fmt}60h", *vals.tolist())
        got = dsp.decode(data, n_axes=3, byteorder=order)
        np.testing.assert_array_equal(got, vals.reshape(20, 3).astype(np.float32))
        scaled = dsp.decode(data, n_axes=3, byteorder=order, scale=(0.5, 2.0, 1.0),
                            offset=(1.0, 0.0, -3.0))
        ref = vals.reshape(20, 3).astype(np.float32) * np.float32([0.5, 2, 1]) + \
            np.float32([1, 0, -3])
        np.testing.assert_array_equal(scaled, ref)
        h = dsp.decode(data, n_axes=3, byteorder=order, scale=0.5, typecode="h")
        np.testing.assert_array_equal(h, np.rint(vals.reshape(20, 3) * 0.5).astype(np.int16))
        sat = dsp.decode(data, n_axes=3, byteorder=order, scale=2.0, typecode="h")
        np.testing.assert_array_equal(sat, np.clip(vals.reshape(20, 3) * 2.0, -32768, 32767))


# --------------------------------------------------------------------------------------------
# IIR and Butterworth


def test_butter_is_scipy():
    for args in [(4, 5.0, 100.0, "lowpass"), (3, 0.5, 100.0, "highpass")]:
        np.testing.assert_array_equal(
            dsp.butter(*args), scipy.signal.butter(args[0], args[1], args[3], fs=args[2],
                                                   output="sos"))


def test_iir_streaming_and_q15(gestures):
    sos = dsp.butter(4, 0.5, 100, "highpass")
    x = gestures[0].astype(np.float32)  # three interleaved channels
    ref = scipy.signal.sosfilt(sos, x.astype(np.float64), axis=0)
    f = dsp.IIR(sos, n_channels=3)
    chunks = [f.process(x[i:i + 37]) for i in range(0, 400, 37)]
    np.testing.assert_array_equal(np.concatenate(chunks), ref.astype(np.float32))
    q = dsp.IIR(sos, typecode="h", n_channels=3)
    np.testing.assert_array_equal(q.process(gestures[0]),
                                  np.clip(np.rint(ref), -32768, 32767).astype(np.int16))
    for bad, msg in [([1, 0, 0, 0, 0, 0], "a0 is 0"), ([1, 0, 0, 1, 0, 1.0], "unstable"),
                     ([1, 2, 3], "multiple of 6"), ([1, 0, 0, 1, np.nan, 0], "not finite")]:
        with pytest.raises(ValueError, match=msg):
            dsp.IIR(bad)
    with pytest.raises(ValueError, match="not finite"):
        dsp.IIR(sos).process([1.0, np.nan])


# --------------------------------------------------------------------------------------------
# Log-mel


def naive_mel_filterbank(sr, n_fft, n_mels, fmin, fmax):
    """The HTK triangles, written out bin by bin."""
    def mel(f):
        return 2595 * np.log10(1 + f / 700)

    def hz(m):
        return 700 * (10 ** (m / 2595) - 1)

    pts = [hz(mel(fmin) + (mel(fmax) - mel(fmin)) * i / (n_mels + 1)) for i in range(n_mels + 2)]
    fb = np.zeros((n_mels, n_fft // 2 + 1))
    for m in range(n_mels):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        for k in range(n_fft // 2 + 1):
            f = k * sr / n_fft
            if lo < f <= c:
                fb[m, k] = (f - lo) / (c - lo)
            elif c < f < hi:
                fb[m, k] = (hi - f) / (hi - c)
    return fb


def test_mel_filterbank_and_frames():
    fb = dsp.mel_filterbank(16000, 512, 40, 20, 7600)
    np.testing.assert_allclose(fb, naive_mel_filterbank(16000, 512, 40, 20, 7600), atol=1e-12)
    assert fb.max() <= 1.0
    np.testing.assert_allclose(dsp.mel_to_hz(dsp.hz_to_mel([0, 700, 8000])), [0, 700, 8000])
    assert dsp.hz_to_mel(700) == pytest.approx(2595 * np.log10(2))
    rng = np.random.default_rng(5)
    sr, n = 16000, 1600
    t = np.arange(n) / sr
    x = 0.3 * scipy.signal.chirp(t, 100, t[-1], 6000) + 0.01 * rng.normal(size=n)
    m = dsp.LogMel(sr, 512, hop=160, n_mels=40, fmin=20, fmax=7600)
    spec = m.spectrogram(x)
    assert spec.shape == (1 + (n - 512) // 160, 40) == (m.frames(n), 40)
    w = scipy.signal.get_window("hann", 512)
    for i in (0, 3, spec.shape[0] - 1):
        p = np.abs(np.fft.rfft(x[i * 160:i * 160 + 512] * w)) ** 2
        ref = 10 * np.log10(np.maximum(naive_mel_filterbank(sr, 512, 40, 20, 7600) @ p, 1e-10))
        np.testing.assert_allclose(spec[i], ref, rtol=1e-5, atol=1e-4)


# --------------------------------------------------------------------------------------------
# Feature sets


def naive_spectral(chan, sr, sp):
    """The spectral block from its definition, with plain numpy/scipy."""
    x = chan.astype(np.float64) - chan.astype(np.float64).mean()
    if sp.filter:
        x = scipy.signal.sosfilt(scipy.signal.butter(sp.order, sp.cutoff, sp.filter, fs=sr,
                                                     output="sos"), x)
    x = x - x.mean()
    out = []
    if sp.stats:
        out += [np.sqrt(np.mean(x ** 2)), scipy.stats.skew(x), scipy.stats.kurtosis(x)]
    n = sp.fft_length
    step = n // 2 if sp.overlap else n
    frames = [x[s:s + n] for s in range(0, len(x) - n + 1, step)]
    w = np.ones(n) if sp.window is None else scipy.signal.get_window(sp.window, n)
    p = np.array([np.abs(np.fft.rfft(f * w)) ** 2 / n for f in frames])
    freqs = np.arange(n // 2 + 1) * sr / n
    keep = freqs > 0
    if sp.filter == "lowpass":
        keep &= freqs <= sp.cutoff
    elif sp.filter == "highpass":
        keep &= freqs >= sp.cutoff
    p = p[:, keep]
    groups = sp.n_bins or p.shape[1]
    edges = [g * p.shape[1] // groups for g in range(groups + 1)]
    for g in range(groups):
        block = p[:, edges[g]:edges[g + 1]]
        v = block.max() if sp.agg == "max" else block.mean()
        out.append(10 * np.log10(max(v, 1e-10)) if sp.log else v)
    return out


CONFIGS = [
    dsp.FeatureConfig(length=200, n_axes=3, sample_rate=100, magnitude=True,
                      time=dsp.TIME_FEATURES,
                      spectral=dsp.SpectralConfig(fft_length=64, filter="lowpass", cutoff=20,
                                                  n_bins=8)),
    dsp.FeatureConfig(length=128, n_axes=3, sample_rate=100, scale=1 / 16384,
                      time=("rms", "kurtosis"),
                      spectral=dsp.SpectralConfig(fft_length=128, filter="highpass", cutoff=0.5,
                                                  order=6, agg="mean", overlap=False,
                                                  window="hamming")),
    dsp.FeatureConfig(length=100, n_axes=1, sample_rate=100,
                      spectral=dsp.SpectralConfig(fft_length=32, log=False, window=None,
                                                  stats=False)),
]


@pytest.mark.parametrize("ci", range(len(CONFIGS)))
def test_features_against_definitions(gestures, ci):
    cfg = CONFIGS[ci]
    names = cfg.names()
    assert len(names) == cfg.n_features == len(set(names))
    for g in gestures[:5]:
        w = g[:cfg.length, :cfg.n_axes]
        got = dsp.features(w, cfg)
        assert got.dtype == np.float32 and got.shape == (cfg.n_features,)
        x = w.astype(np.float32) * np.float32(cfg.scale)
        chans = [x[:, k] for k in range(cfg.n_axes)]
        if cfg.magnitude:
            chans.append(np.sqrt((x.astype(np.float64) ** 2).sum(axis=1)))
        ref = []
        for c in chans:
            c64 = np.asarray(c, dtype=np.float64)
            for t in cfg.time:
                ref.append({
                    "mean": np.mean(c64), "std": np.std(c64), "min": c64.min(),
                    "max": c64.max(), "rms": np.sqrt(np.mean(c64 ** 2)),
                    "skew": scipy.stats.skew(c64), "kurtosis": scipy.stats.kurtosis(c64),
                    "zero_crossings": np.count_nonzero(np.diff((c64 < 0).astype(int))),
                    "mean_crossings": np.count_nonzero(np.diff((c64 < c64.mean()).astype(int))),
                    "ptp": np.ptp(c64), "energy": np.sum(c64 ** 2)}[t])
            if cfg.spectral:
                ref += naive_spectral(np.asarray(c, dtype=np.float32), cfg.sample_rate,
                                      cfg.spectral)
        ref = np.asarray(ref)
        for name, a, b in zip(names, got, ref):
            if name.endswith(("skew", "kurtosis")):
                assert a == pytest.approx(b, abs=1e-4), name
            elif "_psd_" in name and cfg.spectral.log:
                assert a == pytest.approx(b, abs=1e-3), name  # dB
            else:
                assert a == pytest.approx(b, rel=2e-5, abs=1e-6 * abs(ref).max()), name


def test_config_round_trip_and_errors():
    cfg = CONFIGS[1]
    d = cfg.to_dict()
    assert d["version"] == 1 and d["scale"] == "6.1035156e-05"
    assert dsp.FeatureConfig.from_json(json.dumps(d)) == cfg
    assert dsp.FeatureConfig.from_dict(d).names() == cfg.names()
    assert cfg.names()[:4] == ["x_rms", "x_kurtosis", "x_spec_rms", "x_spec_skew"]
    assert dsp.FeatureConfig(length=10, n_axes=2, time=["mean"]).names() == ["a0_mean",
                                                                             "a1_mean"]
    bad = [
        (dict(length=32, time=["mean", "mean"]), "twice"),
        (dict(length=32, time=["median"]), "unknown time feature"),
        (dict(length=32), "no features"),
        (dict(length=32, sample_rate=100, spectral=dict(fft_length=64)), "at most the window"),
        (dict(length=64, sample_rate=100, spectral=dict(fft_length=48)), "power of two"),
        (dict(length=64, sample_rate=100, spectral=dict(fft_length=32, filter="lowpass",
                                                        cutoff=80)), "cutoff"),
        (dict(length=64, sample_rate=100, spectral=dict(fft_length=32, n_bins=17)), "n_bins"),
        (dict(length=64, spectral=dict(fft_length=32)), "sample_rate"),
    ]
    for kw, msg in bad:
        with pytest.raises(ValueError, match=msg):
            dsp.FeatureConfig(**kw)
    with pytest.raises(ValueError, match="version"):
        dsp.FeatureConfig.from_dict(dict(d, version=2))


def test_features_many_and_nan():
    cfg = CONFIGS[2]
    rng = np.random.default_rng(6)
    w = rng.normal(size=(4, 100, 1))
    many = dsp.features_many(w, cfg)
    for i in range(4):
        np.testing.assert_array_equal(many[i], dsp.features(w[i], cfg))
    w[0, 5, 0] = np.nan
    with pytest.raises(ValueError, match=r"window\[5\] is not finite"):
        dsp.features(w[0], cfg)
