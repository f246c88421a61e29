"""Keras 3 models to .tflite bytes with TensorFlow's converter: float32, or full-integer int8
post-training quantization from representative data.

TensorFlow is imported only here, and only when a Keras model is converted: reading and running
.tflite files needs neither TensorFlow nor Keras.
"""

import os

import numpy as np


def to_tflite(model, quantize=None, representative_data=None, input_type="int8",
              output_type="int8"):
    """The .tflite bytes of a Keras model. quantize=None: float32; quantize="int8": int8
    weights and activations, calibrated on representative_data (samples of the input, with or
    without the batch axis; a few hundred are enough); the model's input and output are then
    int8 (input_type/output_type "int8", "uint8" or "float32")."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if quantize not in (None, "int8"):
        raise ValueError(f"quantize must be None or 'int8', got {quantize!r}")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize == "int8":
        if representative_data is None:
            raise ValueError("quantize='int8' needs representative_data: a few hundred typical "
                             "inputs to calibrate the activation ranges")
        X = np.asarray(representative_data, np.float32)
        shape = tuple(d for d in model.inputs[0].shape[1:])
        if X.shape[1:] != shape:
            X = X.reshape((-1,) + shape)

        def gen():
            for i in range(len(X)):
                yield [X[i:i + 1]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = gen
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        types = {"int8": tf.int8, "uint8": tf.uint8, "float32": tf.float32}
        converter.inference_input_type = types[input_type]
        converter.inference_output_type = types[output_type]
    return converter.convert()
