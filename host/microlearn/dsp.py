"""Host reference of `microlearn.dsp`: the same blocks, parameters and output layouts as the
device module (C core in core/ml_dsp*.c), in numpy and scipy.

A training pipeline computes features here that the device reproduces:

    from microlearn import dsp
    cfg = dsp.FeatureConfig(length=200, n_axes=3, sample_rate=100, magnitude=True,
                            time=("mean", "std", "rms", "skew", "kurtosis", "ptp"),
                            spectral=dsp.SpectralConfig(fft_length=64, filter="lowpass",
                                                        cutoff=20, n_bins=8))
    X = dsp.features_many(dsp.sliding_windows(recording, 200, 50), cfg)   # (n, n_features)
    cfg.names()          # feature names, in the order of the columns
    cfg.to_json()        # store with the model; on the device: dsp.Features(json.loads(s))

Conventions (docs/dsp.md): windows are periodic (scipy.signal.get_window's default); std is
the population std (ddof=0); skew and kurtosis are the biased moments, kurtosis is Fisher's
(excess, normal = 0), both 0 for a constant signal; the mel scale is HTK's with unnormalised
triangles; IIR filters follow scipy.signal.sosfilt.

Where the device computes in float32, this module rounds to float32 at the same points
(input scaling, vector magnitude, the filtered signal, the features), and it sums in the same
order (sequential sums in double), so that host and device agree to float32 rounding: see the
tolerances in docs/dsp.md.

Bad input is refused as on the device (docs/dsp.md, "Bad input"): NaN or inf in a float input
or parameter, a size that is not an int or out of range, and a result beyond float32's range
raise ValueError/TypeError naming the argument.
"""

import json
from dataclasses import dataclass, field, asdict

import numpy as np
import scipy.signal

__all__ = [
    "TIME_FEATURES", "butter", "IIR", "get_window", "FFT", "Window", "sliding_windows",
    "decode", "stats", "SpectralConfig", "FeatureConfig", "features", "features_many",
    "hz_to_mel", "mel_to_hz", "mel_filterbank", "LogMel", "CONFIG_VERSION",
]

TIME_FEATURES = ("mean", "std", "min", "max", "rms", "skew", "kurtosis", "zero_crossings",
                 "mean_crossings", "ptp", "energy")
CONFIG_VERSION = 1
FFT_MIN, FFT_MAX = 16, 4096
MAX_AXES = 16
MAX_LENGTH = 65535
BUTTER_MAX_ORDER = 16
LOG_FLOOR = np.float32(1e-10)

_WINDOWS = (None, "hann", "hamming")
FLOAT32_MAX = float(np.finfo(np.float32).max)


def _int_arg(v, name, lo, hi, expected=None):
    """An int size argument in lo..hi, as the device's: TypeError for anything but an int
    (a float is not truncated, a bool is not a size), ValueError naming it out of range."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(v).__name__}")
    if not lo <= v <= hi:
        raise ValueError(f"{name} is {v}, expected {expected or f'{lo}..{hi}'}")
    return int(v)


def _finite_arg(v, name):
    """A number parameter, which must be finite (and stay finite as a float32 on the device)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer,
                                                            np.floating)):
        raise TypeError(f"{name} must be a number, got {type(v).__name__}")
    if not np.isfinite(float(v)):
        raise ValueError(f"{name} is not finite")
    return v


def _check_finite(x, name):
    """Float input must be finite, in every function (the device's rule)."""
    x = np.asarray(x)
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x.ravel()))[0])
        raise ValueError(f"{name}[{bad}] is not finite")


def _check_float32(v, name, what):
    """A result the device holds in float32 must fit in it; otherwise the device reports an
    overflow, and so does the host."""
    v = np.asarray(v)
    big = ~(np.abs(v) <= FLOAT32_MAX)
    if np.any(big):
        raise ValueError(f"{name}[{int(np.flatnonzero(big.ravel())[0])}] overflows float32: "
                         f"{what}")


def _f32(v):
    """A Python float holding the float32 nearest v (what a device config stores); v may be
    a decimal string (see FeatureConfig.to_dict)."""
    with np.errstate(over="ignore"):  # beyond float32 gives inf, which the callers refuse
        return float(np.float32(float(v)))


def _f32_text(v):
    """The shortest decimal string of the float32 value v: what to_dict() writes for floats.
    MicroPython's float32 parser (json.loads on a board) can be an ulp off on such strings,
    so the device parses them itself, correctly rounded, like float() here."""
    return str(np.float32(v))


# --------------------------------------------------------------------------------------------
# Filters


def butter(order, cutoff, sample_rate, btype="lowpass"):
    """Butterworth second-order sections, rows [b0 b1 b2 a0 a1 a2]: scipy.signal.butter with
    output='sos' (the device's dsp.butter computes the same coefficients)."""
    if btype in ("low", "high"):
        btype += "pass"
    if btype not in ("lowpass", "highpass"):
        raise ValueError(f"btype must be 'lowpass' or 'highpass', got {btype!r}")
    order = _int_arg(order, "order", 1, BUTTER_MAX_ORDER)
    _finite_arg(cutoff, "cutoff")
    _finite_arg(sample_rate, "sample_rate")
    if not sample_rate > 0:
        raise ValueError("sample_rate must be positive")
    if not 0 < cutoff < sample_rate / 2:
        raise ValueError("cutoff must be above 0 and below sample_rate / 2 (the Nyquist "
                         "frequency)")
    return scipy.signal.butter(order, cutoff, btype, fs=sample_rate, output="sos")


def _check_sos(sos):
    sos = np.asarray(sos, dtype=np.float64)
    if sos.size == 0 or sos.size % 6:
        raise ValueError(f"sos has {sos.size} values, expected a non-zero multiple of 6 (rows "
                         f"of b0 b1 b2 a0 a1 a2)")
    sos = sos.reshape(-1, 6)
    names = ("b0", "b1", "b2", "a0", "a1", "a2")
    for s, row in enumerate(sos):
        for j, v in enumerate(row):
            if not np.isfinite(v):
                raise ValueError(f"sos section {s}: {names[j]} is not finite")
        if row[3] == 0:
            raise ValueError(f"sos section {s}: a0 is 0")
        a1, a2 = row[4] / row[3], row[5] / row[3]
        if not (-1 < a2 < 1 and abs(a1) < 1 + a2):
            raise ValueError(f"sos section {s} is unstable: its poles are on or outside the "
                             f"unit circle (needs |a2| < a0 and |a1| < a0 + a2)")
    return sos / sos[:, 3:4]


class IIR:
    """Cascaded second-order sections with scipy.signal.sosfilt semantics and state kept
    between calls, like the device's dsp.IIR. x: n_channels interleaved channels (a flat array)
    or an array of shape (n_frames, n_channels).

    typecode 'f': float32 in and out (the device computes inside in double: within 1e-7 of
    scipy). typecode 'h': int16 in and out, the exact result rounded half to even and
    saturated (the device's q15 filter stays within 1 LSB of this)."""

    def __init__(self, sos, typecode="f", n_channels=1):
        if typecode not in ("f", "h"):
            raise ValueError(f"typecode must be 'f' (float32) or 'h' (q15), got {typecode!r}")
        _int_arg(n_channels, "n_channels", 1, MAX_AXES)
        self.sos = _check_sos(sos)
        self.typecode = typecode
        self.n_channels = n_channels
        self.reset()

    @property
    def n_sections(self):
        return len(self.sos)

    def reset(self):
        self._zi = np.zeros((self.n_sections, 2, self.n_channels))

    def process(self, x):
        x = np.asarray(x)
        shape = x.shape
        frames = x.reshape(-1, self.n_channels).astype(np.float64)
        if self.typecode == "f":
            _check_finite(frames, "x")
        y, self._zi = scipy.signal.sosfilt(self.sos, frames, axis=0, zi=self._zi)
        if self.typecode == "h":
            return np.clip(np.rint(y), -32768, 32767).astype(np.int16).reshape(shape)
        if not np.all(np.abs(y) <= FLOAT32_MAX):
            self.reset()  # as the device: its state holds the overflow, start afresh
            _check_float32(y.ravel(), "out", "the filter's output is beyond 3.4e38 (the filter "
                                             "state was reset)")
        return y.astype(np.float32).reshape(shape)


# --------------------------------------------------------------------------------------------
# Windows and FFT


def get_window(kind, n):
    """The periodic window of length n (scipy.signal.get_window(kind, n), fftbins=True);
    kind None gives ones."""
    if kind not in _WINDOWS:
        raise ValueError(f"window must be None, 'hann' or 'hamming', got {kind!r}")
    n = _int_arg(n, "n", 0, 1 << 30)
    if kind is None or n == 0:  # (scipy refuses a length of 0; the device fills nothing)
        return np.ones(n)
    return scipy.signal.get_window(kind, n, fftbins=True)


def _check_fft_length(n, name="n"):
    _int_arg(n, name, FFT_MIN, FFT_MAX, f"a power of two in {FFT_MIN}..{FFT_MAX}")
    if n & (n - 1):
        raise ValueError(f"{name} is {n}, expected a power of two in {FFT_MIN}..{FFT_MAX}")


class FFT:
    """Real FFT of n points (a power of two in 16..4096) like the device's dsp.FFT: numpy's
    rfft of the windowed input, no scaling. rfft() returns the device's layout: n/2 + 1
    complex values as n + 2 floats (re, im interleaved)."""

    def __init__(self, n, window=None):
        _check_fft_length(n)
        self.n = n
        self.window = window
        self._w = get_window(window, n)

    def spectrum(self, x):
        x = np.asarray(x)
        if x.shape != (self.n,):
            raise ValueError(f"x has {x.size} values, expected {self.n} (the FFT length)")
        _check_finite(x, "x")
        s = np.fft.rfft(x.astype(np.float64) * self._w)
        _check_float32(s.view(np.float64), "spectrum", "the input is too large for a float32 "
                                                       "spectrum")
        return s

    def rfft(self, x):
        return self.spectrum(x).view(np.float64).copy()

    def magnitude(self, x):
        return np.abs(self.spectrum(x))

    def power(self, x):
        p = np.abs(self.spectrum(x)) ** 2
        _check_float32(p, "out", "the power |X|^2 is beyond 3.4e38")
        return p


# --------------------------------------------------------------------------------------------
# Overlapped windows


class Window:
    """The device's dsp.Window: push exactly `hop` frames at a time; once `length` frames have
    been pushed, push returns True and `window` holds the last `length` frames (oldest first,
    shape (length, n_axes), float32)."""

    def __init__(self, length, hop, n_axes=1):
        length = _int_arg(length, "length", 1, MAX_LENGTH)
        hop = _int_arg(hop, "hop", 1, MAX_LENGTH)
        n_axes = _int_arg(n_axes, "n_axes", 1, MAX_AXES)
        if hop > length:
            raise ValueError(f"hop is {hop}, longer than the window length {length}: samples "
                             f"would be skipped")
        self.length, self.hop, self.n_axes = length, hop, n_axes
        self.reset()

    def reset(self):
        self.window = np.zeros((self.length, self.n_axes), dtype=np.float32)
        self.filled = 0

    @property
    def ready(self):
        return self.filled >= self.length

    def push(self, x):
        x = np.asarray(x)
        if x.size != self.hop * self.n_axes:
            raise ValueError(f"x has {x.size} values, expected {self.hop * self.n_axes} "
                             f"(hop * n_axes: one hop of frames)")
        _check_finite(x, "x")
        self.window = np.concatenate(
            [self.window[self.hop:], x.reshape(self.hop, self.n_axes).astype(np.float32)])
        self.filled = min(self.length, self.filled + self.hop)
        return self.ready


def sliding_windows(x, length, hop):
    """The windows a device sees when it pushes x hop by hop into Window(length, hop): those
    ending at frames k * hop for k * hop >= length. x: (n_frames,) or (n_frames, n_axes).
    Returns (n_windows, length, n_axes) (a view; empty when x is shorter than a window)."""
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[:, None]
    length = _int_arg(length, "length", 1, MAX_LENGTH)
    hop = _int_arg(hop, "hop", 1, MAX_LENGTH)
    if hop > length:
        raise ValueError(f"hop is {hop}, longer than the window length {length}")
    first = -(-length // hop) * hop  # the first push count * hop that fills a window
    ends = np.arange(first, len(x) + 1, hop)
    if len(ends) == 0:
        return np.empty((0, length, x.shape[1]), dtype=x.dtype)
    view = np.lib.stride_tricks.sliding_window_view(x, length, axis=0)  # (n, axes, length)
    return view[ends - length].transpose(0, 2, 1)


# --------------------------------------------------------------------------------------------
# Raw sensor decoding


def decode(data, n_axes=1, byteorder="little", scale=1.0, offset=0.0, typecode="f"):
    """int16 samples in bytes (a sensor FIFO read; frames of n_axes interleaved values) into an
    array of shape (n_frames, n_axes): raw * scale + offset in float32 (typecode 'f'), or that
    rounded half to even and saturated (typecode 'h'). scale and offset: a number or one per
    axis."""
    if byteorder not in ("little", "big"):
        raise ValueError(f"byteorder must be 'little' or 'big', got {byteorder!r}")
    n_axes = _int_arg(n_axes, "n_axes", 1, MAX_AXES)
    if len(data) % (2 * n_axes):
        raise ValueError(f"data has {len(data)} bytes, expected a multiple of {2 * n_axes}")
    raw = np.frombuffer(bytes(data), dtype="<i2" if byteorder == "little" else ">i2")
    raw = raw.reshape(-1, n_axes)
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float32), (n_axes,))
    offset = np.broadcast_to(np.asarray(offset, dtype=np.float32), (n_axes,))
    for name, v in (("scale", scale), ("offset", offset)):
        if not np.all(np.isfinite(v)):
            raise ValueError(f"{name} is not finite")
    if typecode == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            ends = np.float32([-32768, 32767])[:, None] * scale + offset
        bad = np.flatnonzero(~np.all(np.isfinite(ends), axis=0))
        if len(bad):
            raise ValueError(f"axis {bad[0]}: scale and offset take int16 values beyond float32 "
                             f"(|scale| * 32768 + |offset| must stay below 3.4e38)")
    with np.errstate(over="ignore"):  # only an int16 output can get here with an overflow
        v = raw.astype(np.float32) * scale + offset  # float32: two roundings, like the device
    if typecode == "f":
        return v
    if typecode != "h":
        raise ValueError(f"typecode must be 'f' or 'h', got {typecode!r}")
    out = np.clip(np.rint(np.nan_to_num(v)), -32768, 32767).astype(np.int16)
    exact = (scale == 1) & (offset == 0)
    out[:, exact] = raw[:, exact]
    return out


# --------------------------------------------------------------------------------------------
# Time-domain statistics


def _seq_sum(v):
    """Sum in order, in double, like the device (np.sum would sum pairwise)."""
    return float(np.cumsum(v, dtype=np.float64)[-1]) if len(v) else 0.0


def stats(x):
    """The time-domain statistics of a 1-D signal, as the device computes them (dict of the
    TIME_FEATURES names). zero_crossings: i in [1, n) with (x[i-1] < 0) != (x[i] < 0);
    mean_crossings: the same for x - mean; energy: sum of x^2; ptp: max - min."""
    _check_finite(x, "x")
    x = np.asarray(x, dtype=np.float32)
    n = len(x)
    if n == 0:
        raise ValueError("x is empty")
    d64 = x.astype(np.float64)
    s = _seq_sum(d64)
    sum_sq = _seq_sum(d64 * d64)
    mean = s / n
    d = d64 - mean
    d2 = d * d
    m2 = _seq_sum(d2) / n
    m3 = _seq_sum(d2 * d) / n
    m4 = _seq_sum(d2 * d2) / n
    std = float(np.sqrt(m2)) if m2 > 0 else 0.0
    neg = x < 0
    below = d < 0
    return {
        "mean": mean,
        "std": std,
        "min": float(x.min()),
        "max": float(x.max()),
        "rms": float(np.sqrt(sum_sq / n)),
        "skew": m3 / (m2 * std) if m2 > 0 else 0.0,
        "kurtosis": m4 / (m2 * m2) - 3.0 if m2 > 0 else 0.0,
        "zero_crossings": int(np.count_nonzero(neg[1:] != neg[:-1])),
        "mean_crossings": int(np.count_nonzero(below[1:] != below[:-1])),
        "ptp": float(x.max()) - float(x.min()),
        "energy": sum_sq,
    }


# --------------------------------------------------------------------------------------------
# Feature sets


@dataclass
class SpectralConfig:
    """The spectral block (Edge Impulse "spectral analysis" style), per channel: the channel
    minus its mean, optionally Butterworth-filtered (zero initial state), minus its mean again;
    rms, skew, kurtosis of that (stats); the power spectrum |X_k|^2 / fft_length of frames of
    fft_length samples (hop fft_length / 2 with overlap, else fft_length; each windowed), bins
    1..fft_length/2 (up to the cutoff for a low-pass, from it for a high-pass), split into
    n_bins groups of consecutive bins (0: one group per bin), each reduced over its bins and
    all frames by agg ('max' or 'mean'), in dB (10 log10(max(v, 1e-10))) with log."""

    fft_length: int
    filter: str = None  # None, "lowpass", "highpass"
    cutoff: float = None  # Hz
    order: int = 4
    n_bins: int = 0
    agg: str = "max"
    log: bool = True
    overlap: bool = True
    window: str = "hann"
    stats: bool = True

    def __post_init__(self):
        if self.cutoff is not None:
            self.cutoff = _f32(self.cutoff if isinstance(self.cutoff, str)
                               else _finite_arg(self.cutoff, "cutoff"))


@dataclass
class FeatureConfig:
    """A feature set: for each channel (the n_axes axes, then with magnitude the vector
    magnitude "mag"), the listed time features in the listed order, then the spectral block.
    Every input value is first multiplied by scale. Floats are kept as float32 values, as on
    the device."""

    length: int
    n_axes: int = 1
    sample_rate: float = 0.0
    scale: float = 1.0
    magnitude: bool = False
    axes: tuple = None  # names; default x y z for three axes, else a0 a1 ...
    time: tuple = ()
    spectral: SpectralConfig = None

    def __post_init__(self):
        for name in ("sample_rate", "scale"):
            v = getattr(self, name)
            v = _f32(v) if isinstance(v, str) else _f32(_finite_arg(v, name))
            if not np.isfinite(v):
                raise ValueError(f"{name} is not finite (as a float32)")
            setattr(self, name, v)
        self.time = tuple(self.time)
        if isinstance(self.spectral, dict):
            self.spectral = SpectralConfig(**self.spectral)
        if self.axes is None:
            self.axes = ("x", "y", "z") if self.n_axes == 3 else tuple(
                f"a{i}" for i in range(self.n_axes))
        self.axes = tuple(self.axes)
        self._derive()

    # The checks and derived values of ml_dsp_features_init.
    def _derive(self):
        _int_arg(self.length, "length", 1, MAX_LENGTH)
        _int_arg(self.n_axes, "n_axes", 1, MAX_AXES)
        if len(self.axes) != self.n_axes:
            raise ValueError(f"axes has {len(self.axes)} names, expected {self.n_axes}")
        # Feature names are <axis>_<feature>: equal axes would give two features one name.
        for i, a in enumerate(self.axes):
            if not isinstance(a, str):
                raise TypeError("axes names must be strings")
            if self.magnitude and a == "mag":
                raise ValueError("axes: 'mag' is the magnitude channel's name, pick another")
            if a in self.axes[:i]:
                raise ValueError(f"axes: names {self.axes.index(a)} and {i} are equal, "
                                 f"expected distinct names")
        for t in self.time:
            if t not in TIME_FEATURES:
                raise ValueError(f"unknown time feature {t!r} (known: {' '.join(TIME_FEATURES)})")
        if len(set(self.time)) != len(self.time):
            raise ValueError("a time feature is listed twice")
        per = len(self.time)
        self._bins = None
        sp = self.spectral
        if sp is not None:
            n = sp.fft_length
            _int_arg(sp.n_bins, "n_bins", 0, FFT_MAX)
            if not self.sample_rate > 0:
                raise ValueError("sample_rate must be positive")
            _check_fft_length(n, "fft_length")
            if n > self.length:
                raise ValueError(f"fft_length is {n}, expected at most the window length "
                                 f"{self.length}")
            if sp.window not in _WINDOWS:
                raise ValueError(f"spectral window must be None, 'hann' or 'hamming', got "
                                 f"{sp.window!r}")
            if sp.agg not in ("max", "mean"):
                raise ValueError(f"agg must be 'max' or 'mean', got {sp.agg!r}")
            k_lo, k_hi = 1, n // 2
            if sp.filter is not None:
                if sp.filter not in ("lowpass", "highpass"):
                    raise ValueError(f"spectral filter must be None, 'lowpass' or 'highpass', "
                                     f"got {sp.filter!r}")
                if sp.cutoff is None:
                    raise ValueError(f"spectral filter {sp.filter!r} needs a cutoff (Hz)")
                _int_arg(sp.order, "order", 1, BUTTER_MAX_ORDER)
                if not np.isfinite(sp.cutoff):
                    raise ValueError("cutoff is not finite (as a float32)")
                if not 0 < sp.cutoff < self.sample_rate / 2:
                    raise ValueError("cutoff must be above 0 and below sample_rate / 2")
                t = sp.cutoff * n / self.sample_rate  # the device's double arithmetic
                if sp.filter == "lowpass":
                    k_hi = min(int(t), n // 2)
                else:
                    k_lo = max(int(np.ceil(t)), 1)
                if k_hi < k_lo:
                    raise ValueError("no FFT bin passes the filter: raise fft_length or move "
                                     "the cutoff")
            nb = k_hi - k_lo + 1
            if sp.n_bins > nb:
                raise ValueError(f"n_bins is {sp.n_bins}, expected at most {nb} (the FFT bins "
                                 f"that pass the filter)")
            groups = sp.n_bins or nb
            self._bins = (k_lo, k_hi, groups)
            per += (3 if sp.stats else 0) + groups
        if per == 0:
            raise ValueError("no features selected")
        self._per_channel = per

    @property
    def channels(self):
        return list(self.axes) + (["mag"] if self.magnitude else [])

    @property
    def n_features(self):
        return len(self.channels) * self._per_channel

    def names(self):
        out = []
        for ch in self.channels:
            out += [f"{ch}_{t}" for t in self.time]
            if self.spectral is not None:
                if self.spectral.stats:
                    out += [f"{ch}_spec_rms", f"{ch}_spec_skew", f"{ch}_spec_kurtosis"]
                out += [f"{ch}_psd_{g}" for g in range(self._bins[2])]
        return out

    def to_dict(self):
        """Everything the device's dsp.Features(config) needs, all keys explicit. Floats are
        written as decimal strings (the shortest that give the float32 value): on a board,
        json.loads of a float can be an ulp off, a string is parsed exactly by dsp.Features."""
        d = {
            "version": CONFIG_VERSION,
            "length": int(self.length),
            "n_axes": int(self.n_axes),
            "sample_rate": _f32_text(self.sample_rate),
            "scale": _f32_text(self.scale),
            "magnitude": bool(self.magnitude),
            "axes": list(self.axes),
            "time": list(self.time),
            "spectral": None,
        }
        if self.spectral is not None:
            sp = asdict(self.spectral)
            if sp["cutoff"] is not None:
                sp["cutoff"] = _f32_text(sp["cutoff"])
            d["spectral"] = sp
        return d

    def to_json(self):
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        version = d.pop("version", CONFIG_VERSION)
        if version != CONFIG_VERSION:
            raise ValueError(f"config version is {version}, this module reads version "
                             f"{CONFIG_VERSION}")
        return cls(**d)

    @classmethod
    def from_json(cls, s):
        return cls.from_dict(json.loads(s))


def _spectral_block(chan, cfg, sos):
    """The spectral features of one channel (float32 signal), as the device computes them."""
    sp = cfg.spectral
    n = sp.fft_length
    chan64 = chan.astype(np.float64)
    sig = (chan64 - _seq_sum(chan64) / len(chan)).astype(np.float32)
    if sos is not None:
        sig = scipy.signal.sosfilt(sos, sig.astype(np.float64)).astype(np.float32)
    sig64 = sig.astype(np.float64)
    sig = (sig64 - _seq_sum(sig64) / len(sig)).astype(np.float32)
    out = []
    if sp.stats:
        st = stats(sig)
        out += [st["rms"], st["skew"], st["kurtosis"]]
    step = n // 2 if sp.overlap else n
    starts = range(0, cfg.length - n + 1, step)
    w = get_window(sp.window, n)
    k_lo, k_hi, groups = cfg._bins
    frames = np.stack([sig[s:s + n].astype(np.float64) for s in starts])
    p = (np.abs(np.fft.rfft(frames * w, axis=1)) ** 2 / n)[:, k_lo:k_hi + 1]
    nb = k_hi - k_lo + 1
    for g in range(groups):
        a, b = g * nb // groups, (g + 1) * nb // groups
        block = p[:, a:b]
        v = block.max() if sp.agg == "max" else block.mean()
        if sp.log:
            v = 10 * np.log10(max(np.float32(v), LOG_FLOOR))
        out.append(v)
    return out


def features(window, config):
    """The feature vector (float32, config.n_features values in config.names() order) of one
    window of shape (length, n_axes) (or length * n_axes values, frames interleaved)."""
    cfg = config if isinstance(config, FeatureConfig) else FeatureConfig.from_dict(config)
    return _features(window, cfg, _sos_of(cfg))


def _sos_of(cfg):
    sp = cfg.spectral
    if sp is None or sp.filter is None:
        return None
    return butter(sp.order, sp.cutoff, cfg.sample_rate, sp.filter)


def _features(window, cfg, sos):
    x = np.asarray(window)
    if x.size != cfg.length * cfg.n_axes:
        raise ValueError(f"window has {x.size} values, expected {cfg.length * cfg.n_axes} "
                         f"(length * n_axes, frames interleaved)")
    x = x.reshape(cfg.length, cfg.n_axes).astype(np.float32)
    _check_finite(x, "window")
    with np.errstate(over="ignore", invalid="ignore"):
        out = _features_of(x, cfg, sos)
    # Finite input can still overflow float32 (scale, squares, power spectra): reported, as on
    # the device, never returned as inf or NaN features.
    bad = np.flatnonzero(~np.isfinite(out))
    if len(bad):
        k = int(bad[0])
        raise ValueError(f"feature {k} ({cfg.names()[k]}) overflows float32: the window's "
                         f"values are too large")
    return out


def _features_of(x, cfg, sos):
    x = x * np.float32(cfg.scale)
    chans = [x[:, k] for k in range(cfg.n_axes)]
    if cfg.magnitude:
        m = chans[0] * chans[0]
        for c in chans[1:]:
            m = m + c * c  # float32, in axis order, like the device
        chans.append(np.sqrt(m))
    out = []
    for c in chans:
        if cfg.time:
            st = stats(c)
            out += [st[t] for t in cfg.time]
        if cfg.spectral is not None:
            out += _spectral_block(c, cfg, sos)
    return np.asarray(out, dtype=np.float32)


def features_many(windows, config):
    """features() of each window: (n_windows, length, n_axes) -> (n_windows, n_features)."""
    cfg = config if isinstance(config, FeatureConfig) else FeatureConfig.from_dict(config)
    sos = _sos_of(cfg)
    out = np.empty((len(windows), cfg.n_features), dtype=np.float32)
    for i, w in enumerate(windows):
        out[i] = _features(w, cfg, sos)
    return out


# --------------------------------------------------------------------------------------------
# Log-mel


def hz_to_mel(f):
    """HTK mel scale: 2595 log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sample_rate, n_fft, n_mels, fmin=0.0, fmax=None):
    """(n_mels, n_fft // 2 + 1) triangular filters: n_mels + 2 points equally spaced in HTK mel
    between fmin and fmax; filter m rises linearly in Hz from point m to m + 1 and falls to
    m + 2, peak 1, no area normalisation, evaluated at bin frequencies k * sample_rate / n_fft
    (librosa.filters.mel(htk=True, norm=None) defines the same matrix)."""
    fmax = sample_rate / 2 if fmax is None else fmax
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    f = np.arange(n_fft // 2 + 1) * sample_rate / n_fft
    lo, c, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0.0, np.minimum((f - lo) / (c - lo), (hi - f) / (hi - c)))


class LogMel:
    """Log-mel frames like the device's dsp.LogMel: the power spectrum |X_k|^2 of a windowed
    frame of n_fft samples, weighted by mel_filterbank, in dB (10 log10(max(p, 1e-10))) with
    log. spectrogram(x): frames every hop samples, no padding: 1 + (len(x) - n_fft) // hop."""

    def __init__(self, sample_rate, n_fft, hop=None, n_mels=40, fmin=0.0, fmax=None,
                 window="hann", log=True):
        _check_fft_length(n_fft, "n_fft")
        self.sample_rate = _f32(_finite_arg(sample_rate, "sample_rate"))
        self.n_fft, self.n_mels = n_fft, _int_arg(n_mels, "n_mels", 1, 512)
        self.hop = n_fft // 2 if hop is None else _int_arg(hop, "hop", 1, MAX_LENGTH)
        self.fmin = _f32(_finite_arg(fmin, "fmin"))
        self.fmax = _f32(self.sample_rate / 2 if fmax is None else _finite_arg(fmax, "fmax"))
        if not (0 <= self.fmin < self.fmax <= self.sample_rate / 2):
            raise ValueError("expected 0 <= fmin < fmax <= sample_rate / 2")
        if not 1 <= n_mels <= 512:
            raise ValueError(f"n_mels is {n_mels}, expected 1..512")
        self.log = log
        self.filterbank = mel_filterbank(self.sample_rate, n_fft, n_mels, self.fmin, self.fmax)
        self._w = get_window(window, n_fft)

    def frames(self, n):
        n = _int_arg(n, "n", 0, (1 << 30) - 1)
        return 0 if n < self.n_fft else 1 + (n - self.n_fft) // self.hop

    def process(self, frame):
        _check_finite(frame, "frame")
        frame = np.asarray(frame, dtype=np.float64)
        p = np.abs(np.fft.rfft(frame * self._w)) ** 2
        mel = self.filterbank @ p
        if self.log:
            return (10 * np.log10(np.maximum(mel, 1e-10))).astype(np.float32)
        return mel.astype(np.float32)

    def spectrogram(self, x):
        x = np.asarray(x)
        return np.stack([self.process(x[i * self.hop:i * self.hop + self.n_fft])
                         for i in range(self.frames(len(x)))]) if self.frames(len(x)) else \
            np.empty((0, self.n_mels), dtype=np.float32)


# The streaming audio front end (dsp_audio.py): dsp.AudioConfig, dsp.AudioFeatures, dsp.center.
from .dsp_audio import AudioConfig, AudioFeatures, center  # noqa: E402
