"""Getting the data can never lose or corrupt anything (no network needed).

Every download test talks to a real HTTP server on 127.0.0.1 whose behaviour
per request is scripted, and checks both the outcome and what is left on disk.
"""

import hashlib
import http.server
import io
import random
import re
import shutil
import socket
import tarfile
import threading
from pathlib import Path

import pytest

from fnet_imdb import download as downloads
from fnet_imdb.download import DownloadError, download, extract, imdb_folder
from fnet_imdb.imdb import check_dataset_dir

PAYLOAD = random.Random(0).randbytes(300_000)
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
HALF = len(PAYLOAD) // 2


# ----------------------------------------------------------------- the server


class Handler(http.server.BaseHTTPRequestHandler):
    """Plays the next of `server.script`'s behaviours (the last one repeats):
    "ranges" honours Range, "full" ignores it, "drop" sends half the body
    under a full Content-Length and closes, "404"/"500" fail."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        server = self.server
        server.ranges.append(self.headers.get("Range"))
        mode = server.script.pop(0) if len(server.script) > 1 else server.script[0]
        if mode in ("404", "500"):
            self.send_error(int(mode))
            return
        body, start = server.body, 0
        requested = self.headers.get("Range")
        if mode == "ranges" and requested:
            start = int(re.fullmatch(r"bytes=(\d+)-", requested).group(1))
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header(
                "Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}"
            )
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:HALF] if mode == "drop" else body[start:])
        self.close_connection = True


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.script, httpd.ranges = ["ranges"], []  # ranges: each request's Range
    httpd.body = PAYLOAD
    httpd.url = f"http://127.0.0.1:{httpd.server_port}/aclImdb_v1.tar.gz"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def refused_url():
    """A port that was bound and closed again: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/aclImdb_v1.tar.gz"


@pytest.fixture
def target(tmp_path):
    return tmp_path / "aclImdb_v1.tar.gz"


@pytest.fixture
def part(target):
    return target.with_name(target.name + ".part")


def fetch(url, target, sha256=SHA256, attempts=3):
    return download(url, target, sha256, len(PAYLOAD), attempts=attempts, delay=0.01)


# ------------------------------------------------------------------- download


def test_complete_download(server, target, part):
    assert fetch(server.url, target) == target
    assert target.read_bytes() == PAYLOAD
    assert not part.exists()
    assert server.ranges == [None]


def test_truncated_download_is_resumed(server, target, part):
    part.write_bytes(PAYLOAD[:HALF])
    fetch(server.url, target)
    assert server.ranges == [f"bytes={HALF}-"]
    assert target.read_bytes() == PAYLOAD
    assert not part.exists()


def test_complete_part_is_verified_not_refetched(server, target, part):
    part.write_bytes(PAYLOAD)  # The server answers 416: nothing left to send.
    fetch(server.url, target)
    assert server.ranges == [f"bytes={len(PAYLOAD)}-"]
    assert target.read_bytes() == PAYLOAD
    assert not part.exists()


def test_stale_part_of_another_file_is_replaced(server, target, part):
    part.write_bytes(b"x" * HALF)  # Left over from some other download.
    fetch(server.url, target)
    assert server.ranges == [f"bytes={HALF}-", None]
    assert target.read_bytes() == PAYLOAD
    assert not part.exists()


def test_server_ignoring_ranges_starts_over(server, target, part):
    server.script = ["full"]
    part.write_bytes(PAYLOAD[:HALF])
    fetch(server.url, target)
    assert server.ranges == [f"bytes={HALF}-"]
    assert target.read_bytes() == PAYLOAD  # No duplicated first half.
    assert not part.exists()


def test_dropped_connection_is_retried_and_resumed(server, target, part):
    server.script = ["drop", "ranges"]
    fetch(server.url, target)
    assert server.ranges == [None, f"bytes={HALF}-"]
    assert target.read_bytes() == PAYLOAD
    assert not part.exists()


def test_checksum_mismatch_deletes_the_download(server, target, part):
    with pytest.raises(DownloadError, match="SHA-256"):
        fetch(server.url, target, sha256="0" * 64)
    assert not target.exists()
    assert not part.exists()


def test_http_404_fails_at_once(server, target, part):
    server.script = ["404"]
    with pytest.raises(DownloadError, match="404"):
        fetch(server.url, target)
    assert len(server.ranges) == 1
    assert not target.exists()
    assert not part.exists()


def test_http_500_is_retried_then_fails(server, target):
    server.script = ["500"]
    with pytest.raises(DownloadError, match="500"):
        fetch(server.url, target, attempts=3)
    assert len(server.ranges) == 3
    assert not target.exists()


def test_connection_refused_is_retried_then_fails(
    refused_url, target, part, monkeypatch
):
    sleeps = []
    monkeypatch.setattr(downloads.time, "sleep", sleeps.append)
    with pytest.raises(DownloadError, match="could not download"):
        fetch(refused_url, target, attempts=3)
    assert sleeps == [0.01, 0.02]  # Three attempts, with backoff between them.
    assert not target.exists()
    assert not part.exists()


def test_offline_message_names_the_offline_options(refused_url, tmp_path, monkeypatch):
    monkeypatch.setattr(downloads.time, "sleep", lambda seconds: None)
    with pytest.raises(DownloadError) as error:
        downloads.imdb_folder(None, None, tmp_path, refused_url, SHA256, print)
    assert "--archive" in str(error.value)
    assert "--data-dir" in str(error.value)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------- extraction


def write_tar(path, files=(), symlinks=()):
    """A .tar.gz of `(name, bytes)` files and `(name, link target)` symlinks."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, link in symlinks:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
    return path


@pytest.fixture
def archive(tmp_path):
    return write_tar(tmp_path / "good.tar.gz", [("aclImdb/train/pos/0.txt", b"ok")])


def test_extracts_once_into_a_checksum_folder(archive, tmp_path, monkeypatch):
    root = tmp_path / "extracted"
    final = extract(archive, root)
    assert final == root / hashlib.sha256(archive.read_bytes()).hexdigest()[:16]
    assert (final / "aclImdb/train/pos/0.txt").read_bytes() == b"ok"
    assert list(root.iterdir()) == [final]

    def refuse(*args, **kwargs):
        raise AssertionError("extracted a second time")

    monkeypatch.setattr(downloads.tarfile, "open", refuse)
    assert extract(archive, root) == final


@pytest.mark.parametrize(
    "files, symlinks",
    [
        ([("../evil.txt", b"evil")], []),
        ([("{tmp}/evil.txt", b"evil")], []),  # An absolute path.
        ([], [("aclImdb/link", "../../../evil.txt")]),
        ([], [("aclImdb/link", "{tmp}/evil.txt")]),
    ],
    ids=["dotdot", "absolute", "symlink-outside", "symlink-absolute"],
)
def test_unsafe_archive_is_refused(tmp_path, files, symlinks):
    files = [(name.format(tmp=tmp_path), data) for name, data in files]
    symlinks = [(name, link.format(tmp=tmp_path)) for name, link in symlinks]
    archive = write_tar(tmp_path / "evil.tar.gz", files, symlinks)
    root = tmp_path / "extracted"
    with pytest.raises(ValueError, match="unsafe"):
        extract(archive, root)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.tar.gz", "extracted"]
    assert list(root.iterdir()) == []  # No final and no .partial-* folder.


def test_truncated_archive_is_refused(tmp_path):
    data = random.Random(1).randbytes(200_000)
    archive = write_tar(tmp_path / "cut.tar.gz", [("aclImdb/big.txt", data)])
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    root = tmp_path / "extracted"
    with pytest.raises(ValueError, match="not a readable"):
        extract(archive, root)
    assert list(root.iterdir()) == []


@pytest.mark.parametrize("where", [0.3, 0.5, 0.7])
def test_corrupted_archive_is_refused(tmp_path, where):
    text = b"".join(b"review %d is %s\n" % (i, b"bad" * (i % 3)) for i in range(20_000))
    archive = write_tar(tmp_path / "bad.tar.gz", [("aclImdb/big.txt", text)])
    data = bytearray(archive.read_bytes())
    data[int(len(data) * where)] ^= 0xFF  # One flipped byte inside the deflate data.
    archive.write_bytes(data)
    root = tmp_path / "extracted"
    with pytest.raises(ValueError, match="not a readable"):
        extract(archive, root)
    assert list(root.iterdir()) == []


def test_interrupted_extraction_leaves_no_final_folder(archive, tmp_path, monkeypatch):
    root = tmp_path / "extracted"

    def interrupted(self, path, *args, **kwargs):
        (path / "half.txt").write_text("half")
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(tarfile.TarFile, "extractall", interrupted)
        with pytest.raises(KeyboardInterrupt):
            extract(archive, root)
    assert list(root.iterdir()) == []

    (root / ".partial-killed").mkdir()  # What a killed process leaves behind.
    (root / ".partial-killed" / "half.txt").write_text("half")
    final = extract(archive, root)
    assert (final / "aclImdb/train/pos/0.txt").read_bytes() == b"ok"
    assert list(root.iterdir()) == [final]


# -------------------------------------------------------------- data checks


@pytest.fixture
def dataset(tmp_path):
    for split in ("train", "test"):
        for label in ("neg", "pos"):
            (tmp_path / split / label).mkdir(parents=True)
            (tmp_path / split / label / "0_1.txt").write_text("a review")
    return tmp_path


def test_valid_dataset_passes(dataset):
    check_dataset_dir(dataset)


def test_need_test_false_accepts_no_test_folder(dataset):
    shutil.rmtree(dataset / "test")
    check_dataset_dir(dataset, need_test=False)


@pytest.mark.parametrize(
    "missing, message",
    [
        ("train", "no train/ folder"),
        ("test", "no test/ folder"),
        ("train/pos", "train/pos is missing"),
        ("train/neg", "train/neg is missing"),
        ("test/pos", "test/pos is missing"),
        ("test/neg", "test/neg is missing"),
    ],
)
def test_missing_part_is_named(dataset, missing, message):
    shutil.rmtree(dataset / missing)
    with pytest.raises(ValueError, match=re.escape(message)):
        check_dataset_dir(dataset)


def test_empty_label_folder_is_named(dataset):
    (dataset / "train" / "pos" / "0_1.txt").unlink()
    with pytest.raises(ValueError, match=re.escape("train/pos has no .txt reviews")):
        check_dataset_dir(dataset)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        check_dataset_dir(tmp_path / "nowhere")


def test_default_run_downloads_once_then_reuses_the_archive(server, tmp_path):
    """The whole default path: download, verify, extract, train; then offline."""
    from conftest import TINY_FLAGS, TINY_IMDB, run_tutorial

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(TINY_IMDB, arcname="aclImdb")
    server.body = buffer.getvalue()
    flags = [f for f in TINY_FLAGS if f not in ("--data-dir", str(TINY_IMDB))]
    argv = flags + ["--epochs", "1", "--models", "fnet", "--data-url", server.url]
    argv += ["--sha256", hashlib.sha256(server.body).hexdigest()]
    argv += ["--download-dir", str(tmp_path / "data")]
    argv += ["--output-dir", str(tmp_path / "run")]
    first = run_tutorial(*argv)
    assert len(server.ranges) == 1
    assert (tmp_path / "data" / "aclImdb_v1.tar.gz").read_bytes() == server.body
    assert first["data"]["test"]["reviews"] == 100
    assert first["models"]["fnet"]["params"] > 0
    # The next run's data step (`imdb_folder`): verified on disk, not fetched.
    sha256 = hashlib.sha256(server.body).hexdigest()
    again = imdb_folder(None, None, tmp_path / "data", server.url, sha256, print)
    assert len(server.ranges) == 1 and again == (
        Path(first["data"]["directory"]),
        sha256,
    )
