# The MicroPython side of the browser page: microlearn is built into the webassembly port (as a
# user C module), the model files and recordings are in the page's in-memory filesystem.
# page.js calls these functions with strings and gets strings back.
import array
import time

import mlhar
from microlearn import trees

digits = trees.load("digits_rf.bin")
_x = array.array("f", bytes(4 * digits.n_features))
_proba = array.array("f", bytes(4 * digits.n_classes))


def _timed(fn, min_ms=20):
    """Calls fn until min_ms have passed (the browser's clock ticks in milliseconds);
    microseconds per call."""
    n = 1
    while True:
        t0 = time.ticks_ms()
        for _ in range(n):
            fn()
        dt = time.ticks_diff(time.ticks_ms(), t0)
        if dt >= min_ms:
            return dt * 1000 / n
        n *= 2


def predict_digit(pixels):
    """pixels: 64 comma-separated intensities 0..16 (an 8x8 image, as in scikit-learn's
    digits). Returns "label probability microseconds-per-predict"."""
    values = pixels.split(",")
    if len(values) != digits.n_features:
        raise ValueError("expected %d pixels, got %d" % (digits.n_features, len(values)))
    for i, v in enumerate(values):
        _x[i] = float(v)
    label = digits.predict(_x, _proba)
    us = _timed(lambda: digits.predict(_x, _proba))
    return "%d %.4f %.2f" % (label, _proba[label], us)


def predict_digits(rows):
    """Every sample of `rows` (samples separated by ';'): their labels, space-separated."""
    out = array.array("i", [0])
    labels = []
    for row in rows.split(";"):
        for i, v in enumerate(row.split(",")):
            _x[i] = float(v)
        digits.predict_many(_x, out)
        labels.append(str(out[0]))
    return " ".join(labels)


gestures = None


def _replay(recording, labels):
    clf = gestures
    sensor = mlhar.SimulatedSensor(recording, clf.meta["sample_rate"], clf.meta["n_axes"])
    clf.reset()
    while not sensor.done(clf.hop):
        if clf.step(sensor) and labels is not None:
            labels.append(clf.classes[clf.label])
    sensor.close()


def replay_gesture(recording):
    """The gesture application (device/mlhar.py, as it runs on a board) replays a recording
    (raw int16 frames) through its simulated sensor. Returns "microseconds-per-window label
    label ...", one label per window."""
    global gestures
    if gestures is None:
        gestures = mlhar.Classifier(meta_path="gestures/metadata.json")
    labels = []
    _replay(recording, labels)
    us = _timed(lambda: _replay(recording, None))
    return "%.1f %s" % (us / len(labels), " ".join(labels))
