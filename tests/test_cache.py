"""The cache: reuse, invalidation by content, and damaged entries rebuilt."""

from fnet_imdb import prepare


def test_cache_reuses_invalidates_and_rebuilds(tiny_config, tmp_path, capsys):
    cache_dir, output_dir = tmp_path / "cache", tmp_path / "prepared"
    argv = ["--data-dir", tiny_config.data_dir, "--cache-dir", str(cache_dir)]
    argv += ["--max-seq-len", "64", "--vocab-size", "300", "--quiet"]
    argv += ["--output-dir", str(output_dir)]

    def cache_state(extra=()):
        return prepare.main(argv + list(extra))["cache"]

    assert cache_state() == {"vocab": "computed", "tokens": "computed"}
    first_vocab = open(output_dir / "vocab.txt").read()
    assert cache_state() == {"vocab": "reused", "tokens": "reused"}
    assert open(output_dir / "vocab.txt").read() == first_vocab
    # Another sequence length needs new tokens but the same vocabulary.
    assert cache_state(["--max-seq-len", "32"]) == {
        "vocab": "reused",
        "tokens": "computed",
    }
    # Another split (seed) is other training text: both are recomputed.
    assert cache_state(["--seed", "3"]) == {"vocab": "computed", "tokens": "computed"}
    # A damaged entry is detected (zip's CRC-32) and rebuilt.
    entries = sorted(cache_dir.glob("tokens-*.npz"))
    for entry in entries:
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(data))
    capsys.readouterr()
    assert cache_state()["tokens"] == "computed"
    assert cache_state()["tokens"] == "reused"
    assert not list(cache_dir.glob(".*partial*"))
    assert cache_state(["--no-cache"]) == {"vocab": "computed", "tokens": "computed"}
