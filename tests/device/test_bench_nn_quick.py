"""The nn benchmark (benchmarks.nn) in its reduced --quick form, so that it cannot rot: it must
run to the end and write a well-formed report and CSV. Its numbers are not asserted (they are
measurements), except that every target's outputs equal TFLite's reference kernels' and that the
counts are there."""

import csv
import subprocess
import sys

import pytest

from conftest import TARGETS
from microlearn import paths


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-nn")
    boards = [t for t in TARGETS if t == "cortex-m3"]
    cmd = [sys.executable, "-m", "benchmarks.nn", "--quick", "--out", str(out),
           "--targets", ",".join(["unix"] + boards)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=paths.root())
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return out, boards


def test_report_and_csv(quick):
    out, boards = quick
    md = (out / "nn-benchmarks.md").read_text()
    for heading in ("# microlearn.nn benchmarks", "## Instructions per inference",
                    "## Time on x64", "## RAM and flash"):
        assert heading in md, heading
    assert "--quick" in md and "Not measured" not in md
    with open(out / "nn-benchmarks.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        float(r["value"])
    agree = [r for r in rows if r["metric"] == "same_as_tflite"]
    assert agree and all(r["value"] == "1" for r in agree), agree
    for target in ["unix"] + boards:
        timed = {r["model"] for r in rows if r["target"] == target and r["section"] == "time"}
        assert {"conv3x3", "dense", "emlearn_shape"} <= timed, (target, timed)
