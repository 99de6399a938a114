"""Data, Vocabulary and Tokenizer sections, on the tiny fixture."""

import dataclasses
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import fnet_classification as fc


class Recorder:
    """Collects what a run would report, without writing an output folder."""

    def __init__(self):
        self.results = {"data": {}, "cache": {}}
        self.messages = []

    def say(self, message):
        self.messages.append(message)


def load(config):
    recorder = Recorder()
    return fc.load_imdb(config, recorder), recorder


def test_split_sizes_and_labels(tiny_config):
    splits, recorder = load(tiny_config)
    sizes = {name: len(labels) for name, (_, labels) in splits.items()}
    assert sizes == {"train": 80, "validation": 20, "test": 100}
    for texts, labels in splits.values():
        assert len(texts) == len(labels)
        assert set(labels.tolist()) == {0, 1}
    # The fixture's test split is 50 negative and 50 positive reviews.
    assert np.bincount(splits["test"][1]).tolist() == [50, 50]
    assert recorder.results["data"]["train"]["reviews"] == 80


def test_split_is_seeded_and_disjoint(tiny_config):
    first, _ = load(tiny_config)
    again, _ = load(tiny_config)
    other, _ = load(dataclasses.replace(tiny_config, seed=7))
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
    splits, _ = load(dataclasses.replace(tiny_config, max_samples=10))
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
    config = dataclasses.replace(
        tiny_config, data_dir=str(tiny_imdb_copy), holdout_test=0.2
    )
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
    splits, recorder = load(
        dataclasses.replace(tiny_config, data_dir=str(tiny_imdb_copy))
    )
    data = recorder.results["data"]
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


def test_vocabulary_reserved_tokens_first_and_train_only(tiny_imdb_copy, tiny_config):
    for split, word in (("train", "qwertyish"), ("test", "zyzzyva")):
        for path in (tiny_imdb_copy / split).glob("*/*.txt"):
            text = path.read_text(encoding="utf-8")
            path.write_text(f"{text} {word}", encoding="utf-8")
    config = dataclasses.replace(
        tiny_config, data_dir=str(tiny_imdb_copy), vocab_size=1000
    )
    splits, _ = load(config)
    vocabulary = fc.train_vocabulary(splits["train"][0], config)
    assert vocabulary[:2] == ["[PAD]", "[UNK]"]
    assert "[PAD]" not in vocabulary[2:] and "[UNK]" not in vocabulary[2:]
    # The fixture has fewer distinct pieces than asked: never assume the size.
    assert 100 < len(vocabulary) < config.vocab_size
    assert len(set(vocabulary)) == len(vocabulary)
    assert "qwertyish" in vocabulary
    assert "zyzzyva" not in vocabulary


def test_tokenizer_round_trip_and_padding(tiny_config):
    splits, _ = load(tiny_config)
    vocabulary = fc.train_vocabulary(splits["train"][0], tiny_config)
    tokenizer = fc.make_tokenizer(vocabulary, tiny_config)
    token_ids = fc.tokenize(tokenizer, splits["train"][0][:5])
    assert token_ids.shape == (5, tiny_config.max_seq_len)
    assert token_ids.dtype == np.int32
    text = b"the plot was wonderful , the actors were awful ."
    ids = fc.tokenize(tokenizer, np.array([text], dtype=object))[0]
    length = np.count_nonzero(ids)
    assert length >= 11 and not ids[length:].any()  # Padded with [PAD] = 0.
    assert (
        fc.tokenize(tokenizer, np.array([b"word " * 500], dtype=object)).shape[1] == 64
    )
    detokenized = tokenizer.detokenize(ids[:length])
    detokenized = detokenized.numpy() if hasattr(detokenized, "numpy") else detokenized
    detokenized = (
        detokenized.decode() if isinstance(detokenized, bytes) else detokenized
    )
    assert detokenized == text.decode()


def test_unknown_word_maps_to_unk(tiny_config):
    splits, _ = load(tiny_config)
    vocabulary = fc.train_vocabulary(splits["train"][0], tiny_config)
    tokenizer = fc.make_tokenizer(vocabulary, tiny_config)
    ids = fc.tokenize(tokenizer, np.array(["☃☃ ☃".encode()], dtype=object))[0]
    assert ids[:2].tolist() == [1, 1] and not ids[2:].any()


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
    config = dataclasses.replace(tiny_config, data_dir=str(tiny_imdb_copy))
    with pytest.raises(ValueError, match=re.escape(message)):
        load(config)


def test_validation_split_that_empties_a_split_is_refused(tiny_imdb_copy, tiny_config):
    shutil.rmtree(tiny_imdb_copy / "test")
    config = dataclasses.replace(
        tiny_config,
        data_dir=str(tiny_imdb_copy),
        holdout_test=0.2,
        validation_split=0.001,
    )
    with pytest.raises(ValueError, match="leaves a split empty"):
        load(config)


def test_bucketed_batches_use_few_fixed_lengths(tiny_config):
    config = dataclasses.replace(tiny_config, bucket_by_length=True, max_seq_len=512)
    lengths = np.array([3, 70, 70, 200, 300, 512, 5, 64])
    token_ids = np.zeros((len(lengths), 512), dtype="int32")
    for row, length in enumerate(lengths):
        token_ids[row, :length] = 7
    dataset = fc.make_dataset(token_ids, np.arange(len(lengths)) % 2, config)
    shapes = sorted({tuple(ids.shape) for ids, _ in dataset.as_numpy_iterator()})
    seen = {shape[1] for shape in shapes}
    assert seen == {64, 128, 256, 512}
    total = sum(np.count_nonzero(ids) for ids, _ in dataset.as_numpy_iterator())
    assert total == lengths.sum()  # Nothing truncated, nothing lost.
    batches = len(list(dataset.as_numpy_iterator()))
    assert int(dataset.cardinality()) == batches == 4  # Known before iterating.


def test_cache_reuses_invalidates_and_rebuilds(tiny_config, capsys):
    flags = ["--epochs", "1", "--models", "fnet", "--cache-dir", tiny_config.cache_dir]
    base = ["--data-dir", tiny_config.data_dir, "--output-dir", tiny_config.output_dir]
    small = ["--batch-size", "8", "--max-seq-len", "64", "--vocab-size", "300"]
    tiny = [
        "--embed-dim",
        "8",
        "--intermediate-dim",
        "8",
        "--num-layers",
        "1",
        "--quiet",
    ]
    argv = base + small + tiny + flags

    def cache_state(extra=()):
        return fc.main(argv + list(extra))["cache"]

    assert cache_state() == {"vocab": "computed", "tokens": "computed"}
    first_vocab = open(f"{tiny_config.output_dir}/vocab.txt").read()
    assert cache_state() == {"vocab": "reused", "tokens": "reused"}
    assert open(f"{tiny_config.output_dir}/vocab.txt").read() == first_vocab
    # Another sequence length needs new tokens but the same vocabulary.
    assert cache_state(["--max-seq-len", "32"]) == {
        "vocab": "reused",
        "tokens": "computed",
    }
    # Another split (seed) is other training text: both are recomputed.
    assert cache_state(["--seed", "3"]) == {"vocab": "computed", "tokens": "computed"}
    # A damaged entry is detected (zip's CRC-32) and rebuilt.
    entries = sorted(Path(tiny_config.cache_dir).glob("tokens-*.npz"))
    for entry in entries:
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(data))
    capsys.readouterr()
    assert cache_state()["tokens"] == "computed"
    assert cache_state()["tokens"] == "reused"
    assert not list(Path(tiny_config.cache_dir).glob(".*partial*"))
    assert cache_state(["--no-cache"]) == {"vocab": "computed", "tokens": "computed"}


@pytest.mark.parametrize("vocab_size", [60, 300, 15000])
def test_fast_vocabulary_is_identical_to_keras_hub(tiny_config, vocab_size):
    splits, _ = load(tiny_config)
    texts = list(splits["train"][0]) + [
        "Ça, c'est très naïve — 素晴らしい映画！ ###tags, 1,234.5".encode(),
        b"aaaa aaab aabb abbb bbbb ##ab ab## a#b",
    ]
    texts = np.array(texts, dtype=object)
    fast, reference = (
        fc.train_vocabulary(texts, dataclasses.replace(tiny_config, **settings))
        for settings in (
            {"vocab_size": vocab_size, "vocab_trainer": "fast"},
            {"vocab_size": vocab_size, "vocab_trainer": "keras"},
        )
    )
    assert fast == reference
    assert len(fast) > 50


@pytest.mark.slow
def test_fast_vocabulary_is_identical_on_real_reviews(tmp_path):
    """20,000 real training reviews, the recipe's settings (about 2 minutes)."""
    archive = Path(__file__).parents[2] / "shared/imdb/aclImdb_train.tar.gz"
    if not archive.exists():
        pytest.skip("needs ../shared/imdb/aclImdb_train.tar.gz")
    config = fc.parse_args(["--archive", str(archive), "--holdout-test", "0.2"])
    config = dataclasses.replace(config, download_dir=str(tmp_path))
    splits, _ = load(config)
    texts = splits["train"][0]
    fast = fc.train_vocabulary(texts, config)
    reference = fc.train_vocabulary(
        texts, dataclasses.replace(config, vocab_trainer="keras")
    )
    assert fast == reference and len(fast) > 10000
