# Learning a new gesture on the board: no training on a computer, no model file.
#
# The board computes the features of each window of accelerometer data (microlearn.dsp) and
# keeps them in a k-NN classifier made on the board (microlearn.neighbors): enrolling a
# gesture adds the windows of a few recordings of it under a new label; recognising one
# classifies each window by its nearest stored windows. Forgetting a gesture removes them.
#
#   import gesture_learning as gl
#   app = gl.GestureLearner()
#   app.enrol(gl.Recording("a_wave.npy"), "wave")    # or a sensor driver with these methods
#   app.recognise(gl.Recording("b_wave.npy"))        # -> "wave"
#
# The sensor has the methods of device/mlhar.py's Sensor (wait, fifo_read) and done(); Recording
# replays a recording file, so the same code runs on the unix port, the emulated boards and
# hardware. The k-NN's add and predict allocate nothing (tests/device/test_learning.py).
import array

from microlearn import dsp, neighbors

# Features in g (1 g = 16384 counts at +-2 g) that need no scaling for a distance: each axis
# and the magnitude's mean, standard deviation, minimum, maximum and range, over windows of
# 1 s (100 frames at 100 Hz) every 0.25 s.
FEATURES = {"version": 1, "length": 100, "n_axes": 3, "sample_rate": "100.0",
            "scale": "6.1035156e-05", "magnitude": True, "axes": ["x", "y", "z"],
            "time": ["mean", "std", "min", "max", "ptp"], "spectral": None}
HOP = 25


class Recording:
    """A recording (.npy of int16 frames, as in data/gestures) replayed as a sensor whose FIFO
    always holds the next frames. mlhar.SimulatedSensor does this with a simulated clock; this
    one leaves out mlhar's import of microlearn.trees, whose code would take heap the k-NN
    needs on a small board. A truncated file raises ValueError."""

    def __init__(self, path, n_axes=3):
        f = self.f = open(path, "rb")
        self.frame_bytes = 2 * n_axes
        head = f.read(10)
        if head[:6] != b"\x93NUMPY" or head[6] != 1:
            raise ValueError(path + ": not a .npy file (version 1)")
        header = f.read(head[8] | head[9] << 8).decode()
        if "'<i2'" not in header or "'fortran_order': False" not in header:
            raise ValueError(path + ": expected little-endian int16 in C order")
        frames = int(header[header.index("(") + 1:header.index(",", header.index("("))])
        start = f.tell()
        self.total = (f.seek(0, 2) - start) // (2 * n_axes)
        f.seek(start)
        if self.total < frames:
            raise ValueError("%s: the header says %d frames, the file holds %d"
                             % (path, frames, self.total))
        self.total, self.pos = frames, 0

    def wait(self, frames):
        pass

    def fifo_read(self, buf):
        n = self.f.readinto(buf) // self.frame_bytes
        self.pos += n
        return n

    def done(self, frames=1):
        """True when fewer than `frames` frames remain."""
        return self.total - self.pos < frames

    def close(self):
        self.f.close()


class GestureLearner:
    """capacity: the windows the board can store (RAM: `memory` bytes, fixed from the
    start); n_neighbors: the stored windows that vote for each new window."""

    def __init__(self, capacity=160, n_neighbors=3, features=FEATURES, hop=HOP):
        self.features = dsp.Features(features)
        self.n_axes = features["n_axes"]
        self.window = dsp.Window(features["length"], hop, n_axes=self.n_axes)
        self.knn = neighbors.KNeighborsClassifier(self.features.n_features, capacity,
                                                  n_neighbors=n_neighbors)
        self.names = []  # the gestures' names; the k-NN's labels are their indices
        self.raw = bytearray(2 * hop * self.n_axes)
        self.frames = array.array("h", bytes(len(self.raw)))
        self.x = array.array("f", bytes(4 * self.features.n_features))
        self.hop, self.length = hop, features["length"]

    @property
    def memory(self):
        return self.knn.memory

    def _windows(self, sensor):
        """Yields once per full window of the sensor's stream, its features in self.x."""
        self.window.reset()
        while not sensor.done(self.hop):
            sensor.wait(self.hop)
            sensor.fifo_read(self.raw)
            dsp.decode(self.raw, self.frames, n_axes=self.n_axes)
            if self.window.push(self.frames):
                self.features.process(self.window, self.x)
                yield

    def enrol(self, sensor, name):
        """Stores every window of the recording under `name` (a new gesture or one known);
        returns the windows added. ValueError when the capacity is reached."""
        if name not in self.names:
            self.names.append(name)
        label = self.names.index(name)
        n = 0
        for _ in self._windows(sensor):
            self.knn.add(self.x, label)
            n += 1
        return n

    def forget(self, name):
        """Removes the gesture's windows; returns how many."""
        return self.knn.remove(self.names.index(name)) if name in self.names else 0

    def recognise(self, sensor, labels=None):
        """The gesture most windows of the recording are classified as (None without
        windows). `labels`: an array that receives each window's label index."""
        votes = array.array("H", bytes(2 * len(self.names)))
        n = 0
        for _ in self._windows(sensor):
            label = self.knn.predict(self.x)
            votes[label] += 1
            if labels is not None and n < len(labels):
                labels[n] = label
            n += 1
        if not n:
            return None
        best = 0
        for k in range(len(votes)):
            if votes[k] > votes[best]:
                best = k
        return self.names[best]
