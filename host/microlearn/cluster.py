"""Convert scikit-learn's KMeans and MiniBatchKMeans (core/ml_cluster.h) for
microlearn.cluster."""

import numpy as np

from . import blob
from .estimators import INT_PREDICT, EstimatorModel, f64

SUPPORTED = ("KMeans", "MiniBatchKMeans")


def convert(est, steps, name):
    n_inputs = int(est.n_features_in_)
    n_features = steps[0][1] if steps else n_inputs
    centers = np.asarray(est.cluster_centers_, dtype=np.float64)
    k = len(centers)
    return EstimatorModel(
        blob.CLUSTER, name, n_features, n_inputs, flags=INT_PREDICT, steps=steps,
        sections=[(b"cent", f64(centers).tobytes()),
                  (b"cnrm", f64(np.einsum("ij,ij->i", centers, centers)).tobytes())],
        widths={"predict": 1, "transform": k})


def learner_memory(n_clusters, n_features):
    """Bytes of RAM of cluster.KMeans(n_clusters, init) made on the board
    (ml_cluster_learner_size): work memory, then the initial and current centres, a sum per
    centre, and per centre its squared norm, count and four values of scratch, the mean."""
    work = 8 * (2 * n_features + max(n_clusters, 1))
    return work + 8 * (3 * n_clusters * n_features + 6 * n_clusters + n_features)
