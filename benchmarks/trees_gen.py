"""The models of the benchmarks (benchmarks.trees) and what each alternative makes of them.

Every model is trained once; then the same fitted estimator goes to
- microlearn.convert -> the model file, read by microlearn.trees (C) and by device/mltrees_py.py
  (plain Python);
- m2cgen.export_to_python -> a Python module with one `score(input)` function;
- everywhereml's RandomForestClassifier.to_micropython -> a module with a classifier class.

A generator that cannot export a model kind says why (`Generated.reason`); the code it writes is
not changed here (it runs on the device as the user would get it).
"""

import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from microlearn import paths

# --------------------------------------------------------------------------------------------
# Models


@dataclass
class Spec:
    name: str
    title: str
    dataset: str
    make: object  # () -> unfitted estimator
    group: str = "main"  # main: the comparison tables; scaling; overhead
    impls: tuple = None  # the implementations to run (None: all)


def _rf(n, **kw):
    from sklearn.ensemble import RandomForestClassifier

    return lambda: RandomForestClassifier(n, random_state=0, **kw)


def _gb(n, **kw):
    from sklearn.ensemble import GradientBoostingClassifier

    return lambda: GradientBoostingClassifier(n_estimators=n, random_state=0, **kw)


MAIN = [
    Spec("digits_rf", "RandomForest, digits, 10 trees, max_leaf_nodes=100 (the classic)",
         "digits", _rf(10, max_leaf_nodes=100)),
    Spec("small_rf", "RandomForest, digits, 5 trees, max_depth=4 (small)", "digits",
         _rf(5, max_depth=4)),
    Spec("large_rf", "RandomForest, digits, 30 trees, max_leaf_nodes=200 (large)", "digits",
         _rf(30, max_leaf_nodes=200)),
    Spec("digits_gb", "GradientBoosting, digits, 20 stages x 10 classes, depth 3", "digits",
         _gb(20)),
    Spec("gesture_rf", "RandomForest of `microlearn har train` (defaults), gesture recordings",
         "gestures", lambda: _har().make_estimator("randomforest")),
]


def _har():
    from microlearn import har

    return har

# Where the cost goes: a 1-tree depth-1 model (the call and nothing else) up to the largest.
OVERHEAD = [
    Spec("stump", "RandomForest, digits, 1 tree, depth 1 (a single comparison)", "digits",
         _rf(1, max_depth=1), group="overhead"),
    # The same with 2 classes: the difference is what each class costs per call.
    Spec("stump2", "RandomForest, digits 0 and 1 only, 1 tree, depth 1", "digits2",
         _rf(1, max_depth=1), group="overhead",
         impls=("microlearn", "microlearn_many", "mltrees_py")),
]

# Anatomy of a prediction: model files written directly (no training), on the digits inputs,
# whose only difference is the number of nodes walked or of trees. A sample walks every node of
# `chain{D}` (one tree, D nodes, each sending it left to the next); `forest{T}` is T trees of
# one node each. All lead to the same leaf, 10 class values, none zero ("pure": one 1, nine
# zeros, tree t's 1 for class t % 10, so that no class holds a majority of the vote before the
# last tree and predict adds every tree). Differences between them isolate the cost of a node
# and of a tree.
ANATOMY = (("chain1", 1, 1, False), ("chain64", 1, 64, False), ("forest64", 64, 1, False),
           ("forest64_pure", 64, 1, True))


def synthetic(n_trees, depth, pure):
    """A TreesModel: n_trees trees, each a chain of `depth` nodes that every sample walks to
    the end (x <= 3e38 always), then the one leaf (pure: tree t's leaf is class t % 10)."""
    from microlearn.trees import MEAN, TreesModel

    feature, left = [], []
    trees = []
    for t in range(n_trees):
        trees.append((len(feature), 0))
        for d in range(depth):
            feature.append(len(feature) % 64)
            left.append(len(left) + 1 if d < depth - 1 else -1 - (t % 10 if pure else 0))
    n = len(feature)
    nodes = {"feature": np.array(feature), "threshold": np.full(n, 3e38, dtype=np.float32),
             "left": np.array(left), "right": np.full(n, -1),
             "missing_left": np.zeros(n, dtype=bool)}
    leaves = np.eye(10) if pure else (np.arange(1, 11) / 55.0).reshape(1, 10)
    return TreesModel(64, 10, 10, MEAN, "none", 0, None, None, trees, nodes,
                      leaves.astype(np.float32), f"synthetic: {n_trees} trees of {depth} nodes")


def anatomy_specs():
    return [Spec(name, f"synthetic: {t} tree(s) of {d} node(s) walked to one "
                       f"{'pure' if pure else 'mixed'} leaf", "digits",
                 lambda t=t, d=d, pure=pure: synthetic(t, d, pure), group="anatomy",
                 impls=("microlearn", "microlearn_many", "mltrees_py"))
            for name, t, d, pure in ANATOMY]


SCALING_TREES = (1, 2, 5, 10, 20, 50)  # at max_depth=6
SCALING_DEPTHS = (1, 2, 4, 6, 8, 10, 12)  # at 10 trees


def scaling_specs(trees=SCALING_TREES, depths=SCALING_DEPTHS):
    out = [Spec(f"trees{n}", f"RandomForest, digits, {n} trees, max_depth=6", "digits",
                _rf(n, max_depth=6), group="scaling-trees") for n in trees]
    out += [Spec(f"depth{d}", f"RandomForest, digits, 10 trees, max_depth={d}", "digits",
                 _rf(10, max_depth=d), group="scaling-depth") for d in depths]
    return out


_splits = {}


def split(dataset):
    """(X_train, X_test, y_train, y_test) of a scikit-learn dataset, as in the tests."""
    if dataset not in _splits:
        from sklearn import datasets
        from sklearn.model_selection import train_test_split

        if dataset == "gestures":
            _splits[dataset] = gesture_split()
            return _splits[dataset]
        if dataset == "digits2":  # the digits 0 and 1: 64 features, 2 classes
            X, y = datasets.load_digits(return_X_y=True)
            X, y = X[y < 2], y[y < 2]
        else:
            X, y = getattr(datasets, f"load_{dataset}")(return_X_y=True)
        _splits[dataset] = train_test_split(X, y, test_size=0.25, random_state=0)
    return _splits[dataset]


def gesture_split():
    """The features of microlearn.har (its default window, hop and feature set) on the shipped
    gesture recordings; the test split is the last recording of each gesture, as in
    `make demo`, so no test window overlaps a training one."""
    from microlearn import dsp

    har = _har()
    recs, _ = har.load_dataset(paths.shipped_gestures(), log=lambda s: None)
    held = {id(r) for r in {r.label: r for r in recs}.values()}
    classes = sorted({r.label for r in recs})
    cfg = har.default_features(har.WINDOW, recs[0].data.shape[1], recs[0].sample_rate)
    parts = []
    for test in (False, True):
        W, labels, _ = har.windows_of([r for r in recs if (id(r) in held) == test],
                                      har.WINDOW, har.HOP)
        parts += [dsp.features_many(W, cfg), np.array([classes.index(l) for l in labels])]
    Xtr, ytr, Xte, yte = parts
    return Xtr, Xte, ytr, yte


# --------------------------------------------------------------------------------------------
# What is sent to the device for one model


@dataclass
class Generated:
    code: str = None  # the Python module's source, or None
    reason: str = ""  # why there is none
    disagree_note: str = ""  # what in the generated code can make predictions differ


@dataclass
class Built:
    spec: Spec
    estimator: object
    model_text: str  # microlearn model file
    X: np.ndarray  # float32 test samples
    expected: np.ndarray  # int32 labels scikit-learn predicts for X (class indices)
    model_memory: int  # model.memory on the device, binary form read from a file
    n_nodes: int
    n_trees: int
    depth: int
    visits: float = 0.0  # decision nodes visited per inference, over all trees (test mean)
    gen: dict = field(default_factory=dict)  # {"m2cgen": Generated, "everywhereml": Generated,
    # "emlearn_standin": Generated (code: the emlearn tree CSV)}
    model_bin: bytes = b""  # the binary form
    model_memory_text: int = 0  # model.memory of the text form
    model_memory_in_place: int = 0  # model.memory of the binary form used in place
    model_py: str = ""  # the binary form as a Python module (MODEL = b"..."), for freezing
    majority: np.ndarray = None  # per test sample: trees until a class holds a majority
    leaf_classes: np.ndarray = None  # per test sample: classes in its leaves, mean over trees


def majority_trees(est, X):
    """Per sample of X, the trees of a forest classifier (in order) until one class's sum of
    their probabilities exceeds half of the number of trees: no later tree can change the label
    from there. microlearn's predict (int16 or float32 samples) stops at that point when it
    sees it (a pure leaf, or the top class of a leaf of byte pairs), so this is what it can
    save; scikit-learn's own tree probabilities."""
    trees = est.estimators_
    sums = np.zeros((X.shape[0], len(est.classes_)))
    need = np.full(X.shape[0], len(trees))
    for t, tree in enumerate(trees):
        sums += tree.predict_proba(X)
        hit = (need == len(trees)) & (sums.max(axis=1) > len(trees) / 2)
        need[hit] = t + 1
    return need


def leaf_classes(est, X):
    """Per sample of X, the classes present (probability above 0) in the leaf it reaches, mean
    over the forest's trees: what an exact sum adds per tree, where a vote adds one."""
    return np.mean([(tree.predict_proba(X) > 0).sum(axis=1) for tree in est.estimators_], axis=0)


def build(spec, generators=True):
    """Trains the model, converts it, and runs the generators."""
    from microlearn import convert

    Xtr, Xte, ytr, _ = split(spec.dataset)
    if spec.group == "anatomy":
        model = spec.make()
        X = np.ascontiguousarray(Xte, dtype=np.float32)
        expected = model.predict(X).astype(np.int32)  # labels 0..9 are the class indices
        b = Built(spec, None, model.to_text(), X, expected, model.memory_size("bin"),
                  model.n_nodes, model.n_trees, model.n_nodes // model.n_trees,
                  float(model.n_nodes))
        b.model_bin = model.to_bin()
        b.model_memory_text = model.memory_size()
        b.model_memory_in_place = model.memory_size("bin", in_place=True)
        b.model_py = model.to_python_module()
        return b
    est = spec.make().fit(Xtr, ytr)
    model = convert(est)
    X = np.ascontiguousarray(Xte, dtype=np.float32)
    y = est.predict(X)
    expected = np.searchsorted(np.asarray(est.classes_), y).astype(np.int32)
    trees = np.ravel(est.estimators_)
    depth = max(t.get_depth() for t in trees)
    # Nodes on each sample's path, leaves excluded.
    visits = float(np.mean(sum(np.asarray(t.decision_path(X).sum(axis=1)).ravel() - 1
                               for t in trees)))
    b = Built(spec, est, model.to_text(), X, expected, model.memory_size(), model.n_nodes,
              model.n_trees, depth, visits)
    b.model_bin = model.to_bin()
    b.model_memory_text = model.memory_size()
    b.model_memory = model.memory_size("bin")
    b.model_memory_in_place = model.memory_size("bin", in_place=True)
    b.model_py = model.to_python_module()
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier

    if isinstance(est, (RandomForestClassifier, ExtraTreesClassifier)) and len(trees) > 1:
        b.majority = majority_trees(est, X)
        b.leaf_classes = leaf_classes(est, X)
    if generators:
        b.gen["m2cgen"] = m2cgen_python(est)
        b.gen["everywhereml"] = everywhereml_micropython(est)
        b.gen["emlearn_standin"] = emlearn_csv(est, Xte)
    return b



def host_reference(model_text):
    """device/mltrees_py.py run by CPython: the model file's predictions on the host."""
    import importlib.util
    import tempfile

    spec = importlib.util.spec_from_file_location("mltrees_py",
                                                  paths.root() / "device" / "mltrees_py.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with tempfile.NamedTemporaryFile("w", suffix=".csv") as f:
        f.write(model_text)
        f.flush()
        return mod.load(f.name)


# --------------------------------------------------------------------------------------------
# emlearn (the stand-in of benchmarks/emlearn_standin reads its tree CSV)


def emlearn_version():
    try:
        from importlib.metadata import version

        return version("emlearn")
    except Exception:
        return None


def emlearn_csv(est, X):
    """The emlearn tree CSV of a model, for the stand-in (int16 features; majority vote)."""
    import os
    import tempfile

    ver = emlearn_version()
    kind = type(est).__name__
    if ver is None:
        return Generated(reason="emlearn is not installed")
    if kind not in ("RandomForestClassifier", "ExtraTreesClassifier", "DecisionTreeClassifier"):
        return Generated(reason=f"emlearn {ver}: the stand-in takes tree classifiers voting by "
                                f"majority; {kind} is not one")
    if not np.array_equal(X, np.round(X)) or np.abs(X).max() > 32767:
        return Generated(reason="float features: emlearn's trees compare int16 features "
                                "(x < int(threshold)), which these are not")
    import emlearn

    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)  # emlearn may write scratch files in the current folder
        try:
            c = emlearn.convert(est, method="loadable")
            c.save(file="model.csv", name="model", format="csv")
            text = Path("model.csv").read_text()
        except Exception as e:
            return Generated(reason=f"emlearn {ver} failed: {type(e).__name__}: {e}")
        finally:
            os.chdir(cwd)
    if int(est.n_classes_) > 127 or est.n_features_in_ > 127:
        return Generated(reason="emlearn's nodes hold int8 features and classes")
    return Generated(text, disagree_note=(
        "each tree votes for its leaf's majority class (scikit-learn averages the leaves' class "
        "probabilities), and splits compare int16 features with the integer part of the "
        "threshold"))


# --------------------------------------------------------------------------------------------
# m2cgen


def m2cgen_version():
    try:
        from importlib.metadata import version

        return version("m2cgen")
    except Exception:
        return None


def m2cgen_python(est):
    try:
        import m2cgen
    except ImportError:
        return Generated(reason="m2cgen is not installed (requirements-bench.txt)")
    try:
        code = m2cgen.export_to_python(est)
    except NotImplementedError as e:
        # 0.10.0 has assemblers for scikit-learn's trees and forests only; its boosting
        # support is XGBoost and LightGBM.
        return Generated(reason=f"m2cgen {m2cgen_version()}: {e} (it exports scikit-learn "
                                "trees and forests; boosting only from XGBoost and LightGBM)")
    except Exception as e:
        return Generated(reason=f"m2cgen {m2cgen_version()} failed: {type(e).__name__}: {e}")
    return Generated(code, disagree_note=(
        "thresholds are written as decimal float64 literals; on a port with single-precision "
        "floats they round to the nearest float32, which can move a sample across a split"))


# --------------------------------------------------------------------------------------------
# everywhereml


def everywhereml_version():
    try:
        from importlib.metadata import version

        return version("everywhereml")
    except Exception:
        return None


def _import_everywhereml():
    """everywhereml.sklearn imports pandas at module level for its Dataset class (used by its
    fit(), not by the export). Without pandas installed, an empty stand-in module takes its
    place for the import only."""
    added = False
    try:
        import pandas  # noqa: F401
    except ImportError:
        stub = types.ModuleType("pandas")
        stub.DataFrame = object
        sys.modules["pandas"] = stub
        added = True
    try:
        from everywhereml.sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier
    finally:
        if added:
            sys.modules.pop("pandas", None)


def everywhereml_micropython(est):
    kind = type(est).__name__
    ver = everywhereml_version()
    if ver is None:
        return Generated(reason="everywhereml is not installed (requirements-bench.txt)")
    if kind != "RandomForestClassifier":
        return Generated(reason=f"everywhereml {ver}: no MicroPython export for {kind} (its "
                                "MicroPython template is RandomForestClassifier's only)")
    try:
        ERF = _import_everywhereml()
        # The wrapper subclasses scikit-learn's RandomForestClassifier: it takes the fitted
        # state of the very same estimator (its own fit() would go through pandas). Its
        # template sizes the vote array from the fitted dataset, which fit() would have set.
        wrapped = ERF.__new__(ERF)
        wrapped.__dict__.update(est.__dict__)
        wrapped.dataset = types.SimpleNamespace(num_outputs=int(est.n_classes_))
        code = wrapped.to_micropython()
    except Exception as e:
        return Generated(reason=f"everywhereml {ver} failed: {type(e).__name__}: {e}")
    return Generated(code, disagree_note=(
        "each tree votes for its leaf's majority class with a weight taken from the tree's root "
        "(not the leaf's class probabilities, as scikit-learn averages), and splits use "
        "`x < t` where scikit-learn uses `x <= t`"))


def everywhereml_time_shim():
    """The generated module starts with `from time import ticks_us, ticks_diff` (it measures
    its own latency in every predict). The qemu port has no `time` module: this stand-in binds
    both names to builtins of the same arity, as cheap as the board's native functions."""
    return ("# stand-in for boards without a time module (benchmark)\n"
            "from gc import isenabled as ticks_us\nticks_diff = max\n")


def mpy_cross(src: Path, dst: Path):
    """Compiles src to dst with mpy-cross. Returns "" or a note: mpy-cross runs out of its
    default 2 MB heap on the largest generated modules, and is then run with a larger one, as a
    user would have to. Raises RuntimeError if it fails anyway."""
    import subprocess

    exe = paths.micropython() / "mpy-cross" / "build" / "mpy-cross"
    note = ""
    for args in ([], ["-X", "heapsize=256M"]):
        r = subprocess.run([str(exe), *args, "-o", str(dst), str(src)], capture_output=True,
                           text=True)
        if r.returncode == 0:
            return note
        msg = (r.stderr or r.stdout).strip().splitlines()[-1]
        if "MemoryError" not in msg:
            break
        note = "mpy-cross runs out of its default 2 MB heap; compiled with -X heapsize=256M"
    raise RuntimeError(f"mpy-cross {src.name}: {msg}")
