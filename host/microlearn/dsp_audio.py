"""Host twin of the device's streaming audio front end (`dsp.AudioFeatures`, core/ml_dsp_audio.c):
int16 PCM in chunks of any size -> frames of log-mel energies (or MFCCs), with the same
configuration, the same frames and the same values within float32 rounding (docs/sound.md
states the tolerance, tests/device/test_audio.py checks it on every target).

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
"""

import json
from dataclasses import asdict, dataclass

import numpy as np

from .dsp import _WINDOWS, FFT_MAX, FFT_MIN, _f32, _f32_text, get_window, mel_filterbank

__all__ = ["AudioConfig", "AudioFeatures", "AUDIO_CONFIG_VERSION"]

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
    version: int = AUDIO_CONFIG_VERSION

    def __post_init__(self):
        self.sample_rate = _f32(self.sample_rate)
        self.fmin = _f32(self.fmin)
        self.fmax = _f32(self.fmax) if float(self.fmax) else self.sample_rate / 2
        self.floor_db = _f32(self.floor_db)
        self.frame_length, self.hop = int(self.frame_length), int(self.hop)
        self.n_mels, self.n_mfcc = int(self.n_mels), int(self.n_mfcc)
        self.n_fft = int(self.n_fft) or _next_pow2(self.frame_length)
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
        fr = np.zeros((n, c.n_fft))
        fr[:, :c.frame_length] = x[idx].astype(np.float64) / 32768.0
        p = np.abs(np.fft.rfft(fr * self._window, axis=1)) ** 2
        out = 10.0 * np.log10(np.maximum(p @ self._fb.T, self._floor))
        if self._dct is not None:
            out = out @ self._dct.T
        return out.astype(np.float32)

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
