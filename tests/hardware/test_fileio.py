"""``hardware.fileio``: the one atomic writer both packages use (``qaoa_meta.fileio`` re-exports it)."""

from __future__ import annotations

import os

import pytest

from hardware.fileio import atomic_path, write_atomic


def test_write_atomic_writes_text_and_bytes_and_creates_the_directory(tmp_path):
    text = write_atomic(tmp_path / "a" / "b.txt", "é\n")
    raw = write_atomic(tmp_path / "c.bin", b"\x00\xff")
    assert text.read_text(encoding="utf-8") == "é\n"
    assert raw.read_bytes() == b"\x00\xff"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b.txt", "c.bin"]  # no .tmp


def test_written_files_get_the_umask_permissions_not_mkstemps_0600(tmp_path):
    old = os.umask(0o022)
    try:
        path = write_atomic(tmp_path / "x.json", "{}")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = write_atomic(tmp_path / "x.json", "old")
    with pytest.raises(RuntimeError), atomic_path(path) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]
