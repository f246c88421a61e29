"""Shared by the device tests of the scikit-learn families: datasets split as the tree tests
split them, and the checks every converted model must pass on every target."""

import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import train_test_split

from microlearn import verify

_splits = {}


def split(name, f32_train=False):
    """(X_train, X_test, y_train, y_test) of a scikit-learn dataset, 25% for the test."""
    if name not in _splits:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        _splits[name] = train_test_split(X, y, test_size=0.25, random_state=0)
    Xtr, Xte, ytr, yte = _splits[name]
    return (Xtr.astype(np.float32) if f32_train else Xtr), Xte, ytr, yte


BOARD_SAMPLES = 60


def check(est, model, X, session, reference_X=None, board_samples=BOARD_SAMPLES):
    """Runs the model on every sample of X on the session's target: predict, predict_many and
    every other method it has must agree with scikit-learn (labels identical, values within
    1e-5 relative), allocate nothing, and take the RAM the host says. The unix port runs
    every sample; the emulated boards (the same C, compiled for them) the first
    board_samples, to keep the suite's time (the serial line and soft-float are slow)."""
    if board_samples and session.target.is_qemu:
        X = X[:board_samples]
        reference_X = None if reference_X is None else reference_X[:board_samples]
    expected = verify.expected_estimator_bytes(est, model, X if reference_X is None
                                               else reference_X)
    rep = verify.run(model, X, expected, session.target, session=session, repeat=3)
    assert rep.n == len(X), rep.output
    assert rep.agree == rep.n, rep.summary() + "\n" + rep.output
    assert rep.batch_agree == rep.n, rep.summary()
    assert rep.worst <= 1e-5, rep.summary()
    assert rep.predict_alloc == 0, f"predict allocated {rep.predict_alloc} bytes"
    # From a file: the file's block and the work memory; in place (ROMFS): the work memory.
    assert rep.model_bytes in (model.memory_size(), model.work_size()), \
        (rep.model_bytes, model.memory_size(), model.work_size())
    return rep


def boards_run(session, representative):
    """The unix port runs every case; the emulated boards (slow serial line, soft-float) only
    the representative ones, which cover every estimator and code path once."""
    if session.target.is_qemu and not representative:
        pytest.skip("unix port only: the boards run a representative subset")


def check_learned(est_after, model, X, session, setup, files, board_samples=BOARD_SAMPLES,
                  model_after=None):
    """Learning on the device: `setup` runs on the board after the model file of `model` is
    loaded as `m` (it learns, or replaces m by a model made on the board), reading `files`;
    then every method must agree with `est_after`, the host's estimator after the same
    learning, as check() requires. The setup prints "learn-alloc <bytes>" of its learning
    calls, which must be 0. Returns the report."""
    if session.target.is_qemu and board_samples:
        X = X[:board_samples]
    expected = verify.expected_estimator_bytes(est_after, model_after or model, X)
    rep = verify.run(model, X, expected, session.target, session=session, repeat=3,
                     setup=setup, files=files)
    assert rep.n == len(X), rep.output
    assert rep.agree == rep.n, rep.summary() + "\n" + rep.output
    assert rep.batch_agree == rep.n, rep.summary()
    assert rep.worst <= 1e-5, rep.summary()
    assert rep.predict_alloc == 0, f"predict allocated {rep.predict_alloc} bytes"
    learn_alloc = [int(line.split()[1]) for line in rep.output.splitlines()
                   if line.startswith("learn-alloc")]
    assert learn_alloc and max(learn_alloc) == 0, rep.output
    return rep
