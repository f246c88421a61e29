"""WAV files as the device reads them (`dsp.WavReader`, core/ml_wav.c): 16-bit PCM mono, with
the same rules and the same error messages, so a file the host trains on is a file the board can
replay, and a file the board refuses is refused here first.

    samples, sample_rate = wav.read("7_jackson_32.wav")      # int16 array, Hz
    wav.write("out.wav", samples, 8000)

Rules (docs/sound.md): a RIFF/WAVE file; chunks are walked in order (each padded to an even
size), unknown ones skipped; a `fmt ` chunk of format 1 (PCM), or WAVE_FORMAT_EXTENSIBLE with
the PCM subformat, 1 channel, 16 bits per sample, a sample rate above 0; then a `data` chunk of
a whole, non-zero number of samples that the file holds entirely. Anything else raises
WavError (a ValueError) whose message starts with the file's name. The RIFF size field is not
checked (writers that stream often leave it wrong); the data chunk's size is.
"""

import struct
from pathlib import Path

import numpy as np

__all__ = ["WavError", "read", "parse", "write"]

_FORMATS = {2: "ADPCM", 3: "IEEE float", 6: "A-law", 7: "mu-law", 0x11: "IMA ADPCM",
            0x55: "MP3"}
# WAVE_FORMAT_EXTENSIBLE: the subformat GUID of PCM is 01 00 followed by this tail.
_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")


class WavError(ValueError):
    pass


def _err(name, msg):
    return WavError(f"{name}: {msg}")


def parse(data, name="WAV file"):
    """(sample_rate, data_offset, n_samples) of the WAV file whose bytes are `data`; WavError
    naming `name` if it is not a 16-bit PCM mono WAV file. The steps and messages are those of
    ml_wav_parse in core/ml_wav.c."""
    size = len(data)
    if size == 0:
        raise _err(name, "empty file")
    if size < 12 or data[0:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _err(name, "not a WAV file (no RIFF/WAVE header)")
    pos = 12
    rate = None
    while True:
        if pos + 8 > size:
            if rate is None:
                raise _err(name, "no fmt chunk before the end of the file")
            raise _err(name, "no data chunk before the end of the file")
        cid = data[pos:pos + 4]
        (csize,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if cid == b"fmt ":
            if csize < 16:
                raise _err(name, f"fmt chunk of {csize} bytes, expected at least 16")
            if body + min(csize, 40) > size:
                raise _err(name, "truncated in the fmt chunk")
            tag, channels, rate_, _, align, bits = struct.unpack_from("<HHIIHH", data, body)
            if tag == 0xFFFE:
                if csize < 40:
                    raise _err(name, f"extensible fmt chunk of {csize} bytes, expected at "
                                     f"least 40")
                sub = data[body + 24:body + 40]
                if sub[0:2] != b"\x01\x00" or sub[2:] != _GUID_TAIL:
                    raise _err(name, "extensible format with a subformat other than PCM, "
                                     "expected 16-bit PCM")
            elif tag != 1:
                what = f" ({_FORMATS[tag]})" if tag in _FORMATS else ""
                raise _err(name, f"format {tag}{what}, expected 1 (PCM)")
            if channels != 1:
                raise _err(name, f"{channels} channels, expected 1 (mono)")
            if bits != 16:
                raise _err(name, f"{bits}-bit samples, expected 16-bit")
            if align != 2:
                raise _err(name, f"block align {align}, expected 2 (one 16-bit sample)")
            if rate_ == 0:
                raise _err(name, "sample rate 0")
            rate = rate_
        elif cid == b"data":
            if rate is None:
                raise _err(name, "data chunk before the fmt chunk")
            if csize == 0:
                raise _err(name, "no samples (the data chunk is empty)")
            if csize % 2:
                raise _err(name, f"data chunk of {csize} bytes, not a whole number of 16-bit "
                                 f"samples")
            if csize > size - body:
                raise _err(name, f"truncated: the data chunk declares {csize} bytes, the file "
                                 f"holds {size - body}")
            return rate, body, csize // 2
        pos = body + csize + (csize & 1)


def read(path):
    """(samples, sample_rate) of a 16-bit PCM mono WAV file: int16 array and Hz."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _err(path.name, f"cannot read: {e.strerror or e}") from None
    rate, offset, n = parse(data, path.name)
    return np.frombuffer(data, dtype="<i2", count=n, offset=offset).astype(np.int16), rate


def write(path, samples, sample_rate):
    """A 16-bit PCM mono WAV file (44-byte header) of int16 samples; path may be a binary file
    object."""
    samples = np.asarray(samples)
    if samples.dtype != np.int16:
        raise ValueError(f"samples must be int16, got {samples.dtype}")
    body = samples.astype("<i2").tobytes()
    head = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(body), b"WAVE", b"fmt ", 16, 1, 1,
                       int(sample_rate), 2 * int(sample_rate), 2, 16, b"data", len(body))
    if hasattr(path, "write"):
        path.write(head + body)
    else:
        Path(path).write_bytes(head + body)
