"""microlearn host tools: convert trained models for MicroPython, verify them, run on targets.

    import microlearn
    model = microlearn.convert(estimator)     # a fitted scikit-learn estimator
    model.save(file="model.csv")              # the model file for the device
    model.save(file="model.h", format="c")    # or a C header for pure-C use
"""

__version__ = "0.1.0"


def convert(estimator, quantize=None, representative_data=None):
    """Converts a fitted estimator into a microlearn model (see `save`).

    Neural networks: a .tflite file (path or bytes), or a Keras model (float32, or int8 with
    quantize="int8" and representative_data, a few hundred typical inputs)."""
    from pathlib import Path

    from . import nn, trees

    if isinstance(estimator, (bytes, bytearray, memoryview)) or (
            isinstance(estimator, (str, Path)) and str(estimator).endswith(".tflite")):
        return nn.convert_tflite(estimator)
    if nn.is_keras_model(estimator):
        return nn.convert_keras(estimator, quantize, representative_data)
    kind = type(estimator).__name__
    if kind in trees.SUPPORTED:
        return trees.convert_sklearn(estimator)
    raise trees.ConversionError(
        f"{kind} is not supported. Supported estimators: {', '.join(trees.SUPPORTED)}")
