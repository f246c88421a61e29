"""The host twin of microlearn.dsp refuses what the device refuses (docs/dsp.md, "Bad input"),
with the same messages: NaN or inf in a float input or parameter, sizes that are not ints or
out of range (never truncated), feature names that would collide, results beyond float32."""

import numpy as np
import pytest
import scipy.signal

from microlearn import dsp

NAN_X = np.array([1.0, np.nan, 2.0, 3.0], dtype=np.float32)


@pytest.mark.parametrize("call,msg", [
    (lambda: dsp.stats(NAN_X), r"x\[1\] is not finite"),
    (lambda: dsp.stats([1.0, np.inf]), r"x\[1\] is not finite"),
    (lambda: dsp.IIR(dsp.butter(2, 5, 100)).process(NAN_X), r"x\[1\] is not finite"),
    (lambda: dsp.FFT(16).rfft(np.r_[np.zeros(15), np.inf]), r"x\[15\] is not finite"),
    (lambda: dsp.Window(4, 2).push([np.nan, 1.0]), r"x\[0\] is not finite"),
    (lambda: dsp.features(NAN_X, dsp.FeatureConfig(length=4, time=("mean",))),
     r"window\[1\] is not finite"),
    (lambda: dsp.LogMel(16000, 16, n_mels=4).process(np.r_[np.zeros(15), np.nan]),
     r"frame\[15\] is not finite"),
])
def test_non_finite_input(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


@pytest.mark.parametrize("call,exc,msg", [
    (lambda: dsp.Window(2**64 + 10, 5), ValueError, "length is 18446744073709551626, expected "
                                                    "1..65535"),
    (lambda: dsp.Window(10.5, 5), TypeError, "length must be an int, got float"),
    (lambda: dsp.Window(10, True), TypeError, "hop must be an int, got bool"),
    (lambda: dsp.FFT(2**64), ValueError, "n is 18446744073709551616, expected a power of two"),
    (lambda: dsp.butter(4.5, 5.0, 100.0), TypeError, "order must be an int"),  # was order 4
    (lambda: dsp.IIR([1, 0, 0, 1, 0, 0], n_channels=2**64 + 1), ValueError, "n_channels is"),
    (lambda: dsp.FeatureConfig(length=2**64 + 100, time=("mean",)), ValueError, "length is"),
    (lambda: dsp.LogMel(16000, 256, n_mels=2**64), ValueError, "n_mels is"),
    (lambda: dsp.LogMel(16000, 256).frames(-1), ValueError, "n is -1"),
    (lambda: dsp.decode(b"1234", n_axes=2**64 + 1), ValueError, "n_axes is"),
    (lambda: dsp.sliding_windows(np.zeros(10), 4, 0), ValueError, "hop is 0"),  # was / by 0
    (lambda: dsp.sliding_windows(np.zeros(10), 4.0, 2), TypeError, "length must be an int"),
    (lambda: dsp.butter(2, np.nan, 100.0), ValueError, "cutoff is not finite"),
    (lambda: dsp.FeatureConfig(length=16, scale=np.inf, time=("mean",)), ValueError,
     "scale is not finite"),
    (lambda: dsp.FeatureConfig(length=16, scale=1e39, time=("mean",)), ValueError,
     "scale is not finite"),
    (lambda: dsp.LogMel(16000, 256, fmin=np.nan), ValueError, "fmin is not finite"),
    (lambda: dsp.decode(b"\x01\x00", scale=np.nan), ValueError, "scale is not finite"),
    (lambda: dsp.decode(b"\x01\x00", offset=np.inf, typecode="h"), ValueError,
     "offset is not finite"),
    (lambda: dsp.decode(b"\x01\x00", scale=3e38), ValueError, "beyond float32"),
])
def test_arguments(call, exc, msg):
    with pytest.raises(exc, match=msg.replace("(", r"\(").replace(".", r"\.")):
        call()


def test_int16_decode_saturates_with_a_huge_scale():
    assert dsp.decode(b"\x01\x00\x02\x00", scale=3e38, typecode="h").ravel().tolist() == [
        32767, 32767]


def test_feature_names_are_distinct():
    with pytest.raises(ValueError, match="equal, expected distinct names"):
        dsp.FeatureConfig(length=16, n_axes=2, axes=("x", "x"), time=("mean",))
    with pytest.raises(ValueError, match="'mag'"):
        dsp.FeatureConfig(length=16, n_axes=2, axes=("mag", "y"), magnitude=True,
                          time=("mean",))
    cfg = dsp.FeatureConfig(length=16, n_axes=2, axes=("a" * 70, "a" * 70 + "b"),
                            time=("mean", "std"))
    assert cfg.names()[-1] == "a" * 70 + "b_std" and len(set(cfg.names())) == 4


def test_overflow_is_reported():
    f = dsp.FFT(16)
    with pytest.raises(ValueError, match=r"spectrum\[0\] overflows float32"):
        f.rfft(np.full(16, 3e38, dtype=np.float32))  # was 4.8e39, which no float32 holds
    with pytest.raises(ValueError, match="power"):
        f.power(np.full(16, 1e19, dtype=np.float32))
    assert f.magnitude(np.full(16, 1e19, dtype=np.float32))[0] == pytest.approx(1.6e20)
    cfg = dsp.FeatureConfig(length=4, time=("mean", "energy"))
    with pytest.raises(ValueError, match=r"feature 1 \(a0_energy\) overflows float32"):
        dsp.features(np.full(4, 3e38, dtype=np.float32), cfg)
    np.testing.assert_array_equal(dsp.features(np.float32([1, 2, 3, 4]), cfg), [2.5, 30.0])
    iir = dsp.IIR([1, 1, 0, 1, 0, 0])
    with pytest.raises(ValueError, match=r"out\[1\] overflows float32.*reset"):
        iir.process(np.float32([3e38, 3e38]))
    assert iir.process(np.float32([2, 2])).tolist() == [2.0, 4.0]


@pytest.mark.parametrize("kind", ["hann", "hamming"])
def test_short_windows_are_scipys(kind):
    for n in (0, 1, 2):
        np.testing.assert_array_equal(dsp.get_window(kind, n),
                                      scipy.signal.get_window(kind, n) if n else np.ones(0))
    assert dsp.get_window(kind, 1).tolist() == [1.0]
