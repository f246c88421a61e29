"""The benchmark suite (benchmarks.trees) in its reduced --quick form, so that it cannot rot:
it must run to the end and write a well-formed report, CSV and plots. Its numbers are not
asserted (they are timings), except that every implementation that claims to be microlearn's
or mltrees_py's predicts what scikit-learn predicts.

The code generators (m2cgen, everywhereml) are exercised when requirements-bench.txt is
installed (`make bench` does it); without them the report must say they are not installed.

The run builds the unix port with its models frozen in (benchmarks.trees.frozen_unix: about 30 s
on 2 cores the first time, cached after): microlearn's model used in place on x64 must take less
heap than the same model read from a file."""

import csv
import os
import subprocess
import sys

import pytest

from conftest import TARGETS
from microlearn import paths


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    boards = [t for t in TARGETS if t == "cortex-m3"]
    cmd = [sys.executable, "-m", "benchmarks.trees", "--quick", "--out", str(out),
           "--work", str(out / "work"), "--targets", ",".join(boards)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=paths.root())
    assert r.returncode == 0, f"{' '.join(cmd)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return out, boards, r.stderr


def test_writes_report(quick):
    out, boards, log = quick
    md = (out / "benchmarks.md").read_text()
    for heading in ("# Benchmarks", "## Headline", "## Side by side with emlearn",
                    "## Predictions", "## Time per inference",
                    "## RAM", "## Flash", "## Scaling", "## Where the cost is",
                    "## What could not be measured"):
        assert heading in md, f"benchmarks.md lacks {heading!r}"
    assert "--quick" in md and "MicroPython" in md
    for png in ("benchmarks-compare.png", "benchmarks-scaling.png", "benchmarks-emlearn.png"):
        assert f"]({png})" in md
        data = (out / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, png
    assert "bench: wrote" in log
    assert not (out / "work").exists(), "the scratch folder was left behind"
    # the emlearn comparison's RAM rows say how microlearn's model is loaded
    for label in ("| unix | in place (frozen) |", "| unix | from a file |",
                  "| cortex-m3 | in place (ROMFS) |"):
        if "cortex-m3" in label and "cortex-m3" not in boards:
            continue
        assert label in md, f"benchmarks.md lacks the RAM row {label!r}"


def test_csv_well_formed(quick):
    out, boards, _ = quick
    with open(out / "benchmarks.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows and list(rows[0]) == ["section", "target", "model", "impl", "variant",
                                      "metric", "value", "unit", "note"]
    sections = {r["section"] for r in rows}
    assert {"model", "time", "ram", "agree", "flash"} <= sections, sections
    for r in rows:
        float(r["value"])  # every value is a number

    def get(**kw):
        return [r for r in rows if all(r[k] == v for k, v in kw.items())]

    for target in ["unix"] + boards:
        for impl in ("microlearn", "microlearn_many", "mltrees_py"):
            for model in ("small_rf", "stump"):
                t = get(section="time", target=target, model=model, impl=impl,
                        metric="per_call")
                assert len(t) == 1 and float(t[0]["value"]) > 0, (target, model, impl)
                agree = get(section="agree", target=target, model=model, impl=impl,
                            metric="agree")
                n = get(section="agree", target=target, model=model, impl=impl, metric="n")
                assert agree and agree[0]["value"] == n[0]["value"] == "450", \
                    (target, model, impl, agree, n)
        # int16 samples: microlearn exact, the emlearn stand-in measured (make bench-natmod)
        for impl in ("microlearn_i16", "emlearn_standin"):
            t = get(section="time", target=target, model="small_rf", impl=impl,
                    metric="per_call")
            assert len(t) == 1 and float(t[0]["value"]) > 0, (target, impl)
        agree = get(section="agree", target=target, model="small_rf", impl="microlearn_i16",
                    metric="agree")
        assert agree and agree[0]["value"] == "450", agree
        # microlearn allocates nothing per prediction
        for r in get(section="ram", target=target, impl="microlearn", metric="alloc_per_call"):
            assert float(r["value"]) == 0, r
    cg = get(section="time", target="x64-callgrind", metric="per_call")
    if os.path.exists("/usr/bin/valgrind"):
        assert cg, "no callgrind counts"


def test_generators_run_or_say_why(quick):
    out, boards, _ = quick
    with open(out / "benchmarks.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    for impl in ("m2cgen", "everywhereml"):
        timed = [r for r in rows if r["impl"] == impl and r["section"] == "time"]
        why = [r for r in rows if r["impl"] == impl and r["metric"] == "unsupported"]
        assert timed or why, f"{impl}: neither measured nor explained"
        if not timed:
            assert all("not installed" in r["note"] for r in why), why


def test_frozen_in_place(quick):
    """The unix port built with the models frozen in: microlearn's model is used in place
    (model.in_place), predicts as scikit-learn does, and its load takes less heap than the
    same model read from a file."""
    out, boards, _ = quick
    with open(out / "benchmarks.csv", newline="") as f:
        rows = list(csv.DictReader(f))

    def get(**kw):
        found = [r for r in rows if all(r[k] == v for k, v in kw.items())]
        assert len(found) == 1, (kw, found)
        return int(found[0]["value"])

    for model in ("small_rf", "stump"):
        for impl in ("microlearn", "microlearn_i16"):
            key = dict(section="ram", target="unix", model=model, impl=impl)
            assert get(**key, variant="frozen", metric="in_place") == 1, (model, impl)
            assert get(**key, variant="mpy", metric="in_place") == 0, (model, impl)
            frozen = get(**key, variant="frozen", metric="load_bytes")
            from_file = get(**key, variant="mpy", metric="load_bytes")
            assert 0 < frozen < from_file, (model, impl, frozen, from_file)
            n = get(section="agree", target="unix", model=model, impl=impl, variant="frozen",
                    metric="n")
            assert n == 450 and get(section="agree", target="unix", model=model, impl=impl,
                                    variant="frozen", metric="agree") == n, (model, impl)
