"""Convert scikit-learn's IsolationForest (core/ml_isolation.h) for microlearn.ensemble."""

import struct

import numpy as np

from . import blob
from .estimators import INT_PREDICT, EstimatorModel, f64

SUPPORTED = ("IsolationForest",)
LEAF = 0xFFFFFFFF


def convert(est, steps, name):
    from sklearn.ensemble._iforest import _average_path_length

    n_inputs = int(est.n_features_in_)
    n_features = steps[0][1] if steps else n_inputs
    roots, nodes, values = [], [], []
    for t, (tree, feats) in enumerate(zip(est.estimators_, est.estimators_features_)):
        tr = tree.tree_
        base = len(values)
        roots.append(base)
        # A leaf's contribution as scikit-learn adds it: (depth + c(n_leaf)) - 1.0.
        leaf_value = (est._decision_path_lengths[t] + est._average_path_length_per_tree[t]) - 1.0
        subsample = est._max_features != n_inputs
        for i in range(tr.node_count):
            left, right = int(tr.children_left[i]), int(tr.children_right[i])
            if left == -1:
                nodes += [LEAF, 0, 0]
                values.append(leaf_value[i])
            else:
                f = int(tr.feature[i])
                nodes += [int(feats[f]) if subsample else f, base + left, base + right]
                values.append(tr.threshold[i])
    denominator = len(est.estimators_) * _average_path_length([est._max_samples])[0]
    sections = [(b"ifhd", f64([denominator, est.offset_]).tobytes()),
                (b"iftr", np.asarray(roots, dtype="<u4").tobytes()),
                (b"ifnd", np.asarray(nodes, dtype="<u4").tobytes()),
                (b"ifvl", f64(values).tobytes())]
    return EstimatorModel(
        blob.ISOLATION, name, n_features, n_inputs, flags=INT_PREDICT, steps=steps,
        sections=sections,
        widths={"predict": 1, "decision_function": 1, "score_samples": 1})
