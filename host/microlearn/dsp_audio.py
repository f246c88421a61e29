"""Host twin of the device's streaming audio front end (`dsp.AudioFeatures`, core/ml_dsp_audio.c):
int16 PCM in chunks of any size -> frames of log-mel energies (or MFCCs), with the same
configuration and the same frames: bit for bit in fixed point (the default), within float32
rounding in float (docs/sound.md states the tolerance; tests/device/test_audio.py checks both on
every target).

    cfg = dsp.AudioConfig(sample_rate=8000, frame_length=256, hop=128, n_mels=40)
    fe = dsp.AudioFeatures(cfg)
    F = fe.frames_of(samples)        # all frames of a recording: (n_frames, cfg.n_features)
    new = fe.process(chunk)          # streaming: the frames completed by this chunk
    cfg.to_json()                    # what the device reads: dsp.AudioFeatures(json.loads(s))

Definitions (the device computes the same, in float32):
- samples are scaled to [-1, 1) (int16 / 32768), so levels are in dB re full scale;
- frame i covers samples [i * hop, i * hop + frame_length): it is complete, and emitted, when
  its last sample arrives; no padding at the start or the end (1 + (n - frame_length) // hop
  frames from n samples);
- each frame is multiplied by the periodic window of frame_length points, zero-padded to n_fft,
  and its power spectrum |X_k|^2 (k in [0, n_fft / 2]) weighted by the HTK mel filterbank of
  mel_filterbank (dsp.py: triangles with peak 1, no area normalisation);
- log-mel: 10 log10(max(p, 10^(floor_db / 10)));
- MFCC (n_mfcc > 0): the first n_mfcc coefficients of the orthonormal DCT-II of the log-mel
  values (scipy.fft.dct(type=2, norm="ortho")).

Two arithmetics compute these definitions (the config's fixed_point):
- fixed point (default): integers only, what a core without an FPU does fast (about a tenth of
  the float version's instructions on a Cortex-M3). This module is its specification, step by
  step (_fixed_frames), and the device's result is identical to the bit. Values come out in
  steps of 2^-16 dB; the arithmetic's own noise floor is about 150 dB below full scale.
- float32: the device computes in float32 (within about 1e-3 dB of this float64 rendering).
"""

import json
from dataclasses import asdict, dataclass

import numpy as np

from .dsp import _WINDOWS, FFT_MAX, FFT_MIN, _f32, _f32_text, get_window, mel_filterbank

__all__ = ["AudioConfig", "AudioFeatures", "AUDIO_CONFIG_VERSION", "center"]

AUDIO_CONFIG_VERSION = 1
MAX_MELS = 128


def _next_pow2(n):
    p = FFT_MIN
    while p < n:
        p *= 2
    return p


@dataclass
class AudioConfig:
    sample_rate: float = 8000.0
    frame_length: int = 256  # samples per frame (the analysis window)
    hop: int = 128  # samples between frame starts
    n_fft: int = 0  # FFT points, a power of two >= frame_length; 0: the smallest such
    window: str = "hann"  # None, "hann", "hamming": periodic, frame_length points
    n_mels: int = 40
    fmin: float = 0.0
    fmax: float = 0.0  # 0: sample_rate / 2
    floor_db: float = -100.0  # the lowest log-mel value (power floor 10^(floor_db / 10))
    n_mfcc: int = 0  # 0: log-mel output; else the first n_mfcc DCT-II coefficients
    fixed_point: bool = True  # integer arithmetic (bit-exact with the device), or float32
    version: int = AUDIO_CONFIG_VERSION

    def __post_init__(self):
        self.sample_rate = _f32(self.sample_rate)
        self.fmin = _f32(self.fmin)
        self.fmax = _f32(self.fmax) if float(self.fmax) else self.sample_rate / 2
        self.floor_db = _f32(self.floor_db)
        self.frame_length, self.hop = int(self.frame_length), int(self.hop)
        self.n_mels, self.n_mfcc = int(self.n_mels), int(self.n_mfcc)
        self.n_fft = int(self.n_fft) or _next_pow2(self.frame_length)
        self.fixed_point = bool(self.fixed_point)
        self.check()

    def check(self):
        if self.version != AUDIO_CONFIG_VERSION:
            raise ValueError(f"audio config version {self.version}, expected "
                             f"{AUDIO_CONFIG_VERSION}")
        if not self.sample_rate > 0:
            raise ValueError("sample_rate must be positive")
        if not (FFT_MIN <= self.n_fft <= FFT_MAX and self.n_fft & (self.n_fft - 1) == 0):
            raise ValueError(f"n_fft is {self.n_fft}, expected a power of two in "
                             f"{FFT_MIN}..{FFT_MAX}")
        if not 1 <= self.frame_length <= self.n_fft:
            raise ValueError(f"frame_length is {self.frame_length}, expected 1..{self.n_fft} "
                             f"(n_fft)")
        if not 1 <= self.hop <= self.frame_length:
            raise ValueError(f"hop is {self.hop}, expected 1..{self.frame_length} "
                             f"(frame_length)")
        if self.window not in _WINDOWS:
            raise ValueError(f"window must be None, 'hann' or 'hamming', got {self.window!r}")
        if not 1 <= self.n_mels <= MAX_MELS:
            raise ValueError(f"n_mels is {self.n_mels}, expected 1..{MAX_MELS}")
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ValueError("expected 0 <= fmin < fmax <= sample_rate / 2")
        if not -200 <= self.floor_db <= 0:
            raise ValueError(f"floor_db is {self.floor_db}, expected -200..0")
        if not 0 <= self.n_mfcc <= self.n_mels:
            raise ValueError(f"n_mfcc is {self.n_mfcc}, expected 0..{self.n_mels} (n_mels)")

    @property
    def n_features(self):
        return self.n_mfcc or self.n_mels

    def names(self):
        if self.n_mfcc:
            return [f"mfcc_{i}" for i in range(self.n_mfcc)]
        return [f"mel_{i}" for i in range(self.n_mels)]

    def n_frames(self, n_samples):
        """Frames of a recording of n_samples samples."""
        return 0 if n_samples < self.frame_length else \
            1 + (n_samples - self.frame_length) // self.hop

    def to_dict(self):
        d = asdict(self)
        for k in ("sample_rate", "fmin", "fmax", "floor_db"):
            d[k] = _f32_text(d[k])  # exact float32 values for the device (see dsp.py)
        return d

    def to_json(self):
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d):
        d = dict(d)
        return cls(**{k: float(v) if k in ("sample_rate", "fmin", "fmax", "floor_db") else v
                      for k, v in d.items()})

    @classmethod
    def from_json(cls, s):
        return cls.from_dict(json.loads(s))


def _dct_matrix(n_out, n_in):
    """(n_out, n_in) orthonormal DCT-II: row k = s_k cos(pi k (m + 0.5) / n_in)."""
    k = np.arange(n_out)[:, None]
    m = np.arange(n_in)[None, :]
    d = np.cos(np.pi * k * (m + 0.5) / n_in) * np.sqrt(2.0 / n_in)
    d[0] /= np.sqrt(2.0)
    return d


class AudioFeatures:
    """The streaming front end. process(chunk) takes int16 samples in chunks of any size and
    returns the frames they complete, (k, n_features) float32; frames_of(samples) gives every
    frame of a recording from a fresh state (what process gives for any chunking)."""

    def __init__(self, config=None, **kw):
        if config is None:
            config = AudioConfig(**kw)
        elif isinstance(config, dict):
            config = AudioConfig.from_dict(config)
        self.config = c = config
        self._window = np.zeros(c.n_fft)
        self._window[:c.frame_length] = get_window(c.window, c.frame_length)
        self._fb = mel_filterbank(c.sample_rate, c.n_fft, c.n_mels, c.fmin, c.fmax)
        self._floor = 10.0 ** (float(c.floor_db) / 10.0)
        self._dct = _dct_matrix(c.n_mfcc, c.n_mels) if c.n_mfcc else None
        self._fixed = _FixedTables(c) if c.fixed_point else None
        self.reset()

    @property
    def n_features(self):
        return self.config.n_features

    def reset(self):
        self._pending = np.zeros(0, dtype=np.int16)  # samples of frames not complete yet

    def _frames(self, x):
        c = self.config
        n = c.n_frames(len(x))
        if n == 0:
            return np.empty((0, c.n_features), dtype=np.float32)
        idx = np.arange(c.frame_length)[None, :] + c.hop * np.arange(n)[:, None]
        if self._fixed is not None:
            return _fixed_frames(self._fixed, x[idx])
        fr = np.zeros((n, c.n_fft))
        fr[:, :c.frame_length] = x[idx].astype(np.float64) / 32768.0
        p = np.abs(np.fft.rfft(fr * self._window, axis=1)) ** 2
        out = 10.0 * np.log10(np.maximum(p @ self._fb.T, self._floor))
        if self._dct is not None:
            out = out @ self._dct.T
        return out.astype(np.float32)

    @property
    def pending(self):
        """Samples of the frame being filled."""
        return len(self._pending)

    def frames(self, n):
        """How many frames the next n samples complete."""
        c = self.config
        have = len(self._pending) + n
        return 0 if have < c.frame_length else 1 + (have - c.frame_length) // c.hop

    def frame(self, x):
        """The features of one frame of frame_length samples, outside the stream."""
        x = np.asarray(x)
        if x.dtype != np.int16 or x.shape != (self.config.frame_length,):
            raise ValueError(f"x must be {self.config.frame_length} int16 samples "
                             f"(frame_length)")
        return self._frames(x)[0]

    def frames_of(self, samples):
        """All frames of a recording (int16), independent of the streaming state."""
        x = np.asarray(samples)
        if x.dtype != np.int16:
            raise TypeError(f"samples must be int16, got {x.dtype}")
        return self._frames(x)

    def process(self, chunk):
        """The frames completed by this chunk of int16 samples (any length)."""
        x = np.asarray(chunk)
        if x.dtype != np.int16:
            raise TypeError(f"samples must be int16, got {x.dtype}")
        c = self.config
        buf = np.concatenate([self._pending, x.ravel()])
        n = c.n_frames(len(buf))
        out = self._frames(buf)
        self._pending = buf[n * c.hop:]
        return out


def center(x):
    """Each feature minus its mean over the window's frames, like the device's
    dsp.center(window, out, n_axes): x is (..., n_frames, n_features); the mean is summed in
    double in frame order, divided by n_frames, rounded to float32; the result is float32."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or x.shape[-2] == 0:
        raise ValueError(f"x must be (..., n_frames, n_features) with frames, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x holds a value that is not finite")
    total = np.zeros(x.shape[:-2] + x.shape[-1:], dtype=np.float64)
    for t in range(x.shape[-2]):  # in frame order, as the device sums
        total += x[..., t, :]
    mean = (total / x.shape[-2]).astype(np.float32)
    return x - mean[..., None, :]


# ------------------------------------------------------------------------------------------------
# Fixed point: the specification the C core follows (ml_dsp_audio.c, fixed-point functions).
#
# Tables are the exact values rounded half away from zero: window in Q15 (1.0 = 32768), twiddles
# cos/sin(2 pi k / n_fft) in Q30, mel weights in Q15, DCT in Q15. Right shifts ">> k" are
# arithmetic (floor); "rshift(a, k)" rounds half up: (a + 2^(k-1)) >> k. A frame:
#  1. p[i] = x[i] w[i] (|p| <= 2^30); a frame of zeros gives floor_db everywhere. Scaled to the
#     top T bits (T = 27 up to n_fft 512, 26 above: headroom for steps 2-4): with b the bit
#     length of max |p|, s = T - b, v = p << s (s >= 0) or rshift(p, -s); zero-padded to
#     n_fft; z[j] = v[2j] + i v[2j+1];
#  2. a radix-2 complex FFT of M = n_fft / 2 points (decimation in time, bit-reversed input),
#     every butterfly halving: a' = (2^30 a + t + 2^30) >> 31, b' = (2^30 a - t + 2^30) >> 31,
#     t = b w (Q30 twiddle, int64), so Z = DFT(z) / M;
#  3. the split step, X_k = E_k + W^k O_k, each part in one rounding (see _split),
#     X_0 = Z0r + Z0i, X_M = Z0r - Z0i; so X = rfft(v) / M;
#  4. power P_k = Xr^2 + Xi^2 (int64, < 2^62); with q the bit length of max_k P_k and S the
#     bit length of the largest filter's weight sum, ps = max(0, q + S - 63); mel energy
#     E_b = sum_k W_bk (P_k >> ps), exact in int64;
#  5. level: E_true = E_b 2^(ps + 2 log2 M - 2 s - 75); log2 E_b in Q16 = msb + a 64-segment
#     linear interpolation of log2(1 + f) (table in Q16); dB (Q16) = (log2 E_true (Q16)
#     * round(10 log10(2) 2^30) + 2^29) >> 30, at least floor_db (Q16); E_b = 0 gives floor_db;
#  6. MFCC: c_k = (sum_m D_km L_m + 2^14) >> 15 (Q16);
#  7. out = value / 65536 as float32 (the int32 value rounded to float32 first for |value| >=
#     2^24, as any IEEE conversion does).

_DB_PER_LOG2_Q30 = 3232284966  # round(10 log10(2) 2^30)
_LOG2_TABLE = np.array([round(np.log2(1 + i / 64) * 65536) for i in range(65)], dtype=np.int64)


def _round_q(x, bits):
    """round(x * 2^bits), half away from zero, as int64."""
    v = np.asarray(x, dtype=np.float64) * float(1 << bits)
    return (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64)


class _FixedTables:
    def __init__(self, c):
        n, m = c.n_fft, c.n_fft // 2
        self.window = _round_q(get_window(c.window, c.frame_length), 15)
        k = np.arange(m)
        self.cos = _round_q(np.cos(2 * np.pi * k / n), 30)
        self.sin = _round_q(np.sin(2 * np.pi * k / n), 30)
        self.mel = _round_q(mel_filterbank(c.sample_rate, n, c.n_mels, c.fmin, c.fmax), 15)
        self.sum_bits = int(self.mel.sum(axis=1).max()).bit_length()
        self.log2_m = m.bit_length() - 1
        self.floor = int(_round_q(c.floor_db, 16))
        self.dct = _round_q(_dct_matrix(c.n_mfcc, c.n_mels), 15) if c.n_mfcc else None
        self.n_fft = n
        self.top_bits = 27 if n <= 512 else 26
        self.rev = np.array([int(format(i, f"0{self.log2_m}b")[::-1], 2) for i in range(m)])


def _fft_fixed(t, zr, zi):
    """The complex FFT of step 2 on (frames, M) int64 arrays, in the device's order."""
    m = zr.shape[1]
    zr, zi = zr[:, t.rev], zi[:, t.rev]
    half_q = 1 << 30
    length = 2
    while length <= m:
        half = length // 2
        stride = t.n_fft // length
        j = np.arange(half)
        wr, wi = t.cos[j * stride], -t.sin[j * stride]
        zr = zr.reshape(len(zr), m // length, length)
        zi = zi.reshape(len(zi), m // length, length)
        ar, ai = zr[:, :, :half], zi[:, :, :half]
        br, bi = zr[:, :, half:], zi[:, :, half:]
        tr = br * wr - bi * wi
        ti = br * wi + bi * wr
        zr = np.concatenate([(ar * half_q + tr + half_q) >> 31, (ar * half_q - tr + half_q) >> 31],
                            axis=2).reshape(len(zr), m)
        zi = np.concatenate([(ai * half_q + ti + half_q) >> 31, (ai * half_q - ti + half_q) >> 31],
                            axis=2).reshape(len(zi), m)
        length *= 2
    return zr, zi


def _split(t, zr, zi):
    """Step 3: (frames, M) complex -> (frames, M + 1) real-FFT bins, as int64 re, im."""
    m = zr.shape[1]
    q = 1 << 30
    xr = np.zeros((len(zr), m + 1), dtype=np.int64)
    xi = np.zeros_like(xr)
    xr[:, 0] = zr[:, 0] + zi[:, 0]
    xr[:, m] = zr[:, 0] - zi[:, 0]
    k = np.arange(1, m // 2 + 1)
    ar, ai, br, bi = zr[:, k], zi[:, k], zr[:, m - k], zi[:, m - k]
    c, s = t.cos[k], t.sin[k]
    er, ei = ar + br, ai - bi  # 2 E
    o_r, o_i = ai + bi, br - ar  # 2 O
    wor, woi = c * o_r + s * o_i, c * o_i - s * o_r  # W^k 2 O
    xr[:, k] = (q * er + wor + q) >> 31
    xi[:, k] = (q * ei + woi + q) >> 31
    # X_{M-k} = conj(E - W O); for k = M/2 it is X_k again (written once, from the line above).
    kk = k[k != m - k]
    sel = k != m - k
    xr[:, m - kk] = (q * er[:, sel] - wor[:, sel] + q) >> 31
    xi[:, m - kk] = -((q * ei[:, sel] - woi[:, sel] + q) >> 31)
    return xr, xi


def _log2_q16(e):
    """log2(e) in Q16 for int64 e >= 1: msb + table interpolation of the 31 bits below it."""
    e = np.asarray(e, dtype=np.int64)
    msb = np.zeros(e.shape, dtype=np.int64)
    v = e.copy()
    for b in (32, 16, 8, 4, 2, 1):
        big = v >= (1 << b)
        msb += np.where(big, b, 0)
        v = np.where(big, v >> b, v)
    mant = np.where(msb >= 31, e >> np.maximum(msb - 31, 0), e << np.maximum(31 - msb, 0))
    f = mant - (1 << 31)  # 31 bits
    i = f >> 25
    rem = f & ((1 << 25) - 1)
    lo = _LOG2_TABLE[i]
    frac = lo + (((_LOG2_TABLE[np.minimum(i + 1, 64)] - lo) * rem) >> 25)
    return (msb << 16) + frac


def _bit_length(a):
    """Bit length of each non-negative int64 (0 for 0)."""
    a = np.asarray(a, dtype=np.int64)
    n = np.zeros(a.shape, dtype=np.int64)
    for b in (32, 16, 8, 4, 2, 1):
        big = a >= (1 << b)
        n += np.where(big, b, 0)
        a = np.where(big, a >> b, a)
    return n + (a > 0)


def _fixed_frames(t, frames):
    """Steps 1-7 for (n_frames, frame_length) int16 samples -> (n_frames, n_features) float32."""
    n_frames, fl = frames.shape
    p = frames.astype(np.int64) * t.window
    s = t.top_bits - _bit_length(np.abs(p).max(axis=1))[:, None]  # zero frames: see the end
    up = np.maximum(s, 0)
    down = np.maximum(-s, 0)
    v = np.zeros((n_frames, t.n_fft), dtype=np.int64)
    v[:, :fl] = np.where(s >= 0, p << up, (p + ((1 << down) >> 1)) >> down)
    zr, zi = _fft_fixed(t, v[:, 0::2], v[:, 1::2])
    xr, xi = _split(t, zr, zi)
    power = xr * xr + xi * xi
    ps = np.maximum(0, _bit_length(power.max(axis=1)) + t.sum_bits - 63)[:, None]
    energy = (power >> ps) @ t.mel.T  # exact in int64 (see ps)
    log2 = _log2_q16(np.maximum(energy, 1)) + ((ps + 2 * t.log2_m - 2 * s - 75) << 16)
    db = (log2 * _DB_PER_LOG2_Q30 + (1 << 29)) >> 30
    db = np.where(energy > 0, np.maximum(db, t.floor), t.floor)
    if t.dct is not None:
        db = (db @ t.dct.T + (1 << 14)) >> 15
    return (db.astype(np.int32).astype(np.float32) * np.float32(2.0 ** -16)).astype(np.float32)
