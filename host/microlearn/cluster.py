"""Convert scikit-learn's KMeans and MiniBatchKMeans (core/ml_cluster.h) for
microlearn.cluster; and KMeansDetector, the k-means distance anomaly detector.

    from microlearn.cluster import KMeansDetector
    det = make_pipeline(StandardScaler(), KMeansDetector(n_clusters=8)).fit(X_normal)
    det.predict(X)            # -1 for anomalies, +1 otherwise, as scikit-learn's detectors
    microlearn.convert(det).save("anomaly.mlb")   # on the board: cluster.load, same methods
"""

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin

from . import blob
from .estimators import INT_PREDICT, EstimatorModel, f64

SUPPORTED = ("KMeans", "MiniBatchKMeans", "KMeansDetector")
DETECTOR = 1  # variant of the model file (ML_CLUSTER_DETECTOR)


class KMeansDetector(OutlierMixin, BaseEstimator):
    """Anomaly score = the distance to the nearest k-means centre (a window unlike every
    cluster of the training data is far from all centres).

    score_samples(X) is minus that distance (higher = more normal, as scikit-learn's detectors);
    the threshold is the `quantile` of the training samples' distances: offset_ is minus it,
    decision_function = score_samples - offset_, predict = -1 where it is negative. With
    quantile=0.99, 1% of the training samples are flagged; held-out normal data a little more.
    """

    def __init__(self, n_clusters=8, quantile=0.99, random_state=0):
        self.n_clusters = n_clusters
        self.quantile = quantile
        self.random_state = random_state

    def fit(self, X, y=None):
        from sklearn.cluster import KMeans

        if not 0.0 < self.quantile <= 1.0:
            raise ValueError(f"quantile is {self.quantile}, expected 0 < quantile <= 1")
        X = np.asarray(X, dtype=np.float64)
        self.kmeans_ = KMeans(self.n_clusters, n_init=10,
                              random_state=self.random_state).fit(X)
        self.n_features_in_ = X.shape[1]
        self.cluster_centers_ = self.kmeans_.cluster_centers_
        self.offset_ = -float(np.quantile(self._distance(X), self.quantile))
        return self

    def _distance(self, X):
        # float64 as the board computes (scikit-learn's KMeans refuses float32 input when it
        # was fitted on float64)
        return self.kmeans_.transform(np.asarray(X, dtype=np.float64)).min(axis=1)

    def transform(self, X):
        """Distances to the centres."""
        return self.kmeans_.transform(np.asarray(X, dtype=np.float64))

    def score_samples(self, X):
        return -self._distance(X)

    def decision_function(self, X):
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        return np.where(self.decision_function(X) < 0, -1, 1)


def convert(est, steps, name):
    n_inputs = int(est.n_features_in_)
    n_features = steps[0][1] if steps else n_inputs
    centers = np.asarray(est.cluster_centers_, dtype=np.float64)
    k = len(centers)
    sections = [(b"cent", f64(centers).tobytes()),
                (b"cnrm", f64(np.einsum("ij,ij->i", centers, centers)).tobytes())]
    widths = {"predict": 1, "transform": k}
    variant = scratch = 0
    if isinstance(est, KMeansDetector):
        variant, scratch = DETECTOR, k
        sections.append((b"koff", f64([est.offset_]).tobytes()))
        widths.update(decision_function=1, score_samples=1)
    return EstimatorModel(
        blob.CLUSTER, name, n_features, n_inputs, variant=variant, flags=INT_PREDICT,
        steps=steps, sections=sections, widths=widths, scratch=scratch)


def learner_memory(n_clusters, n_features):
    """Bytes of RAM of cluster.KMeans(n_clusters, init) made on the board
    (ml_cluster_learner_size): work memory, then the initial and current centres, a sum per
    centre, and per centre its squared norm, count and four values of scratch, the mean."""
    work = 8 * (2 * n_features + max(n_clusters, 1))
    return work + 8 * (3 * n_clusters * n_features + 6 * n_clusters + n_features)
