"""The browser page (examples/browser) for real: built with `examples/browser/build.py`, served
from 127.0.0.1, loaded by headless Chromium, which runs MicroPython's webassembly port with
microlearn built in. The page's self test predicts every digits test sample and replays every
gesture recording; its answers, read from the page, must equal scikit-learn's labels and the
host pipeline's label for every window."""

import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading

import numpy as np
import pytest

from microlearn import dsp, har, paths


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("no chromium: tools/setup/install-system-packages.sh installs Debian's")


def _build_module():
    spec = importlib.util.spec_from_file_location(
        "browser_build", paths.root() / "examples/browser/build.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the site; the page's self test POSTs its results to /selftest."""

    results = None  # set per server: a list the POSTed body goes into
    arrived = None  # and a threading.Event

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.results.append(json.loads(body))
        self.send_response(204)
        self.end_headers()
        self.arrived.set()

    def log_message(self, *args):
        pass


def load_page(site, timeout=300):
    """Serves `site` on 127.0.0.1, opens index.html?selftest in headless Chromium and returns
    what the page POSTs back."""
    results, arrived = [], threading.Event()
    handler = type("Handler", (_Handler,), {"results": results, "arrived": arrived})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp(prefix="microlearn-chromium-")
    url = f"http://127.0.0.1:{server.server_address[1]}/index.html?selftest"
    # No sandbox (CI runs as root), no GPU, none of the browser's own network services (the
    # machine is offline), a fresh profile. The remote-debugging port keeps headless Chromium
    # running until the page has answered.
    cmd = [_chromium(), "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
           "--disable-extensions", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--remote-debugging-port=0",
           f"--user-data-dir={profile}", url]
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
                            env=dict(os.environ, HOME=profile))
    try:
        answered = arrived.wait(timeout)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.seek(0)
        err = log.read().decode(errors="replace")
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    assert answered, f"the page did not answer within {timeout} s; chromium said:\n{err[-3000:]}"
    return results[0]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    wasm = paths.micropython() / "ports/webassembly/build-microlearn"
    if not (wasm / "micropython.mjs").exists():
        pytest.fail(f"{wasm}/micropython.mjs is missing: run `make browser`")
    out = tmp_path_factory.mktemp("browser") / "site"
    return (out, *_build_module().build(out, wasm, log=lambda s: None))


def test_page_predicts_what_the_host_predicts(site):
    out, est, X, gesture_est, recordings = site
    res = load_page(out)
    assert "error" not in res, res["error"]
    # Digits: every test sample's label equals scikit-learn's.
    want = est.predict(X.astype(np.float32))
    got = np.array(res["digits"])
    assert len(got) == len(want) == 450
    assert np.array_equal(got, want), f"{np.sum(got != want)} labels differ"
    # Gestures: every window's label equals the host pipeline's (host features, the estimator
    # har.train fitted, which build.py converted for the page).
    meta = json.loads((out / "gestures/metadata.json").read_text())
    cfg = dsp.FeatureConfig.from_dict(meta["features"])
    assert set(res["gestures"]) == set(recordings)
    windows = 0
    for name, rec in recordings.items():
        W = dsp.sliding_windows(rec.data, meta["window"], meta["hop"])
        host = [meta["classes"][k] for k in gesture_est.predict(dsp.features_many(W, cfg))]
        assert res["gestures"][name] == host, name
        windows += len(host)
    assert windows > 200
    # What the page shows: the first test sample's label, probability and time; the time per
    # window of the first recording.
    shown = res["shown"]
    truth = json.loads((out / "digits_test.json").read_text())["y"][0]
    assert shown["digit-label"] == str(want[0]) and shown["digit-truth"] == str(truth), shown
    assert re.fullmatch(r"[0-9]+ %", shown["digit-proba"]), shown
    assert re.fullmatch(r"[0-9.]+ µs", shown["digit-time"]), shown
    assert re.fullmatch(r"[0-9]+ µs per window", shown["gesture-time"]), shown
    assert "MicroPython" in shown["version"], shown

