"""The example that learns on the board (examples/gesture_learning): it enrols the shipped
gestures from two recordings each, the new one (wave) last, then recognises every other
recording. Each window's label must be what scikit-learn's KNeighborsClassifier gives on the
host's features of the same windows, fitted on the same stored windows in the same order;
every held-out recording must be recognised."""

import numpy as np
import pytest
from sklearn import neighbors

from microlearn import dsp, har, paths, targets

EXAMPLE = paths.root() / "examples" / "gesture_learning"


def host_run(n_enrol=2, new="wave"):
    """What the board must print: each held-out recording's window labels."""
    src = (EXAMPLE / "gesture_learning.py").read_text()
    features = eval(src.split("FEATURES = ", 1)[1].split("\nHOP", 1)[0])  # the dict literal
    hop = int(src.split("\nHOP = ", 1)[1].split("\n", 1)[0])
    cfg = dsp.FeatureConfig.from_dict(features)
    recs, skipped = har.load_dataset(paths.shipped_gestures(), log=lambda s: None)
    by = {}
    for r in sorted(recs, key=lambda r: r.path.name):
        by.setdefault(r.label, []).append(r)
    order = sorted(g for g in by if g != new) + [new]

    def feats(r):
        return dsp.features_many(dsp.sliding_windows(r.data, cfg.length, hop), cfg)

    X = np.concatenate([feats(r) for g in order for r in by[g][:n_enrol]])
    y = np.concatenate([[order.index(g)] * len(feats(r)) for g in order for r in by[g][:n_enrol]])
    knn = neighbors.KNeighborsClassifier(3, algorithm="brute").fit(X.astype(np.float32), y)
    # the board's labels are indices into its names, in enrolment order
    want = {r.path.name: (g, knn.predict(feats(r).astype(np.float32)))
            for g in order for r in by[g][n_enrol:]}
    return order, want, len(skipped)


@pytest.mark.parametrize("target", ["unix", "cortex-m3"])
def test_gesture_learning_example(target):
    order, want, n_skipped = host_run()
    files = {p.name: p.read_bytes() for p in paths.shipped_gestures().glob("*.npy")}
    for name in ("gesture_learning.py", "demo.py"):
        files[name] = (EXAMPLE / name).read_bytes()
    with targets.get(target).session(files) as s:
        res = s.exec("import demo\ndemo.main()\n")
    out = res.output
    assert res.ok, out
    assert out.count("skipped") == n_skipped and "the header says 400 frames" in out, out
    assert "names " + " ".join(order) in out, out
    got = {}
    for line in out.splitlines():
        p = line.split()
        if p and p[0] == "recognised" and p[1].endswith(".npy"):
            got[p[1]] = (p[3], np.array(p[5:], dtype=int))
    assert set(got) == set(want), out
    for name, (gesture, labels) in want.items():
        assert np.array_equal(got[name][1], labels), (name, got[name][1], labels)
        assert got[name][0] == gesture, (name, got[name], out)
    assert f"recognised {len(want)} of {len(want)} recordings" in out, out
