"""ROMFS images (MicroPython 1.25's read-only filesystem in flash, `vfs.VfsRom`) whose files
start at multiples of 8 bytes, so that a binary model in them is used in place by `trees.load`
(which needs a 4-byte aligned address; `mpremote romfs build` does not align file data).

    image = romfs.build({"model.bin": data, "lib/app.mpy": code})
    microlearn romfs DIR -o models.romfs      # then: mpremote romfs deploy models.romfs

The image must itself lie at a multiple of 8 (a ROMFS partition starts at a flash sector). In a
.mpy file, a bytes constant holding a binary model (from `save(format='py')` compiled by
mpy-cross) is moved to a multiple of 8 too, by padding its length with 0x80 bytes (a varuint
may start with any number of them): the bytes object an import makes then points at aligned
flash.
"""

from pathlib import Path

HEADER = b"\xd2\xcd\x31"  # the ROMFS record kind 0x14a6b1
PADDING, DATA, DIRECTORY, FILE = 1, 2, 4, 5
ALIGN = 8
LEN_BYTES = 4  # record lengths are written in a fixed 4-byte varuint, so offsets are known
MPY_BYTES = 6  # MP_PERSISTENT_OBJ_BYTES in py/persistentcode.h


def _uint(v, width=None):
    """MicroPython's varuint: 7 bits a byte, most significant first, 0x80 = more follow; padded
    to `width` bytes with leading 0x80."""
    out = [v & 0x7F]
    v >>= 7
    while v:
        out.insert(0, 0x80 | (v & 0x7F))
        v >>= 7
    if width is not None:
        if len(out) > width:
            raise ValueError("the image is too large for ROMFS lengths of 4 bytes")
        out = [0x80] * (width - len(out)) + out
    return bytes(out)


def _padding(pos, before):
    """A padding record placed at `pos` so that `before` bytes after it land on ALIGN."""
    need = -(pos + before) % ALIGN
    if need == 0:
        return b""
    if need == 1:
        need += ALIGN  # a padding record takes at least 2 bytes
    return bytes([PADDING]) + _uint(need - 2) + b"\0" * (need - 2)


def mpy_align_models(data, start):
    """A .mpy whose bytes constants holding a binary model (b'MLRN...') begin at a multiple of
    ALIGN when the file's data begins at `start` in the image."""
    data = bytearray(data)
    i = 0
    while True:
        i = data.find(b"MLRN", i)
        if i < 0:
            return bytes(data)
        # the constant: type byte, varuint length, then the data (the model's total size is its
        # own header's bytes 8..11)
        total = int.from_bytes(data[i + 8:i + 12], "little") if i + 12 <= len(data) else -1
        enc = _uint(total) if total >= 0 else b""
        j = i - len(enc)
        k = j
        while k > 0 and data[k - 1] == 0x80:
            k -= 1  # padding an earlier run may have added
        if total > 0 and data[j:i] == enc and k > 0 and data[k - 1] == MPY_BYTES:
            del data[k:j]
            pad = -(start + k + len(enc)) % ALIGN
            data[k:k] = b"\x80" * pad
            i = k + pad + len(enc)
        i += 4


def build(files):
    """The image of {path: bytes}: file data at multiples of ALIGN from the image's start."""
    tree = {}
    for path, data in files.items():
        *dirs, name = path.strip("/").split("/")
        node = tree
        for d in dirs:
            node = node.setdefault(d, {})
        node[name] = data

    def emit(node, pos):
        out = bytearray()
        for name, item in sorted(node.items()):
            nm = name.encode()
            head = 1 + LEN_BYTES
            body_pos = pos + len(out) + head
            named = _uint(len(nm)) + nm
            if isinstance(item, dict):
                body = named + emit(item, body_pos + len(named))
                kind = DIRECTORY
            else:
                data = bytes(item)
                at = body_pos + len(named)
                pad = _padding(at, 1 + LEN_BYTES)
                data_pos = at + len(pad) + 1 + LEN_BYTES
                if name.endswith(".mpy"):
                    data = mpy_align_models(data, data_pos)
                body = named + pad + bytes([DATA]) + _uint(len(data), LEN_BYTES) + data
                kind = FILE
            out += bytes([kind]) + _uint(len(body), LEN_BYTES) + body
        return bytes(out)

    start = len(HEADER) + LEN_BYTES
    payload = emit(tree, start)
    if (start + len(payload)) % 2:
        payload += bytes([PADDING, 1, 0])  # the filesystem record's size must be even
    return HEADER + _uint(len(payload), LEN_BYTES) + payload


def build_dir(folder):
    """The image of every file under `folder` (paths relative to it)."""
    folder = Path(folder)
    return build({str(p.relative_to(folder)): p.read_bytes()
                  for p in sorted(folder.rglob("*")) if p.is_file()})
