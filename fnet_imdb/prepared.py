"""A prepared folder: the vocabulary and token ids of every split, with the
settings and counts that produced them and their checksums. Reading one needs
numpy alone, so training from it needs no TensorFlow."""

import json
from pathlib import Path

import numpy as np

from fnet_imdb.atomic import atomic_path, write_text
from fnet_imdb.download import file_sha256
from fnet_imdb.flags import flag_name
from fnet_imdb.vocabulary import read_vocabulary, write_vocabulary

FORMAT = 1
SPLITS = ("train", "validation", "test")


def write(directory, vocabulary, token_ids, labels, settings, data, timings=None):
    """Write the folder; `prepared.json`, written last, marks it complete.
    `timings` are the seconds each data step took, as the prepare command
    measured them."""
    directory = Path(directory)
    (directory / "prepared.json").unlink(missing_ok=True)
    write_vocabulary(directory / "vocab.txt", vocabulary)
    arrays = {f"{split}_ids": token_ids[split] for split in SPLITS}
    arrays |= {f"{split}_labels": labels[split] for split in SPLITS}
    with atomic_path(directory / "tokens.npz") as partial:
        np.savez(partial, **arrays)
    manifest = {
        "format": FORMAT,
        "settings": settings,
        "data": data,
        "vocabulary_size": len(vocabulary),
        "timings": timings or {},
        "sha256": {
            name: file_sha256(directory / name) for name in ("vocab.txt", "tokens.npz")
        },
    }
    write_text(directory / "prepared.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def manifest(directory):
    """`prepared.json` of a prepared folder; one clear error if it is missing."""
    directory = Path(directory)
    try:
        manifest = json.loads((directory / "prepared.json").read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}, expected {FORMAT}")
        missing = {"settings", "sha256", "data"} - manifest.keys()
        if missing:
            raise ValueError(f"prepared.json has no {', '.join(sorted(missing))}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise incomplete(directory, error) from error
    return manifest


def read(directory):
    """The vocabulary, token ids, labels and data record of a prepared folder,
    checked against its checksums; one clear error if anything is off."""
    directory = Path(directory)
    description = manifest(directory)
    try:
        for name, digest in description["sha256"].items():
            if file_sha256(directory / name) != digest:
                raise ValueError(f"{name} does not match its checksum")
        vocabulary = read_vocabulary(directory / "vocab.txt")
        with np.load(directory / "tokens.npz", allow_pickle=False) as arrays:
            token_ids = {split: arrays[f"{split}_ids"] for split in SPLITS}
            labels = {split: arrays[f"{split}_labels"] for split in SPLITS}
    except (OSError, ValueError, KeyError) as error:
        raise incomplete(directory, error) from error
    return vocabulary, token_ids, labels, description["data"]


def incomplete(directory, error):
    return ValueError(
        f"{directory} is not a complete prepared folder ({error}); make one with: "
        f"python -m fnet_imdb.prepare --output-dir {directory}"
    )


def contradictions(settings, chosen):
    """The flags in `chosen` (settings given on the command line) whose values
    differ from those the prepared data was made with, as one message or None."""
    clashes = [
        f"{flag_name(name)} {value} (prepared with {settings[name]})"
        for name, value in chosen.items()
        if name in settings and settings[name] != value
    ]
    if not clashes:
        return None
    return "the prepared data contradicts " + ", ".join(clashes)
