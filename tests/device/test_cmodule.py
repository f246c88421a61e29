"""microlearn built into the firmware as a user C module (the unix port built with
USER_C_MODULES=bindings/micropython) behaves as the native modules do."""

import numpy as np
import pytest
from sklearn import datasets, ensemble
from sklearn.model_selection import train_test_split

import microlearn
from microlearn import targets, verify

from conftest import run
from test_trees_load import check_sample_containers


@pytest.fixture
def firmware():
    return targets.get("unix-cmodule")


@pytest.mark.parametrize("est", [
    ensemble.RandomForestClassifier(10, max_leaf_nodes=100, random_state=0),
    ensemble.HistGradientBoostingClassifier(max_iter=20, random_state=0),
], ids=lambda e: type(e).__name__)
def test_trees_in_firmware(firmware, est):
    X, y = datasets.load_digits(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, random_state=0)
    est.fit(Xtr, ytr)
    rep = verify.verify(est, microlearn.convert(est), Xte.astype(np.float32), firmware)
    assert rep.ok(), rep.summary()
    assert rep.predict_alloc == 0


def test_samples_in_every_container(firmware):
    # (the firmware tells arrays and memoryviews by its own types; a native module when imported)
    with firmware.session() as s:
        check_sample_containers(s)


def test_builtin_not_mpy(firmware):
    with firmware.session() as s:
        out = run(s, "import microlearn\nfrom microlearn import trees\n"
                     "print(type(microlearn).__name__, hasattr(microlearn, '__file__'), trees)")
    assert "module False <module 'trees'>" in out


def test_dsp_in_firmware(firmware):
    from microlearn import dsp

    rng = np.random.default_rng(0)
    window = rng.integers(-20000, 20000, size=(128, 3)).astype(np.int16)
    cfg = dsp.FeatureConfig(length=128, n_axes=3, sample_rate=100, scale=1 / 16384,
                            magnitude=True, time=("mean", "std", "ptp"),
                            spectral=dsp.SpectralConfig(fft_length=64, n_bins=4))
    import json
    with firmware.session({"w.bin": window.tobytes(), "cfg.json": cfg.to_json().encode()}) as s:
        out = run(s, "import array, json, binascii\nfrom microlearn import dsp\n"
                     "fe = dsp.Features(json.load(open('cfg.json')))\n"
                     "w = array.array('h', open('w.bin', 'rb').read())\n"
                     "o = array.array('f', bytes(4 * fe.n_features))\n"
                     "fe.process(w, o)\nprint('F', binascii.hexlify(o).decode())")
    got = np.frombuffer(bytes.fromhex(out.split("F ")[1].strip()), dtype="<f4")
    want = dsp.features(window, cfg)
    assert np.allclose(got, want, rtol=1e-5, atol=1e-4), json.dumps([list(got), list(want)])


def test_nn_in_firmware(firmware):
    """The nn module built into the firmware gives TFLite's bytes, in place and copied."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import nn_models
    from microlearn.nn import convert_tflite

    case = nn_models.build()["mobilenet_v3_block"]
    data = convert_tflite(case["tflite"]).to_bytes()
    files = {"m.nn": data, "x.bin": case["x"].tobytes()}
    with firmware.session(files) as s:
        out = run(s, "import array, gc\nfrom microlearn import nn\n"
                     "copied = nn.load('m.nn')\nin_place = nn.load(open('m.nn', 'rb').read())\n"
                     "x = array.array('b', bytes(243))\ny = array.array('b', bytes(5))\n"
                     "k = grew = a0 = 0  # globals made before measuring\n"
                     "with open('x.bin', 'rb') as f:\n"
                     "    while f.readinto(x) == 243:\n"
                     "        gc.collect(); a0 = gc.mem_alloc()\n"
                     "        copied.run(x, y); k = in_place.predict(x)\n"
                     "        grew = gc.mem_alloc() - a0\n"
                     "        print('Y', bytes(y).hex(), k, grew)\n"
                     "print('MEM', copied.memory - in_place.memory)\n")
    rows = [line.split() for line in out.splitlines() if line.startswith("Y ")]
    want = case["y"].reshape(len(case["y"]), -1)
    assert len(rows) == len(want)
    for (_, hexes, k, alloc), w in zip(rows, want):
        assert bytes.fromhex(hexes) == w.tobytes() and int(k) == int(np.argmax(w))
        assert alloc == "0", "run or predict allocated"
    assert int(out.split("MEM ")[1].split()[0]) == len(data)
def test_sklearn_families_in_firmware(firmware):
    # One model of each scikit-learn family module, built into the firmware.
    from sklearn import cluster, linear_model, mixture, naive_bayes, neighbors, svm

    X, y = datasets.load_iris(return_X_y=True)
    Xtr, Xte, ytr, _ = train_test_split(X, y, random_state=0)
    with firmware.session() as s:
        for est in (linear_model.LogisticRegression(max_iter=1000).fit(Xtr, ytr),
                    svm.SVC(probability=True, random_state=0).fit(Xtr, ytr),
                    neighbors.KNeighborsClassifier().fit(Xtr.astype(np.float32), ytr),
                    naive_bayes.GaussianNB().fit(Xtr, ytr),
                    mixture.GaussianMixture(3, random_state=0).fit(Xtr)):
            rep = verify.verify(est, microlearn.convert(est), Xte.astype(np.float32), firmware,
                                session=s)
            assert rep.ok() and rep.predict_alloc == 0, rep.summary()
        km = cluster.KMeans(3, n_init=1, random_state=0).fit(Xtr)
        model = microlearn.convert(km)
        X32 = Xte.astype(np.float32)
        rep = verify.run(model, X32, verify.expected_estimator_bytes(km, model, X32.astype(
            np.float64)), firmware, session=s)
        assert rep.ok(), rep.summary()
        # Learning on the device, in the firmware: a k-NN classifier that stores samples.
        X32, y32 = Xtr.astype(np.float32), ytr.astype(np.int32)
        est = neighbors.KNeighborsClassifier(algorithm="brute").fit(X32, y32)
        model = microlearn.convert(est)
        setup = (f"from microlearn import neighbors\n"
                 f"m = neighbors.KNeighborsClassifier(4, {len(X32)})\n"
                 f"_x = array.array('f', bytes(16))\n_l = array.array('i', [0])\n"
                 f"with open('LX.bin', 'rb') as fx, open('Ly.bin', 'rb') as fy:\n"
                 f"    while fx.readinto(_x) == 16:\n"
                 f"        fy.readinto(_l)\n        m.add(_x, _l[0])\n")
        Xq = Xte.astype(np.float32)
        rep = verify.run(model, Xq, verify.expected_estimator_bytes(est, model, Xq), firmware,
                         session=s, setup=setup,
                         files={"LX.bin": X32.tobytes(), "Ly.bin": y32.tobytes()})
        assert rep.ok() and rep.predict_alloc == 0, rep.summary()
