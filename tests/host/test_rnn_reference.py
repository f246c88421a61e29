"""The recurrent layers' host side: the q15 tables of the numpy reference are the C core's,
and what the converter refuses it names."""

from pathlib import Path

import numpy as np
import pytest

from microlearn.nn import rnn


def test_q15_table_is_the_c_cores():
    src = (Path(__file__).resolve().parents[2] / "core" / "ml_nn_rnn.c").read_text()
    body = src.split("tanh_table[257] = {")[1].split("};")[0]
    assert [int(v) for v in body.replace("\n", " ").split(",") if v.strip()] \
        == list(rnn.TANH_TABLE)


def test_q15_activations_are_close_to_the_functions():
    x = np.arange(-10 * 4096, 10 * 4096, 7)
    t = rnn.tanh_q15(x, 12) / 32768
    s = rnn.sigmoid_q15(x) / 32768
    assert np.abs(t - np.tanh(x / 4096)).max() < 1.5e-4
    assert np.abs(s - 1 / (1 + np.exp(-x / 4096))).max() < 1e-4


def test_quantize_q15_rounds_and_saturates():
    q = rnn.quantize_q15(np.array([0.5, -0.5, 1.49, 1e9, -1e9, np.nan], np.float32), 1.0)
    assert list(q) == [1, -1, 1, 32767, -32768, -32768]
