"""`microlearn run`: runs a script on a target with files readable by name, streams its output,
and exits non-zero if the script raised."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("target", ["unix", "cortex-m0"])
def test_run_streams_output_and_reports_errors(tmp_path, target):
    (tmp_path / "data.txt").write_text("hello from a file\n")
    (tmp_path / "ok.py").write_text(
        "import sys\nprint('platform', sys.platform)\nprint(open('data.txt').read().strip())\n")
    (tmp_path / "fail.py").write_text("print('before')\nraise ValueError('on purpose')\n")
    cli = [sys.executable, "-m", "microlearn.cli", "run", "--target", target]
    ok = subprocess.run(cli + ["--file", str(tmp_path / "data.txt"), str(tmp_path / "ok.py")],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "hello from a file" in ok.stdout
    assert ("platform qemu" if target != "unix" else "platform linux") in ok.stdout
    fail = subprocess.run(cli + [str(tmp_path / "fail.py")], capture_output=True, text=True,
                          timeout=120)
    assert fail.returncode == 1
    assert "before" in fail.stdout and "ValueError: on purpose" in fail.stdout
