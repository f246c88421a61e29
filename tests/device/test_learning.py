"""Learning on the device gives what scikit-learn gives for the same data in the same order, on
every target: a k-NN classifier that stores samples (add, remove, clear), k-means fit (Lloyd)
and partial_fit (MiniBatchKMeans), partial_fit of SGDClassifier, SGDRegressor, Perceptron and
GaussianNB on a model trained on the host. After learning, every method agrees with the
host's estimator as in the other device tests (labels identical, values within 1e-5), and the
learning calls allocate nothing."""

import copy

import numpy as np
import pytest
from sklearn import cluster, linear_model, naive_bayes, neighbors, pipeline, preprocessing

import microlearn
from conftest import TARGETS
from microlearn import cluster as ml_cluster
from microlearn import neighbors as ml_neighbors
from microlearn import targets
from sklearn_cases import check_learned, split


class _Sessions:
    """One MicroPython per target and family module: a native module's code stays in the
    boards' heap once imported, so the families take turns (tests run in file order)."""

    def __init__(self, target):
        self.target, self.family, self.ctx, self.s = target, None, None, None

    def get(self, family):
        if family != self.family:
            self.close()
            self.ctx = targets.get(self.target).session()
            self.s, self.family = self.ctx.__enter__(), family
        return self.s

    def close(self):
        if self.ctx:
            self.ctx.__exit__(None, None, None)
        self.ctx = self.s = self.family = None


@pytest.fixture(scope="module", params=TARGETS)
def sessions(request):
    s = _Sessions(request.param)
    yield s
    s.close()


def board(sessions, run_on_boards):
    if sessions.target != "unix" and not run_on_boards:
        pytest.skip("unix port only: the boards run a representative subset")


# ---------------------------------------------------------------------------------------------
# k-NN: add, remove, clear

_KNN_SETUP = """
import gc
m = fam.KNeighborsClassifier({nf}, {cap}, n_neighbors={k}, weights={w!r}, metric={metric!r}, p={p})
print("learner", m.memory, m.capacity)
_x = array.array(TC, bytes({nf} * SIZE))
_lab = array.array("i", [0])
_a = _worst = _i = 0
with open("LX.bin", "rb") as _fx, open("Ly.bin", "rb") as _fy:
    for _i in range({n}):
        _fx.readinto(_x)
        _fy.readinto(_lab)
        _a = gc.mem_alloc()
        m.add(_x, _lab[0])
        _worst = max(_worst, gc.mem_alloc() - _a)
for _label in {remove!r}:
    _a = gc.mem_alloc()
    print("removed", m.remove(_label))
print("learn-alloc", _worst)
print("stored", m.n_samples, m.classes)
"""

KNN_CASES = {
    # name: (dataset, int16 samples, n_neighbors, weights, metric, p, labels removed, boards)
    "iris uniform euclidean": ("iris", False, 5, "uniform", "minkowski", 2, [], True),
    "iris distance manhattan, class removed": ("iris", False, 3, "distance", "manhattan", 2,
                                               [1], False),
    "wine minkowski p=3": ("wine", False, 4, "uniform", "minkowski", 3, [], False),
    "wine chebyshev distance": ("wine", False, 6, "distance", "chebyshev", 2, [], False),
    "digits int16, two classes removed": ("digits", True, 5, "uniform", "euclidean", 2,
                                          [3, 8], False),
}


@pytest.mark.parametrize("name", list(KNN_CASES))
def test_knn_learns(sessions, name):
    dataset, int16, k, weights, metric, p, remove, on_boards = KNN_CASES[name]
    board(sessions, on_boards)
    session = sessions.get("neighbors")
    Xtr, Xte, ytr, _ = split(dataset)
    n = 40 if session.target.is_qemu else len(Xtr)  # the samples the board learns
    Xs = Xtr[:n].astype(np.int16 if int16 else np.float32)
    ys = (ytr[:n] * 7 - 3).astype(np.int32)  # labels the board has not seen in order
    keep = ~np.isin(ys, [label * 7 - 3 for label in remove])
    cap = n + 3
    # scikit-learn fitted on the samples the board keeps, in the order it stored them
    est = neighbors.KNeighborsClassifier(k, weights=weights, metric=metric, p=p,
                                         algorithm="brute").fit(Xs[keep].astype(np.float32),
                                                                ys[keep])
    setup = _KNN_SETUP.format(nf=Xs.shape[1], cap=cap, k=k, w=weights, metric=metric, p=p, n=n,
                              remove=[label * 7 - 3 for label in remove])
    files = {"LX.bin": Xs.tobytes(), "Ly.bin": ys.tobytes()}
    X = Xte.astype(np.int16 if int16 else np.float32)
    rep = check_learned(est, microlearn.convert(est), X, session, setup, files)
    out = rep.output
    memory = ml_neighbors.learner_memory(Xs.shape[1], cap, k, metric, p)
    assert f"learner {memory} {cap}" in out, out
    for label in remove:
        assert f"removed {int(np.sum(ys == label * 7 - 3))}" in out
    assert f"stored {int(keep.sum())} {tuple(int(c) for c in est.classes_)}" in out.replace(
        ",)", ")"), out


def test_knn_capacity_and_errors(sessions):
    board(sessions, True)
    session = sessions.get("neighbors")
    script = """
import array
from microlearn import neighbors
m = neighbors.KNeighborsClassifier(2, 3, n_neighbors=2)
x = array.array("f", [1, 2])
def err(f, *a):
    try:
        f(*a)
        print("NO-ERROR")
    except (ValueError, TypeError) as e:
        print("ERR", type(e).__name__, e)
err(m.predict, x)
m.add(x, 1); m.add(array.array("f", [2, 2]), 2); m.add(array.array("f", [9, 9]), 1)
err(m.add, x, 3)
err(m.add, array.array("f", [1, float("nan")]), 3)
err(m.add, array.array("f", [1, 2, 3]), 3)
err(m.add, x, 2 ** 40)
err(lambda: neighbors.KNeighborsClassifier(2, 3, n_neighbors=4))
err(lambda: neighbors.KNeighborsClassifier(2, 3, metric="cosine"))
print("after", m.n_samples, m.classes, m.predict(x), m.remove(5), m.remove(1), m.n_samples)
m.clear()
print("cleared", m.n_samples, m.classes)
"""
    out = session.exec(script).output
    errs = [line for line in out.splitlines() if line.startswith(("ERR", "NO-ERROR"))]
    assert errs[0].startswith("ERR ValueError the model holds 0 samples, fewer than n_neighbors")
    assert "its capacity" in errs[1]
    assert "is NaN" in errs[2]
    assert "x has 3 values, expected 2" in errs[3]
    assert "ERR ValueError label" in errs[4]
    assert "above the capacity" in errs[5]
    assert "metric 'cosine' is not supported" in errs[6]
    assert "after 3 (1, 2) 1 0 2 1" in out, out
    assert "cleared 0 ()" in out, out


# ---------------------------------------------------------------------------------------------
# k-means: fit from initial centres (KMeans, Lloyd), partial_fit (MiniBatchKMeans)

_STREAM = """
import gc
{make}
_B = array.array(TC, bytes({nf} * SIZE * {size}))
_Y = array.array({ytc!r}, bytes({ysize} * {size}))
_a = _worst = _n = 0
_xb = _yb = None
with open("LX.bin", "rb") as _fx, open("Ly.bin", "rb") as _fy:
    for _n in {batches!r}:
        _xb = memoryview(_B)[:_n * {nf}]
        _yb = memoryview(_Y)[:_n]
        _fx.readinto(_xb)
        _fy.readinto(_yb)
        gc.collect()
        _a = gc.mem_alloc()
        m.partial_fit(_xb{yarg})
        _worst = max(_worst, gc.mem_alloc() - _a)
print("learn-alloc", _worst)
"""


def stream_setup(nf, batch_sizes, y=None, make=""):
    """(setup, files) that feed the batches (X's rows in order) to m.partial_fit."""
    ytc, ysize = ("b", 1) if y is None else ("i", 4) if y.dtype.kind in "iu" else ("f", 4)
    # A model that learns must be in RAM: on the boards verify's script uses it in place.
    make = make or 'm = fam.load("model.mlb")'
    setup = _STREAM.format(make=make, nf=nf, size=max(batch_sizes), ytc=ytc, ysize=ysize,
                           batches=list(batch_sizes), yarg="" if y is None else ", _yb")
    yb = b"" if y is None else np.asarray(y, "<i4" if ytc == "i" else "<f4").tobytes()
    return setup, yb


_KMEANS_FIT = """
import gc
_X = array.array(TC, bytes({nf} * SIZE * {n}))
_init = array.array("d", bytes(8 * {k} * {nf}))
open("LX.bin", "rb").readinto(_X)
open("init.bin", "rb").readinto(_init)
m = fam.KMeans({k}, _init, max_iter=300, tol=1e-4)
_a = 0
gc.collect()
_a = gc.mem_alloc()
m.fit(_X)
print("learn-alloc", gc.mem_alloc() - _a)
_c = array.array("d", bytes(8 * {k} * {nf}))
m.cluster_centers(_c)
print("centers", bytes(_c).hex())
print("kmeans", m.n_iter, m.memory)
"""
_CENTERS = """
_c = array.array("d", bytes(8 * {k} * {nf}))
m.cluster_centers(_c)
print("centers", bytes(_c).hex())
"""

KMEANS_CASES = {
    # name: (dataset, k, init rows (None: a far-away centre for the relocation), boards)
    "iris": ("iris", 3, [0, 1, 2], False),
    "wine, an empty cluster relocated": ("wine", 4, None, True),
    "digits": ("digits", 6, [0, 10, 20, 30, 40, 50], False),
}


def _kmeans_data(dataset, k, rows, session):
    Xtr, Xte, _, _ = split(dataset)
    n = 60 if session.target.is_qemu else len(Xtr)
    X32 = Xtr[:n].astype(np.float32)
    if rows is None:
        init = X32[:k].astype(np.float64)
        init[-1] = X32.max(0) * 10.0  # no sample is nearest to it: sklearn relocates it
    else:
        init = X32[rows].astype(np.float64)
    return X32, init, Xte.astype(np.float32)


def _centers(out):
    hexes = [line.split()[1] for line in out.splitlines() if line.startswith("centers")]
    return np.frombuffer(bytes.fromhex(hexes[-1]), "<f8")


@pytest.mark.parametrize("name", list(KMEANS_CASES))
def test_kmeans_fit(sessions, name):
    dataset, k, rows, on_boards = KMEANS_CASES[name]
    board(sessions, on_boards)
    session = sessions.get("cluster")
    X32, init, Xte = _kmeans_data(dataset, k, rows, session)
    est = cluster.KMeans(k, init=init, n_init=1, algorithm="lloyd", max_iter=300,
                         tol=1e-4).fit(X32.astype(np.float64))
    setup = _KMEANS_FIT.format(nf=X32.shape[1], n=len(X32), k=k)
    files = {"LX.bin": X32.tobytes(), "init.bin": init.tobytes()}
    rep = check_learned(est, microlearn.convert(est), Xte, session, setup, files)
    got = _centers(rep.output)
    want = est.cluster_centers_.ravel()
    assert np.abs(got - want).max() <= 1e-9 * np.abs(want).max(), (got, want)
    memory = ml_cluster.learner_memory(k, X32.shape[1])
    assert f"kmeans {est.n_iter_} {memory}" in rep.output, rep.output


@pytest.mark.parametrize("name", ["iris", "digits"])
def test_kmeans_partial_fit(sessions, name):
    dataset, k, rows, _ = KMEANS_CASES[name]
    board(sessions, name == "iris")
    session = sessions.get("cluster")
    X32, init, Xte = _kmeans_data(dataset, k, rows, session)
    sizes = [10] * (len(X32) // 10)  # MiniBatchKMeans wants at least k samples a batch
    est = cluster.MiniBatchKMeans(k, init=init, n_init=1, reassignment_ratio=0.0)
    for i in range(len(sizes)):
        est.partial_fit(X32[10 * i:10 * (i + 1)].astype(np.float64))
    make = (f"_init = array.array('d', bytes({8 * init.size}))\n"
            f"open('init.bin', 'rb').readinto(_init)\nm = fam.KMeans({k}, _init)")
    setup, _ = stream_setup(X32.shape[1], sizes, make=make)
    setup += _CENTERS.format(k=k, nf=X32.shape[1])
    files = {"LX.bin": X32.tobytes(), "Ly.bin": b"", "init.bin": init.tobytes()}
    rep = check_learned(est, microlearn.convert(est), Xte, session, setup, files)
    got, want = _centers(rep.output), est.cluster_centers_.ravel()
    assert np.abs(got - want).max() <= 1e-9 * np.abs(want).max(), (got, want)


# ---------------------------------------------------------------------------------------------
# partial_fit of a model trained on the host: SGD (classifier, regressor, Perceptron),
# GaussianNB. The host fits on the first part of the training split; the rest streams in
# batches, to the board and to a copy of the host's estimator.

def _sgd(**kw):
    return linear_model.SGDClassifier(shuffle=False, random_state=0, **kw)


def _sgd_reg(**kw):
    return linear_model.SGDRegressor(shuffle=False, random_state=0, **kw)


def _scaled(est):
    return pipeline.make_pipeline(preprocessing.StandardScaler(), est)


STREAM_CASES = {
    # name: (dataset, estimator, family, run on the boards)
    "SGD hinge l2 optimal (binary)": ("breast_cancer", lambda: _scaled(_sgd()), "linear_model",
                                      False),
    "SGD log_loss elasticnet invscaling": ("iris", lambda: _scaled(_sgd(
        loss="log_loss", penalty="elasticnet", l1_ratio=0.3, learning_rate="invscaling",
        eta0=0.05)), "linear_model", True),
    "SGD modified_huber l1 constant, class weights": ("wine", lambda: _scaled(_sgd(
        loss="modified_huber", penalty="l1", learning_rate="constant", eta0=0.01,
        class_weight={0: 2.0, 1: 1.0, 2: 0.5})), "linear_model", False),
    "SGD squared_hinge adaptive": ("digits", lambda: _sgd(
        loss="squared_hinge", learning_rate="adaptive", eta0=0.001), "linear_model", False),
    "Perceptron": ("iris", lambda: _scaled(linear_model.Perceptron(shuffle=False)),
                   "linear_model", False),
    "SGDRegressor squared_error": ("diabetes", lambda: _scaled(_sgd_reg()), "linear_model",
                                   True),
    "SGDRegressor huber elasticnet": ("diabetes", lambda: _scaled(_sgd_reg(
        loss="huber", epsilon=20.0, penalty="elasticnet")), "linear_model", False),
    "SGDRegressor epsilon_insensitive invscaling": ("diabetes", lambda: _scaled(_sgd_reg(
        loss="epsilon_insensitive", epsilon=5.0, learning_rate="invscaling")), "linear_model",
        False),
    "SGDRegressor squared_epsilon_insensitive l1": ("diabetes", lambda: _scaled(_sgd_reg(
        loss="squared_epsilon_insensitive", penalty="l1", eta0=0.001)), "linear_model", False),
    "GaussianNB": ("iris", lambda: naive_bayes.GaussianNB(), "naive_bayes", True),
    "GaussianNB (scaled, digits)": ("digits", lambda: _scaled(naive_bayes.GaussianNB()),
                                    "naive_bayes", False),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", sorted(STREAM_CASES, key=lambda n: STREAM_CASES[n][2]))
def test_partial_fit(sessions, name):
    dataset, make, family, on_boards = STREAM_CASES[name]
    board(sessions, on_boards)
    session = sessions.get(family)
    Xtr, Xte, ytr, _ = split(dataset)
    half = len(Xtr) // 2
    est = make().fit(Xtr[:half], ytr[:half])
    model = microlearn.convert(est)
    n = 40 if session.target.is_qemu else len(Xtr) - half
    X32 = Xtr[half:half + n].astype(np.float32)
    y = ytr[half:half + n]
    y = y.astype(np.int32) if y.dtype.kind in "iu" else y.astype(np.float32)
    sizes = [7] * (n // 7) + ([n % 7] if n % 7 else [])
    after = copy.deepcopy(est)
    steps, final = (after[:-1], after[-1]) if hasattr(after, "steps") else (None, after)
    at = 0
    for size in sizes:
        Xb = X32[at:at + size]
        Xb = (steps.transform(Xb) if steps is not None else Xb).astype(np.float64)
        final.partial_fit(Xb, y[at:at + size].astype(np.float64) if y.dtype.kind == "f"
                          else y[at:at + size])
        at += size
    setup, yb = stream_setup(X32.shape[1], sizes, y)
    files = {"LX.bin": X32.tobytes(), "Ly.bin": yb}
    check_learned(after, model, Xte.astype(np.float32), session, setup, files,
                  model_after=microlearn.convert(after))
    assert not np.allclose(_params(after), _params(est), rtol=1e-4), "nothing was learned"


def _params(est):
    est = est[-1] if hasattr(est, "steps") else est
    return np.ravel(est.coef_ if hasattr(est, "coef_") else est.theta_)


def test_partial_fit_bad_input(sessions):
    """A batch with NaN, an unknown label or the wrong number of targets is refused and the
    model is unchanged; a model used in place from a read-only buffer cannot learn; a model
    that cannot learn has no partial_fit."""
    board(sessions, True)
    session = sessions.get("linear_model")
    Xtr, _, ytr, _ = split("iris")
    est = linear_model.SGDClassifier(shuffle=False, random_state=0).fit(Xtr, ytr + 5)
    session.put("sgd.mlb", microlearn.convert(est).to_bytes())
    session.put("lr.mlb", microlearn.convert(
        linear_model.LogisticRegression(max_iter=500).fit(Xtr, ytr)).to_bytes())
    x = ", ".join(repr(float(v)) for v in Xtr[:3].astype(np.float32).ravel())
    script = f"""
import array
from microlearn import linear_model
m = linear_model.load("sgd.mlb")
X = array.array("f", [{x}])
d0 = array.array("f", [0] * 9)
d1 = array.array("f", [0] * 9)
m.decision_function(X, d0)
def err(f, *a):
    try:
        f(*a)
        print("NO-ERROR")
    except (ValueError, TypeError) as e:
        print("ERR", type(e).__name__, e)
Xn = array.array("f", X)
Xn[9] = float("nan")
err(m.partial_fit, Xn, array.array("i", [5, 6, 7]))
err(m.partial_fit, X, array.array("i", [5, 6, 9]))
err(m.partial_fit, X, array.array("i", [5, 6]))
err(m.partial_fit, X, [5, 6, 7])
err(m.partial_fit, X)
m.decision_function(X, d1)
print("unchanged", bytes(d0) == bytes(d1))
m.partial_fit(X, array.array("i", [5, 6, 7]))
m.partial_fit(memoryview(X)[:4], 7)
m.decision_function(X, d1)
print("learned", bytes(d0) != bytes(d1))
r = linear_model.load(open("sgd.mlb", "rb").read())
err(r.partial_fit, X, array.array("i", [5, 6, 7]))
w = linear_model.load(bytearray(open("sgd.mlb", "rb").read()))
w.partial_fit(X, array.array("i", [5, 6, 7]))
print("bytearray learns")
print("lr", hasattr(linear_model.load("lr.mlb"), "partial_fit"), hasattr(m, "partial_fit"))
"""
    out = session.exec(script).output
    errs = [line for line in out.splitlines() if line.startswith(("ERR", "NO-ERROR"))]
    assert "X sample 2: x[1] is NaN" in errs[0], out
    assert "y[2] is 9: not one of the model's classes" in errs[1], out
    assert "y has 2 values, expected 3" in errs[2], out
    assert errs[3].startswith("ERR TypeError y must be"), out
    assert "partial_fit needs y" in errs[4], out
    assert "unchanged True" in out and "learned True" in out, out
    assert "read-only buffer" in errs[5], out
    assert "bytearray learns" in out and "lr False True" in out, out
    session.remove("sgd.mlb")
    session.remove("lr.mlb")
