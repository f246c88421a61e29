# Continuous gesture / activity recognition on MicroPython, with microlearn.
#
#   import mlhar
#   clf = mlhar.Classifier(meta_path="metadata.json")       # from `microlearn har train`
#   sensor = MyAccelerometer(...)                            # any object with the Sensor methods
#   while True:
#       if clf.step(sensor):                                 # read one hop, classify if a window
#           print("anomaly" if clf.anomaly else clf.classes[clf.label], clf.confidence)
#
# With a model trained by `har train --anomaly`, metadata.json names a detector (anomaly.mlb,
# loaded by its microlearn module): clf.anomaly is True for a window unlike the training data.
# The application reads raw bytes from the sensor's FIFO one hop at a time, decodes them, pushes
# them into the overlapped window, computes the features and predicts: window length, hop and
# features come from the model's metadata, never from constants copied by hand. The steady state
# allocates nothing. SimulatedSensor replays a recording through the same interface, so the same
# code runs on the emulated boards, on the unix port and on hardware.
import array
import gc
import json

import mlclock
from microlearn import dsp, trees


class Sensor:
    """What the application needs of an accelerometer driver with a FIFO.

    sample_rate: frames per second. n_axes: values per frame. A frame is n_axes int16 values,
    little-endian, interleaved (x, y, z), as most accelerometer FIFOs deliver them (a driver for
    a big-endian sensor swaps, or the app decodes with byteorder="big").
    """

    sample_rate = 100
    n_axes = 3

    def fifo_level(self):
        """Frames waiting in the FIFO."""
        raise NotImplementedError

    def fifo_read(self, buf):
        """Reads len(buf) // (2 * n_axes) frames into buf; returns the frames read."""
        raise NotImplementedError

    def wait(self, frames):
        """Returns when at least `frames` frames wait in the FIFO (a driver sleeps or polls;
        the simulation advances its clock)."""
        while self.fifo_level() < frames:
            pass


class SimulatedSensor(Sensor):
    """Replays a recording file as a FIFO filled at the recording's sample rate.

    The clock is simulated: wait() moves it to the moment the frames have arrived, instead of
    sleeping, so a recording replays as fast as the board can process it. If the app falls
    behind by more than fifo_frames, the oldest frames are lost, as in a real FIFO (counted in
    `overflows`). Reading streams from the file, like a driver from the sensor: no copy of the
    recording in RAM, no allocation.
    """

    def __init__(self, path, sample_rate=100, n_axes=3, fifo_frames=170):
        self.f, start, size = open_frames(path, n_axes)
        self.sample_rate, self.n_axes, self.fifo_frames = sample_rate, n_axes, fifo_frames
        self.frame_bytes = 2 * n_axes
        self.start = start
        self.total = size // self.frame_bytes
        self.now = 0  # frames produced so far
        self.pos = 0  # frames read so far
        self.overflows = 0

    def fifo_level(self):
        arrived = self.now if self.now < self.total else self.total
        if arrived - self.pos > self.fifo_frames:
            self.overflows += arrived - self.pos - self.fifo_frames
            self.pos = arrived - self.fifo_frames
            self.f.seek(self.start + self.pos * self.frame_bytes)
        return arrived - self.pos

    def fifo_read(self, buf):
        level = self.fifo_level()
        n = len(buf) // self.frame_bytes
        if n > level:
            n = level
            buf = memoryview(buf)[:n * self.frame_bytes]
        self.f.readinto(buf)
        self.pos += n
        return n

    def wait(self, frames):
        if self.fifo_level() < frames:
            self.now = self.pos + frames

    def done(self, frames=1):
        """True when fewer than `frames` frames remain to be produced."""
        return self.total - self.pos < frames

    def advance(self, frames):
        """Simulated time passes by `frames` (e.g. while the app is busy elsewhere)."""
        self.now += frames

    def close(self):
        self.f.close()


def open_frames(path, n_axes=3):
    """A recording file as (stream, data offset, data bytes): .npy (little-endian int16 in C
    order), raw int16 frames (.bin), or the recorder's .csv (parsed into memory)."""
    if path.endswith(".csv"):
        import io

        with open(path, "rb") as f:
            data = _csv_frames(f, n_axes)
        return io.BytesIO(data), 0, len(data)
    f = open(path, "rb")
    start = 0
    if path.endswith(".npy"):
        head = f.read(10)
        if head[:6] != b"\x93NUMPY":
            raise ValueError(path + ": not a .npy file")
        hlen = head[8] | head[9] << 8
        if head[6] != 1:
            hlen |= int.from_bytes(f.read(2), "little") << 16
        header = f.read(hlen).decode()
        if "'<i2'" not in header or "'fortran_order': False" not in header:
            raise ValueError(path + ": expected little-endian int16 in C order")
        shape = _npy_shape(header)
        if shape is None or len(shape) != 2 or shape[1] != n_axes:
            raise ValueError("%s: shape %s, expected (frames, %d)" % (path, shape, n_axes))
        start = f.tell()
    size = f.seek(0, 2) - start
    f.seek(start)
    if path.endswith(".npy") and size < shape[0] * 2 * n_axes:
        # A truncated recording is reported, never replayed as if it were complete.
        raise ValueError("%s: the header says %d frames, the file holds %d"
                         % (path, shape[0], size // (2 * n_axes)))
    if size % (2 * n_axes) and not path.endswith(".npy"):
        raise ValueError("%s: %d bytes, expected whole frames of %d int16 values"
                         % (path, size, n_axes))
    return f, start, size - size % (2 * n_axes)


def _npy_shape(header):
    """The shape tuple of a .npy header dict, or None."""
    i = header.find("'shape':")
    j = header.find("(", i)
    k = header.find(")", j)
    if i < 0 or j < 0 or k < 0:
        return None
    try:
        return tuple(int(v) for v in header[j + 1:k].split(",") if v.strip())
    except ValueError:
        return None


def _csv_frames(f, n_axes):
    out = bytearray()
    n = 0
    for line in f:
        n += 1
        line = line.decode().strip()
        if not line or line[0] == "#" or not (line[0].isdigit() or line[0] == "-"):
            continue  # blank, '# key=value', or the header of axis names
        values = line.split(",")
        if len(values) != n_axes:
            raise ValueError("line %d: %d values, expected %d" % (n, len(values), n_axes))
        for v in values:
            v = int(v)
            if not -32768 <= v <= 32767:  # never wrapped into another int16
                raise ValueError("line %d: %d is not an int16 value" % (n, v))
            v &= 0xFFFF
            out.append(v & 0xFF)
            out.append(v >> 8)
    return bytes(out)


class Classifier:
    """Continuous classification: one hop of raw frames in, a label out once a window is full.

    model_path: the trees' model file; by default the one metadata.json names (model_file),
    beside it (a model file in a ROMFS image is used in place).
    smoothing: the label of the last `smoothing` windows most voted for (1 = none), so that a
    label does not flicker between windows. It counts in integers: the steady state allocates
    nothing, also on boards where every float is an object.
    """

    def __init__(self, model_path=None, meta_path="metadata.json", smoothing=1):
        with open(meta_path) as f:
            meta = json.load(f)
        for key in ("feature_names", "recordings", "skipped"):  # for the host: 3 kB of heap
            meta.pop(key, None)
        self.meta = meta
        self.classes = meta["classes"]
        self.hop, self.n_axes = meta["hop"], meta["n_axes"]
        base = meta_path.rsplit("/", 1)[0] + "/" if "/" in meta_path else ""
        if model_path is None:
            if not isinstance(meta.get("model_file"), str):
                raise ValueError("%s names no model_file: pass model_path" % meta_path)
            model_path = base + meta["model_file"]
        self.model = trees.load(model_path)
        self.features = dsp.Features(meta["features"])
        self.window = dsp.Window(meta["window"], self.hop, n_axes=self.n_axes)
        self.detector = None  # the anomaly detector, if the model has one
        self.anomaly = False
        a = meta.get("anomaly")
        if a:
            # The module's code needs one free block of its size (about 18 kB on a Cortex-M3):
            # on a small heap, import it before anything else (`from microlearn import
            # cluster` first in main.py); then this finds it imported.
            name = a["module"]
            gc.collect()
            mod = __import__("microlearn." + name, None, None, (name,))
            self.detector = mod.load(base + a["model_file"])
        if self.features.n_features != self.model.n_features:
            raise ValueError("metadata has %d features, the model expects %d"
                             % (self.features.n_features, self.model.n_features))
        if (self.features.length, self.features.n_axes) != (meta["window"], self.n_axes):
            raise ValueError("metadata: features for %d frames of %d axes, window %d of %d"
                             % (self.features.length, self.features.n_axes, meta["window"],
                                self.n_axes))
        if len(self.classes) != self.model.n_classes:
            raise ValueError("metadata names %d classes, the model has %d"
                             % (len(self.classes), self.model.n_classes))
        if smoothing < 1:
            raise ValueError("smoothing is %d, expected at least 1" % smoothing)
        if self.detector and self.detector.n_features != self.features.n_features:
            raise ValueError("metadata has %d features, the anomaly detector expects %d"
                             % (self.features.n_features, self.detector.n_features))
        nc = len(self.classes)
        self.raw = bytearray(2 * self.hop * self.n_axes)
        self.frames = array.array("h", bytes(len(self.raw)))
        self.x = array.array("f", bytes(4 * self.features.n_features))
        self.proba = array.array("f", bytes(4 * nc))
        self.votes = array.array("H", bytes(2 * nc))
        self.recent = array.array("b", bytes(smoothing))
        self.smoothing = smoothing
        self.reset()
        self.ticks = 0  # mlclock ticks spent on the last window (read, decode, features, trees)

    def reset(self):
        """Forget the stream (e.g. between recordings)."""
        self.window.reset()
        for k in range(len(self.votes)):
            self.votes[k] = 0
        self.label = self.smoothed_label = -1
        self.anomaly = False
        self.windows = 0

    @property
    def confidence(self):
        """Probability of the last window's label (a float: it allocates)."""
        return self.proba[self.label]

    def step(self, sensor):
        """Reads one hop from the sensor; True when a window was classified."""
        sensor.wait(self.hop)
        t0 = mlclock.ticks()
        sensor.fifo_read(self.raw)
        dsp.decode(self.raw, self.frames, n_axes=self.n_axes)
        if not self.window.push(self.frames):
            return False
        self.features.process(self.window, self.x)
        label = self.label = self.model.predict(self.x, self.proba)
        if self.detector:  # -1: unlike every training window (the threshold is in the model)
            self.anomaly = self.detector.predict(self.x) < 0
        # Majority of the last `smoothing` labels; on a tie the newest label wins.
        k = self.windows % self.smoothing
        if self.windows >= self.smoothing:
            self.votes[self.recent[k]] -= 1
        self.recent[k] = label
        self.votes[label] += 1
        best = label
        for c in range(len(self.votes)):
            if self.votes[c] > self.votes[best]:
                best = c
        self.smoothed_label = best
        self.windows += 1
        self.ticks = mlclock.diff(mlclock.ticks(), t0)
        return True


class Recorder:
    """Writes labelled recordings from a sensor, as the host pipeline reads them:
    `<name>_<label>.csv` (a '# key=value' line, a header, one frame per line) or `.npy`."""

    def __init__(self, sensor, hop=25):
        self.sensor = sensor
        self.buf = bytearray(2 * hop * sensor.n_axes)
        self.values = array.array("h", bytes(len(self.buf)))
        self.hop = hop

    def record(self, path, frames, label=None):
        """Records `frames` frames into path; returns the frames written."""
        s = self.sensor
        npy = path.endswith(".npy")
        with open(path, "wb") as f:
            if npy:
                f.write(_npy_header(frames, s.n_axes))
            else:
                f.write(("# sample_rate=%s%s\n" % (s.sample_rate, " label=" + label if label
                         else "")).encode())
                f.write((",".join("xyz"[i] if s.n_axes == 3 else "a%d" % i
                                  for i in range(s.n_axes)) + "\n").encode())
            done = 0
            while done < frames:
                n = min(self.hop, frames - done)
                s.wait(n)
                got = s.fifo_read(memoryview(self.buf)[:2 * n * s.n_axes])
                chunk = memoryview(self.buf)[:2 * got * s.n_axes]
                if npy:
                    f.write(chunk)
                else:
                    v = self.values
                    dsp.decode(self.buf, v, n_axes=s.n_axes)
                    for i in range(got):
                        f.write((",".join(str(v[i * s.n_axes + k]) for k in range(s.n_axes))
                                 + "\n").encode())
                done += got
        return done


def _npy_header(frames, n_axes):
    d = "{'descr': '<i2', 'fortran_order': False, 'shape': (%d, %d), }" % (frames, n_axes)
    pad = 64 - (10 + len(d) + 1) % 64
    d = d + " " * (pad % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + bytes((len(d) & 0xFF, len(d) >> 8)) + d.encode()
