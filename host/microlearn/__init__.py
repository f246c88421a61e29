"""microlearn host tools: convert trained models for MicroPython, verify them, run on targets.

    import microlearn
    model = microlearn.convert(estimator)     # a fitted scikit-learn estimator
    model.save(file="model.bin")              # the model file for the device (or .csv: text)
    model.save(file="model.h", format="c")    # or a C header for pure-C use
"""

__version__ = "0.1.0"


# The converters of the binary-file families: (module, names of the estimators it takes).
FAMILIES = ("linear_model", "neighbors", "naive_bayes", "cluster", "mixture", "svm",
            "ensemble", "covariance")


def supported():
    """Names of every estimator convert() accepts (and Pipeline of scalers/PCA before them)."""
    import importlib

    from . import trees

    from .nn import from_sklearn

    names = list(trees.SUPPORTED)
    for fam in FAMILIES:
        names += importlib.import_module(f".{fam}", __name__).SUPPORTED
    return names + list(from_sklearn.SUPPORTED)


def convert(estimator, quantize=None, representative_data=None):
    """Converts a fitted estimator, or a Pipeline of preprocessing steps before one, into a
    microlearn model (see `save`).

    Neural networks: a .tflite file (path or bytes), or a Keras model (float32, or int8 with
    quantize="int8" and representative_data, a few hundred typical inputs); scikit-learn's
    MLPClassifier and MLPRegressor become float32 networks for microlearn.nn."""
    import importlib
    from pathlib import Path

    from . import estimators, nn, trees

    if isinstance(estimator, (bytes, bytearray, memoryview)) or (
            isinstance(estimator, (str, Path)) and str(estimator).endswith(".tflite")):
        return nn.convert_tflite(estimator)
    if nn.is_keras_model(estimator):
        return nn.convert_keras(estimator, quantize, representative_data)
    final = estimator.steps[-1][1] if type(estimator).__name__ == "Pipeline" else estimator
    if type(final).__name__ in nn.from_sklearn.SUPPORTED:
        return nn.from_sklearn.convert(estimator)  # float32 layers for microlearn.nn
    steps, final, name = estimators.split_pipeline(estimator)
    kind = type(final).__name__
    if kind in trees.SUPPORTED:
        if steps:
            raise trees.ConversionError(f"{name}: preprocessing steps before a tree model are "
                                        "not supported (trees need none: they split on raw "
                                        "features)")
        return trees.convert_sklearn(final)
    for fam in FAMILIES:
        module = importlib.import_module(f".{fam}", __name__)
        if kind in module.SUPPORTED:
            return module.convert(final, steps, name)
    raise trees.ConversionError(
        f"{kind} is not supported. Supported estimators: {', '.join(supported())}; in a "
        f"Pipeline after {', '.join(estimators.SCALERS)}")
