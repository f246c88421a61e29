"""The neural networks the nn tests run: each TFLite operator and option alone, and whole
networks, built with Keras, converted by TensorFlow, with inputs and TFLite's reference
outputs (BUILTIN_REF). Built once and cached under build/nn-test-models/ (TensorFlow's import
and the conversions take most of a minute); the cache key holds the case definitions and the
package versions.
"""

import hashlib
import inspect
import json
import os
import pickle

import numpy as np

from microlearn import paths

N_INPUTS = 6
# Calibration data scaled for a case (a narrow input range takes HARD_SWISH's right-shift path).
CALIBRATION_SCALE = {"hard_swish_small": 0.1}


def _cases():
    import keras

    L = keras.layers
    S = keras.Sequential

    def seq(shape, *layers):
        return lambda: S([keras.Input(shape)] + list(layers))

    def graph(shape, body):
        """A functional model: body(input) gives the output."""
        def make():
            x = keras.Input(shape)
            return keras.Model(x, body(x))
        return make

    def hard_swish(x):
        return L.Activation("hard_swish")(x)

    def residual(x):
        y = L.Conv2D(4, 3, padding="same", activation="relu")(x)
        y = L.Conv2D(4, 3, padding="same")(y)
        return L.ReLU()(L.Add()([x, y]))

    def branches(x):
        a = L.Conv2D(3, 1, activation="relu")(x)
        b = L.Conv2D(2, 3, padding="same")(x)
        c = L.MaxPooling2D(3, strides=1, padding="same")(x)
        y = L.Concatenate()([a, b, c])
        return L.Concatenate(axis=1)([y, L.Conv2D(9, 1)(x)])

    def mobilenet_v3_block(x):
        # stem, inverted residual with squeeze-and-excitation, hard-swish (MobileNetV3)
        x = L.ZeroPadding2D(((0, 1), (0, 1)))(x)
        x = hard_swish(L.Conv2D(8, 3, strides=2)(x))
        y = hard_swish(L.Conv2D(16, 1)(x))
        y = hard_swish(L.DepthwiseConv2D(3, padding="same")(y))
        s = L.GlobalAveragePooling2D(keepdims=True)(y)
        s = L.Conv2D(4, 1, activation="relu")(s)
        s = L.Conv2D(16, 1, activation="hard_sigmoid")(s)
        y = L.Multiply()([y, s])
        y = L.Conv2D(8, 1)(y)
        x = L.Add()([x, y])
        x = L.GlobalAveragePooling2D()(x)
        return L.Softmax()(L.Dense(5)(x))

    def float_activations(x):
        acts = [L.ReLU()(x), L.ReLU(6.0)(x), L.LeakyReLU(0.3)(x),
                L.Activation("sigmoid")(x), L.Activation("tanh")(x), hard_swish(x)]
        return L.Dense(4)(L.Concatenate()(acts))

    int8 = {
        "conv_same": seq((8, 8, 3), L.Conv2D(4, 3, padding="same")),
        "conv_valid_stride2_relu": seq((9, 9, 2), L.Conv2D(5, 3, strides=2, activation="relu")),
        "conv_dilated_relu6": seq((10, 10, 2), L.Conv2D(3, 3, dilation_rate=2, padding="same",
                                                        activation="relu6")),
        "conv_5x3_stride_2x1": seq((9, 8, 4), L.Conv2D(3, (5, 3), strides=(2, 1), padding="same")),
        "depthwise_same": seq((8, 8, 3), L.DepthwiseConv2D(3, padding="same")),
        "depthwise_mult2_stride2": seq((9, 9, 3), L.DepthwiseConv2D(3, strides=2, padding="same",
                                                                    depth_multiplier=2)),
        "depthwise_dilated_relu": seq((9, 9, 2), L.DepthwiseConv2D(3, dilation_rate=2,
                                                                   activation="relu")),
        "dense_flatten": seq((4, 4, 2), L.Flatten(), L.Dense(7)),
        "dense_relu": seq((12,), L.Dense(5, activation="relu")),
        "max_pool": seq((8, 8, 3), L.MaxPooling2D(2)),
        "max_pool_same_3x3_s2": seq((9, 9, 2), L.MaxPooling2D(3, strides=2, padding="same")),
        "average_pool_same": seq((9, 9, 3), L.AveragePooling2D(3, strides=2, padding="same")),
        "average_pool_valid": seq((8, 8, 2), L.AveragePooling2D(2)),
        "mean": seq((5, 5, 4), L.GlobalAveragePooling2D()),
        "softmax": seq((6,), L.Dense(10), L.Softmax()),
        "logistic": seq((6,), L.Dense(8, activation="sigmoid")),
        "tanh": seq((6,), L.Dense(8, activation="tanh")),
        "leaky_relu": seq((6,), L.Dense(8), L.LeakyReLU(0.2)),
        "relu6": seq((6,), L.Dense(8), L.ReLU(6.0)),
        "conv1d": seq((20, 3), L.Conv1D(4, 3, activation="relu"), L.MaxPooling1D(2),
                      L.GlobalAveragePooling1D(), L.Dense(3)),
        "add_residual": graph((6, 6, 4), residual),
        "add_broadcast": graph((5, 5, 3), lambda x: L.Add()(
            [x, L.GlobalAveragePooling2D(keepdims=True)(x)])),
        "mul_broadcast": graph((5, 5, 3), lambda x: L.Multiply()(
            [x, L.Conv2D(3, 1)(L.GlobalAveragePooling2D(keepdims=True)(x))])),
        "mul_relu": graph((10,), lambda x: L.ReLU()(L.Multiply()([x, L.Dense(10)(x)]))),
        "concatenation": graph((6, 6, 4), branches),
        "pad_conv": seq((7, 6, 3), L.ZeroPadding2D(((1, 0), (2, 1))), L.Conv2D(4, 3, strides=2)),
        "pad_depthwise": seq((6, 6, 3), L.ZeroPadding2D(1), L.DepthwiseConv2D(3, strides=2)),
        "pad_pool": seq((6, 5, 2), L.ZeroPadding2D(((2, 1), (0, 3))), L.MaxPooling2D(2)),
        "hard_swish_all": seq((256,), L.Activation("hard_swish")),
        "hard_swish_small": seq((256,), L.Activation("hard_swish")),
        "hard_swish_dense": seq((8,), L.Dense(12), L.Activation("hard_swish")),
        "mobilenet_v3_block": graph((9, 9, 3), mobilenet_v3_block),
        "rescaling": seq((6, 6, 2), L.Rescaling(0.5, offset=-0.25), L.MaxPooling2D(2)),
        "cnn": seq((12, 12, 1), L.Conv2D(6, 3, padding="same", activation="relu"),
                   L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu"),
                   L.Conv2D(8, 1, activation="relu"), L.MaxPooling2D(2),
                   L.GlobalAveragePooling2D(), L.Dense(10), L.Softmax()),
        # One input channel and stride 2 (the emlearn MNIST shape), odd channel counts, padding
        # on one side only; then more output channels than the kernels take at a time.
        "conv_gray_stride2": seq((13, 11, 1), L.Conv2D(7, 3, strides=2, padding="same",
                                                       activation="relu"),
                                 L.Conv2D(3, 3, strides=2)),
        "conv_many_channels": seq((5, 6, 5), L.Conv2D(37, 3, padding="same"), L.Conv2D(9, 1)),
    }
    float32 = {
        "float_cnn": seq((10, 10, 2), L.Conv2D(4, 3, padding="same", activation="relu"),
                         L.DepthwiseConv2D(3, strides=2, padding="same"),
                         L.AveragePooling2D(2), L.MaxPooling2D(1), L.Conv2D(5, 1),
                         L.GlobalAveragePooling2D(), L.Dense(6, activation="relu6"),
                         L.Dense(4), L.Softmax()),
        "float_dense": seq((16,), L.Dense(12, activation="relu"), L.Dense(5)),
        "float_activations": graph((16,), float_activations),
        "float_residual": graph((6, 6, 4), residual),
        "float_branches": graph((6, 6, 4), branches),
        "float_pad_pool": seq((6, 5, 2), L.ZeroPadding2D(((2, 1), (0, 3))), L.MaxPooling2D(2)),
        "float_mobilenet_v3_block": graph((9, 9, 3), mobilenet_v3_block),
        "float_rescaling": seq((6, 6, 2), L.Rescaling(0.5, offset=-0.25), L.MaxPooling2D(2)),
    }
    return int8, float32


def _key():
    import importlib.metadata as md

    src = inspect.getsource(_cases) + inspect.getsource(build) + repr(CALIBRATION_SCALE)
    versions = [md.version(p) for p in ("tensorflow-cpu", "keras", "ai-edge-litert", "numpy")]
    return hashlib.sha256((src + json.dumps(versions)).encode()).hexdigest()[:16]


def reference_outputs(tflite_bytes, xs):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=tflite_bytes,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    out = []
    for x in xs:
        it.set_tensor(i["index"], x.reshape(i["shape"]).astype(i["dtype"]))
        it.invoke()
        out.append(it.get_tensor(o["index"]).copy())
    return np.stack(out)


def build():
    """{name: dict(tflite=bytes, x=inputs (N, ...), y=TFLite BUILTIN_REF outputs, quantized)}"""
    cache = paths.build() / "nn-test-models" / f"models-{_key()}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from microlearn.nn.from_keras import to_tflite

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    int8, float32 = _cases()
    models = {}
    for quantized, cases in ((True, int8), (False, float32)):
        for name, make in cases.items():
            model = make()
            shape = tuple(model.inputs[0].shape[1:])
            calib = rng.normal(size=(200,) + shape).astype(np.float32)
            calib *= CALIBRATION_SCALE.get(name, 1.0)
            tfl = to_tflite(model, "int8" if quantized else None, calib if quantized else None)
            if quantized:
                xs = rng.integers(-128, 128, size=(N_INPUTS,) + shape).astype(np.int8)
                if shape == (256,):  # an element-wise operator on the input: every int8 value
                    xs[0] = np.arange(-128, 128)
            else:
                xs = rng.normal(size=(N_INPUTS,) + shape).astype(np.float32)
            models[name] = dict(tflite=tfl, x=xs, y=reference_outputs(tfl, xs),
                                quantized=quantized)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(models))
    return models
