"""Issue 14 on every target: the defects a hostile pass found in microlearn.dsp and in the
bindings glue both modules share (argument checks, messages), and their classes, as the rules
of docs/dsp.md ("Bad input") state them:

- NaN or inf in any float input raises ValueError "<arg>[i] is not finite" (never 0.0 or a
  plausible number); a float32 result that overflows raises "... overflows float32".
- Every size argument is an int in its range: a big int is never truncated (2**64 + 10 is not
  10), a float is not a size; the error names the argument.
- An output may share memory with an input only where documented (IIR in place, FFT.rfft with
  x in out[:n], FFT.magnitude/power and LogMel.process, which read x first); any other overlap
  raises, before anything is written.
- Feature names are never cut; error messages never end in half a UTF-8 character; a wrong
  buffer is named by its type ("got bytearray"), not by a typecode byte.
- A refused call leaves the object working (a window keeps its frames, a filter restarts)."""

import ast

import numpy as np
import pytest
import scipy.signal
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

import microlearn
from microlearn import dsp

from conftest import TARGETS, run
from microlearn import targets


# The same rules hold where microlearn is built into the firmware (the glue takes other
# paths there: type names, big ints), so that build runs these too.
@pytest.fixture(scope="module",
                params=TARGETS + (["unix-cmodule"] if "unix" in TARGETS else []))
def session(request):
    with targets.get(request.param).session() as s:
        yield s

PRELUDE = r"""
import array
from microlearn import dsp
def zeros(tc, n):
    return array.array(tc, bytes(n * (4 if tc == 'f' else 2)))
NAN, INF = float('nan'), float('inf')
def case(i, f):
    try:
        r = f()
        print('CASE', i, 'OK', repr(r))
    except Exception as e:
        print('CASE', i, type(e).__name__, repr(str(e)))
"""


def run_cases(session, setup, cases):
    """Runs every (call, expected) in one script. expected is (exception name, [fragments]) or
    ('OK', value or None). Returns the outcomes for a combined assertion message."""
    script = PRELUDE + setup + "\n" + "\n".join(
        f"case({i}, lambda: {call})" for i, (call, _) in enumerate(cases)) + "\nprint('END')\n"
    out = run(session, script)
    assert "END" in out, out
    got = {}
    for line in out.splitlines():
        if line.startswith("CASE "):
            _, i, kind, text = line.split(" ", 3)
            try:
                got[int(i)] = (kind, ast.literal_eval(text))
            except (ValueError, SyntaxError):  # an object's repr, e.g. <Window>
                got[int(i)] = (kind, text)
    bad = []
    for i, (call, (kind, want)) in enumerate(cases):
        g = got.get(i)
        if g is None or g[0] != kind:
            bad.append(f"{call}: expected {kind}, got {g}")
        elif kind == "OK":
            if want is not None and not same(g[1], want):
                bad.append(f"{call}: expected {want!r}, got {g[1]!r}")
        elif any(f not in g[1] for f in want):
            bad.append(f"{call}: message {g[1]!r} lacks one of {want}")
    assert not bad, f"{session.target.name}:\n" + "\n".join(bad)


def same(got, want):
    """Equal; lists of numbers as float32 (the boards print single-precision floats)."""
    if isinstance(want, list) and want and all(isinstance(v, (int, float)) for v in want):
        return (isinstance(got, list) and len(got) == len(want)
                and np.array_equal(np.float32(got), np.float32(want)))
    return got == want


def err(*fragments, kind="ValueError"):
    return (kind, list(fragments))


def ok(value=None):
    return ("OK", value)


SETUP = """
sos = dsp.butter(2, 5.0, 100.0)
f = dsp.IIR(sos)
t = dsp.FFT(16)
w = dsp.Window(4, 2)
fe = dsp.Features(length=4, n_axes=1, time=['mean', 'energy'])
m = dsp.LogMel(16000, 16, n_mels=4)
x16 = array.array('f', range(16))
"""


def test_non_finite_input_is_refused_everywhere(session):
    nan = "array.array('f', [1.0, NAN, 2.0, 3.0])"
    nan16 = "array.array('f', [0.0] * 15 + [INF])"
    run_cases(session, SETUP, [
        (f"dsp.rms({nan})", err("x[1] is not finite")),  # was 0.0
        ("dsp.rms(array.array('f', [1.0, -INF]))", err("x[1] is not finite")),  # was inf
        (f"f.process({nan})", err("x[1] is not finite")),
        (f"t.rfft({nan16}, zeros('f', 18))", err("x[15] is not finite")),
        (f"t.magnitude({nan16}, zeros('f', 9))", err("x[15] is not finite")),
        (f"t.power({nan16}, zeros('f', 9))", err("x[15] is not finite")),
        ("w.push(array.array('f', [NAN, 1.0]))", err("x[0] is not finite")),
        (f"fe.process({nan}, zeros('f', 2))", err("window[1] is not finite")),
        (f"m.process({nan16}, zeros('f', 4))", err("frame[15] is not finite")),
        (f"m.spectrogram({nan16}, zeros('f', 4))", err("x[15] is not finite")),
        ("dsp.rms(array.array('f', [3.0, 4.0]))", ok()),  # still computes
    ])


def test_one_and_two_point_windows_are_scipys(session):
    cases = []
    for kind in ("hann", "hamming"):
        for n in (1, 2):
            ref = [float(v) for v in np.float32(scipy.signal.get_window(kind, n))]
            cases.append((f"list(dsp.get_window('{kind}', zeros('f', {n})))", ok(ref)))
    cases.append(("list(dsp.get_window(None, zeros('f', 1)))", ok([1.0])))
    cases.append(("list(dsp.get_window('hann', zeros('f', 0)))", ok([])))
    run_cases(session, "", cases)


SIZES = [
    # (call with {v}, argument name)
    ("dsp.Window({v}, 5)", "length"),
    ("dsp.Window(10, {v})", "hop"),
    ("dsp.Window(10, 5, n_axes={v})", "n_axes"),
    ("dsp.FFT({v})", "n"),
    ("dsp.IIR(sos, n_channels={v})", "n_channels"),
    ("dsp.butter({v}, 5.0, 100.0)", "order"),
    ("dsp.Features(length={v}, time=['mean'])", "length"),
    ("dsp.Features(length=16, n_axes={v}, time=['mean'])", "n_axes"),
    ("dsp.Features(length=64, sample_rate=100, spectral={{'fft_length': {v}}})", "fft_length"),
    ("dsp.Features(length=64, sample_rate=100, spectral={{'fft_length': 32, 'n_bins': {v}}})",
     "n_bins"),
    ("dsp.Features(length=64, sample_rate=100, spectral={{'fft_length': 32, "
     "'filter': 'lowpass', 'cutoff': 10, 'order': {v}}})", "order"),
    ("dsp.LogMel(16000, {v})", "n_fft"),
    ("dsp.LogMel(16000, 256, hop={v})", "hop"),
    ("dsp.LogMel(16000, 256, n_mels={v})", "n_mels"),
    ("m.frames({v})", "n"),
    ("dsp.decode(b'1234', zeros('f', 2), n_axes={v})", "n_axes"),
    ("dsp.decode(b'1234', (zeros('f', 1), zeros('f', 1)), n_axes={v})", "n_axes"),
]


def test_sizes_never_wrap(session):
    cases = []
    for call, name in SIZES:
        for v in ("2**64 + 10", "2**32 + 16", "-2**64"):  # truncated: 10, 16 (32-bit), 0
            cases.append((call.format(v=v), err(f"{name} is ", "expected")))
        cases.append((call.format(v="10.5"), err(f"{name} must be an int, got float",
                                                 kind="TypeError")))
    cases += [
        ("dsp.Features(length=16, version=2**64 + 1, time=['mean'])",
         err("config version is 18446744073709551617")),
        ("dsp.Window(2**64 + 10, 5)", err("length is 18446744073709551626, expected 1..65535")),
        ("dsp.FFT(2**64)", err("n is 18446744073709551616", "power of two in 16..4096")),
        ("dsp.Window(10, 5, n_axes=3).n_axes", ok(3)),
        ("m.frames(2**20)", ok(1 + (2**20 - 16) // 8)),
    ]
    run_cases(session, SETUP, cases)


def test_feature_names_are_whole_and_distinct(session):
    long = ["a" * 70, "a" * 70 + "b"]
    accents = ["é" * 40, "ü" * 31 + "x"]
    cfg = dsp.FeatureConfig(length=16, n_axes=2, axes=long, time=("mean", "std"))
    cfg2 = dsp.FeatureConfig(length=16, n_axes=2, axes=accents, magnitude=True,
                             time=("kurtosis",), sample_rate=100,
                             spectral=dsp.SpectralConfig(fft_length=16, n_bins=2))
    run_cases(session, "", [
        (f"dsp.Features(length=16, n_axes=2, axes={long!r}, time=['mean', 'std']).names()",
         ok(cfg.names())),
        (f"dsp.Features({cfg2.to_dict()!r}).names()", ok(cfg2.names())),
        ("dsp.Features(length=16, n_axes=2, axes=['x', 'x'], time=['mean'])",
         err("axes", "equal", "distinct")),
        ("dsp.Features(length=16, n_axes=2, axes=['mag', 'y'], magnitude=True, time=['mean'])",
         err("'mag'")),
        ("dsp.Features(length=16, n_axes=2, axes=['mag', 'y'], time=['mean']).names()",
         ok(["mag_mean", "y_mean"])),
        # An error message cut inside a character (was: a bare UnicodeError)
        ("dsp.get_window('a' + 'é' * 100, zeros('f', 1))", err("window must be None")),
        ("dsp.get_window('é' * 100, zeros('f', 1))", err("window must be None")),
    ])
    assert all(len(set(c.names())) == c.n_features for c in (cfg, cfg2))


def test_overflow_is_reported(session):
    setup = SETUP + "big = array.array('f', [3e38] * 16)\n"
    run_cases(session, setup, [
        ("m.process(big, zeros('f', 4))", err("overflows float32")),  # was -100 dB
        ("m.spectrogram(big, zeros('f', 4))", err("overflows float32")),
        ("t.rfft(big, zeros('f', 18))", err("out[0] overflows float32")),  # was NaN at DC
        ("t.magnitude(big, zeros('f', 9))", err("overflows float32")),
        ("t.power(array.array('f', [1e19] * 16), zeros('f', 9))", err("overflows float32")),
        # |X| = 1.6e20 fits although |X|^2 does not
        ("abs(t.magnitude(array.array('f', [1e19] * 16), zeros('f', 9))[0] - 1.6e20) < 1e15",
         ok(True)),
        ("fe.process(array.array('f', [3e38] * 4), zeros('f', 2))",
         err("feature 1 (a0_energy) overflows float32")),
        ("dsp.Features(length=4, scale=1e35, time=['mean']).process(array.array('h', [30000] *"
         " 4), zeros('f', 1))", err("feature 0 (a0_mean) overflows float32")),
        ("list(fe.process(array.array('f', [1, 2, 3, 4]), zeros('f', 2)))", ok([2.5, 30.0])),
        # A filter with a gain of 1e10: its output overflows, it says so, and starts afresh.
        ("dsp.IIR([1e10, 0, 0, 1, 0, 0]).process(array.array('f', [1e30, 1.0]))",
         err("x[0] overflows float32", "state was reset")),
    ])
    # After an overflow the filter's state is clean: the next call gives the plain answer.
    out = run(session, PRELUDE + """
g = dsp.IIR([1, 1, 0, 1, 0, 0])  # y[i] = x[i] + x[i-1]
try:
    g.process(array.array('f', [3e38, 3e38]), zeros('f', 2))
except ValueError as e:
    print('raised', e)
print('next', list(g.process(array.array('f', [2.0, 2.0]))))
""")
    assert "raised out[1] overflows" in out and "next [2.0, 4.0]" in out, out


def test_overlapping_buffers(session):
    setup = SETUP + """
w.push(array.array('f', [1, 2])); w.push(array.array('f', [3, 4]))
a = array.array('f', range(12)); mv = memoryview(a)
o = array.array('f', range(18)); ov = memoryview(o)
h = array.array('h', range(8)); hv = memoryview(h)
def window(): return list(memoryview(w))
def separate():
    y = zeros('f', 18); t.rfft(array.array('f', range(16)), y); return list(y)
def inplace():
    y = array.array('f', list(range(16)) + [0, 0]); t.rfft(memoryview(y)[:16], y); return list(y)
def iir_inplace():
    b = array.array('f', [1, 2, 3, 4]); c = array.array('f', [1, 2, 3, 4]); out = zeros('f', 4)
    dsp.IIR(sos).process(b); dsp.IIR(sos).process(c, out); return list(b) == list(out)
def mag_overlap():
    y = array.array('f', list(range(16))); t.magnitude(y, memoryview(y)[:9]); return 'ok'
"""
    run_cases(session, setup, [
        ("w.push(memoryview(w)[1:3])", err("x is a part of this window's own buffer")),
        ("window()", ok([1.0, 2.0, 3.0, 4.0])),  # untouched by the refused push
        ("f.process(mv[0:8], mv[2:10])", err("x and out overlap")),
        ("f.process(mv[2:10], mv[0:8])", err("x and out overlap")),
        ("iir_inplace()", ok(True)),
        ("t.rfft(ov[2:18], o)", err("x and out overlap")),
        ("inplace() == separate()", ok(True)),
        ("mag_overlap()", ok("ok")),
        ("fe.process(mv[0:4], mv[3:5])", err("window and out overlap")),
        ("m.spectrogram(ov[0:16], ov[14:18])", err("x and out overlap")),
        ("dsp.decode(hv[0:6], hv[2:8], n_axes=3)", err("data and out overlap")),
        ("dsp.decode(b'12345678', (hv[0:2], hv[0:2]))", err("out[0] and out[1] overlap")),
        ("dsp.decode(b'12345678', (hv[0:2], hv[1:3]))", err("out[0] and out[1] overlap")),
        ("dsp.decode(b'12345678', (hv[0:2], hv[2:4]))", ok(2)),
    ])


def test_decode_parameters(session):
    data = "b'\\x01\\x00\\x02\\x00'"
    run_cases(session, "", [
        (f"dsp.decode({data}, zeros('f', 2), scale=NAN)", err("scale is not finite")),
        (f"dsp.decode({data}, zeros('h', 2), scale=NAN)", err("scale is not finite")),  # was 0
        (f"dsp.decode({data}, zeros('f', 2), offset=-INF)", err("offset is not finite")),
        (f"dsp.decode({data}, zeros('f', 2), scale=3e38)", err("beyond float32")),
        (f"dsp.decode({data}, (zeros('f', 1), zeros('f', 1)), scale=(1.0, NAN))",
         err("scale[1] is not finite")),
        (f"dsp.decode({data}, zeros('f', 2), scale='2')", err("scale must be a number", "got str",
                                                             kind="TypeError")),
        # int16 output saturates (documented): a huge but finite scale is fine there.
        (f"(lambda o: (dsp.decode({data}, o, scale=3e38), list(o))[1])(zeros('h', 2))",
         ok([32767, 32767])),
        (f"dsp.butter(2, NAN, 100.0)", err("cutoff is not finite")),
        (f"dsp.butter(2, 5.0, INF)", err("sample_rate is not finite")),
        (f"dsp.Features(length=16, scale=INF, time=['mean'])", err("scale is not finite")),
        (f"dsp.Features(length=16, scale='1e39', time=['mean'])", err("scale is not finite")),
        (f"dsp.LogMel(16000, 256, fmin=NAN)", err("fmin is not finite")),
    ])


def test_wrong_buffers_are_named_by_type(session):
    model = microlearn.convert(DecisionTreeClassifier(max_depth=2, random_state=0).fit(
        *load_iris(return_X_y=True)))
    session.put("tiny.csv", model.to_text().encode())
    setup = SETUP + """
from microlearn import trees
tm = trees.load('tiny.csv')
X = array.array('f', [5.1, 3.5, 1.4, 0.2] * 2); XV = memoryview(X)
"""
    run_cases(session, setup, [
        ("dsp.rms(bytearray(8))", err("got bytearray", kind="TypeError")),  # was '\x01'
        ("dsp.rms(b'1234')", err("got bytes", kind="TypeError")),
        ("dsp.rms([1.0, 2.0])", err("got list", kind="TypeError")),
        ("dsp.rms(array.array('i', [1]))", err("got array('i')", kind="TypeError")),
        ("dsp.rms(memoryview(array.array('b', [1])))", err("got memoryview('b')",
                                                           kind="TypeError")),
        ("f.process(x16, bytearray(64))", err("out must be array('f'), got bytearray",
                                              kind="TypeError")),
        ("t.rfft(x16, b'x' * 72)", err("out must be a writable array('f'), got bytes",
                                       kind="TypeError")),
        ("dsp.IIR(bytearray(24))", err("sos must be", "got bytearray", kind="TypeError")),
        ("dsp.IIR(5)", err("sos must be array('d')", "got int", kind="TypeError")),
        ("dsp.IIR([1, 0, 0, 1, 0, 'x'])", err("sos values must be numbers, got str",
                                              kind="TypeError")),
        ("dsp.IIR([[1, 0, 0, 1, 0, 0], 7])", err("sos rows must be a list or tuple, got int",
                                                 kind="TypeError")),
        ("dsp.Features(length=16, time='mean')", err("time must be a list or tuple, got str",
                                                     kind="TypeError")),
        ("dsp.Features(length=16, axes='x', time=['mean'])",
         err("axes must be a list or tuple, got str", kind="TypeError")),
        ("tm.predict(bytearray(16))", err("x must be", "got bytearray", kind="TypeError")),
        ("tm.predict_many(X, bytearray(2))", err("got bytearray", kind="TypeError")),
        ("tm.predict_proba(array.array('f', [1, 2, 3, 4]), bytearray(12))",
         err("got bytearray", kind="TypeError")),
        # predict_many writes while it reads: out must not overlap X.
        ("tm.predict_many(XV[0:8], XV[6:8])", err("X and out overlap")),
        ("list(tm.predict_many(X, array.array('f', [0, 0])))",
         ok([float(v) for v in model.predict(np.array([[5.1, 3.5, 1.4, 0.2]] * 2))])),
    ])


def test_messages_quoting_file_bytes_stay_valueerrors(session):
    # A model file saved in Latin-1 (Excel on Windows) or plain garbage: the loader quotes the
    # bytes it found; the message was a bare UnicodeError, it is a ValueError saying what.
    files = {"latin1.csv": b"h\xe9llo,world\n", "garbage.csv": b"\xff\xfe,1\n",
             "cut.csv": b"\xc3(abc,1\n"}
    for name, data in files.items():
        session.put(name, data)
    run_cases(session, "from microlearn import trees", [
        ("trees.load('latin1.csv')", err("latin1.csv line 1: not a tree model file", "h?llo")),
        ("trees.load('garbage.csv')", err("garbage.csv line 1: not a tree model file")),
        ("trees.load('cut.csv')", err("cut.csv line 1: not a tree model file")),
    ])


def test_batch_outputs_hold_every_label(session):
    # An array('b') would wrap the label 200 into -56, silently; a float32 array would round a
    # label beyond 2**24. The output's type must hold every label of the model.
    X, y = load_iris(return_X_y=True)
    model = microlearn.convert(DecisionTreeClassifier(max_depth=2, random_state=0).fit(
        X, y * 100))
    session.put("labels.csv", model.to_text().encode())
    two = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    want = [int(v) for v in model.predict(two)]
    setup = """
from microlearn import trees
lm = trees.load('labels.csv')
X = array.array('f', [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3])
"""
    run_cases(session, setup, [
        ("lm.predict_many(X, array.array('b', [0, 0]))",
         err("out is array('b'), which cannot hold the labels 0..200")),
        ("list(lm.predict_many(X, array.array('B', [0, 0])))", ok(want)),
        ("list(lm.predict_many(X, array.array('h', [0, 0])))", ok(want)),
        ("list(lm.predict_many(X, array.array('f', [0, 0])))", ok([float(v) for v in want])),
    ])
