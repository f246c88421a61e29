"""Loading tree models on every target: the binary form used in place (a bytes object, a file
of the boards' ROMFS image, the bytes constant of an imported .mpy) or read once, its RAM; class
labels that are not small integers (strings, floats, booleans, 64-bit integers) returned by
predict as scikit-learn returns them, without allocating; damaged binary files and streams
that never end refused at once."""

import struct
import subprocess

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split
from sklearn.tree import DecisionTreeClassifier

import microlearn
from microlearn import paths

from conftest import expect_error, run

X, y = load_digits(return_X_y=True)
Xtr, Xte, ytr, _ = train_test_split(X, y, test_size=0.25, random_state=0)
# The digits forest of issue 13 and of the benchmarks.
DIGITS = RandomForestClassifier(10, max_leaf_nodes=100, random_state=0).fit(Xtr, ytr)
DIGITS_MODEL = microlearn.convert(DIGITS)
DIGITS_BIN = DIGITS_MODEL.to_bin()
SAMPLES = Xte[:40]
EXPECT = [int(v) for v in DIGITS.predict(SAMPLES.astype(np.float32))]


def samples_script(tc="h"):
    rows = ", ".join(f"array.array({tc!r}, {[int(v) for v in r]})" for r in SAMPLES)
    return f"XS = [{rows}]\n"


def measure_load(session, load, setup=""):
    """(RAM of the load, model.memory, in_place, predictions on SAMPLES as int16 and float)."""
    out = run(session, f"""
import array, gc
from microlearn import trees
{setup}
{samples_script('h')}
XF = [array.array('f', x) for x in XS]
def main():
    # locals only: a new global would grow the module's dict and count as the load's
    gc.collect()
    a0 = gc.mem_alloc()
    m = {load}
    gc.collect()
    print('LOAD', gc.mem_alloc() - a0, m.memory, int(m.in_place))
    print('H', [m.predict(x) for x in XS])
    print('F', [m.predict(x) for x in XF])
    gc.collect()
    a0 = gc.mem_alloc()
    for x in XS:
        m.predict(x)
    for x in XF:
        m.predict(x)
    print('ALLOC', gc.mem_alloc() - a0)
main()
""")
    line = out.split("LOAD")[1].split()
    h = eval(out.split("H ")[1].splitlines()[0])
    f = eval(out.split("F ")[1].splitlines()[0])
    alloc = int(out.split("ALLOC")[1].split()[0])
    return int(line[0]), int(line[1]), line[2] == "1", h, f, alloc


def test_binary_from_a_file_takes_less_than_8000_bytes(session):
    session.put("digits.bin", DIGITS_BIN)
    # A file of a filesystem in RAM or flash (littlefs, FAT; on the emulated boards one the
    # board wrote) is read once into a block of the model's exact size.
    load, memory, in_place, h, f, alloc = measure_load(
        session, "trees.load(open('written.bin', 'rb'))",
        setup="with open('written.bin', 'wb') as w:\n    w.write(open('digits.bin', 'rb').read())")
    assert not in_place and memory == DIGITS_MODEL.memory_size("bin")
    assert h == EXPECT and f == EXPECT and alloc == 0
    assert load <= 8000, f"{session.target.name}: loading took {load} bytes"


def test_binary_in_place_takes_less_than_1000_bytes(session):
    # A bytes object (here read into the heap, as a bytes constant of a .mpy imported from a
    # filesystem is): the model is used where it lies.
    session.put("digits.bin", DIGITS_BIN)
    load, memory, in_place, h, f, alloc = measure_load(
        session, "trees.load(data)", setup="data = open('digits.bin', 'rb').read()")
    assert in_place and memory == DIGITS_MODEL.memory_size("bin", in_place=True)
    assert h == EXPECT and f == EXPECT and alloc == 0
    assert load <= 1000, f"{session.target.name}: loading in place took {load} bytes"


def test_binary_in_place_from_rom(target):
    # On the boards a path in the ROMFS image (flash) is used in place; the unix port reads it.
    with target.session({"digits.bin": DIGITS_BIN}) as s:
        load, memory, in_place, h, f, alloc = measure_load(s, "trees.load('digits.bin')")
    assert h == EXPECT and f == EXPECT and alloc == 0
    if target.is_qemu:
        assert in_place and load <= 1000, (load, memory)
    else:
        assert not in_place and load <= 8000


def check_sample_containers(session):
    """predict(x) reads an array('h') or ('f'), or a memoryview of one, from the object itself:
    the start of a slice at any offset (also a slice of a slice), an array with room to grow
    (append), a sample of another length still refused, other types as before."""
    session.put("digits.bin", DIGITS_BIN)
    out = run(session, f"""
import array
from microlearn import trees
m = trees.load('digits.bin')
{samples_script('h')}
X = array.array('h')
for x in XS:
    X.extend(x)
V = memoryview(X)
grown = []
for x in XS:
    a = array.array('h', x[:1])
    for v in x[1:]:
        a.append(v)  # (room for 8 more at a time: 1 left at the end)
    grown.append(a)
n = len(XS)
print('SLICE', [m.predict(V[i * 64:(i + 1) * 64]) for i in range(n)])
print('NESTED', [m.predict(V[(i - 1) * 64 + 1:][63:][:64]) for i in range(1, n)])
print('GROWN', [m.predict(a) for a in grown])
F = memoryview(array.array('f', X))
print('FLOAT', [m.predict(F[(i - 1) * 64 + 3:][61:][:64]) for i in range(1, n)])
for bad in ('V[:63]', 'V[1:66]', 'array.array("h", XS[0]) + array.array("h", [1])'):
    try:
        m.predict(eval(bad))
        print('NO ERROR', bad)
    except ValueError as e:
        print('VALUE', bad, e)
try:
    m.predict(bytearray(128))
except TypeError as e:
    print('TYPE', e)
""")
    got = {k: eval(out.split(k + " ")[1].splitlines()[0])
           for k in ("SLICE", "NESTED", "GROWN", "FLOAT")}
    assert got["SLICE"] == EXPECT and got["GROWN"] == EXPECT, out
    assert got["NESTED"] == EXPECT[1:] and got["FLOAT"] == EXPECT[1:], out
    assert "NO ERROR" not in out and out.count("VALUE") == 3, out
    assert "x has 63 values, expected 64" in out and "x has 65 values, expected 64" in out, out
    assert "TYPE" in out and "bytearray" in out.split("TYPE")[1], out


def test_samples_in_every_container(session):
    check_sample_containers(session)


# A forest of more classes than the binding keeps sums for on the C stack (32): its sums are in
# the model's heap block, after the object.
WIDE_X = np.random.default_rng(0).normal(size=(400, 6)).astype(np.float32)
WIDE_Y = np.arange(400) % 40
WIDE = RandomForestClassifier(3, max_depth=6, random_state=0).fit(WIDE_X, WIDE_Y)
WIDE_MODEL = microlearn.convert(WIDE)


def test_in_place_object_is_the_model_ram(target):
    # Used in place, a model's RAM is its object: the sums of a prediction are on the C stack
    # (up to 32 outputs). On the 32-bit boards the object is 80 bytes (5 GC blocks of 16), from
    # the ROMFS image and from a bytes object: the aim of at most 80.
    assert WIDE_MODEL.memory_size("bin", in_place=True) == 8 * 40
    with target.session({"digits.bin": DIGITS_BIN, "wide.bin": WIDE_MODEL.to_bin()}) as s:
        load, memory, in_place, h, f, alloc = measure_load(
            s, "trees.load(data)", setup="data = open('digits.bin', 'rb').read()")
        assert in_place and memory == 0 and h == EXPECT and f == EXPECT and alloc == 0
        if target.is_qemu:
            assert load <= 80, f"{target.name}: the in-place object takes {load} bytes"
            rom = measure_load(s, "trees.load('digits.bin')")
            assert rom[2] and rom[0] <= 80 and rom[3] == EXPECT and rom[5] == 0, rom
        rows = ", ".join(f"array.array('f', {[float(v) for v in r]})" for r in WIDE_X[:60])
        out = run(s, f"""
import array, gc
from microlearn import trees
data = open('wide.bin', 'rb').read()
XS = [{rows}]
def main():
    gc.collect()
    a0 = gc.mem_alloc()
    m = trees.load(data)
    gc.collect()
    print('LOAD', gc.mem_alloc() - a0, m.memory, int(m.in_place))
    print('P', [m.predict(x) for x in XS])
    p = array.array('f', [0] * 40)
    print('Q', [m.predict_proba(x, p)[m.predict(x)] == max(p) for x in XS])
main()
""")
    load, memory, in_place = (int(v) for v in out.split("LOAD")[1].split()[:3])
    assert in_place and memory == 8 * 40
    if target.is_qemu:
        assert load <= 80 + 8 * 40, load
    assert eval(out.split("P ")[1].splitlines()[0]) == [int(v) for v in WIDE.predict(WIDE_X[:60])]
    assert all(eval(out.split("Q ")[1].splitlines()[0]))


def head_counts(blob):
    """(n_nodes, n_leaves) of a binary model's head section, read here on the host."""
    for i in range(struct.unpack_from("<H", blob, 18)[0]):
        sid, off, _ = struct.unpack_from("<4sII", blob, 24 + 12 * i)
        if sid == b"head":
            return struct.unpack_from("<II", blob, off + 16)
    raise AssertionError("no head section")


def test_counts_and_memory_of_every_load(target):
    # The model object keeps no node and leaf counts: a text model and a binary one with labels
    # have them in their cold part, a forest used in place reads them again from its data (a
    # bytes object, the ROMFS image of the boards, the block it was read into).
    est, _, _ = labelled(LABELS["str"])
    lab_bin = microlearn.convert(est).to_bin()
    files = {"digits.bin": DIGITS_BIN, "digits.csv": DIGITS_MODEL.to_text().encode(),
             "lab.bin": lab_bin}
    with target.session(files) as s:
        out = run(s, """
from microlearn import trees
data = open('digits.bin', 'rb').read()
lab = open('lab.bin', 'rb').read()
# files the board writes (not in the ROMFS image): read into a block
for name, d in (('w.bin', data), ('wlab.bin', lab)):
    with open(name, 'wb') as w:
        w.write(d)
for name, m in (('bytes', trees.load(data)), ('path', trees.load('digits.bin')),
                ('file', trees.load(open('w.bin', 'rb'))), ('text', trees.load('digits.csv')),
                ('lab', trees.load(lab)), ('labfile', trees.load(open('wlab.bin', 'rb')))):
    print('C', name, m.n_nodes, m.n_leaves, int(m.in_place), m.memory, len(m.classes))
""")
    got = {ln.split()[1]: [int(v) for v in ln.split()[2:]] for ln in out.splitlines()
           if ln.startswith("C ")}
    nodes, leaves = head_counts(DIGITS_BIN)
    rom = target.is_qemu  # a path in the boards' ROMFS image is used in place
    assert got["bytes"] == [nodes, leaves, 1, 0, 10]
    assert got["path"] == [nodes, leaves, 1, 0, 10] if rom else \
        got["path"] == [nodes, leaves, 0, len(DIGITS_BIN), 10]
    assert got["file"] == [nodes, leaves, 0, len(DIGITS_BIN), 10]
    assert got["text"] == [DIGITS_MODEL.n_nodes, DIGITS_MODEL.n_leaves, 0,
                           DIGITS_MODEL.memory_size(), 10]
    lab_nodes, lab_leaves = head_counts(lab_bin)
    assert got["lab"] == [lab_nodes, lab_leaves, 1, 0, 3]
    assert got["labfile"] == [lab_nodes, lab_leaves, 0, len(lab_bin), 3]


def test_nan_in_place(target):
    # A forest trained with missing values, used in place, keeps no cold part: a sample with NaN
    # reads the nodes' missing-value sides again from the data (a bytes object; on the boards
    # also the ROMFS image), and is predicted as scikit-learn predicts it, without allocating.
    Xm = X.astype(np.float32)
    Xm[::5, 20] = np.nan
    Xm[1::7, 33] = np.nan
    est = RandomForestClassifier(5, max_depth=6, random_state=0).fit(Xm, y)
    model = microlearn.convert(est)
    assert model.flags & 1
    Xq = Xm[:20].copy()  # (the Cortex-M0 board has little RAM)
    Xq[::3, 43] = np.nan
    want = [int(v) for v in est.predict(Xq)]
    rows = ", ".join(f"array.array('f', {[float(v) for v in r]})" for r in Xq)
    with target.session({"nan.bin": model.to_bin()}) as s:
        out = run(s, f"""
import array, gc
from microlearn import trees
nan = float('nan')
data = open('nan.bin', 'rb').read()
XS = [{rows}]
def main(name, load):
    gc.collect()
    a0 = gc.mem_alloc()
    m = load()
    gc.collect()
    print('LOAD', name, gc.mem_alloc() - a0, int(m.in_place))
    print('P', name, [m.predict(x) for x in XS])
    p = array.array('f', [0] * 10)
    print('Q', name, [m.predict_proba(x, p)[m.predict(x)] == max(p) for x in XS])
    many = array.array('i', [0] * len(XS))
    m.predict_many(array.array('f', [v for x in XS for v in x]), many)
    print('M', name, list(many))
    gc.collect()
    a0 = gc.mem_alloc()
    for x in XS:
        m.predict(x)
    print('ALLOC', name, gc.mem_alloc() - a0)
main('bytes', lambda: trees.load(data))
main('path', lambda: trees.load('nan.bin'))
""")
    got = {}
    for ln in out.splitlines():
        tag, name, rest = ln.split(" ", 2)
        got[tag, name] = rest if tag == "LOAD" else eval(rest)
    for name in ("bytes", "path"):
        assert got["P", name] == want and got["M", name] == want and all(got["Q", name])
        assert got["ALLOC", name] == 0
    load, in_place = (int(v) for v in got["LOAD", "bytes"].split())
    assert in_place
    if target.is_qemu:
        assert load <= 80, load
        load, in_place = (int(v) for v in got["LOAD", "path"].split())
        assert in_place and load <= 80, load


def test_predictions_after_an_error_mid_call(session):
    # A call that raises after evaluating (predict_many: +inf, which the forest does not accept,
    # in its second sample) leaves the model as it was: the next calls point it at their own
    # sums.
    session.put("digits.bin", DIGITS_BIN)
    out = run(session, f"""
import array
from microlearn import trees
m = trees.load(open('digits.bin', 'rb').read())
{samples_script('h')}
XF = [array.array('f', x) for x in XS]
bad = array.array('f', list(XF[0]) + list(XF[1]))
bad[64 + 5] = float('inf')
out = array.array('i', [0, 0])
for call in (lambda: m.predict_many(bad, out), lambda: m.predict(bad[64:])):
    try:
        call()
        print('NO ERROR')
    except ValueError as e:
        print('ERR', e)
print('H', [m.predict(x) for x in XS])
print('F', [m.predict(x) for x in XF])
p = array.array('f', [0] * 10)
print('Q', [m.predict_proba(x, p)[m.predict(x)] == max(p) for x in XF])
many = array.array('i', [0] * len(XS))
m.predict_many(array.array('h', [v for x in XS for v in x]), many)
print('M', list(many))
""")
    assert "NO ERROR" not in out and out.count("ERR") == 2 and "is +inf" in out
    got = {tag: eval(out.split(f"\n{tag} ")[1].splitlines()[0]) for tag in "HFQM"}
    assert got["H"] == EXPECT and got["F"] == EXPECT and got["M"] == EXPECT
    assert all(got["Q"])


def test_mpy_bytes_constant(target, tmp_path):
    # save(format='py') + mpy-cross: the recipe for a board (ROMFS or frozen): the constant is
    # in flash (ROMFS: aligned by microlearn's image builder) and used in place.
    src = tmp_path / "digits_model.py"
    DIGITS_MODEL.save(file=str(src))
    mpy = tmp_path / "digits_model.mpy"
    subprocess.run([str(paths.micropython() / "mpy-cross/build/mpy-cross"), "-o", str(mpy),
                    str(src)], check=True)
    with target.session({"digits_model.mpy": mpy.read_bytes()}) as s:
        load, memory, in_place, h, f, alloc = measure_load(
            s, "trees.load(digits_model.MODEL)", setup="import digits_model")
    assert in_place and h == EXPECT and f == EXPECT and alloc == 0
    if target.is_qemu:
        assert load <= 1000  # the constant stays in flash


def test_misaligned_buffer_is_copied(session):
    session.put("digits.bin", DIGITS_BIN)
    load, memory, in_place, h, f, alloc = measure_load(
        session, "trees.load(memoryview(raw)[1:])",
        setup="raw = bytearray(1) + open('digits.bin', 'rb').read()")
    assert not in_place and h == EXPECT and f == EXPECT


def labelled(labels, n=3):
    Xi, yi = load_iris(return_X_y=True)
    idx = yi % n if n == 3 else (yi > 0).astype(int)
    yl = np.asarray(labels)[idx]
    est = RandomForestClassifier(5, max_depth=3, random_state=0).fit(Xi, yl)
    Xq = Xi[::7].astype(np.float32)
    return est, Xq, list(est.predict(Xq))


LABELS = {
    "str": ["setosa", "versicolor", "virginica"],
    "float": [-1.0, 2.0, 7.0],  # scikit-learn classifies integral floats only
    "bool": [False, True],
    "int64": [2**40 + 1, 2**40 + 2, -(2**40)],
}


@pytest.mark.parametrize("kind", sorted(LABELS))
def test_labels_returned_without_allocating(session, kind):
    labels = LABELS[kind]
    est, Xq, want = labelled(labels, n=len(labels))
    model = microlearn.convert(est)
    assert list(model.predict(Xq)) == want
    session.put("lab.bin", model.to_bin())
    rows = ", ".join(f"array.array('f', {[float(v) for v in r]})" for r in Xq)
    out = run(session, f"""
import array, gc
from microlearn import trees
m = trees.load('lab.bin')
XS = [{rows}]
print('CLASSES', repr(m.classes))
print('P', repr([m.predict(x) for x in XS]))
def main():
    gc.collect()
    a0 = gc.mem_alloc()
    for x in XS:
        m.predict(x)
    print('ALLOC', gc.mem_alloc() - a0)
main()
""")
    got = eval(out.split("P ")[1].splitlines()[0])
    classes = eval(out.split("CLASSES ")[1].splitlines()[0])
    if kind == "float" and session.target.is_qemu:
        want = [float(np.float32(v)) for v in want]  # the boards' floats are float32
        classes = [float(np.float32(v)) for v in classes]
    assert got == [w.item() if hasattr(w, "item") else w for w in want]
    assert list(classes) == [c.item() if hasattr(c, "item") else c for c in est.classes_] \
        or kind == "float"
    assert int(out.split("ALLOC")[1].split()[0]) == 0
    if kind == "str":
        expect_error(session, "import array\nfrom microlearn import trees\nm = "
                     "trees.load('lab.bin')",
                     "m.predict_many(array.array('f', [0] * 8), array.array('i', [0, 0]))",
                     "ValueError", "not 32-bit integers", "use predict(x)")


def test_text_form_refuses_labels_it_cannot_hold():
    est, _, _ = labelled(LABELS["str"])
    model = microlearn.convert(est)
    with pytest.raises(microlearn.trees.ConversionError, match="format='bin'"):
        model.save(format="csv")
    assert model.to_bin()[:4] == b"MLRN"


def test_conversion_refuses_what_the_loader_would():
    est = DecisionTreeClassifier(max_depth=2).fit(X[:50], y[:50])
    est.n_features_in_ = 0
    with pytest.raises(microlearn.trees.ConversionError, match="n_features_in_ = 0"):
        microlearn.convert(est)


BROKEN_BIN = {
    "truncated": (DIGITS_BIN[:len(DIGITS_BIN) // 2], ["truncated", str(len(DIGITS_BIN))]),
    "corrupted": (DIGITS_BIN[:100] + bytes([DIGITS_BIN[100] ^ 1]) + DIGITS_BIN[101:],
                  ["checksum mismatch"]),
    "longer": (DIGITS_BIN + b"\0" * 8, ["size mismatch"]),
    "other kind": (DIGITS_BIN[:6] + b"\x02\x00" + DIGITS_BIN[8:], ["nn model"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN_BIN))
def test_damaged_binary_refused(session, case):
    data, fragments = BROKEN_BIN[case]
    session.put("good.bin", DIGITS_BIN)
    session.put("bad.bin", data)
    setup = ("import array, gc\nfrom microlearn import trees\ngood = trees.load('good.bin')\n"
             + samples_script())
    expect_error(session, setup, "trees.load('bad.bin')", "ValueError", "bad.bin", *fragments)
    expect_error(session, setup, "trees.load(open('bad.bin', 'rb').read())", "ValueError",
                 *fragments)
    out = run(session, setup + """
def attempt():
    for _ in range(3):
        try:
            trees.load('bad.bin')
        except ValueError:
            pass
def main():
    attempt()
    gc.collect()
    a0 = gc.mem_alloc()
    attempt()
    gc.collect()
    print('GROWTH', gc.mem_alloc() - a0)
main()
print('PRED', [good.predict(x) for x in XS])
""")
    assert int(out.split("GROWTH")[1].split()[0]) == 0
    assert eval(out.split("PRED ")[1].splitlines()[0]) == EXPECT


# A stream that never ends, and a large garbage file: the loader stops at the first error.
ENDLESS = """
from microlearn import trees
class Endless:
    def __init__(self, unit):
        self.unit, self.read = unit, 0
    def readinto(self, buf):
        n = len(buf)
        k = self.read % len(self.unit)
        buf[:] = (self.unit * (n // len(self.unit) + 2))[k:k + n]
        self.read += n
        return n
"""


@pytest.mark.parametrize("unit,fragment,most", [
    (b"x", "longer than 63", 1024),
    (b"microlearn-trees,1\n#", "without a record", 70000),
    (b"\n", "without a record", 70000),
], ids=["garbage", "comment", "blank lines"])
def test_endless_stream_stops(session, unit, fragment, most):
    out = run(session, ENDLESS + f"""
s = Endless({unit!r})
try:
    trees.load(s)
    print('LOADED')
except ValueError as e:
    print('RAISED', s.read, repr(str(e)))
""")
    assert "RAISED" in out, out
    read = int(out.split("RAISED")[1].split()[0])
    assert fragment in out and read <= most, (read, out)
