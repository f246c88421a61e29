"""microlearn host tools: convert trained models for MicroPython, verify them, run on targets.

    import microlearn
    model = microlearn.convert(estimator)     # a fitted scikit-learn estimator
    model.save(file="model.csv")              # the model file for the device
    model.save(file="model.h", format="c")    # or a C header for pure-C use
"""

__version__ = "0.1.0"


def convert(estimator):
    """Converts a fitted estimator into a microlearn model (see `save`)."""
    from . import trees

    kind = type(estimator).__name__
    if kind in trees.SUPPORTED:
        return trees.convert_sklearn(estimator)
    raise trees.ConversionError(
        f"{kind} is not supported. Supported estimators: {', '.join(trees.SUPPORTED)}")
