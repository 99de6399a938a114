"""Reading IMDb: splits, cleaning, subsets and refused folders, on the tiny fixture."""

import re
import shutil

import numpy as np
import pytest

from conftest import load_imdb, replace


def load(config):
    """The tutorial's splits and the data record that `results.json` keeps."""
    return load_imdb(config)


def test_split_sizes_and_labels(tiny_config):
    splits, data = load(tiny_config)
    sizes = {name: len(labels) for name, (_, labels) in splits.items()}
    assert sizes == {"train": 80, "validation": 20, "test": 100}
    for texts, labels in splits.values():
        assert len(texts) == len(labels)
        assert set(labels.tolist()) == {0, 1}
    # The fixture's test split is 50 negative and 50 positive reviews.
    assert np.bincount(splits["test"][1]).tolist() == [50, 50]
    assert data["train"]["reviews"] == 80


def test_split_is_seeded_and_disjoint(tiny_config):
    first, _ = load(tiny_config)
    again, _ = load(tiny_config)
    other, _ = load(replace(tiny_config, seed=7))
    assert first["validation"][0].tolist() == again["validation"][0].tolist()
    assert first["validation"][0].tolist() != other["validation"][0].tolist()
    train, validation = set(first["train"][0]), set(first["validation"][0])
    assert not train & validation


def test_text_is_lower_cased(tiny_config):
    splits, _ = load(tiny_config)
    texts = np.concatenate([texts for texts, _ in splits.values()])
    assert all(text == text.lower() for text in texts)
    assert any(b"wonderful" in text for text in texts)


def test_max_samples_is_balanced(tiny_config):
    splits, _ = load(replace(tiny_config, max_samples=10))
    counts = {
        name: np.bincount(labels).tolist() for name, (_, labels) in splits.items()
    }
    assert counts == {"train": [4, 4], "validation": [1, 1], "test": [5, 5]}


def test_holdout_test_comes_from_train_only(tiny_imdb_copy, tiny_config):
    for label in ("pos", "neg"):  # Like ../shared/imdb: no test/ at all.
        for path in (tiny_imdb_copy / "test" / label).iterdir():
            path.unlink()
        (tiny_imdb_copy / "test" / label).rmdir()
    (tiny_imdb_copy / "test").rmdir()
    config = replace(tiny_config, data_dir=str(tiny_imdb_copy), holdout_test=0.2)
    splits, _ = load(config)
    sizes = {name: len(labels) for name, (_, labels) in splits.items()}
    assert sizes == {"train": 64, "validation": 16, "test": 20}
    texts = [set(texts) for texts, _ in splits.values()]
    assert not (texts[0] & texts[1] or texts[0] & texts[2] or texts[1] & texts[2])


def test_empty_and_invalid_reviews_are_counted(tiny_imdb_copy, tiny_config):
    (tiny_imdb_copy / "train" / "pos" / "900_10.txt").write_bytes(b"  \n ")
    (tiny_imdb_copy / "train" / "neg" / "901_1.txt").write_bytes(b"bad \xff\xfe film")
    (tiny_imdb_copy / "test" / "neg" / "902_1.txt").write_bytes(b"")
    # Only format and control characters: no token at all, so "empty" too.
    (tiny_imdb_copy / "test" / "pos" / "903_9.txt").write_bytes(
        "\u200b\ufeff\x00".encode()
    )
    splits, data = load(replace(tiny_config, data_dir=str(tiny_imdb_copy)))
    train_and_validation = {
        key: data["train"][key] + data["validation"][key]
        for key in ("reviews", "empty_skipped", "invalid_utf8_replaced")
    }
    assert train_and_validation == {
        "reviews": 101,
        "empty_skipped": 1,
        "invalid_utf8_replaced": 1,
    }
    assert data["test"] == {
        "reviews": 100,
        "empty_skipped": 2,
        "invalid_utf8_replaced": 0,
    }
    all_texts = np.concatenate([splits["train"][0], splits["validation"][0]])
    assert "bad \ufffd\ufffd film".encode() in all_texts.tolist()


@pytest.mark.parametrize(
    "part, message",
    [
        ("train", "has no train/ folder"),
        ("test", "has no test/ folder"),
        ("train/pos", "train/pos is missing"),
        ("test/neg", "test/neg is missing"),
    ],
)
def test_incomplete_data_folder_is_refused(tiny_imdb_copy, tiny_config, part, message):
    shutil.rmtree(tiny_imdb_copy / part)
    config = replace(tiny_config, data_dir=str(tiny_imdb_copy))
    with pytest.raises(ValueError, match=re.escape(message)):
        load(config)


def test_validation_split_that_empties_a_split_is_refused(tiny_imdb_copy, tiny_config):
    shutil.rmtree(tiny_imdb_copy / "test")
    config = replace(
        tiny_config,
        data_dir=str(tiny_imdb_copy),
        holdout_test=0.2,
        validation_split=0.001,
    )
    with pytest.raises(ValueError, match="leaves a split empty"):
        load(config)


def test_counts_are_taken_after_max_samples(tiny_config):
    """Defect: the counts were the split's size before subsetting."""
    splits, data = load(replace(tiny_config, max_samples=10))
    for name, (_, labels) in splits.items():
        assert data[name]["reviews"] == len(labels)
    assert data["test"]["reviews"] == 10
