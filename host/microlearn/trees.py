"""Convert scikit-learn tree models into microlearn's tree model file (docs/model-format.md).

Supported: DecisionTreeClassifier/Regressor, RandomForestClassifier/Regressor,
ExtraTreesClassifier/Regressor, GradientBoostingClassifier/Regressor,
HistGradientBoostingClassifier/Regressor (numerical features, missing values included).

All of them become one representation: decision nodes (feature, threshold, left, right, and the
side missing values go to), a table of leaf values, and per tree its root and the output it adds
to. `TreesModel.predict_raw` evaluates that representation in numpy exactly as the C core does,
which the tests use to tell a conversion error from a device error.
"""

import numpy as np

FORMAT_VERSION = 1

MEAN, SUM = "mean", "sum"
ACCEPT_NAN, ACCEPT_INF, BINARY_GE, HAS_LABELS = 1, 2, 4, 8

SUPPORTED = (
    "DecisionTreeClassifier", "DecisionTreeRegressor",
    "RandomForestClassifier", "RandomForestRegressor",
    "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor",
    "HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
)


class ConversionError(ValueError):
    pass


def floor_f32(t):
    """The largest float32 not above each float64 threshold t (x <= t iff x <= floor_f32(t))."""
    t = np.asarray(t, dtype=np.float64)
    f = t.astype(np.float32)
    up = f.astype(np.float64) > t
    f[up] = np.nextafter(f[up], np.float32(-np.inf))
    f[f == 0] = np.float32(0.0)  # -0 -> +0, as the C loader does
    return f


def hexfloat(v):
    """Exact and short: Python's float.hex without trailing zeros ('0x1.8p+2')."""
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        return repr(v)
    s = v.hex()
    mant, exp = s.split("p")
    if "." in mant:
        mant = mant.rstrip("0").rstrip(".")
    return f"{mant}p{exp}"


class TreesModel:
    """A converted tree ensemble: save it, or evaluate it on the host."""

    def __init__(self, n_features, n_classes, n_outputs, aggregate, link, flags, labels,
                 baseline, trees, nodes, leaves, source=""):
        self.n_features = n_features
        self.n_classes = n_classes
        self.n_outputs = n_outputs
        self.aggregate = aggregate
        self.link = link
        self.flags = flags
        # The class labels as scikit-learn gives them (ints, floats, bools or strings), or None
        # for 0 .. n_classes - 1. The binary form carries any of them; the text form integers
        # of 32 bits.
        self.classes = None if labels is None else list(labels)
        self.baseline = baseline  # float64 [n_outputs] or None
        self.trees = trees  # list of (root_ref, output); ref >= 0 node, -1-i leaf i
        self.nodes = nodes  # dict of arrays: feature, threshold (f32), left, right, missing_left
        self.leaves = leaves  # float32 [n_leaves, leaf_width]
        self.source = source

    # -- shape ----------------------------------------------------------------------------
    @property
    def n_trees(self):
        return len(self.trees)

    @property
    def n_nodes(self):
        return len(self.nodes["feature"])

    @property
    def n_leaves(self):
        return len(self.leaves)

    @property
    def leaf_width(self):
        return self.leaves.shape[1]

    @property
    def is_classifier(self):
        return self.n_classes > 0

    @property
    def labels(self):
        """The class labels when they are 32-bit integers (what the text form holds), else
        None."""
        if self.classes is None:
            return None
        ok = all(isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_))
                 and -2**31 <= int(c) < 2**31 for c in self.classes)
        return [int(c) for c in self.classes] if ok else None

    def memory_size(self, format="csv", in_place=False):
        """Bytes of RAM the model takes on the device (`model.memory`): for the text form the
        formula of docs/model-format.md (ml_trees_memory_size in core/ml_trees.c); for the
        binary form its size (unless used in place) and the sums a prediction keeps in the heap
        (none up to 32 outputs: they are on the C stack)."""
        if format == "bin":
            from . import trees_bin

            ws = trees_bin.heap_sums_size(self.n_outputs)
            return ws if in_place else len(self.to_bin()) + ws
        return self._text_memory_size()

    def _text_memory_size(self):
        def r8(n):
            return (n + 7) & ~7

        refs = self.n_nodes + self.n_leaves
        fb = 1 if self.n_features <= 256 else 2
        cb = 1 if refs <= 0x100 else 2 if refs <= 0x10000 else 4
        n = self.n_nodes
        return (2 * r8(8 * self.n_outputs) + r8(4 * n)
                + r8(4 * self.n_leaves * self.leaf_width) + r8(4 * self.n_classes)
                + 2 * r8(4 * self.n_trees) + r8(fb * n) + 2 * r8(cb * n)
                + (r8((n + 7) // 8) if self.flags & ACCEPT_NAN else 0))

    # -- writing --------------------------------------------------------------------------
    def validate(self):
        """Raises ConversionError unless the device's loader accepts this model (the checks of
        core/ml_trees.c): no model file is written that trees.load would refuse."""
        def need(cond, what):
            if not cond:
                raise ConversionError(f"the converted model is not valid: {what}")

        need(1 <= self.n_features <= 65536,
             f"n_features is {self.n_features} (n_features_in_), expected 1 to 65536")
        need(0 <= self.n_classes <= 65535 and 1 <= self.n_outputs <= 65535,
             f"{self.n_classes} classes, {self.n_outputs} outputs")
        need(self.n_trees >= 1, "no trees")
        need(self.n_leaves >= 1, "no leaves")
        need(self.n_classes != 1, "a classifier with one class (scikit-learn needs two)")
        need(self.classes is None or len(self.classes) == self.n_classes,
             f"{len(self.classes or [])} class labels for {self.n_classes} classes")
        nd = self.nodes
        n, n_leaves = self.n_nodes, self.n_leaves
        if n:
            f, left, right = (np.asarray(nd[k]) for k in ("feature", "left", "right"))
            need(np.all((f >= 0) & (f < self.n_features)), "a node's feature is out of range")
            need(not np.any(np.isnan(nd["threshold"])), "a threshold is NaN")
            idx = np.arange(n)
            for c in (left, right):
                need(np.all(np.where(c >= 0, (c > idx) & (c < n), -1 - c < n_leaves)),
                     "a child reference is out of range or not after its parent")
        for root, out in self.trees:
            need(-n_leaves <= root < n, f"tree root {root} is out of range")
            need(0 <= out < self.n_outputs, f"tree output {out} is out of range")
        need(np.all(np.isfinite(self.leaves)), "a leaf value is not finite")
        if self.aggregate == SUM:
            need(self.baseline is not None and np.all(np.isfinite(self.baseline)),
                 "the baseline is not finite")

    def to_text(self):
        self.validate()
        if self.flags & HAS_LABELS and self.labels is None:
            raise ConversionError(
                f"the class labels {_show(self.classes)} are not 32-bit integers, which the text "
                "model file holds: save with format='bin' (save(file='model.bin')), which "
                "carries them, and the board's predict returns them")
        lines = [f"microlearn-trees,{FORMAT_VERSION}"]
        if self.source:
            lines.append("# " + " ".join(self.source.split()))
        lines.append(
            f"h,{self.n_features},{self.n_classes},{self.n_outputs},{self.n_trees},"
            f"{self.n_nodes},{self.n_leaves},{self.leaf_width},{self.aggregate},{self.link},"
            f"{self.flags}")
        if self.flags & HAS_LABELS:
            lines.append("k," + ",".join(str(int(v)) for v in self.labels))
        if self.aggregate == SUM:
            lines.append("b," + ",".join(hexfloat(v) for v in self.baseline))
        lines += [f"t,{root},{out}" for root, out in self.trees]
        nd = self.nodes
        missing = self.flags & ACCEPT_NAN
        for i in range(self.n_nodes):
            line = (f"n,{nd['feature'][i]},{hexfloat(nd['threshold'][i])},"
                    f"{nd['left'][i]},{nd['right'][i]}")
            lines.append(line + (f",{int(nd['missing_left'][i])}" if missing else ""))
        lines += ["l," + ",".join(hexfloat(v) for v in leaf) for leaf in self.leaves]
        return "\n".join(lines) + "\n"

    def to_c_header(self, name):
        if not name.isidentifier():
            raise ConversionError(f"name must be a C identifier, got {name!r}")
        text = self.to_text()
        body = "\n".join('    "' + line.replace("\\", "\\\\").replace('"', '\\"') + '\\n"'
                         for line in text.splitlines())
        upper = name.upper()
        return (
            f"// {name}: a tree model converted by microlearn. Load it with\n"
            f"//   ml_trees_load_text(&model, &cold, {name}_text, sizeof({name}_text) - 1,\n"
            f"//                      {name}_memory, sizeof({name}_memory), &err);\n"
            f"// (model an ml_trees_t, cold an ml_trees_cold_t: both kept while it is used)\n"
            f"#ifndef {upper}_H\n#define {upper}_H\n#include <stdint.h>\n\n"
            f"#define {upper}_N_FEATURES ({self.n_features})\n"
            f"#define {upper}_N_CLASSES ({self.n_classes})\n"
            f"#define {upper}_MEMORY_SIZE ({self.memory_size()})\n\n"
            f"static const char {name}_text[] =\n{body};\n\n"
            f"static uint64_t {name}_memory[({upper}_MEMORY_SIZE + 7) / 8];\n\n#endif\n")

    def to_bin(self):
        """The binary model (docs/model-format.md): compact, and usable in place on the device
        from a buffer (a bytes object, a file in a ROMFS image, a bytes constant of a .mpy)."""
        from . import trees_bin

        self.validate()
        try:
            return trees_bin.Encoding(self).to_bytes()
        except ValueError as e:
            raise ConversionError(f"the binary form cannot hold this model: {e}") from None

    def to_python_module(self, name="MODEL"):
        """A MicroPython module holding the binary model as a bytes constant `name`. Compiled
        with mpy-cross into a .mpy (ROMFS, or frozen into firmware), the constant stays in flash
        and `trees.load(module.MODEL)` uses it there."""
        if not name.isidentifier():
            raise ConversionError(f"name must be a Python identifier, got {name!r}")
        data = self.to_bin()
        lines = [f"# A tree model converted by microlearn ({len(data)} bytes, binary form).",
                 "# from microlearn import trees; model = trees.load(<this module>." + name + ")",
                 f"{name} = ("]
        for i in range(0, len(data), 48):
            lines.append(f"    {data[i:i + 48]!r}")
        lines.append(")")
        return "\n".join(lines) + "\n"

    FORMATS = {".csv": "csv", ".bin": "bin", ".mlrn": "bin", ".h": "c", ".py": "py"}

    def save(self, file=None, name=None, format=None):
        """Writes the model: format 'csv' (the text model file), 'bin' (the binary model, smaller
        and usable in place), 'c' (a C header of the text form) or 'py' (a Python module
        holding the binary model as a bytes constant). Without format, the file's extension
        decides (.csv, .bin, .h, .py; csv otherwise). Returns what was written (str or bytes)."""
        from pathlib import Path

        if format is None:
            format = self.FORMATS.get(Path(file).suffix.lower(), "csv") if file else "csv"
        if format == "csv":
            data = self.to_text()
        elif format == "bin":
            data = self.to_bin()
        elif format in ("c", "h"):
            if name is None:
                if file is None:
                    raise ConversionError("save(format='c') needs a name or a file")
                name = Path(file).stem
            data = self.to_c_header(name)
        elif format == "py":
            data = self.to_python_module(name or "MODEL")
        else:
            raise ConversionError(f"format must be 'csv', 'bin', 'c' or 'py', got {format!r}")
        if file is not None:
            if isinstance(data, bytes):
                Path(file).write_bytes(data)
            else:
                with open(file, "w") as f:
                    f.write(data)
        return data

    # -- evaluating on the host, as the C core does -----------------------------------------
    def predict_raw(self, X):
        """Summed (or averaged) outputs before the link, float64 [n_samples, n_outputs]."""
        X = np.asarray(X)
        if X.dtype != np.int16:
            X = X.astype(np.float32)
        nd = self.nodes
        acc = np.zeros((len(X), self.n_outputs))
        if self.aggregate == SUM:
            acc += self.baseline
        for root, out in self.trees:
            ref = np.full(len(X), root, dtype=np.int64)
            while True:
                inner = ref >= 0
                if not inner.any():
                    break
                idx = ref[inner]
                x = X[inner, nd["feature"][idx]].astype(np.float32)
                left = x <= nd["threshold"][idx]
                nan = np.isnan(x)
                left[nan] = nd["missing_left"][idx][nan]
                ref[inner] = np.where(left, nd["left"][idx], nd["right"][idx])
            leaf = self.leaves[-1 - ref].astype(np.float64)
            if self.leaf_width == 1:
                acc[:, out] += leaf[:, 0]
            else:
                acc += leaf
        if self.aggregate == MEAN:
            acc /= self.n_trees
        return acc

    def predict_proba(self, X):
        raw = self.predict_raw(X)
        if self.link == "sigmoid":
            p = 1.0 / (1.0 + np.exp(-raw[:, 0]))
            return np.stack([1.0 - p, p], axis=1)
        if self.link == "softmax":
            e = np.exp(raw - raw.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        return raw

    def predict(self, X):
        raw = self.predict_raw(X)
        if not self.is_classifier:
            return raw[:, 0]
        if self.link == "sigmoid":
            idx = (raw[:, 0] >= 0) if self.flags & BINARY_GE else (raw[:, 0] > 0)
            idx = idx.astype(int)
        else:
            idx = np.argmax(raw, axis=1)
        labels = np.asarray(self.classes if self.classes is not None else range(self.n_classes))
        return labels[idx]


# ------------------------------------------------------------------------------------------------
# scikit-learn


class _Builder:
    """Collects trees into global node and leaf arrays, deduplicating leaf values."""

    def __init__(self, leaf_width):
        self.leaf_width = leaf_width
        self.feature, self.threshold, self.left, self.right, self.missing = [], [], [], [], []
        self.leaf_index = {}
        self.leaves = []
        self.trees = []

    def leaf(self, values):
        v = np.asarray(values, dtype=np.float32).reshape(self.leaf_width)
        if not np.all(np.isfinite(v)):
            raise ConversionError("a leaf value is not finite as float32")
        key = v.tobytes()
        if key not in self.leaf_index:
            self.leaf_index[key] = len(self.leaves)
            self.leaves.append(v)
        return -1 - self.leaf_index[key]

    def add_tree(self, output, root, is_leaf, children, split, leaf_value):
        """Adds one tree, numbering its decision nodes in depth-first preorder (children after
        their parent). children(i) -> (left, right); split(i) -> (feature, threshold, missing_left);
        leaf_value(i) -> values."""
        def visit(i):
            if is_leaf(i):
                return self.leaf(leaf_value(i))
            me = len(self.feature)
            f, t, m = split(i)
            self.feature.append(int(f))
            self.threshold.append(float(t))
            self.missing.append(bool(m))
            self.left.append(None)
            self.right.append(None)
            left, right = children(i)
            self.left[me] = visit(left)
            self.right[me] = visit(right)
            return me

        import sys
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 10000))
        try:
            self.trees.append((visit(root), output))
        finally:
            sys.setrecursionlimit(limit)

    def nodes(self):
        return {
            "feature": np.array(self.feature, dtype=np.int64),
            "threshold": floor_f32(np.array(self.threshold, dtype=np.float64)),
            "left": np.array(self.left, dtype=np.int64),
            "right": np.array(self.right, dtype=np.int64),
            "missing_left": np.array(self.missing, dtype=bool),
        }

    def leaf_table(self):
        return np.array(self.leaves, dtype=np.float32).reshape(-1, self.leaf_width)


def _add_sklearn_tree(builder, tree, output, leaf_value):
    t = tree.tree_
    builder.add_tree(
        output, 0,
        is_leaf=lambda i: t.children_left[i] == -1,
        children=lambda i: (t.children_left[i], t.children_right[i]),
        split=lambda i: (t.feature[i], t.threshold[i], t.missing_go_to_left[i]),
        leaf_value=lambda i: leaf_value(t.value[i]),
    )


def _classifier_leaf(value):
    # As DecisionTreeClassifier.predict_proba: the leaf's class weights, normalised.
    v = np.asarray(value[0], dtype=np.float64)
    s = v.sum()
    return v / (s if s != 0 else 1.0)


def _accepts(estimator, n_features, value):
    """Does the estimator's predict accept this non-finite value? Asked, not guessed."""
    import warnings

    X = np.full((1, n_features), value)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            estimator.predict(X)
        return True
    except ValueError:
        return False


def _show(classes, n=4):
    shown = ", ".join(repr(c) for c in list(classes)[:n])
    return f"({shown}{', ...' if len(classes) > n else ''})"


def _labels(classes):
    """The class labels as Python values (what scikit-learn's predict returns), always
    carried: the binary form holds integers, floats, booleans and strings, the text form
    32-bit integers (and refuses the others when saved)."""
    from . import trees_bin

    vals = [c.item() if isinstance(c, np.generic) else c for c in np.asarray(classes).tolist()]
    try:
        trees_bin.label_kind(vals)
    except ValueError as e:
        raise ConversionError(f"class labels {_show(vals)}: {e}") from None
    return vals, HAS_LABELS


def _check_single_output(est):
    if getattr(est, "n_outputs_", 1) != 1:
        raise ConversionError(f"{type(est).__name__} with {est.n_outputs_} outputs is not "
                              "supported (single-output models are)")


def convert_sklearn(est):
    """The TreesModel of a fitted estimator, checked as the device's loader checks it."""
    model = _convert_sklearn(est)
    model.validate()
    return model


def _convert_sklearn(est):
    kind = type(est).__name__
    if kind not in SUPPORTED:
        raise ConversionError(
            f"{kind} is not supported. Tree models supported: {', '.join(SUPPORTED)}")
    if not hasattr(est, "n_features_in_"):
        raise ConversionError(f"{kind} is not fitted: call fit() before converting")
    n_features = int(est.n_features_in_)
    if not 1 <= n_features <= 65536:
        raise ConversionError(f"{kind} has n_features_in_ = {n_features}: the device takes "
                              "models of 1 to 65536 features")
    flags = 0
    if _accepts(est, n_features, np.nan):
        flags |= ACCEPT_NAN
    if _accepts(est, n_features, np.inf):
        flags |= ACCEPT_INF

    if kind.startswith(("DecisionTree", "RandomForest", "ExtraTrees")):
        _check_single_output(est)
        trees = est.estimators_ if hasattr(est, "estimators_") else [est]
        if kind.endswith("Classifier"):
            n_classes = int(est.n_classes_)
            labels, has = _labels(est.classes_)
            b = _Builder(n_classes)
            for t in trees:
                _add_sklearn_tree(b, t, 0, _classifier_leaf)
            return TreesModel(n_features, n_classes, n_classes, MEAN, "none", flags | has, labels,
                              None, b.trees, b.nodes(), b.leaf_table(), repr(est))
        b = _Builder(1)
        for t in trees:
            _add_sklearn_tree(b, t, 0, lambda v: v[0, 0])
        return TreesModel(n_features, 0, 1, MEAN, "none", flags, None, None, b.trees, b.nodes(),
                          b.leaf_table(), repr(est))

    if kind.startswith("GradientBoosting"):
        return _convert_gb(est, kind, n_features, flags)
    return _convert_hgb(est, kind, n_features, flags)


def _convert_gb(est, kind, n_features, flags):
    init = est._raw_predict_init(np.zeros((2, n_features), dtype=np.float32))
    if not np.array_equal(init[0], init[1]):
        raise ConversionError("GradientBoosting with an init estimator that depends on X is not "
                              "supported (use init=None or 'zero')")
    baseline = init[0].astype(np.float64)
    k = est.estimators_.shape[1]
    lr = float(est.learning_rate)
    b = _Builder(1)
    for stage in est.estimators_:
        for out, tree in enumerate(stage):
            # predict_stages adds learning_rate * leaf value
            _add_sklearn_tree(b, tree, out, lambda v: lr * v[0, 0])
    if kind.endswith("Regressor"):
        return TreesModel(n_features, 0, 1, SUM, "none", flags, None, baseline, b.trees,
                          b.nodes(), b.leaf_table(), repr(est))
    loss = type(est._loss).__name__
    if "Exponential" in loss:
        raise ConversionError("GradientBoostingClassifier(loss='exponential') is not supported "
                              "(loss='log_loss' is)")
    n_classes = int(est.n_classes_)
    labels, has = _labels(est.classes_)
    link = "sigmoid" if k == 1 else "softmax"
    return TreesModel(n_features, n_classes, k, SUM, link, flags | has | BINARY_GE, labels,
                      baseline, b.trees, b.nodes(), b.leaf_table(), repr(est))


def _convert_hgb(est, kind, n_features, flags):
    if getattr(est, "is_categorical_", None) is not None and np.any(est.is_categorical_):
        raise ConversionError("HistGradientBoosting with categorical features is not supported "
                              "(numerical features are)")
    baseline = np.asarray(est._baseline_prediction, dtype=np.float64).ravel()
    k = len(baseline)
    b = _Builder(1)
    for iteration in est._predictors:
        for out, pred in enumerate(iteration):
            nodes = pred.nodes
            if np.any(nodes["is_categorical"]):
                raise ConversionError("HistGradientBoosting with categorical splits is not "
                                      "supported")
            b.add_tree(
                out, 0,
                is_leaf=lambda i, n=nodes: bool(n["is_leaf"][i]),
                children=lambda i, n=nodes: (n["left"][i], n["right"][i]),
                split=lambda i, n=nodes: (n["feature_idx"][i], n["num_threshold"][i],
                                          n["missing_go_to_left"][i]),
                leaf_value=lambda i, n=nodes: n["value"][i],
            )
    if kind.endswith("Regressor"):
        link = type(est._loss.link).__name__
        if link != "IdentityLink":
            raise ConversionError(f"HistGradientBoostingRegressor(loss={est.loss!r}) is not "
                                  "supported (losses with an identity link are)")
        return TreesModel(n_features, 0, 1, SUM, "none", flags, None, baseline, b.trees,
                          b.nodes(), b.leaf_table(), repr(est))
    n_classes = int(len(est.classes_))
    labels, has = _labels(est.classes_)
    link = "sigmoid" if k == 1 else "softmax"
    return TreesModel(n_features, n_classes, k, SUM, link, flags | has, labels, baseline,
                      b.trees, b.nodes(), b.leaf_table(), repr(est))
