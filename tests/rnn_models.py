"""The recurrent networks the rnn tests run: Keras GRU and LSTM layers with fixed random
weights (no training: fidelity does not need a trained network), converted float32 and q15,
with Keras's outputs. Built once and cached under build/nn-test-models/ (the key holds the
case definitions, the converter's source and the package versions).
"""

import hashlib
import inspect
import json
import os
import pickle

import numpy as np

from microlearn import paths

STEPS, FEATURES, N_INPUTS = 10, 6, 4


def _cases():
    import keras

    L = keras.layers
    return {
        # name: layers after keras.Input((STEPS, FEATURES))
        "gru": lambda: [L.GRU(8)],
        "gru_reset_before": lambda: [L.GRU(8, reset_after=False)],
        "gru_sequences": lambda: [L.GRU(5, return_sequences=True)],
        "lstm": lambda: [L.LSTM(8)],
        "lstm_sequences": lambda: [L.LSTM(5, return_sequences=True)],
        "stacked": lambda: [L.LSTM(6, return_sequences=True), L.GRU(7, reset_after=False),
                            L.Dropout(0.2), L.Dense(4, activation="softmax")],
        # every frame's state through a Dense: runs whole sequences only (step refuses it)
        "gru_sequences_dense": lambda: [L.GRU(4, return_sequences=True), L.Dense(3)],
    }


def _key():
    import importlib.metadata as md

    from microlearn.nn import model, rnn

    src = (inspect.getsource(_cases) + inspect.getsource(build) + inspect.getsource(rnn)
           + inspect.getsource(model) + repr((STEPS, FEATURES, N_INPUTS)))
    versions = [md.version(p) for p in ("tensorflow-cpu", "keras", "numpy")]
    return hashlib.sha256((src + json.dumps(versions)).encode()).hexdigest()[:16]


def build():
    """{name: dict(float=NNModel, q15=NNModel, x=(N, STEPS, FEATURES) float32, keras=outputs)}"""
    cache = paths.build() / "nn-test-models" / f"rnn-{_key()}.pkl"
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    from microlearn.nn import rnn

    L = keras.layers
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    models = {}
    for name, layers in _cases().items():
        model = keras.Sequential([keras.Input((STEPS, FEATURES))] + layers())
        for layer in model.layers:
            layer.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32)
                               for w in layer.get_weights()])
        x = rng.normal(0, 1, (N_INPUTS, STEPS, FEATURES)).astype(np.float32)
        calib = rng.normal(0, 1, (50, STEPS, FEATURES)).astype(np.float32)
        models[name] = dict(
            float=rnn.convert_keras(model), q15=rnn.convert_keras(model, "q15", calib), x=x,
            keras=np.asarray(model(x, training=False)).astype(np.float32))
        if name == "gru":
            # the same GRU with no fixed length: a streaming model of one frame
            stream = keras.Sequential([keras.Input((None, FEATURES)), L.GRU(8)])
            stream.set_weights(model.get_weights())
            streams = dict(float=rnn.convert_keras(stream),
                           q15=rnn.convert_keras(stream, "q15", calib))
    models["gru"]["stream"] = streams
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(models))
    return models
