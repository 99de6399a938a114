"""Download and extraction of the IMDb archive: resumable, verified, atomic."""

import gzip
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from pathlib import Path

IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_SHA256 = "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"
IMDB_SIZE = 84_125_825


class DownloadError(OSError):
    pass


# keras.utils.get_file writes straight to the target without resuming,
# classifying errors or retrying, so the download is written here by hand.
def download(url, target, sha256, expected_size=None, attempts=4, delay=1.0):
    """Download `url` to `target` via `target.part`, resuming and verifying."""
    target = Path(target)
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    resumed = part.exists()
    for attempt in range(attempts):
        try:
            _fetch(url, part, expected_size)
            break
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise DownloadError(f"{url} answered HTTP {error.code} {error.reason}")
            problem = f"HTTP {error.code} {error.reason}"
        except (urllib.error.URLError, OSError) as error:
            problem = getattr(error, "reason", None) or error
        if attempt + 1 == attempts:
            raise DownloadError(f"could not download {url} ({problem})")
        time.sleep(delay * 2**attempt)
    actual = file_sha256(part)
    if actual != sha256:
        part.unlink()
        if resumed:  # The old .part may come from another file: start over once.
            return download(url, target, sha256, expected_size, attempts, delay)
        raise DownloadError(
            f"{url} gave a file with SHA-256 {actual}, expected {sha256}; "
            "it was deleted (check --data-url and --sha256)"
        )
    os.replace(part, target)
    return target


def _fetch(url, part, expected_size):
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # Nothing left to send: check what we have.
            return
        raise
    with response:
        if offset and response.status != 206:
            offset = 0  # The server ignored the range: start over.
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length else expected_size
        with open(part, "ab" if offset else "wb") as file:
            progress = Progress(total, offset)
            while chunk := response.read(1 << 16):
                file.write(chunk)
                progress.update(len(chunk))
            progress.close()
    if total and part.stat().st_size < total:
        raise DownloadError(f"connection closed after {part.stat().st_size} bytes")


class Progress:
    """Bytes and rate on a terminal; silent in logs and CI."""

    def __init__(self, total, done):
        self.total, self.done, self.start = total, done, time.perf_counter()
        self.enabled = sys.stderr.isatty()

    def update(self, count):
        self.done += count
        if self.enabled:
            rate = self.done / max(time.perf_counter() - self.start, 1e-6) / 1e6
            total = f"/{self.total / 1e6:.1f}" if self.total else ""
            print(
                f"\r  {self.done / 1e6:.1f}{total} MB, {rate:.1f} MB/s",
                end="",
                file=sys.stderr,
            )

    def close(self):
        if self.enabled:
            print(file=sys.stderr)


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def extract(archive, destination_root, sha256=None):
    """Extract `archive` once into `destination_root/<checksum>`, atomically."""
    archive = Path(archive)
    if not archive.is_file():
        raise ValueError(f"archive {archive} does not exist")
    destination_root = Path(destination_root)
    destination_root.mkdir(parents=True, exist_ok=True)
    final = destination_root / (sha256 or file_sha256(archive))[:16]
    if final.is_dir():
        return final
    for stale in destination_root.glob(".partial-*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=destination_root))
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(partial, filter=_safe_member)
            while tar.fileobj.read(1 << 20):  # gzip checks its CRC at the very end.
                pass
        os.rename(partial, final)
    except tarfile.FilterError as error:
        raise ValueError(f"refusing to extract {archive}: unsafe member ({error})")
    except (tarfile.TarError, EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise ValueError(f"{archive} is not a readable .tar.gz archive ({error})")
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return final


def _safe_member(member, path):
    """The "data" filter (no `..`, no links outside), refusing absolute names too:
    on its own it strips their leading "/" and extracts them."""
    if os.path.isabs(member.name):
        raise tarfile.AbsolutePathError(member)
    return tarfile.data_filter(member, path)


def dataset_root(extracted):
    """The folder holding `train/`: `aclImdb/` in the official archive."""
    for candidate in (extracted / "aclImdb", extracted):
        if (candidate / "train").is_dir():
            return candidate
    return extracted / "aclImdb"


def imdb_folder(data_dir, archive, download_dir, url, sha256, say):
    """The aclImdb folder to read, and the SHA-256 of the archive it came from
    (None for `data_dir`), downloading and extracting as needed."""
    if data_dir:
        return Path(data_dir), None
    if archive:
        archive = Path(archive)
        if not archive.is_file():
            raise ValueError(f"archive {archive} does not exist")
        digest = file_sha256(archive)
    else:
        archive = Path(download_dir) / "aclImdb_v1.tar.gz"
        digest = file_sha256(archive) if archive.is_file() else None
        if digest != sha256:
            say(f"Downloading {url} to {archive}")
            size = IMDB_SIZE if sha256 == IMDB_SHA256 else None
            try:
                download(url, archive, sha256, size)
            except DownloadError as error:
                raise DownloadError(
                    f"{error}. To run offline, pass --archive with a copy of "
                    "aclImdb_v1.tar.gz or --data-dir with an extracted aclImdb folder"
                ) from error
            digest = sha256
    extracted = extract(archive, Path(download_dir) / "extracted", digest)
    return dataset_root(extracted), digest
