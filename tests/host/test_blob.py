"""The binary model container's writer and reader (host/microlearn/blob.py): layout, round
trip, and the damage ml_blob_open refuses (tests/c/test_blob.c checks the C side on the same
bytes)."""

import struct
import zlib

import pytest

from microlearn import blob


def sample():
    return blob.pack(blob.NN, 1, [(b"aaaa", b"abcdef"), (b"bbbb", bytes(range(1, 9)))])


def test_layout():
    data = sample()
    assert data[:4] == b"MLRN" and len(data) == 64
    assert struct.unpack_from("<HHII", data, 4) == (1, blob.NN, 64, zlib.crc32(data[16:]))
    # Sections 8-byte aligned after the table (24 + 2 x 12 = 48 bytes).
    assert struct.unpack_from("<4sII4sII", data, 24) == (b"aaaa", 48, 6, b"bbbb", 56, 8)


def test_round_trip():
    kind, version, sections = blob.unpack(sample(), kind=blob.NN)
    assert (kind, version) == (blob.NN, 1)
    assert bytes(sections[b"aaaa"]) == b"abcdef" and bytes(sections[b"bbbb"]) == bytes(range(1, 9))
    assert blob.unpack(blob.pack(blob.TREES, 3, []))[2] == {}


@pytest.mark.parametrize("damage, message", [
    (lambda d: d[:-1], "the header says 64 bytes, got 63"),
    (lambda d: d[:60] + bytes([d[60] ^ 1]) + d[61:], "checksum"),
    (lambda d: b"text" + d[4:], "not a microlearn binary model"),
])
def test_damage(damage, message):
    with pytest.raises(ValueError, match=message):
        blob.unpack(damage(sample()))


def test_wrong_kind_and_ids():
    with pytest.raises(ValueError, match="this is a nn model, expected trees"):
        blob.unpack(sample(), kind=blob.TREES)
    with pytest.raises(ValueError, match="distinct 4-byte"):
        blob.pack(blob.NN, 1, [(b"aaaa", b""), (b"aaaa", b"")])
    with pytest.raises(ValueError, match="distinct 4-byte"):
        blob.pack(blob.NN, 1, [(b"abc", b"")])
