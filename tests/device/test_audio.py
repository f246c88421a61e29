"""Sound on every target: WAV files read by dsp.WavReader and streamed through
dsp.AudioFeatures in chunks of several sizes, against the host twin (microlearn.dsp.AudioFeatures
on wav.read's samples); no allocation while streaming; broken WAV files refused with the host's
message naming the file; bad front-end configurations and calls refused.

Fixed-point frames (the default) must be identical to the host twin's, bit for bit; float32
frames within 2e-3 dB (log-mel) and 2e-3 (MFCC) of the twin's float64 computation (measured
figures in docs/sound.md)."""

import binascii
from pathlib import Path

import numpy as np
import pytest

from microlearn import audio, dsp, targets, wav
from conftest import TARGETS, expect_error, run

# Recordings: a short, a long and a loud one, from three speakers.
FILES = ("0_george_3.wav", "7_theo_11.wav", "4_jackson_0.wav")
LOGMEL = dict(sample_rate=8000, frame_length=256, hop=128, n_mels=40)
MFCC = dict(sample_rate=8000, frame_length=200, hop=80, window="hamming", n_mels=32, fmin=20,
            fmax=3800, n_mfcc=13, floor_db=-80)
CONFIGS = {
    "logmel": LOGMEL,
    "mfcc": MFCC,
    "logmel_float": dict(LOGMEL, fixed_point=False),
    "mfcc_float": dict(MFCC, fixed_point=False),
}
CHUNKS = (1000, 160, 37)
TOL = {"logmel": 0.0, "mfcc": 0.0, "logmel_float": 2e-3, "mfcc_float": 2e-3}


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wav")
    msgs = _broken_files(folder)
    return {name: (folder / name).read_bytes() for name in msgs}, msgs


def _broken_files(folder):
    """The broken files of tests/host/test_audio.py: the device must give the same messages as
    the host's reader for the same files."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "host_test_audio", Path(__file__).parents[1] / "host" / "test_audio.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.broken_files(folder)


@pytest.fixture(scope="module", params=TARGETS)
def sound(request, cases):
    """A target with the recordings and the broken files in its filesystem from the start."""
    files = {name: (audio.fsdd_dir() / name).read_bytes() for name in FILES}
    files.update(cases[0])
    with targets.get(request.param).session(files) as s:
        yield s


PRELUDE = r"""
import array, binascii, gc
from microlearn import dsp
def hexout(tag, a, n):
    print(tag, binascii.hexlify(memoryview(a)[:n]).decode())
"""


def test_streamed_frames_match_host(sound):
    script = PRELUDE + """
def stream(tag, name, cfg, chunk):
    w = dsp.WavReader(name)
    fe = dsp.AudioFeatures(cfg)
    buf = array.array('h', bytes(2 * chunk))
    out = array.array('f', bytes(4 * fe.n_features * (1 + (chunk - 1) // fe.hop)))
    mv = memoryview(buf)
    nf = fe.n_features
    while True:
        n = w.read(buf)
        if not n:
            break
        k = fe.process(buf if n == len(buf) else mv[:n], out)
        if k:
            hexout(tag, out, k * nf)
    print('pos', tag, w.position, w.n_samples, w.sample_rate)
    w.close()
"""
    for c, cfg in CONFIGS.items():
        for name in FILES:
            for chunk in CHUNKS:
                script += f"stream('{c}:{name}:{chunk}', {name!r}, {cfg!r}, {chunk})\n"
    outp = run(sound, script)
    got = {}
    for line in outp.splitlines():
        p = line.split()
        if p[0] == "pos":
            assert p[2] == p[3] and p[4] == "8000", line
        elif ":" in p[0]:
            got.setdefault(p[0], []).append(np.frombuffer(binascii.unhexlify(p[1]), np.float32))
    worst = {}
    for c, cfg in CONFIGS.items():
        fe = dsp.AudioFeatures(**cfg)
        for name in FILES:
            x, _ = wav.read(audio.fsdd_dir() / name)
            ref = fe.frames_of(x).astype(np.float64)
            for chunk in CHUNKS:
                dev = np.concatenate(got[f"{c}:{name}:{chunk}"]).reshape(-1, fe.n_features)
                assert dev.shape == ref.shape, (c, name, chunk)
                worst[c] = max(worst.get(c, 0), float(np.abs(dev - ref).max()))
    print(f"{sound.target.name}: max difference to the host twin {worst}")
    for c in CONFIGS:
        assert worst[c] <= TOL[c], (c, worst[c])


def test_streaming_allocates_nothing(sound):
    out = run(sound, PRELUDE + f"""
w = dsp.WavReader({FILES[1]!r})
fe = dsp.AudioFeatures({CONFIGS['mfcc']!r})
assert fe.fixed_point
buf = array.array('h', bytes(2 * 160))
out = array.array('f', bytes(4 * fe.n_features * 3))
frames = a0 = a1 = 0  # (a new global name would grow the module's dict inside the measurement)
gc.collect()
a0 = gc.mem_alloc()
while w.read(buf) == len(buf):
    frames += fe.process(buf, out)
a1 = gc.mem_alloc()
print('alloc', a1 - a0, 'frames', frames, 'memory', fe.memory)
""")
    line = [l for l in out.splitlines() if l.startswith("alloc")][0].split()
    assert int(line[1]) == 0 and int(line[3]) > 10, line


def test_broken_wav_files_are_refused_with_the_hosts_message(sound, cases):
    _, msgs = cases
    names = list(msgs) + ["stereo.wav"]  # a refused file is closed: it can be opened again
    out = run(sound, "from microlearn import dsp\n" + "".join(f"""
try:
    dsp.WavReader({name!r})
    print('NO-EXCEPTION')
except ValueError as e:
    print('refused', repr(str(e)))
""" for name in names))
    got = [l for l in out.splitlines() if l.startswith(("refused", "NO-EXCEPTION"))]
    assert got == [f"refused {str(f'{n}: {msgs[n]}')!r}" for n in names]


FRONT_END_ERRORS = [
    ("dsp.AudioFeatures(sample_rate=8000, n_fft=250)", "ValueError",
     ["n_fft is 250, expected a power of two"]),
    ("dsp.AudioFeatures(sample_rate=8000, frame_length=300, n_fft=256)", "ValueError",
     ["frame_length is 300, expected 1..256 (n_fft)"]),
    ("dsp.AudioFeatures(sample_rate=8000, hop=0)", "ValueError", ["hop is 0"]),
    ("dsp.AudioFeatures(sample_rate=8000, fmax=5000)", "ValueError", ["fmax <= sample_rate / 2"]),
    ("dsp.AudioFeatures(sample_rate=8000, n_mfcc=50)", "ValueError", ["n_mfcc is 50"]),
    ("dsp.AudioFeatures(sample_rate='fast')", "ValueError", ["sample_rate: 'fast' is not a number"]),
    ("dsp.AudioFeatures(hop=10)", "ValueError", ["needs sample_rate"]),
    ("dsp.AudioFeatures({'sample_rate': '8000.0', 'version': 2})", "ValueError", ["version is 2"]),
    ("dsp.AudioFeatures(sample_rate=8000, window='kaiser')", "ValueError", ["window must be"]),
    ("fe.process(array.array('f', [0.0] * 10), out)", "TypeError", ["x must be array('h')"]),
    ("fe.process(array.array('h', bytes(2 * 400)), out)", "ValueError",
     ["out has 40 values, but these 400 samples complete 2 frames of 40 features"]),
    ("fe.frame(array.array('h', bytes(20)), out)", "ValueError",
     ["x has 10 values, expected 256 (frame_length)"]),
    ("w.read(array.array('f', [0.0]))", "TypeError", ["buf must be"]),
    ("dsp.WavReader('missing.wav')", "OSError", []),
]


def test_front_end_errors(sound):
    """Every bad call raises the expected exception with its message, in one script per
    target; and the objects still work afterwards."""
    script = PRELUDE + f"""
fe = dsp.AudioFeatures(sample_rate=8000)
out = array.array('f', bytes(4 * 40))
w = dsp.WavReader({FILES[0]!r})
def attempt(i, f):
    try:
        f()
        print('case', i, 'NO-EXCEPTION')
    except Exception as e:
        print('case', i, type(e).__name__, repr(str(e)))
"""
    for i, (call, _, _) in enumerate(FRONT_END_ERRORS):
        script += f"attempt({i}, lambda: {call})\n"
    script += "print('still', fe.process(array.array('h', bytes(600)), out), w.read(array.array('h', bytes(20))))\n"
    out = run(sound, script)
    lines = {int(l.split()[1]): l for l in out.splitlines() if l.startswith("case ")}
    for i, (call, exc, frags) in enumerate(FRONT_END_ERRORS):
        line = lines[i]
        assert line.split()[2] == exc, f"{call}: {line}"
        for frag in frags:
            assert frag in line, f"{call}: {line!r} lacks {frag!r}"
    assert "still 1 10" in out


def test_refused_process_leaves_the_stream_alone(sound):
    out = run(sound, PRELUDE + """
fe = dsp.AudioFeatures(sample_rate=8000, frame_length=256, hop=128)
x = array.array('h', range(0, 3000, 10))
out = array.array('f', bytes(4 * 40))
print('n', fe.process(array.array('h', x[:200]), out), fe.pending)
try:
    fe.process(array.array('h', bytes(2 * 400)), out)
except ValueError:
    print('refused', fe.pending)
print('frames', fe.frames(56), fe.frames(183), fe.frames(184))
fe.reset()
print('reset', fe.pending, fe.frames(255), fe.frames(256))
""")
    assert "n 0 200" in out and "refused 200" in out
    assert "frames 1 1 2" in out and "reset 0 0 1" in out


def test_center_matches_host(sound):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((25, 16)) * 20 - 50).astype(np.float32)  # (frames, features)
    out = run(sound, PRELUDE + f"""
x = array.array('f', binascii.unhexlify({binascii.hexlify(x.tobytes()).decode()!r}))
out = array.array('f', bytes(4 * len(x)))
a0 = a1 = 0
gc.collect()
a0 = gc.mem_alloc()
dsp.center(x, out, 16)
a1 = gc.mem_alloc()
hexout('out', out, len(out))
dsp.center(x, x, 16)
hexout('inplace', x, len(x))
dsp.center(out, out, 16)
hexout('again', out, len(out))
print('alloc', a1 - a0)
""")
    got = {l.split()[0]: np.frombuffer(binascii.unhexlify(l.split()[1]), np.float32)
           for l in out.splitlines() if l.split()[0] in ("out", "inplace", "again")}
    ref = dsp.center(x).ravel()
    assert np.array_equal(got["out"], ref) and np.array_equal(got["inplace"], ref)
    assert np.array_equal(got["again"], dsp.center(ref.reshape(25, 16)).ravel())
    assert "alloc 0" in out
    expect_error(sound, PRELUDE + "x = array.array('f', [1.0] * 10)", "dsp.center(x, x, 3)",
                 "ValueError", "x has 10 values, expected a non-zero multiple of n_axes (3)")
    expect_error(sound, PRELUDE + "x = array.array('f', [1.0] * 10)",
                 "dsp.center(x, memoryview(x)[1:], 2)", "ValueError", "out has 9 values")


def test_ring_and_center_of_a_ring(sound):
    """process(x, ring, at) writes frame i of the call to slot (at + i) % slots; center(ring,
    out, n, start) normalises the frames in time order from slot start: the same as the host's
    frames of the whole recording, then center."""
    samples, _ = wav.read(audio.fsdd_dir() / FILES[0])
    F = dsp.AudioFeatures(dsp.AudioConfig(**LOGMEL)).frames_of(samples)
    T = 7  # slots: the ring wraps several times
    out = run(sound, PRELUDE + f"""
w = dsp.WavReader({FILES[0]!r})
fe = dsp.AudioFeatures(**{LOGMEL!r})
ring = array.array('f', bytes(4 * {T} * 40))
norm = array.array('f', bytes(4 * {T} * 40))
x = array.array('h', bytes(2 * 160))
slot = done = 0
a0 = a1 = -1
while True:
    n = w.read(x)
    if n < len(x):
        break
    k = fe.process(x, ring, slot)
    slot = (slot + k) % {T}
    done += k
    if a0 < 0:  # the steady state: after the first chunk
        gc.collect()
        a0 = gc.mem_alloc()
a1 = gc.mem_alloc()
dsp.center(ring, norm, 40, slot)
print('done', done, 'alloc', a1 - a0)
hexout('norm', norm, len(norm))
""")
    done = int(out.split("done ")[1].split()[0])
    got = np.frombuffer(binascii.unhexlify(
        [l for l in out.splitlines() if l.startswith("norm")][0].split()[1]), np.float32)
    assert done >= 3 * T and "alloc 0" in out
    assert np.array_equal(got, dsp.center(F[done - T:done]).ravel())
    setup = PRELUDE + ("fe = dsp.AudioFeatures(sample_rate=8000)\n"
                       "r = array.array('f', bytes(4 * 80))\nx = array.array('h', bytes(512))")
    expect_error(sound, setup, "fe.process(x, r, 2)", "ValueError", "at is 2, expected 0..1")
    expect_error(sound, setup, "dsp.center(r, r, 40, 1)", "ValueError", "out is x")
    expect_error(sound, setup, "dsp.center(r, array.array('f', r), 40, 2)", "ValueError",
                 "start is 2, expected 0..1")
