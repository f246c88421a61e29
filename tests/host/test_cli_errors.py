"""The command line with input it cannot use (issue 14, items 9 and 10, and the same class in
convert, verify and run): `har train/run/tune` with datasets and model folders that cannot
work, unwritable outputs, unreadable samples. Each prints one line naming the file or folder
and what was expected, exits with status 2, and prints no traceback; nothing silently trains a
useless model."""

import json
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pytest

import microlearn
from microlearn import cli, har


def write_dataset(d, labels, n_per_class=3, frames=300, rate=50, axes=3):
    """Recorder-style CSV recordings: a slow and a fast sine per class."""
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    t = np.arange(frames) / rate
    for i in range(n_per_class):
        for c, label in enumerate(labels):
            sig = np.stack([np.sin(2 * np.pi * (1 + 3 * c) * t + k + i) for k in range(axes)], 1)
            raw = (sig * 8000 + rng.normal(0, 800, sig.shape)).astype(np.int16)
            rows = "\n".join(",".join(map(str, r)) for r in raw)
            header = ",".join("xyz"[:axes] if axes <= 3 else [f"a{k}" for k in range(axes)])
            (d / f"r{i}_{label}.csv").write_text(f"# sample_rate={rate}\n{header}\n{rows}\n")
    return d


def one_line_error(capsys, argv, *fragments):
    rc = cli.main(argv)
    out, err = capsys.readouterr()
    assert rc == 2, f"{argv}: exit status {rc}, expected 2\n{out}{err}"
    lines = err.strip().splitlines()
    assert len(lines) == 1, f"{argv}: expected one line on stderr, got:\n{err}"
    assert "Traceback" not in err and lines[0].startswith("microlearn ")
    for f in fragments:
        assert f in lines[0], f"{argv}: {lines[0]!r} lacks {f!r}"
    return lines[0]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("har")
    write_dataset(d / "data", ["fast", "slow"])
    har.train(d / "data", d / "model", window=50, hop=25, log=lambda s: None)
    return d / "model"


def test_training_sets_that_cannot_work(tmp_path, capsys):
    one = write_dataset(tmp_path / "one", ["idle"])  # was: exit 0, "accuracy: 1.000"
    one_line_error(capsys, ["har", "train", str(one), "--out", str(tmp_path / "m")],
                   "only one class ('idle'", "at least two classes")
    few = write_dataset(tmp_path / "few", ["a", "b"], n_per_class=1)  # was: "accuracy: 0.000"
    one_line_error(capsys, ["har", "train", str(few), "--out", str(tmp_path / "m")],
                   "class 'a' has one recording (r0_a.csv)", "two recordings per class")
    single = tmp_path / "single"
    single.mkdir()
    shutil.copy(few / "r0_a.csv", single)  # was: a traceback from scikit-learn
    one_line_error(capsys, ["har", "train", str(single), "--out", str(tmp_path / "m")],
                   "only one class")
    one_line_error(capsys, ["har", "train", str(few), "--out", str(tmp_path / "m"),
                            "--window", "500"], "class 'a' has no recording of at least 500")
    one_line_error(capsys, ["har", "train", str(few), "--out", str(tmp_path / "m"),
                            "--window", "0"], "--window 0", "length is 0")
    one_line_error(capsys, ["har", "train", str(few), "--out", str(tmp_path / "m"),
                            "--hop", "200"], "hop is 200, longer than the window")
    one_line_error(capsys, ["har", "train", str(tmp_path / "nothing"), "--out",
                            str(tmp_path / "m")], "is not a folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(capsys, ["har", "tune", str(empty)], "no readable recordings")
    one_line_error(capsys, ["har", "tune", str(one)], "only one class")
    ok = write_dataset(tmp_path / "ok", ["a", "b"], n_per_class=2)
    (tmp_path / "file").write_text("x")
    one_line_error(capsys, ["har", "train", str(ok), "--out", str(tmp_path / "file")],
                   "is a file: expected a folder")
    assert not (tmp_path / "m").exists()  # nothing was written by a refused training


def broken(model_dir, tmp_path, change):
    d = tmp_path / "broken"
    shutil.copytree(model_dir, d)
    change(d)
    return d


def edit_meta(edit):
    def change(d):
        m = json.loads((d / "metadata.json").read_text())
        edit(m)
        (d / "metadata.json").write_text(json.dumps(m))
    return change


def truncated_text_model(d):
    """A folder of an earlier microlearn (its metadata names the text model file, which runs as
    it is), with that file damaged: refused as the binary one is."""
    (d / "model.bin").unlink()
    edit_meta(lambda m: m.update(model_file="model.csv"))(d)
    text = microlearn.convert(joblib.load(d / "estimator.joblib")).to_text()
    (d / "model.csv").write_text(text[:300])


BROKEN = {
    "no_model_file": (lambda d: (d / "model.bin").unlink(), ["model.bin is missing",
                                                             "expected the model file metadata"]),
    "no_metadata": (lambda d: (d / "metadata.json").unlink(), ["metadata.json is missing"]),
    "no_estimator": (lambda d: (d / "estimator.joblib").unlink(),
                     ["estimator.joblib is missing"]),
    "empty_folder": (lambda d: [f.unlink() for f in d.iterdir()], ["metadata.json is missing"]),
    "truncated_json": (lambda d: (d / "metadata.json").write_text(
        (d / "metadata.json").read_text()[:100]), ["metadata.json is not valid JSON (line"]),
    "json_list": (lambda d: (d / "metadata.json").write_text("[1, 2]"),
                  ["holds a list, expected a JSON object"]),
    "no_classes": (edit_meta(lambda m: m.pop("classes")), ["has no 'classes'"]),
    "window_text": (edit_meta(lambda m: m.update(window="50")), ["window is '50'", "an int"]),
    "bad_features": (edit_meta(lambda m: m["features"].update(time=["median"])),
                     ["features: unknown time feature 'median'"]),
    "fewer_features": (edit_meta(lambda m: m["features"].update(time=["mean"])),
                       ["feature_names has 36 names, the features are 4"]),
    "fewer_features_unnamed": (edit_meta(lambda m: (m["features"].update(time=["mean"]),
                                                    m.pop("feature_names"))),
                               ["the model takes 36 features", "describes 4"]),
    "window_mismatch": (edit_meta(lambda m: m.update(window=60)),
                        ["windows of 50 frames", "window is 60"]),
    "one_class": (edit_meta(lambda m: m.update(classes=["fast"])), ["two or more"]),
    "three_classes": (edit_meta(lambda m: m.update(classes=["a", "b", "c"])),
                      ["the model has 2 classes", "names 3"]),
    "model_file_path": (edit_meta(lambda m: m.update(model_file="../../etc/passwd")),
                        ["model_file is '../../etc/passwd'", "a file name"]),
    "corrupt_estimator": (lambda d: (d / "estimator.joblib").write_bytes(b"\x80\x04garbage"),
                          ["estimator.joblib cannot be read", "scikit-learn model"]),
    "truncated_estimator": (lambda d: (d / "estimator.joblib").write_bytes(
        (d / "estimator.joblib").read_bytes()[:500]), ["estimator.joblib cannot be read"]),
    "truncated_model": (lambda d: (d / "model.bin").write_bytes(
        (d / "model.bin").read_bytes()[:300]), ["model.bin does not match",
                                                 "estimator.joblib"]),
    "truncated_text_model": (truncated_text_model,
                             ["model.csv does not match", "estimator.joblib"]),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_model_folders(model_dir, tmp_path, capsys, case):
    change, fragments = BROKEN[case]
    d = broken(model_dir, tmp_path, change)
    data = write_dataset(tmp_path / "data", ["fast", "slow"], n_per_class=1)
    one_line_error(capsys, ["har", "run", str(d), "--data", str(data)], *fragments)


def test_recordings_that_do_not_fit_the_model(model_dir, tmp_path, capsys):
    six = write_dataset(tmp_path / "six", ["fast"], n_per_class=1, axes=6)
    one_line_error(capsys, ["har", "run", str(model_dir), "--data", str(six)],
                   "recordings have 6 axes, the model was trained on 3")
    rate = write_dataset(tmp_path / "rate", ["fast"], n_per_class=1, rate=100)
    one_line_error(capsys, ["har", "run", str(model_dir), "--data", str(rate)],
                   "recordings are at 100 Hz, the model was trained at 50 Hz")
    short = write_dataset(tmp_path / "short", ["fast"], n_per_class=1, frames=20)
    one_line_error(capsys, ["har", "run", str(model_dir), "--data", str(short)],
                   "no recording is as long as a window")
    one_line_error(capsys, ["har", "run", str(tmp_path / "nope"), "--data", str(short)],
                   "is not a folder: expected a model folder")


def test_the_command_itself_exits_2_without_a_traceback(tmp_path):
    one = write_dataset(tmp_path / "one", ["idle"], n_per_class=2)
    p = subprocess.run([sys.executable, "-m", "microlearn.cli", "har", "train", str(one),
                        "--out", str(tmp_path / "m")], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    assert p.stderr.strip().splitlines() == [
        f"microlearn har train: {one}: only one class ('idle', 2 recordings): a classifier "
        f"needs recordings of at least two classes (<anything>_<label>.npy)"]


def test_convert_verify_run_errors(tmp_path, capsys):
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    X, y = load_iris(return_X_y=True)
    pkl = tmp_path / "m.pkl"
    joblib.dump(DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y), pkl)
    np.save(tmp_path / "X3.npy", X[:5, :3])
    np.save(tmp_path / "X.npy", X[:5])
    (tmp_path / "cut.npy").write_bytes((tmp_path / "X.npy").read_bytes()[:100])
    one_line_error(capsys, ["convert", str(pkl), "-o", str(tmp_path / "no" / "m.csv")],
                   "cannot write the model", "No such file or directory")
    one_line_error(capsys, ["convert", str(pkl), "-o", str(tmp_path / "m.h"), "--name", "1x"],
                   "C identifier")
    one_line_error(capsys, ["verify", str(pkl), str(tmp_path / "none.npy")],
                   "cannot read samples", "none.npy")
    one_line_error(capsys, ["verify", str(pkl), str(tmp_path / "X3.npy")],
                   "shape (5, 3), expected numbers of shape (n_samples, 4)")
    one_line_error(capsys, ["verify", str(pkl), str(tmp_path / "cut.npy")],
                   "cut.npy is not a readable .npy file")
    one_line_error(capsys, ["verify", str(pkl), str(tmp_path / "X.npy"), "--limit", "-3"],
                   "--limit is -3")  # was: the first 2 samples, silently
    one_line_error(capsys, ["run", "--target", "nope", str(tmp_path / "s.py")],
                   "unknown target 'nope'")
    one_line_error(capsys, ["run", str(tmp_path / "s.py")], "cannot read the script")
