"""microlearn.dsp on every target against the host reference (microlearn.dsp on the host,
numpy and scipy): IIR filters and Butterworth design, FFT, the window buffer, raw decoding,
feature sets and log-mel frames, on the real accelerometer recordings and on synthetic chirps
and noise. Every process call must allocate nothing (gc.mem_alloc before and after), and bad
input must raise a TypeError/ValueError that names the argument.

Measured bounds asserted here (see docs/dsp.md): float32 IIR within 1e-7 of scipy (relative to
the output's peak), q15 IIR within 1 LSB of scipy's output rounded, FFT within 1e-6 of numpy's
rfft (relative to the spectrum's peak), time-domain features and the spectral block's
statistics bit-identical to the host, spectral powers within 1e-5 of the channel's largest
(compared as powers, also for log features), log-mel within 2e-4 dB."""

import binascii

import numpy as np
import pytest
import scipy.signal

from microlearn import dsp, paths
from conftest import expect_error, run

GESTURES = paths.shipped_gestures()

# Helpers every script starts with: load a file sent with session.put into a new array, print
# an array as hex, measure the heap growth of a call.
PRELUDE = r"""
import array, binascii, gc, json
from microlearn import dsp
def load(name, tc, n):
    a = array.array(tc, bytes(n * (8 if tc == 'd' else 4 if tc == 'f' else 2)))
    with open(name, 'rb') as f:
        f.readinto(a)
    return a
def out(tag, a):
    print(tag, binascii.hexlify(a).decode())
def zeros(tc, n):
    return array.array(tc, bytes(n * (4 if tc == 'f' else 2)))
a0 = 0  # (a new global name would grow the module's dict inside a measurement)
"""


def parse(output, dtype=np.float32):
    """{tag: array} from the `out` lines of a script's output; repeated tags are listed."""
    res = {}
    for line in output.splitlines():
        parts = line.split()
        if (len(parts) == 2 and parts[0] != "alloc" and len(parts[1]) % 2 == 0
                and all(c in "0123456789abcdef" for c in parts[1])):
            raw = binascii.unhexlify(parts[1])
            if len(raw) % np.dtype(dtype).itemsize == 0:
                res.setdefault(parts[0], []).append(np.frombuffer(raw, dtype=dtype))
    return res


def allocs(output):
    return [int(l.split()[1]) for l in output.splitlines() if l.startswith("alloc ")]


def load_gestures():
    out = []
    for f in sorted(GESTURES.glob("*.npy")):
        try:
            a = np.load(f)
        except ValueError:
            continue  # the README's truncated files: np.load fails on them
        if a.shape == (400, 3) and a.dtype == np.int16:
            out.append(a)
    return out


@pytest.fixture(scope="module")
def gestures():
    data = load_gestures()
    assert len(data) == 19, f"expected the 19 complete recordings of {GESTURES}, got {len(data)}"
    return data


def pick(gestures):
    """Three recordings of different movements (sorted by time: snake, wave, idle)."""
    return [gestures[0], gestures[len(gestures) // 2], gestures[-1]]


# --------------------------------------------------------------------------------------------
# IIR


def test_butter_matches_scipy(session):
    designs = [(4, 5.0, 100.0, "lowpass"), (3, 0.5, 100.0, "highpass"),
               (8, 20.0, 100.0, "lowpass"), (2, 1000.0, 16000.0, "highpass")]
    script = PRELUDE + "".join(
        f"out('sos{i}', dsp.butter({o}, {c}, {fs}, {bt!r}))\n"
        for i, (o, c, fs, bt) in enumerate(designs))
    res = parse(run(session, script), np.float64)
    for i, (o, c, fs, bt) in enumerate(designs):
        ref = scipy.signal.butter(o, c, bt, fs=fs, output="sos").ravel()
        np.testing.assert_allclose(res[f"sos{i}"][0], ref, rtol=1e-12, atol=1e-15)


def test_iir_float32_and_q15_stream(session, gestures):
    """Three axes as three interleaved channels, filtered 50 frames at a time."""
    sos_list = [dsp.butter(4, 5.0, 100, "lowpass"), dsp.butter(4, 0.5, 100, "highpass"),
                dsp.butter(8, 0.5, 100, "lowpass")]
    recs = pick(gestures)
    for r, rec in enumerate(recs):
        session.put(f"rec{r}.bin", rec.astype("<i2").tobytes())
    for s, sos in enumerate(sos_list):
        session.put(f"sos{s}.bin", sos.astype("<f8").tobytes())
    script = PRELUDE + f"""
def stream(f, q, chunks):
    gc.collect()
    a0 = gc.mem_alloc()
    for cf, cof, cq, coq in chunks:
        f.process(cf, cof)
        q.process(cq, coq)
    return gc.mem_alloc() - a0
for s, n_sos in enumerate({[len(x) * 6 for x in sos_list]}):
    sos = load('sos%d.bin' % s, 'd', n_sos)
    for r in range({len(recs)}):
        xi = load('rec%d.bin' % r, 'h', 1200)
        xf = array.array('f', xi)
        yf = zeros('f', 1200)
        yq = zeros('h', 1200)
        f = dsp.IIR(sos, n_channels=3)
        q = dsp.IIR(sos, typecode='h', n_channels=3)
        mf, mq, of, oq = memoryview(xf), memoryview(xi), memoryview(yf), memoryview(yq)
        chunks = [(mf[i:i + 150], of[i:i + 150], mq[i:i + 150], oq[i:i + 150])
                  for i in range(0, 1200, 150)]
        print('alloc', stream(f, q, chunks))
        out('f%d_%d' % (s, r), yf)
        out('q%d_%d' % (s, r), yq)
        f.reset()
        f.process(xf)  # in place, one call
        out('p%d_%d' % (s, r), xf)
        del chunks, mf, mq, of, oq, f, q, xi, xf, yf, yq
        gc.collect()
"""
    output = run(session, script)
    assert set(allocs(output)) == {0}
    res = parse(output)
    resq = parse(output, np.int16)
    worst_f, worst_q = 0.0, 0
    for s, sos in enumerate(sos_list):
        for r, rec in enumerate(recs):
            ref = scipy.signal.sosfilt(sos, rec.astype(np.float64), axis=0).ravel()
            yf = res[f"f{s}_{r}"][0]
            worst_f = max(worst_f, np.max(np.abs(yf - ref)) / np.max(np.abs(ref)))
            np.testing.assert_array_equal(res[f"p{s}_{r}"][0], yf)  # in place, after reset
            yq = resq[f"q{s}_{r}"][0].astype(np.int64)
            rq = np.clip(np.rint(ref), -32768, 32767)
            worst_q = max(worst_q, int(np.max(np.abs(yq - rq))))
    print(f"{session.target.name}: IIR float32 {worst_f:.1e} of the peak, q15 {worst_q} LSB")
    assert worst_f <= 1e-7, f"float32 IIR: {worst_f:.2e} relative to the peak"
    assert worst_q <= 1, f"q15 IIR: {worst_q} LSB"


def test_iir_allocates_nothing(session):
    out = run(session, PRELUDE + """
f = dsp.IIR(dsp.butter(4, 5.0, 100.0), n_channels=2)
q = dsp.IIR([[0.2, 0.4, 0.2, 1.0, -0.5, 0.3]], typecode='h')
x = array.array('f', range(64)); y = zeros('f', 64); xi = array.array('h', range(64))
gc.collect(); a0 = gc.mem_alloc()
f.process(x, y); f.process(x); f.reset(); q.process(xi); q.process(xi, xi)
print('alloc', gc.mem_alloc() - a0)
print(f.n_sections, f.n_channels, f.typecode, q.typecode, q.n_sections)
""")
    assert allocs(out) == [0]
    assert "2 2 f h 1" in out


@pytest.mark.parametrize("call,exc,frags", [
    ("dsp.IIR([1, 0, 0, 0, 0.5, 0])", "ValueError", ["section 0", "a0 is 0"]),
    ("dsp.IIR([1, 0, 0, 1, 0, 1.0])", "ValueError", ["unstable", "unit circle"]),
    ("dsp.IIR([1, 0, 0, 1, -2.1, 1.05])", "ValueError", ["unstable"]),
    ("dsp.IIR([1, 2, 3])", "ValueError", ["sos has 3 values", "multiple of 6"]),
    ("dsp.IIR([1, 0, 0, 1, float('nan'), 0])", "ValueError", ["a1 is not finite"]),
    ("dsp.IIR(sos, typecode='q')", "ValueError", ["typecode", "'q'"]),
    ("dsp.IIR([5.0, 0, 0, 1, 0, 0], typecode='h')", "ValueError", ["q15"]),
    ("f.process(array.array('h', [1, 2]))", "TypeError", ["x must be array('f')", "'h'"]),
    ("f.process(array.array('f', [1, 2]), array.array('f', [0]))", "ValueError",
     ["out has 1 values", "expected 2"]),
    ("f.process(array.array('f', [1, float('nan')]))", "ValueError", ["x[1] is not finite"]),
    ("f.process(b'1234')", "TypeError", ["writable array('f')"]),
    ("dsp.butter(4, 60.0, 100.0)", "ValueError", ["cutoff", "Nyquist"]),
    ("dsp.butter(4, 5.0, 100.0, 'bandpass')", "ValueError", ["btype"]),
])
def test_iir_errors(session, call, exc, frags):
    setup = PRELUDE + "sos = dsp.butter(2, 5.0, 100.0)\nf = dsp.IIR(sos)"
    expect_error(session, setup, call, exc, *frags)


# --------------------------------------------------------------------------------------------
# FFT


def test_fft_matches_numpy(session):
    big = session.target.name == "unix"  # the boards' 140 kB heap: up to 1024 there
    sizes = [16, 32, 64, 128, 256, 512, 1024] + ([2048, 4096] if big else [])
    rng = np.random.default_rng(11)
    cases = []
    for n in sizes:
        t = np.arange(n) / n
        x = (3000 * scipy.signal.chirp(t, 1, 1, n / 3) + 200 * rng.normal(size=n)).astype(
            np.float32)
        cases.append((n, x))
        session.put(f"x{n}.bin", x.astype("<f4").tobytes())
    script = PRELUDE + f"""
for n in {sizes}:
    x = load('x%d.bin' % n, 'f', n)
    for w in (None, 'hann'):
        t = dsp.FFT(n, window=w)
        spec = zeros('f', n + 2); mag = zeros('f', n // 2 + 1); pw = zeros('f', n // 2 + 1)
        gc.collect(); a0 = gc.mem_alloc()
        t.rfft(x, spec); t.magnitude(x, mag); t.power(x, pw)
        print('alloc', gc.mem_alloc() - a0)
        out('s%d%s' % (n, w), spec); out('m%d%s' % (n, w), mag); out('p%d%s' % (n, w), pw)
        del t, spec, mag, pw
    xi = array.array('h', [int(v) for v in x])
    t = dsp.FFT(n)
    spec = zeros('f', n + 2)
    t.rfft(xi, spec)
    out('i%d' % n, spec)
    del t, spec, x, xi
    gc.collect()
"""
    output = run(session, script)
    assert set(allocs(output)) == {0}
    res = parse(output)
    worst = 0.0
    for n, x in cases:
        for w in (None, "hann"):
            win = np.ones(n) if w is None else scipy.signal.get_window("hann", n)
            ref = np.fft.rfft(x.astype(np.float64) * win)
            peak = np.max(np.abs(ref))
            s = res[f"s{n}{w}"][0]
            worst = max(worst, np.max(np.abs(s[0::2] + 1j * s[1::2] - ref)) / peak)
            assert np.max(np.abs(res[f"m{n}{w}"][0] - np.abs(ref))) <= 1e-6 * peak
            assert np.max(np.abs(res[f"p{n}{w}"][0] - np.abs(ref) ** 2)) <= 2e-6 * peak ** 2
        xi = np.trunc(x).astype(np.int16)
        ref = np.fft.rfft(xi.astype(np.float64))
        s = res[f"i{n}"][0]
        assert np.max(np.abs(s[0::2] + 1j * s[1::2] - ref)) <= 1e-6 * np.max(np.abs(ref))
    print(f"{session.target.name}: FFT {worst:.1e} of the peak (n = {sizes[0]}..{sizes[-1]})")
    assert worst <= 1e-6, f"FFT: {worst:.2e} of the peak"


@pytest.mark.parametrize("call,exc,frags", [
    ("dsp.FFT(100)", "ValueError", ["n is 100", "power of two", "16..4096"]),
    ("dsp.FFT(8)", "ValueError", ["n is 8"]),
    ("dsp.FFT(8192)", "ValueError", ["n is 8192"]),
    ("dsp.FFT(64, window='blackman')", "ValueError", ["window must be", "'blackman'"]),
    ("t.rfft(array.array('f', range(32)), zeros('f', 66))", "ValueError",
     ["x has 32 values", "expected 64"]),
    ("t.rfft(array.array('f', range(64)), zeros('f', 64))", "ValueError",
     ["out has 64 values", "expected 66"]),
    ("t.rfft(array.array('i', range(64)), zeros('f', 66))", "TypeError",
     ["x must be array('f') or array('h')", "'i'"]),
    ("t.power(array.array('f', [float('inf')] * 64), zeros('f', 33))", "ValueError",
     ["x[0] is not finite"]),
])
def test_fft_errors(session, call, exc, frags):
    expect_error(session, PRELUDE + "t = dsp.FFT(64)", call, exc, *frags)


# --------------------------------------------------------------------------------------------
# Window buffer and decoding


def test_window_buffer_is_host_sliding_windows(session, gestures):
    rec = gestures[1]
    session.put("rec.bin", rec.astype("<i2").tobytes())
    length, hop = 64, 16
    script = PRELUDE + f"""
xi = load('rec.bin', 'h', 1200)
w = dsp.Window({length}, {hop}, n_axes=3)
mv = memoryview(xi)
chunks = [mv[i:i + {hop * 3}] for i in range(0, 1200, {hop * 3})]
fft = dsp.FFT(64); spec = zeros('f', 66)
first = dsp.Features({{'length': {length}, 'n_axes': 3, 'time': ['mean']}})
o = zeros('f', 3)
def feed(w, chunks, first, o):
    gc.collect()
    a0 = gc.mem_alloc()
    n_ready = 0
    for c in chunks:
        if w.push(c):
            n_ready += 1
            first.process(w, o)   # the buffer is read in place
    return gc.mem_alloc() - a0, n_ready
a, n_ready = feed(w, chunks, first, o)
print('alloc', a)
print('ready', n_ready, w.ready, w.filled, w.length, w.hop, w.n_axes)
out('last', w)
out('means', o)
w.reset()
print('after reset', w.ready, w.filled)
"""
    output = run(session, script)
    assert allocs(output) == [0]
    wins = dsp.sliding_windows(rec, length, hop)
    assert f"ready {len(wins)} True {length} {length} {hop} 3" in output
    res = parse(output)
    np.testing.assert_array_equal(res["last"][0], wins[-1].astype(np.float32).ravel())
    np.testing.assert_array_equal(res["means"][0], wins[-1].astype(np.float64).mean(axis=0)
                                  .astype(np.float32))
    assert "after reset False 0" in output


def test_decode_matches_host(session):
    rng = np.random.default_rng(12)
    raw = rng.integers(-32768, 32767, size=(40, 6)).astype(np.int16)
    session.put("le.bin", raw.astype("<i2").tobytes())
    session.put("be.bin", raw.astype(">i2").tobytes())
    script = PRELUDE + """
le = open('le.bin', 'rb').read(); be = open('be.bin', 'rb').read()
inter = zeros('f', 240); ax = zeros('f', 40); ay = zeros('h', 40); gz = zeros('f', 40)
hh = zeros('h', 240)
scale = (0.5, 2.0, 1.0, 1.0, 1.0, 0.001)
offset = (1.0, 0.0, 0.0, 0.0, 0.0, -3.0)
outs = (ax, ay, None, None, None, gz)
n1 = n2 = n3 = 0
gc.collect(); a0 = gc.mem_alloc()
n1 = dsp.decode(le, inter, n_axes=6)
n2 = dsp.decode(be, outs, byteorder='big', scale=scale, offset=offset)
n3 = dsp.decode(le, hh, n_axes=6, scale=2.0)
print('alloc', gc.mem_alloc() - a0)
print('frames', n1, n2, n3)
out('inter', inter); out('ax', ax); out('gz', gz); out('hh', hh)
print('ay', binascii.hexlify(ay).decode())
"""
    output = run(session, script)
    assert allocs(output) == [0]
    assert "frames 40 40 40" in output
    res = parse(output)
    np.testing.assert_array_equal(res["inter"][0], raw.astype(np.float32).ravel())
    scale = np.float32([0.5, 2.0, 1.0, 1.0, 1.0, 0.001])
    offset = np.float32([1.0, 0, 0, 0, 0, -3.0])
    host = dsp.decode(raw.astype(">i2").tobytes(), n_axes=6, byteorder="big", scale=scale,
                      offset=offset)
    np.testing.assert_array_equal(res["ax"][0], host[:, 0])
    np.testing.assert_array_equal(res["gz"][0], host[:, 5])
    hosth = dsp.decode(raw.astype(">i2").tobytes(), n_axes=6, byteorder="big", scale=scale,
                       offset=offset, typecode="h")
    np.testing.assert_array_equal(parse(output, np.int16)["ay"][0], hosth[:, 1])
    np.testing.assert_array_equal(
        parse(output, np.int16)["hh"][0],
        dsp.decode(raw.astype("<i2").tobytes(), n_axes=6, scale=2.0, typecode="h").ravel())


@pytest.mark.parametrize("call,exc,frags", [
    ("dsp.Window(16, 32)", "ValueError", ["hop is 32", "longer than the window length 16"]),
    ("dsp.Window(0, 1)", "ValueError", ["length is 0", "expected 1..65535"]),
    ("w.push(array.array('f', range(4)))", "ValueError", ["x has 4 values", "expected 12"]),
    ("w.push([1, 2, 3])", "TypeError", ["x must be array('f') or array('h')"]),
    ("dsp.decode(b'123', zeros('h', 2))", "ValueError", ["data has 3 bytes", "expected 4"]),
    ("dsp.decode(b'1234', zeros('h', 3), n_axes=2)", "ValueError",
     ["out has 3 values", "multiple of n_axes"]),
    ("dsp.decode(b'12345678', (zeros('f', 2), zeros('f', 1)))", "ValueError",
     ["out[1] has 1 values", "expected 2"]),
    ("dsp.decode(b'1234', (zeros('f', 1), zeros('f', 1)), scale=(1, 2, 3))", "ValueError",
     ["scale has 3 values", "expected 2"]),
    ("dsp.decode(b'1234', zeros('f', 2), byteorder='middle')", "ValueError", ["byteorder"]),
    ("dsp.decode(b'1234', zeros('i', 1))", "TypeError", ["out must be"]),
    ("dsp.decode(12, zeros('f', 1))", "TypeError", ["data must be bytes"]),
])
def test_window_decode_errors(session, call, exc, frags):
    expect_error(session, PRELUDE + "w = dsp.Window(16, 4, n_axes=3)", call, exc, *frags)


# --------------------------------------------------------------------------------------------
# Feature sets


CONFIGS = [
    dsp.FeatureConfig(length=200, n_axes=3, sample_rate=100, magnitude=True,
                      time=dsp.TIME_FEATURES,
                      spectral=dsp.SpectralConfig(fft_length=64, filter="lowpass", cutoff=20,
                                                  n_bins=8)),
    dsp.FeatureConfig(length=128, n_axes=3, sample_rate=100, scale=1 / 16384, magnitude=True,
                      axes=("ax", "ay", "az"), time=("rms", "kurtosis", "mean_crossings"),
                      spectral=dsp.SpectralConfig(fft_length=128, filter="highpass", cutoff=0.5,
                                                  order=6, agg="mean", overlap=False,
                                                  window="hamming")),
    dsp.FeatureConfig(length=100, n_axes=3, sample_rate=100, time=("std", "ptp"),
                      spectral=dsp.SpectralConfig(fft_length=32, log=False, window=None,
                                                  stats=False, n_bins=4)),
]


def compare_features(names, got, ref, cfg):
    """Time features and the spectral statistics: identical. Spectral powers: within 1e-5 of
    the channel's largest spectral power (compared as powers, also for log features), like
    the FFT's tolerance relative to the spectrum's peak. Returns the worst spectral error."""
    worst = 0.0
    psd = {}
    for name, a, b in zip(names, got, ref):
        if "_psd_" in name:
            ch = name.split("_psd_")[0]
            if cfg.spectral.log:
                a, b = 10 ** (float(a) / 10), 10 ** (float(b) / 10)
            psd.setdefault(ch, []).append((name, float(a), float(b)))
        else:
            assert a == b, f"{name}: device {a!r} host {b!r}"
    for ch, items in psd.items():
        peak = max(abs(b) for _, _, b in items)
        for name, a, b in items:
            err = abs(a - b) / peak
            worst = max(worst, err)
            assert err <= 1e-5, f"{name}: {a} vs {b} (peak {peak})"
    return worst


def test_features_match_host(session, gestures):
    recs = pick(gestures)
    t = np.arange(400) / 100
    synth = np.stack([8000 * scipy.signal.chirp(t, 0.2, 4, 30),
                      3000 * np.random.default_rng(13).normal(size=400),
                      16384 + 2000 * np.sin(2 * np.pi * 2.5 * t)], axis=1).astype(np.int16)
    windows = [recs[0][100:], recs[1][50:], recs[2][200:], synth]
    for i, w in enumerate(windows):
        session.put(f"w{i}.bin", np.ascontiguousarray(w[:200]).astype("<i2").tobytes())
    parts = [PRELUDE]
    for c, cfg in enumerate(CONFIGS):
        session.put(f"cfg{c}.json", cfg.to_json().encode())
        parts.append(f"""
with open('cfg{c}.json') as f:
    fe = dsp.Features(json.load(f))
print('names{c}', json.dumps(fe.names()))
print('nf{c}', fe.n_features, fe.length, fe.n_axes, fe.n_channels)
o = zeros('f', fe.n_features)
for i in range({len(windows)}):
    xi = load('w%d.bin' % i, 'h', {cfg.length * 3})
    xf = array.array('f', xi)
    gc.collect(); a0 = gc.mem_alloc()
    fe.process(xi, o)
    print('alloc', gc.mem_alloc() - a0)
    out('h{c}_%d' % i, o)
    fe.process(xf, o)
    out('f{c}_%d' % i, o)
del fe, o, xi, xf
gc.collect()
""")
    output = run(session, "".join(parts))
    assert set(allocs(output)) == {0}
    res = parse(output)
    import json as _json
    worst = 0.0
    for c, cfg in enumerate(CONFIGS):
        line = [l for l in output.splitlines() if l.startswith(f"names{c} ")][0]
        names = _json.loads(line.split(" ", 1)[1])
        assert names == cfg.names()
        assert f"nf{c} {cfg.n_features} {cfg.length} 3 {len(cfg.channels)}" in output
        for i, w in enumerate(windows):
            ref = dsp.features(w[:cfg.length], cfg)
            np.testing.assert_array_equal(res[f"h{c}_{i}"][0], res[f"f{c}_{i}"][0])
            worst = max(worst, compare_features(names, res[f"h{c}_{i}"][0], ref, cfg))
    print(f"{session.target.name}: spectral powers within {worst:.1e} of the host")


def test_features_keyword_config(session):
    cfg = dsp.FeatureConfig(length=32, n_axes=2, time=("mean", "energy"))
    out = run(session, PRELUDE + """
fe = dsp.Features(length=32, n_axes=2, time=['mean', 'energy'])
print(fe.names(), fe.memory > 0)
x = array.array('f', range(64)); o = zeros('f', 4)
fe.process(x, o)
out('o', o)
""")
    assert str(cfg.names()).replace('"', "'") in out
    ref = dsp.features(np.arange(64, dtype=np.float32).reshape(32, 2), cfg)
    np.testing.assert_array_equal(parse(out)["o"][0], ref)


@pytest.mark.parametrize("call,exc,frags", [
    ("dsp.Features({'length': 32, 'time': ['median']})", "ValueError",
     ["unknown time feature 'median'"]),
    ("dsp.Features({'length': 32, 'time': ['mean', 'mean']})", "ValueError", ["twice"]),
    ("dsp.Features({'length': 32})", "ValueError", ["no features"]),
    ("dsp.Features({'time': ['mean']})", "ValueError", ["needs length"]),
    ("dsp.Features({'length': 32, 'colour': 1, 'time': ['mean']})", "TypeError", []),
    ("dsp.Features({'length': 32, 'sample_rate': 100, 'spectral': {'fft_length': 64}})",
     "ValueError", ["fft_length is 64", "at most the window length 32"]),
    ("dsp.Features({'length': 64, 'sample_rate': 100, 'spectral': {'fft_length': 48}})",
     "ValueError", ["fft_length is 48", "power of two"]),
    ("dsp.Features({'length': 64, 'sample_rate': 100, 'spectral': {'fft_length': 32, "
     "'filter': 'lowpass'}})", "ValueError", ["needs a cutoff"]),
    ("dsp.Features({'length': 64, 'sample_rate': '1e2x', 'time': ['mean']})", "ValueError",
     ["sample_rate", "not a number"]),
    ("dsp.Features({'length': 64, 'version': 2, 'time': ['mean']})", "ValueError",
     ["version is 2"]),
    ("dsp.Features([1, 2])", "TypeError", ["config dict"]),
    ("fe.process(zeros('f', 10), zeros('f', 2))", "ValueError",
     ["window has 10 values", "expected 32"]),
    ("fe.process(zeros('f', 32), zeros('f', 3))", "ValueError", ["out has 3 values"]),
    ("fe.process(array.array('f', [0.0] * 31 + [float('nan')]), zeros('f', 2))", "ValueError",
     ["window[31] is not finite", "frame 15, axis 1"]),
])
def test_features_errors(session, call, exc, frags):
    expect_error(session, PRELUDE + "fe = dsp.Features(length=16, n_axes=2, time=['mean'])",
                 call, exc, *frags)


# --------------------------------------------------------------------------------------------
# Log-mel


def test_logmel_matches_host(session):
    sr, n_fft, hop, n_mels = 16000, 256, 128, 24
    n = 256 + 7 * 128
    t = np.arange(n) / sr
    rng = np.random.default_rng(14)
    x = (0.4 * scipy.signal.chirp(t, 200, t[-1], 7000) + 0.02 * rng.normal(size=n)).astype(
        np.float32)
    xi = np.round(x * 32767).astype(np.int16)
    session.put("audio.bin", x.astype("<f4").tobytes())
    session.put("audio16.bin", xi.astype("<i2").tobytes())
    script = PRELUDE + f"""
x = load('audio.bin', 'f', {n}); xi = load('audio16.bin', 'h', {n})
m = dsp.LogMel({sr}, {n_fft}, hop={hop}, n_mels={n_mels}, fmin=50, fmax=7600)
frames = m.frames({n})
spec = zeros('f', frames * {n_mels}); spec16 = zeros('f', frames * {n_mels})
one = zeros('f', {n_mels})
head = memoryview(x)[:{n_fft}]
gc.collect(); a0 = gc.mem_alloc()
m.spectrogram(x, spec); m.spectrogram(xi, spec16); m.process(head, one)
print('alloc', gc.mem_alloc() - a0)
print('frames', frames, m.n_mels, m.n_fft, m.hop)
out('spec', spec); out('spec16', spec16); out('one', one)
"""
    output = run(session, script)
    assert allocs(output) == [0]
    host = dsp.LogMel(sr, n_fft, hop=hop, n_mels=n_mels, fmin=50, fmax=7600)
    frames = host.frames(n)
    assert f"frames {frames} {n_mels} {n_fft} {hop}" in output
    res = parse(output)
    ref = host.spectrogram(x)
    got = res["spec"][0].reshape(frames, n_mels)
    err = np.max(np.abs(got - ref))
    print(f"{session.target.name}: log-mel {err:.1e} dB")
    assert err <= 2e-4, f"log-mel: {err:.1e} dB"
    np.testing.assert_array_equal(res["one"][0], got[0])
    ref16 = host.spectrogram(xi.astype(np.float32))
    assert np.max(np.abs(res["spec16"][0].reshape(frames, n_mels) - ref16)) <= 2e-4


@pytest.mark.parametrize("call,exc,frags", [
    ("dsp.LogMel(16000, 500)", "ValueError", ["n_fft is 500", "power of two"]),
    ("dsp.LogMel(16000, 256, fmax=9000)", "ValueError", ["fmax <= sample_rate / 2"]),
    ("dsp.LogMel(16000, 256, n_mels=0)", "ValueError", ["n_mels is 0"]),
    ("m.process(zeros('f', 100), zeros('f', 8))", "ValueError", ["frame has 100 values",
                                                                 "expected 256"]),
    ("m.spectrogram(zeros('f', 100), zeros('f', 8))", "ValueError", ["x has 100 values"]),
    ("m.spectrogram(zeros('f', 512), zeros('f', 8))", "ValueError",
     ["out has 8 values", "expected 24"]),
])
def test_logmel_errors(session, call, exc, frags):
    expect_error(session, PRELUDE + "m = dsp.LogMel(16000, 256, n_mels=8)", call, exc, *frags)
