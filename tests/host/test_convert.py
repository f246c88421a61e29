"""The converter: what it accepts and refuses, exact thresholds, the C header for pure-C users,
and the command line."""

import subprocess
import sys

import joblib
import numpy as np
import pytest
from sklearn import datasets, ensemble, linear_model, tree

import microlearn
from microlearn import paths, trees

X, y = datasets.load_iris(return_X_y=True)


def test_unsupported_estimator_names_what_is_supported():
    with pytest.raises(trees.ConversionError) as e:
        microlearn.convert(tree.ExtraTreeClassifier().fit(X, y))
    assert "ExtraTreeClassifier is not supported" in str(e.value)
    assert "RandomForestClassifier" in str(e.value) and "LogisticRegression" in str(e.value)


def test_unfitted_and_unsupported_options():
    with pytest.raises(trees.ConversionError, match="not fitted"):
        microlearn.convert(ensemble.RandomForestClassifier())
    with pytest.raises(trees.ConversionError, match="2 outputs"):
        microlearn.convert(tree.DecisionTreeRegressor().fit(X, np.stack([y, y], 1)))
    Xc = X.copy()
    Xc[:, 0] = (X[:, 0] > 5.8).astype(int)
    hgb = ensemble.HistGradientBoostingClassifier(categorical_features=[0], max_iter=3)
    with pytest.raises(trees.ConversionError, match="categorical"):
        microlearn.convert(hgb.fit(Xc, y))
    with pytest.raises(trees.ConversionError, match="exponential"):
        microlearn.convert(ensemble.GradientBoostingClassifier(
            loss="exponential", n_estimators=2).fit(X, y == 1))
    with pytest.raises(trees.ConversionError, match="identity link"):
        microlearn.convert(ensemble.HistGradientBoostingRegressor(
            loss="poisson", max_iter=2).fit(X, y))


def test_floor_f32_is_the_largest_float32_not_above():
    rng = np.random.default_rng(0)
    t = np.concatenate([rng.normal(size=10000) * 10.0 ** rng.integers(-30, 30, 10000),
                        [0.0, -0.0, 5.5, -5.5, 1e-50, -1e-50]])
    f = trees.floor_f32(t)
    assert np.all(f.astype(np.float64) <= t)
    assert np.all(np.nextafter(f, np.float32(np.inf)).astype(np.float64) > t)


def test_hexfloat_is_exact_and_short():
    for v in [0.0, 1.0, -2.5, 0.1, 1e-300, 123456.789, np.float32(0.1)]:
        s = trees.hexfloat(v)
        assert float.fromhex(s) == float(v)
    assert trees.hexfloat(6.0) == "0x1.8p+2"


@pytest.mark.parametrize("est", [
    ensemble.RandomForestClassifier(10, random_state=0),
    ensemble.ExtraTreesRegressor(5, random_state=0),
    ensemble.GradientBoostingClassifier(n_estimators=10, random_state=0),
    ensemble.HistGradientBoostingClassifier(max_iter=10, random_state=0),
], ids=lambda e: type(e).__name__)
def test_host_evaluation_matches_sklearn(est):
    est.fit(X, y)
    m = microlearn.convert(est)
    Xf = X.astype(np.float32)
    assert np.array_equal(m.predict(Xf), est.predict(Xf))
    if m.is_classifier:
        assert np.max(np.abs(m.predict_proba(Xf) - est.predict_proba(Xf))) < 1e-6


def test_c_header_for_pure_c_users(tmp_path):
    est = ensemble.RandomForestClassifier(10, random_state=0).fit(X, y)
    microlearn.convert(est).save(file=str(tmp_path / "iris_model.h"), format="c")
    Xf = X.astype(np.float32)
    rows = ",\n".join("{" + ", ".join(f"{v:.9e}f" for v in r) + "}" for r in Xf)
    (tmp_path / "main.c").write_text(f"""
#include <stdio.h>
#include "ml_trees.h"
#include "iris_model.h"
static const float X[][4] = {{ {rows} }};
int main(void) {{
    ml_trees_t model;
    ml_trees_cold_t cold;
    ml_error_t err;
    if (ml_trees_load_text(&model, &cold, iris_model_text, sizeof(iris_model_text) - 1,
            iris_model_memory, sizeof(iris_model_memory), &err)) {{
        printf("error %s\\n", err.msg);
        return 1;
    }}
    for (unsigned i = 0; i < sizeof(X) / sizeof(X[0]); i++) {{
        ml_trees_eval_f32(&model, X[i], 4, &err);
        printf("%ld\\n", (long)ml_trees_class_label(&model));
    }}
    return 0;
}}
""")
    core = paths.root() / "core"
    exe = tmp_path / "main"
    # What a C project needs of the core for trees: these four files.
    sources = [core / f for f in ("ml_trees.c", "ml_blob.c", "ml_text.c", "ml_error.c",
                                   "ml_math_exp.c")]
    subprocess.run(["gcc", "-std=c99", "-Wall", "-Werror", "-I", str(core), "-I", str(tmp_path),
                    str(tmp_path / "main.c"), *map(str, sources), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout
    assert [int(v) for v in out.split()] == list(est.predict(Xf))


def test_cli_convert_and_verify(tmp_path):
    est = ensemble.GradientBoostingClassifier(n_estimators=10, random_state=0).fit(X, y)
    joblib.dump(est, tmp_path / "model.pkl")
    np.save(tmp_path / "X.npy", X[:40])
    cli = [sys.executable, "-m", "microlearn.cli"]
    out = subprocess.run(cli + ["convert", str(tmp_path / "model.pkl"), "-o",
                                str(tmp_path / "model.csv")], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "GradientBoostingClassifier" in out.stdout and "bytes of RAM" in out.stdout
    assert (tmp_path / "model.csv").read_text().startswith("microlearn-trees,1\n")
    # the binary model file by default, the text one with --format csv
    for extra, form in (([], "binary"), (["--format", "csv"], "text")):
        out = subprocess.run(cli + ["verify", str(tmp_path / "model.pkl"), str(tmp_path / "X.npy"),
                                    "--target", "unix", *extra], capture_output=True, text=True)
        assert out.returncode == 0, out.stdout + out.stderr
        assert f"{form} model file" in out.stdout, out.stdout
        assert "labels identical: 40/40" in out.stdout and "verify: OK" in out.stdout
        # model RAM as the board reports it: that of the form verified
        fmt = "bin" if form == "binary" else "csv"
        assert f"model RAM: {microlearn.convert(est).memory_size(fmt)} bytes" in out.stdout, \
            out.stdout
    joblib.dump(tree.ExtraTreeRegressor().fit(X, y), tmp_path / "one.pkl")
    out = subprocess.run(cli + ["convert", str(tmp_path / "one.pkl"), "-o",
                                str(tmp_path / "one.csv")], capture_output=True, text=True)
    assert out.returncode == 2 and "ExtraTreeRegressor is not supported" in out.stderr
