"""Tests for `fnet_imdb.prepared`: the folder, its manifest and its checks."""

import hashlib
import json

import numpy as np
import pytest

from fnet_imdb import prepared

VOCABULARY = ["[PAD]", "[UNK]", "film", "##s", "café", "naïve", "日本", "😀"]
SETTINGS = {"max_seq_len": 64, "vocab_size": 300, "seed": 42, "max_samples": None}
DATA = {"train": {"reviews": 4}, "validation": {"reviews": 2}, "test": {"reviews": 3}}


def arrays():
    """Small int32 token ids and labels for the three splits."""
    rng = np.random.default_rng(0)
    sizes = {"train": 4, "validation": 2, "test": 3}
    token_ids = {
        split: rng.integers(0, len(VOCABULARY), (n, 6)).astype("int32")
        for split, n in sizes.items()
    }
    labels = {split: (np.arange(n) % 2).astype("int32") for split, n in sizes.items()}
    return token_ids, labels


@pytest.fixture
def folder(tmp_path):
    """A prepared folder written from `arrays()`."""
    token_ids, labels = arrays()
    directory = tmp_path / "prepared"
    prepared.write(directory, VOCABULARY, token_ids, labels, SETTINGS, DATA)
    return directory


def test_round_trip(folder):
    """read() gives back the vocabulary, token ids and labels written."""
    vocabulary, token_ids, labels, data = prepared.read(folder)
    expected_ids, expected_labels = arrays()
    assert vocabulary == VOCABULARY
    assert set(token_ids) == set(labels) == set(prepared.SPLITS)
    for split in prepared.SPLITS:
        np.testing.assert_array_equal(token_ids[split], expected_ids[split])
        np.testing.assert_array_equal(labels[split], expected_labels[split])
        assert token_ids[split].dtype == np.int32
        assert labels[split].dtype == np.int32
    assert data == DATA
    assert prepared.manifest(folder) == json.loads(
        (folder / "prepared.json").read_text()
    )


def test_manifest(folder):
    """The manifest records settings, data, vocabulary size and checksums."""
    manifest = json.loads((folder / "prepared.json").read_text(encoding="utf-8"))
    assert manifest["format"] == prepared.FORMAT
    assert manifest["settings"] == SETTINGS
    assert manifest["data"] == DATA
    assert manifest["vocabulary_size"] == len(VOCABULARY)
    assert manifest["sha256"] == {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in ("vocab.txt", "tokens.npz")
    }
    assert sorted(p.name for p in folder.iterdir()) == [
        "prepared.json",
        "tokens.npz",
        "vocab.txt",
    ]


def test_write_returns_manifest(tmp_path):
    """write() returns the manifest it saved."""
    token_ids, labels = arrays()
    manifest = prepared.write(tmp_path, VOCABULARY, token_ids, labels, SETTINGS, DATA)
    assert manifest == json.loads((tmp_path / "prepared.json").read_text())


def test_vocabulary_is_utf8_one_token_per_line(folder):
    """vocab.txt holds one token per line in UTF-8, unicode intact."""
    text = (folder / "vocab.txt").read_bytes().decode("utf-8")
    assert text == "".join(f"{token}\n" for token in VOCABULARY)


@pytest.mark.parametrize("name", ["tokens.npz", "vocab.txt"])
def test_modified_file_fails_checksum(folder, name):
    """A changed file fails read() with one ValueError naming its checksum."""
    path = folder / name
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(ValueError, match=f"{name} does not match its checksum"):
        prepared.read(folder)


def test_missing_file_fails(folder):
    """A missing tokens.npz is an incomplete folder, not a crash."""
    (folder / "tokens.npz").unlink()
    with pytest.raises(ValueError, match="is not a complete prepared folder"):
        prepared.read(folder)


def test_without_manifest_fails(tmp_path):
    """A folder without prepared.json is not a complete prepared folder."""
    (tmp_path / "vocab.txt").write_text("[PAD]\n")
    with pytest.raises(ValueError, match="is not a complete prepared folder") as info:
        prepared.read(tmp_path)
    assert "prepare --output-dir" in str(info.value)


def test_other_format_fails(folder):
    """A manifest of another format is refused."""
    path = folder / "prepared.json"
    manifest = json.loads(path.read_text())
    path.write_text(json.dumps({**manifest, "format": prepared.FORMAT + 1}))
    with pytest.raises(ValueError, match="is not a complete prepared folder"):
        prepared.read(folder)


def test_rewrite_replaces_folder(folder):
    """Writing again over a folder leaves the new data, consistently checked."""
    token_ids, labels = arrays()
    token_ids = {split: ids + 1 for split, ids in token_ids.items()}
    prepared.write(folder, VOCABULARY[:5], token_ids, labels, SETTINGS, DATA)
    vocabulary, read_ids, _, _ = prepared.read(folder)
    manifest = prepared.manifest(folder)
    assert vocabulary == VOCABULARY[:5]
    assert manifest["vocabulary_size"] == 5
    np.testing.assert_array_equal(read_ids["test"], token_ids["test"])


def test_contradictions_none_when_agreeing_or_absent():
    """No message when chosen flags agree or are not settings of the data."""
    assert prepared.contradictions(SETTINGS, {}) is None
    assert prepared.contradictions(SETTINGS, {"max_seq_len": 64, "seed": 42}) is None
    assert prepared.contradictions(SETTINGS, {"epochs": 3, "batch_size": 8}) is None


def test_contradictions_names_each_clash():
    """Each differing flag is named with the prepared value."""
    message = prepared.contradictions(SETTINGS, {"max_seq_len": 128, "epochs": 3})
    assert (
        message == "the prepared data contradicts --max-seq-len 128 (prepared with 64)"
    )
    message = prepared.contradictions(SETTINGS, {"max_seq_len": 128, "vocab_size": 9})
    assert "--max-seq-len 128 (prepared with 64)" in message
    assert "--vocab-size 9 (prepared with 300)" in message
