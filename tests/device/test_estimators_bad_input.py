"""Bad input to the scikit-learn family modules never crashes the board: damaged, truncated or
wrong-kind model files, wrong array types or lengths, NaN and infinity raise a clear exception
that says what and where; a failed load leaves nothing allocated, and a model loaded before
keeps working. One script per target checks every case."""

import numpy as np
from sklearn import datasets, linear_model, pipeline, preprocessing, svm

import microlearn
from microlearn import blob

from conftest import run

X, y = datasets.load_iris(return_X_y=True)
GOOD = microlearn.convert(pipeline.make_pipeline(preprocessing.StandardScaler(),
                                                 linear_model.LogisticRegression()).fit(X, y))
DATA = GOOD.to_bytes()
SVC = microlearn.convert(svm.SVC().fit(X, y)).to_bytes()


def damaged():
    """name -> (file bytes, fragments the message must contain)."""
    kind, version, secs = blob.unpack(DATA)
    secs = {k: bytes(v) for k, v in secs.items()}

    def repack(**change):
        s = dict(secs)
        for k, v in change.items():
            if v is None:
                s.pop(k.encode())
            else:
                s[k.encode()] = v
        return blob.pack(kind, version, list(s.items()))

    flipped = bytearray(DATA)
    flipped[len(DATA) // 2] ^= 0x40
    estm = bytearray(secs[b"estm"])
    estm[0:4] = (5).to_bytes(4, "little")  # n_features 5: the scaler's steps take 4
    return {
        "empty": (b"", ["not a microlearn binary model"]),
        "text": (b"microlearn-trees,1\n", ["not a microlearn binary model"]),
        "truncated": (DATA[:len(DATA) // 2], ["truncated", str(len(DATA))]),
        "longer": (DATA + b"\0" * 8, ["size mismatch"]),
        "corrupted": (bytes(flipped), ["checksum mismatch"]),
        "wrong_kind": (SVC, ["this is a svm model", "expected linear_model"]),
        "missing_coef": (repack(coef=None), ["section 'coef' is missing"]),
        "short_coef": (repack(coef=secs[b"coef"][:-8]), ["coef", "expected"]),
        "bad_steps": (repack(estm=bytes(estm)), ["prep step 0", "expected 5 in"]),
        "bad_variant": (repack(estm=secs[b"estm"][:12] + (9).to_bytes(4, "little")
                               + secs[b"estm"][16:]), ["unknown variant 9"]),
    }


def test_bad_input(session):
    files = {"good.mlb": DATA}
    for name, (data, _) in damaged().items():
        files[f"{name}.mlb"] = data
    for name, data in files.items():
        session.put(name, data)
    checks = []
    for name, (_, frags) in damaged().items():
        checks.append((f"linear_model.load('{name}.mlb')", "ValueError", [f"{name}.mlb"] + frags))
    # in place from a buffer: the same checks, the message names the buffer
    checks.append(("linear_model.load(bytearray(b'MLRN' + bytes(40)))", "ValueError",
                   ["model buffer"]))
    calls = [
        ("good.predict(array.array('i', [1, 2, 3, 4]))", "TypeError", ["x must be", "array('f')"]),
        ("good.predict(array.array('f', [1, 2, 3]))", "ValueError", ["x has 3 values",
                                                                     "expected 4"]),
        ("good.predict(array.array('f', [1, float('nan'), 3, 4]))", "ValueError",
         ["x[1] is NaN"]),
        ("good.predict(array.array('f', [1, 2, float('inf'), 4]))", "ValueError",
         ["x[2] is infinite"]),
        ("good.predict_proba(array.array('f', [1, 2, 3, 4]), array.array('f', [0, 0]))",
         "ValueError", ["out has 2 values", "expected 3"]),
        ("good.predict_proba(array.array('f', [1, 2, 3, 4]), array.array('i', [0, 0, 0]))",
         "TypeError", ["out must be"]),
        ("good.predict_many(array.array('f', [1, 2, 3, 4, 5]), array.array('i', [0]))",
         "ValueError", ["X has 5 values", "multiple of n_features"]),
        ("good.predict_many(array.array('f', [1, 2, 3, 4, 1, 2, 3, float('nan')]), "
         "array.array('i', [0, 0]))", "ValueError", ["sample 1", "x[3] is NaN"]),
        ("good.score_samples", "AttributeError", ["score_samples"]),
        ("svm_model.predict_proba", "AttributeError", ["predict_proba"]),
    ]
    script = [
        "import array, gc",
        "from microlearn import linear_model, svm",
        "good = linear_model.load('good.mlb')",
        "svm_model = svm.load(bytes(%r))" % SVC,
        "x0 = array.array('f', [6.7, 3.0, 5.2, 2.3])",
        "want = good.predict(x0)",
        "def attempt(code, exc, frags):",
        "    gc.collect()",
        "    a0 = gc.mem_alloc()",
        "    try:",
        "        eval(code)",
        "        print('NO-EXCEPTION', code)",
        "        return",
        "    except Exception as e:",
        "        got, msg = type(e).__name__, str(e)",
        "    gc.collect()",
        "    grew = gc.mem_alloc() - a0",
        "    ok = got == exc and all(f in msg for f in frags)",
        "    print('OK' if ok else 'BAD', code, '->', got, repr(msg), 'heap growth', grew)",
        "    assert good.predict(x0) == want, 'the loaded model changed'",
    ]
    for code, exc, frags in checks + calls:
        script.append(f"attempt({code!r}, {exc!r}, {frags!r})")
    script.append("print('still', good.predict(x0) == want)")
    out = run(session, "\n".join(script))
    for name in reversed(list(files)):
        session.remove(name)
    assert "NO-EXCEPTION" not in out, out
    assert "BAD" not in out, out
    assert "still True" in out
    # A failed load leaves nothing behind (the heap grows only by the exception's own objects).
    for line in out.splitlines():
        if line.startswith("OK") and ".load(" in line:
            assert int(line.rsplit(" ", 1)[1]) < 512, line
