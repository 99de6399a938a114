"""Atomic writes: a failed one ends in one line naming the file, and leaves
the earlier file and no temporary one."""

import os

import pytest

from fnet_imdb.atomic import WriteError, atomic_path, write_text
from test_resume import build


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_disk_while_a_model_is_saved(tmp_path):
    """The `.keras` model written where every write fails with ENOSPC (the
    temporary file is a link to /dev/full): one line naming the file, the
    earlier file untouched, no temporary file left."""
    path = tmp_path / "fnet.keras"
    path.write_bytes(b"earlier")
    os.symlink("/dev/full", tmp_path / ".fnet.partial.keras")
    with pytest.raises(WriteError) as failed:
        with atomic_path(path) as partial:
            build().save(partial)
    assert str(failed.value) == f"cannot write {path}: No space left on device"
    assert os.listdir(tmp_path) == ["fnet.keras"] and path.read_bytes() == b"earlier"


def test_a_failed_write_names_the_file(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(WriteError, match="^cannot write .*file/results.json: "):
        write_text(tmp_path / "file" / "results.json", "{}")
