"""The MNIST test set shipped in data/mnist/ (10,000 handwritten digits, 28x28 uint8; see the
README there for the source and license), read from its original IDX files.

    images, labels = mnist.load()              # (10000, 28, 28) uint8, (10000,) uint8
    (Xtr, ytr), (Xte, yte) = mnist.split()     # 8,000 / 2,000, a fixed shuffle
"""

import gzip
import struct

import numpy as np

from . import paths

IMAGES = "t10k-images-idx3-ubyte.gz"
LABELS = "t10k-labels-idx1-ubyte.gz"


def _read_idx(path, magic, ndim):
    with gzip.open(path, "rb") as f:
        data = f.read()
    got, = struct.unpack_from(">I", data)
    if got != magic:
        raise ValueError(f"{path}: not an IDX file of {ndim} dimensions (magic {got:#x}, "
                         f"expected {magic:#x})")
    dims = struct.unpack_from(f">{ndim}I", data, 4)
    start = 4 + 4 * ndim
    if len(data) != start + int(np.prod(dims)):
        raise ValueError(f"{path}: {len(data) - start} bytes of data, expected "
                         f"{int(np.prod(dims))} for shape {dims}")
    return np.frombuffer(data, np.uint8, offset=start).reshape(dims)


def load(folder=None):
    """(images, labels) of the shipped MNIST test set: uint8 arrays (N, 28, 28) and (N,)."""
    folder = paths.data() / "mnist" if folder is None else folder
    images = _read_idx(folder / IMAGES, 0x803, 3)
    labels = _read_idx(folder / LABELS, 0x801, 1)
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels")
    return images, labels


def split(n_train=8000, n_test=2000, seed=0, folder=None):
    """((X_train, y_train), (X_test, y_test)): disjoint subsets after a shuffle with `seed`."""
    images, labels = load(folder)
    if n_train + n_test > len(images):
        raise ValueError(f"{n_train} + {n_test} images asked, the set has {len(images)}")
    order = np.random.default_rng(seed).permutation(len(images))
    tr, te = order[:n_train], order[n_train:n_train + n_test]
    return (images[tr], labels[tr]), (images[te], labels[te])


# ---------------------------------------------------------------------------------------------
# The CNN of `make demo`: trained on the 8,000, tested on the 2,000, run on the boards.

def cnn():
    """The demo's Keras CNN: two 3x3 convolutions (16 and 32 channels, ReLU) each followed by 2x2
    max pooling, then a dense layer over the 5x5x32 features: 12,810 parameters, 663k MACs."""
    import keras

    L = keras.layers
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        L.Conv2D(16, 3, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(10), L.Softmax(),
    ])


def _shifted(images, rng, most=1):
    """Each image moved by up to `most` pixels in x and y (training augmentation)."""
    out = np.empty_like(images)
    dy, dx = rng.integers(-most, most + 1, (2, len(images)))
    for i, img in enumerate(images):
        out[i] = np.roll(np.roll(img, dy[i], 0), dx[i], 1)
    return out


def _cache_key(epochs, seed):
    import hashlib
    import importlib.metadata as md
    import inspect

    src = inspect.getsource(cnn) + inspect.getsource(_shifted) + inspect.getsource(train_cnn)
    versions = [md.version(p) for p in ("tensorflow-cpu", "keras", "numpy")]
    return hashlib.sha256(f"{src}{versions}{epochs}{seed}".encode()).hexdigest()[:16]


def train_cnn(epochs=24, seed=0, log=print):
    """Trains cnn() on the 8,000 training images of split() with fixed seeds and TensorFlow's
    deterministic ops (Adam, batches of 32, the images shifted by up to a pixel each epoch, the
    learning rate lowered for the last third), then quantizes it to int8 with
    microlearn.convert(model, quantize="int8", representative_data=300 training images).

    Returns dict(tflite=the int8 .tflite bytes, keras_accuracy=float accuracy on the 2,000 test
    images, seconds=training time). Trained once: the result is cached under build/mnist-cnn/."""
    import pickle
    import time

    cache = paths.build() / "mnist-cnn" / f"cnn-{_cache_key(epochs, seed)}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    from . import convert

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    (Xtr, ytr), (Xte, yte) = split()
    Xtr = Xtr[..., None].astype(np.float32) / 255
    Xte = Xte[..., None].astype(np.float32) / 255
    model = cnn()
    rng = np.random.default_rng(seed)
    t0 = time.monotonic()
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    for epoch in range(epochs):
        if epoch == epochs * 2 // 3:
            model.optimizer.learning_rate.assign(2e-4)
        model.fit(_shifted(Xtr, rng), ytr, batch_size=32, epochs=1, verbose=0)
        log(f"epoch {epoch + 1}/{epochs}: {time.monotonic() - t0:.0f} s")
    seconds = time.monotonic() - t0
    accuracy = float(np.mean(np.argmax(model.predict(Xte, verbose=0), axis=1) == yte))
    converted = convert(model, quantize="int8", representative_data=Xtr[:300])
    result = dict(tflite=converted.tflite, keras_accuracy=accuracy, seconds=seconds)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(result))
    return result


def int8_inputs(model, images):
    """uint8 images (N, 28, 28) as the int8 input of a converted model: x / 255 quantized with the
    model's input scale and zero point as TFLite does (round half away from zero). For the demo's
    model (scale 1/255, zero point -128) that is simply pixel - 128."""
    t = model.input
    q = np.round(images.astype(np.float64) / 255 / np.float32(t.scale)) + t.zero_point
    return np.clip(q, -128, 127).astype(np.int8).reshape(len(images), -1)


def tflite_outputs(tflite_bytes, inputs, reference=True):
    """TFLite's int8 outputs for int8 inputs (N, 784): with its reference kernels (BUILTIN_REF,
    what microlearn reproduces byte for byte) or its default ones."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kw = dict(experimental_op_resolver_type=OpResolverType.BUILTIN_REF) if reference else {}
    it = Interpreter(model_content=tflite_bytes, **kw)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    out = []
    for x in inputs:
        it.set_tensor(i["index"], x.reshape(i["shape"]))
        it.invoke()
        out.append(it.get_tensor(o["index"]).reshape(-1).copy())
    return np.stack(out)


_DEVICE_RUN = r"""
import array, mlclock
from microlearn import nn
m = nn.load(MODEL)
x = array.array('b', bytes(784))
y = array.array('b', bytes(10))
with open(IMAGES, 'rb') as f:
    for i in range(N):
        f.readinto(x)
        m.run(x, y)
        print(bytes(y).hex())
t = []
for k in range(3):
    t0 = mlclock.ticks()
    m.run(x, y)
    t.append(mlclock.diff(mlclock.ticks(), t0))
print('TIME', mlclock.to_unit(min(t)), mlclock.UNIT)
with open(MODEL, 'rb') as f:
    in_place = nn.load(f.read())  # a bytes object: used where it lies, as a file in flash would be
print('RAM', m.arena, m.memory, in_place.memory)
"""


def run_on_target(model_bytes, inputs, target, batch=500, log=None):
    """Runs a converted model (its file's bytes) on `inputs` (N, 784) int8 on a target
    ("unix", "cortex-m3", "cortex-m0"), in batches of `batch` images per boot on the emulated
    boards (their file storage is limited). Returns dict(outputs=(N, 10) int8, time=per image
    (microseconds on unix, instructions on the boards, the call included), unit, arena, memory
    (RAM the model takes loaded from a file: arena, copy of the file, object), memory_in_place
    (used in place from a buffer: arena and object))."""
    from . import targets

    t = targets.get(target)
    n = len(inputs)
    step = batch if t.is_qemu else n
    outputs, info = [], {}
    for start in range(0, n, step):
        chunk = np.ascontiguousarray(inputs[start:start + step], np.int8)
        files = {"model.nn": model_bytes, "images.bin": chunk.tobytes()}
        script = f"MODEL = 'model.nn'\nIMAGES = 'images.bin'\nN = {len(chunk)}\n" + _DEVICE_RUN
        with t.session(files) as s:
            r = s.exec(script)
        if not r.ok:
            raise RuntimeError(f"{target}: the run failed:\n{r.output[-2000:]}")
        lines = r.output.split()
        hexes = [h for h in lines if len(h) == 20 and all(c in "0123456789abcdef" for c in h)]
        if len(hexes) != len(chunk):
            raise RuntimeError(f"{target}: {len(hexes)} outputs for {len(chunk)} images")
        outputs += [np.frombuffer(bytes.fromhex(h), np.int8) for h in hexes]
        words = r.output.split()
        info = dict(time=float(words[words.index("TIME") + 1]),
                    unit=words[words.index("TIME") + 2],
                    arena=int(words[words.index("RAM") + 1]),
                    memory=int(words[words.index("RAM") + 2]),
                    memory_in_place=int(words[words.index("RAM") + 3]))
        if log:
            log(f"{target}: {start + len(chunk)}/{n} images")
    return dict(outputs=np.stack(outputs), **info)
