"""The binary model container (the layout is documented in core/ml_blob.h and
docs/model-format.md): a header, a table of sections, the sections 8-byte aligned, a CRC-32.

    data = blob.pack(blob.NN, 1, [(b"tens", tensors), (b"wgts", weights)])
    kind, version, sections = blob.unpack(data)     # sections: {b"tens": memoryview, ...}
"""

import struct
import zlib

MAGIC = b"MLRN"
VERSION = 1
HEADER = struct.Struct("<4sHHIIHHI")  # magic, version, kind, size, crc, kind version, n, 0
SECTION = struct.Struct("<4sII")  # id, offset, size
ALIGN = 8

# Model kinds, as in core/ml_blob.h.
TREES = 1
NN = 2
LINEAR = 3
SVM = 4
NEIGHBORS = 5
NAIVE_BAYES = 6
MIXTURE = 7
CLUSTER = 8
ISOLATION = 9
COVARIANCE = 10
KIND_NAMES = {TREES: "trees", NN: "nn", LINEAR: "linear_model", SVM: "svm",
              NEIGHBORS: "neighbors", NAIVE_BAYES: "naive_bayes", MIXTURE: "mixture",
              CLUSTER: "cluster", ISOLATION: "ensemble", COVARIANCE: "covariance"}


def _pad(n):
    return -n % ALIGN


def pack(kind, kind_version, sections):
    """The container of `sections`, a list of (4-byte id, bytes-like), in that order."""
    ids = [sid for sid, _ in sections]
    if any(len(sid) != 4 for sid in ids) or len(set(ids)) != len(ids):
        raise ValueError(f"section ids must be distinct 4-byte names, got {ids}")
    table_end = HEADER.size + SECTION.size * len(sections)
    offset = table_end + _pad(table_end)
    table, body = [], bytearray(b"\0" * _pad(table_end))
    for sid, data in sections:
        data = bytes(data)
        table.append(SECTION.pack(sid, offset, len(data)))
        body += data + b"\0" * _pad(len(data))
        offset += len(data) + _pad(len(data))
    rest = struct.pack("<HHI", kind_version, len(sections), 0) + b"".join(table) + body
    total = 16 + len(rest)
    return struct.pack("<4sHHII", MAGIC, VERSION, kind, total, zlib.crc32(rest)) + rest


def is_blob(data):
    return bytes(data[:4]) == MAGIC


def unpack(data, kind=None):
    """(kind, kind version, {id: memoryview}) of a container; ValueError if it is malformed
    (the checks of ml_blob_open)."""
    data = memoryview(bytes(data))
    if len(data) < HEADER.size or not is_blob(data):
        raise ValueError("not a microlearn binary model (expected 'MLRN' at the start)")
    magic, version, got_kind, total, crc, kind_version, n, reserved = HEADER.unpack_from(data)
    if version != VERSION:
        raise ValueError(f"container version {version} is not supported (expected {VERSION})")
    if kind is not None and got_kind != kind:
        raise ValueError(f"this is a {KIND_NAMES.get(got_kind, 'unknown')} model, expected "
                         f"{KIND_NAMES.get(kind, 'unknown')}")
    if total != len(data):
        raise ValueError(f"the header says {total} bytes, got {len(data)}")
    if zlib.crc32(data[16:]) != crc:
        raise ValueError("checksum mismatch: the model is corrupted")
    if reserved:
        raise ValueError("header: reserved field is not 0")
    sections, prev_end = {}, HEADER.size + SECTION.size * n
    if prev_end > total:
        raise ValueError(f"section table: {n} sections do not fit in {total} bytes")
    for i in range(n):
        sid, off, size = SECTION.unpack_from(data, HEADER.size + SECTION.size * i)
        if off % ALIGN or off < prev_end or off + size > total or sid in sections:
            raise ValueError(f"section {sid!r}: offset {off} size {size} is out of place")
        sections[sid] = data[off:off + size]
        prev_end = off + size
    return got_kind, kind_version, sections


def c_array(data, name, comment, defines=""):
    """A C header holding a container as an 8-byte aligned `static const uint8_t name[]`, for C
    projects and firmware (the core uses it in place). comment: one line; defines: extra
    #define lines."""
    if not name.isidentifier():
        raise ValueError(f"name must be a C identifier, got {name!r}")
    rows = ",\n    ".join(", ".join(f"0x{b:02x}" for b in data[i:i + 16])
                           for i in range(0, len(data), 16))
    return (f"// {comment}\n#include <stdint.h>\n\n{defines}"
            f"static const uint8_t {name}[{len(data)}] __attribute__((aligned(8))) = {{\n"
            f"    {rows}\n}};\n")
