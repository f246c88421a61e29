"""Writes the seed corpus of the nn loader fuzzer (tests/fuzz/corpus/nn/): the model files of
the small test networks of tests/nn_models.py (each operator alone), as the converter writes
them. Run by hand when the model format changes (the output is committed):

    .venv/bin/python tests/fuzz/make_seeds_nn.py
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import nn_models  # noqa: E402
from microlearn.nn import convert_tflite  # noqa: E402

OUT = HERE / "corpus" / "nn"
MAX_SEED = 4000

OUT.mkdir(parents=True, exist_ok=True)
for name, case in nn_models.build().items():
    data = convert_tflite(case["tflite"]).to_bytes()
    if len(data) <= MAX_SEED:
        (OUT / name).write_bytes(data)
        print(name, len(data))

# A scikit-learn MLP (float32 dense layers, the labels section).
import numpy as np  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import microlearn  # noqa: E402

X, y = load_iris(return_X_y=True)
mlp = make_pipeline(StandardScaler(), MLPClassifier((6,), activation="tanh", max_iter=300,
                                                    random_state=0)).fit(X, y + 10)
(OUT / "mlp_iris_labels").write_bytes(microlearn.convert(mlp).to_bytes())
