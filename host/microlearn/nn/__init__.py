"""Neural networks for microlearn.nn: .tflite files and Keras models converted to the model
file the C core runs (docs/nn.md).

    import microlearn
    m = microlearn.convert("model.tflite")            # or the bytes of one
    m = microlearn.convert(keras_model)                # float32
    m = microlearn.convert(keras_model, quantize="int8", representative_data=X)
    m.save(file="model.nn"); m.save(file="model.h", format="c")
    m.summary(); m.memory_size(); m.run(x)             # run: the numpy reference
"""

from pathlib import Path

from . import from_sklearn, tflite
from .model import SUPPORTED, ConversionError, NNModel, lower


def convert_tflite(source):
    """A .tflite file (path or bytes) as a microlearn model."""
    if isinstance(source, (str, Path)):
        source = Path(source).read_bytes()
    try:
        graph = tflite.read(source)
    except tflite.FormatError as e:
        raise ConversionError(str(e)) from None
    model = lower(graph)
    model.tflite = bytes(source)
    return model


def convert_keras(model, quantize=None, representative_data=None, **kw):
    from .from_keras import to_tflite

    return convert_tflite(to_tflite(model, quantize, representative_data, **kw))


def is_keras_model(obj):
    return any(c.__module__.startswith("keras") for c in type(obj).__mro__)


__all__ = ["SUPPORTED", "ConversionError", "NNModel", "convert_tflite", "convert_keras"]
