"""Builds the browser page into a folder that any static web server can serve:

    .venv/bin/python examples/browser/build.py build/browser     (`make browser` does this)
    python3 -m http.server -d build/browser 8000                  then open http://localhost:8000

The folder gets MicroPython's webassembly port with microlearn built in (micropython.mjs and
micropython.wasm, built by `make browser`), the page (index.html, page.js, page.py), the
device application (device/mlhar.py, mlclock.py), and what it runs: a random forest trained on
scikit-learn's digits with its test samples, and the gesture model trained on the gesture
recordings (`microlearn har train`) with the recordings as raw int16 frames.
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def digits_forest():
    """The README's digits forest: (estimator, test samples, their labels)."""
    from sklearn.datasets import load_digits
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    est = RandomForestClassifier(n_estimators=10, max_leaf_nodes=100, random_state=0)
    return est.fit(Xtr, ytr), Xte, yte


def build(out, webassembly_dir, log=print):
    """Writes the page into `out`. Returns what a caller checking the page's answers needs:
    (digits estimator, its test samples, gesture estimator, {recording name: Recording})."""
    import microlearn
    from microlearn import har, paths

    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    (out / "gestures").mkdir(parents=True)
    for name in ("micropython.mjs", "micropython.wasm"):
        shutil.copyfile(Path(webassembly_dir) / name, out / name)
    for name in ("index.html", "page.js", "page.py"):
        shutil.copyfile(HERE / name, out / name)
    for name in ("mlhar.py", "mlclock.py"):
        shutil.copyfile(paths.root() / "device" / name, out / name)

    log("browser: digits forest")
    est, Xte, yte = digits_forest()
    microlearn.convert(est).save(file=str(out / "digits_rf.bin"))
    (out / "digits_test.json").write_text(json.dumps(
        {"X": Xte.astype(int).tolist(), "y": yte.tolist()}))

    log("browser: gesture model (microlearn har train)")
    work = out / "gestures-train"
    _, gesture_est, _ = har.train(paths.gestures(), work, log=lambda s: None)
    for name in (har.MODEL_FILE, "metadata.json"):
        shutil.copyfile(work / name, out / "gestures" / name)
    recordings, _ = har.load_dataset(paths.gestures(), log=lambda s: None)
    listed, by_name = [], {}
    for i, r in enumerate(recordings):
        f = f"gestures/rec{i:02d}.bin"
        (out / f).write_bytes(np.ascontiguousarray(r.data, dtype="<i2").tobytes())
        listed.append({"name": r.path.stem, "label": r.label, "file": f})
        by_name[r.path.stem] = r
    (out / "gestures" / "recordings.json").write_text(json.dumps(listed, indent=1))
    shutil.rmtree(work)
    log(f"browser: page in {out}; serve it with: python3 -m http.server -d {out} 8000")
    return est, Xte, gesture_est, by_name


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: build.py OUT_DIR WEBASSEMBLY_BUILD_DIR")
    build(sys.argv[1], sys.argv[2])
