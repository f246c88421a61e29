"""Bad input never crashes the board: malformed or truncated model files, wrong array types or
lengths, NaN, absurd sizes raise a clear exception that says what and where, and a model loaded
before keeps working."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.ensemble import (GradientBoostingClassifier, GradientBoostingRegressor,
                              RandomForestClassifier)

import microlearn

from conftest import expect_error, run

X, y = load_iris(return_X_y=True)
# Gradient boosting, like scikit-learn's, refuses NaN and inf (forests route NaN: see the end).
GOOD = microlearn.convert(GradientBoostingClassifier(n_estimators=5, max_depth=2,
                                                     random_state=0).fit(X, y))
GOOD_TEXT = GOOD.to_text()
SAMPLE = "array.array('f', [6.7, 3.0, 5.2, 2.3])"
EXPECT = int(GOOD.predict(np.array([[6.7, 3.0, 5.2, 2.3]]))[0])

# The loaded model every error check runs beside, and must still give the right answer after.
SETUP = f"""
import array, gc
from microlearn import trees
good = trees.load('good.csv')
"""
STILL_GOOD = f"assert good.predict({SAMPLE}) == {EXPECT}, 'the loaded model changed'"


def lines():
    return GOOD_TEXT.splitlines()


def edit(index_of, new):
    """The good model file with the first line starting with `index_of` replaced by `new`."""
    out = lines()
    i = next(k for k, l in enumerate(out) if l.startswith(index_of))
    out[i] = new(out[i]) if callable(new) else new
    return "\n".join(out) + "\n", i + 1


def broken_files():
    h = next(l for l in lines() if l.startswith("h,"))
    n_line = next(l for l in lines() if l.startswith("n,"))
    f = n_line.split(",")
    cases = {
        "empty": ("", None, ["empty"]),
        "not_a_model": ("hello,world\n", 1, ["not a tree model file", "hello"]),
        "wrong_version": (GOOD_TEXT.replace("microlearn-trees,1", "microlearn-trees,7"), 1,
                          ["version 7"]),
        "truncated_half": (GOOD_TEXT[:len(GOOD_TEXT) // 2], None, ["expected"]),
        "truncated_mid_line": (GOOD_TEXT[:GOOD_TEXT.index(n_line) + 5], None, ["node"]),
        "header_only": ("\n".join(lines()[:3]) + "\n", None, ["expected"]),
        "non_numeric": edit("n,", ",".join([f[0], f[1], "abc", f[3], f[4]] + f[5:])) + (
            ["threshold", "abc"],),
        "feature_out_of_range": edit("n,", ",".join([f[0], "9"] + f[2:])) + (
            ["feature", "0 to 3", "9"],),
        "child_cycle": edit("n,", ",".join(f[:3] + ["0"] + f[4:])) + (["refers back"],),
        "child_missing_node": edit("n,", ",".join(f[:3] + ["100000"] + f[4:])) + (
            ["does not exist"],),
        "leaf_out_of_range": edit("n,", ",".join(f[:3] + ["-100000"] + f[4:])) + (
            ["leaf", "does not exist"],),
        "too_many_fields": edit("n,", n_line + ",7,8") + (["expected"],),
        "too_few_fields": edit("n,", ",".join(f[:4])) + (["expected 5 fields"],),
        "extra_tree": (GOOD_TEXT.replace("t,", "t,0,0\nt,", 1), None, ["more than the header"]),
        "header_counts_more": (edit("h,", lambda l: ",".join(
            l.split(",")[:5] + [str(GOOD.n_nodes + 1)] + l.split(",")[6:]))[0], None,
            [f"expected {GOOD.n_nodes + 1} nodes (header line 3)", f"has {GOOD.n_nodes}"]),
        "nan_leaf": edit("l,", "l,nan") + (["NaN"],),
        "absurd_size": edit("h,", lambda l: ",".join(
            l.split(",")[:5] + ["2000000000"] + l.split(",")[6:])) + (["2 GiB"],),
        "unknown_record": edit("t,", "z,1,2") + (["unknown record type 'z'"],),
        "long_field": edit("n,", ",".join(f[:2] + ["1" * 100] + f[3:])) + (["longer than"],),
    }
    del h
    return cases


CASES = broken_files()


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_model_file(session, case):
    text, line, fragments = CASES[case]
    session.put("good.csv", GOOD_TEXT.encode())
    session.put("bad.csv", text.encode())
    where = [f"bad.csv line {line}:"] if line else ["bad.csv"]
    expect_error(session, SETUP, "trees.load('bad.csv')", "ValueError", *where, *fragments)
    run(session, SETUP + STILL_GOOD)


def test_failed_load_leaves_nothing_behind(session):
    # A big model cut short: the loader has allocated its memory when the file ends.
    big = microlearn.convert(RandomForestClassifier(20, random_state=0).fit(X, y)).to_text()
    session.put("good.csv", GOOD_TEXT.encode())
    session.put("cut.csv", big[: len(big) * 3 // 4].encode())
    out = run(session, SETUP + """
def attempt(n):
    for _ in range(n):
        try:
            trees.load('cut.csv')
        except ValueError:
            pass
attempt(1)  # the first call makes one-time allocations of the interpreter
gc.collect()
before = gc.mem_alloc()
attempt(3)
gc.collect()
print('GROWTH', gc.mem_alloc() - before)
""" + STILL_GOOD)
    growth = int(out.split("GROWTH")[1].split()[0])
    assert growth == 0, f"a failed load left {growth} bytes allocated"


def test_deleting_a_model_frees_its_memory(session):
    session.put("good.csv", GOOD_TEXT.encode())
    out = run(session, """
import gc
from microlearn import trees
def measure():
    # Locals only: new globals would grow the module's dict and count as allocated.
    m = trees.load('good.csv')  # the first load makes one-time allocations of the interpreter
    m = None
    gc.collect()
    before = gc.mem_alloc()
    m = trees.load('good.csv')
    gc.collect()
    loaded = gc.mem_alloc() - before
    m = None
    gc.collect()
    print('LOADED', loaded, 'AFTER', gc.mem_alloc() - before)
measure()
""")
    loaded, after = int(out.split()[1]), int(out.split()[3])
    assert loaded >= GOOD.memory_size()
    assert after == 0, f"{after} bytes remain after deleting the model"


def test_predict_keeps_its_model_alive(session):
    # model.predict is the model itself, called (model(x) predicts, as a Keras model does): a
    # reference to it alone keeps the model (the heap filled and collected over it, then
    # predict still answers right).
    session.put("good.csv", GOOD_TEXT.encode())
    out = run(session, SETUP + f"""
def held():
    m = trees.load('good.csv')
    return m.predict
f = held()
gc.collect()
junk = [bytearray(40) for _ in range(200)]
junk = None
gc.collect()
junk = [bytearray(40) for _ in range(200)]
print('LABEL', f({SAMPLE}), f({SAMPLE}, array.array('f', [0] * 3)))
print('SAME', good.predict is good, good({SAMPLE}) == {EXPECT})
""")
    assert f"LABEL {EXPECT} {EXPECT}" in out and "SAME True True" in out, out


def test_missing_file_and_wrong_source(session):
    session.put("good.csv", GOOD_TEXT.encode())
    expect_error(session, SETUP, "trees.load('no-such-file.csv')", "OSError")
    expect_error(session, SETUP, "trees.load(42)", "TypeError", "path or a file")
    run(session, SETUP + "f = open('good.csv')\nm = trees.load(f)\nf.close()\n" + STILL_GOOD)
    run(session, SETUP + "f = open('good.csv', 'rb')\nm = trees.load(f)\nf.close()\n"
        + "assert m.predict(" + SAMPLE + ") == " + str(EXPECT))


BAD_CALLS = [
    ("good.predict(array.array('d', [1, 2, 3, 4]))", "TypeError", ["x", "'d'"]),
    ("good.predict([6.7, 3.0, 5.2, 2.3])", "TypeError", ["x must be array"]),
    ("good.predict(array.array('f', [1, 2, 3]))", "ValueError", ["x has 3 values", "expected 4"]),
    ("good.predict(array.array('f'))", "ValueError", ["x is empty"]),
    ("good.predict(array.array('f', [1, 2, float('nan'), 4]))", "ValueError", ["x[2] is NaN"]),
    ("good.predict()", "TypeError", ["predict takes x and optionally proba", "got 0 arguments"]),
    ("good.predict(array.array('f', [1, 2, 3, 4]), array.array('f', [0] * 3), 1)", "TypeError",
     ["got 3 arguments"]),
    ("good.predict(x=array.array('f', [1, 2, 3, 4]))", "TypeError",
     ["got 0 arguments and keywords"]),
    ("good.predict(array.array('f', [1, 2, float('inf'), 4]))", "ValueError", ["x[2] is +inf"]),
    ("good.predict_proba(array.array('f', [1, 2, 3, 4]), array.array('f', [0, 0]))",
     "ValueError", ["out has 2 values", "expected 3"]),
    ("good.predict_proba(array.array('f', [1, 2, 3, 4]), array.array('i', [0, 0, 0]))",
     "TypeError", ["out must be a writable array('f')"]),
    ("good.predict_many(array.array('f', [1, 2, 3, 4, 5]), array.array('i', [0]))",
     "ValueError", ["X has 5 values", "multiple of n_features"]),
    ("good.predict_many(array.array('f', [1, 2, 3, 4] * 2), array.array('i', [0]))",
     "ValueError", ["out has 1 values", "expected 2"]),
    ("good.predict_many(array.array('f', [1, 2, 3, 4, 1, 2, float('nan'), 4]), "
     "array.array('i', [0, 0]))", "ValueError", ["sample 1", "x[2] is NaN"]),
]


@pytest.mark.parametrize("call,exc,fragments", BAD_CALLS, ids=[c[0][:40] for c in BAD_CALLS])
def test_bad_predict_arguments(session, call, exc, fragments):
    session.put("good.csv", GOOD_TEXT.encode())
    expect_error(session, SETUP, call, exc, *fragments)
    run(session, SETUP + call.join(["try:\n    ", "\nexcept Exception:\n    pass\n"]) + STILL_GOOD)


def test_regressor_has_no_predict_proba(session):
    reg = microlearn.convert(GradientBoostingRegressor(n_estimators=5).fit(X, y))
    session.put("good.csv", GOOD_TEXT.encode())
    session.put("reg.csv", reg.to_text().encode())
    expect_error(session, SETUP + "r = trees.load('reg.csv')",
                 "r.predict_proba(array.array('f', [1, 2, 3, 4]), array.array('f', [0]))",
                 "TypeError", "regressor")


def test_nan_routed_when_the_model_supports_it(session):
    # HistGradientBoosting learns where missing values go; the device routes them the same way.
    from sklearn.ensemble import HistGradientBoostingClassifier

    Xm = X.copy()
    Xm[::7, 2] = np.nan
    est = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(Xm, y)
    model = microlearn.convert(est)
    assert model.flags & 1
    Xq = np.array([[6.7, 3.0, np.nan, 2.3], [5.0, 3.4, np.nan, 0.2], [np.nan] * 4],
                  dtype=np.float32)
    session.put("hgb.csv", model.to_text().encode())
    rows = ", ".join("array.array('f', %s)" % [float(v) for v in r] for r in Xq)
    out = run(session, "import array\nfrom microlearn import trees\nnan = float('nan')\n"
              "m = trees.load('hgb.csv')\n"
              f"print('PRED', [m.predict(x) for x in ({rows},)])")
    assert out.split("PRED")[1].strip() == str([int(v) for v in est.predict(Xq)])
