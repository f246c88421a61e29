"""Sound classification from WAV files: the host side.

A dataset is a folder of 16-bit PCM mono WAV files, either

- flat: `{label}_{group}_{index}.wav` (the Free Spoken Digit Dataset's naming:
  `7_jackson_32.wav` is digit 7 said by speaker jackson), or
- one subfolder per label: `{label}/{group}_{anything}.wav` (group: the name up to the first
  `_`, e.g. the speaker id of Google's Speech Commands `yes/0a7c2a8d_nohash_0.wav`).

The group is what leave-one-group-out evaluation holds out (a speaker, a recording session):
a model must recognise speakers it has never heard. Files that cannot be read (not WAV, not
16-bit mono PCM, empty, truncated, another sample rate than the rest) are reported with the
reason and skipped; the others are used.

    utts, skipped = audio.load_dataset("data/fsdd")
    utts[0].label, utts[0].group, utts[0].samples, utts[0].sample_rate
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import paths, wav

__all__ = ["Utterance", "DatasetError", "parse_name", "load_dataset", "fsdd_dir"]


@dataclass
class Utterance:
    path: Path
    label: str
    group: str
    samples: np.ndarray  # int16
    sample_rate: int


class DatasetError(ValueError):
    pass


def fsdd_dir():
    """The spoken-digit recordings: $MICROLEARN_FSDD (e.g. the full 2,500-file set), or the
    subset shipped in data/fsdd."""
    env = os.environ.get("MICROLEARN_FSDD")
    return Path(env) if env else paths.root() / "data" / "fsdd"


def parse_name(path, root):
    """(label, group) of a WAV file of a dataset folder `root`; ValueError if the name does not
    follow either layout."""
    path, root = Path(path), Path(root)
    stem = path.stem
    if path.parent != root:  # {label}/{group}_{anything}.wav
        return path.parent.name, stem.split("_", 1)[0]
    parts = stem.split("_")
    if len(parts) < 3 or not parts[0] or not parts[-1]:
        raise ValueError("the file name is not {label}_{group}_{index}.wav")
    return parts[0], "_".join(parts[1:-1])


def load_dataset(directory, log=print):
    """The readable utterances of a dataset folder, sorted by path, and the skipped files as
    (name, reason). The sample rate is the most common one; files at another rate are skipped."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"{directory} is not a folder")
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() == ".wav")
    for sub in sorted(p for p in directory.iterdir() if p.is_dir()):
        files += sorted(p for p in sub.iterdir() if p.is_file() and p.suffix.lower() == ".wav")
    utts, skipped = [], []
    for path in files:
        rel = str(path.relative_to(directory))
        try:
            samples, rate = wav.read(path)
            label, group = parse_name(path, directory)
        except ValueError as e:  # a broken file must not stop the others
            msg = str(e)
            if msg.startswith(path.name + ": "):
                msg = msg[len(path.name) + 2:]
            skipped.append((rel, msg))
            log(f"      skipped {rel}: {msg}")
            continue
        utts.append(Utterance(path, label, group, samples, rate))
    if not utts:
        raise DatasetError(f"no readable WAV files in {directory}")
    rates = [u.sample_rate for u in utts]
    common = max(set(rates), key=rates.count)
    keep = []
    for u in utts:
        if u.sample_rate != common:
            rel = str(u.path.relative_to(directory))
            msg = f"sample rate {u.sample_rate} Hz, the other files have {common} Hz"
            skipped.append((rel, msg))
            log(f"      skipped {rel}: {msg}")
        else:
            keep.append(u)
    return keep, skipped
