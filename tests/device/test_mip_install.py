"""`make dist` output installs with mip for real: dist/ is served over HTTP on 127.0.0.1 and the
unix port runs mip.install(<url>/package.json) into a fresh folder, then uses the module."""

import functools
import http.server
import os
import subprocess
import threading

import numpy as np
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier

import microlearn
from microlearn import dist, paths


def test_mip_install_from_local_http(tmp_path):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0),
        functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "dist")))
    port = server.server_address[1]
    base = f"http://127.0.0.1:{port}"
    (name, sizes), = dist.build(paths.natmod(), tmp_path / "dist", ["x64"], base)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        X, y = load_iris(return_X_y=True)
        est = RandomForestClassifier(5, random_state=0).fit(X, y)
        (tmp_path / "work").mkdir()
        microlearn.convert(est).save(file=str(tmp_path / "work" / "iris.csv"))
        script = (
            "import mip, sys, array\n"
            f"mip.install('{base}/{name}/package.json', target='lib')\n"
            "sys.path.insert(0, 'lib')\n"
            "from microlearn import trees\n"
            "m = trees.load('iris.csv')\n"
            "print('PRED', m.predict(array.array('f', [6.7, 3.0, 5.2, 2.3])))\n"
        )
        mp = paths.micropython()
        lib = mp / "lib/micropython-lib"
        env = dict(os.environ, MICROPYPATH=f"{lib / 'python-ecosys/mip'}:{lib / 'micropython/requests'}")
        out = subprocess.run([str(mp / "ports/unix/build-standard/micropython"), "-c", script],
                             cwd=tmp_path / "work", env=env, capture_output=True, text=True,
                             timeout=60)
    finally:
        server.shutdown()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Copying: lib/microlearn/trees.mpy" in out.stdout
    assert f"PRED {est.predict(np.array([[6.7, 3.0, 5.2, 2.3]], dtype=np.float32))[0]}" in out.stdout
    installed = tmp_path / "work/lib/microlearn/trees.mpy"
    assert installed.read_bytes() == (tmp_path / "dist" / name / "microlearn/trees.mpy").read_bytes()
