"""Atomic writes: all or nothing, with the permissions of a plain write."""

from __future__ import annotations

import os

import pytest

from tradebook.files import atomic_path, write_bytes_atomic, write_text_atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "fiche.csv"
    target.write_text("ancien")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("à moitié")
            raise RuntimeError("disque plein")
    assert target.read_text() == "ancien"
    assert [p.name for p in tmp_path.iterdir()] == ["fiche.csv"]


def test_text_keeps_its_line_ends_and_gets_the_umask_mode(tmp_path):
    old = os.umask(0o027)
    try:
        path = write_text_atomic(tmp_path / "sous" / "t.csv", "a;b\r\n", newline="")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"a;b\r\n"
    assert path.stat().st_mode & 0o777 == 0o640


def test_an_explicit_mode_wins(tmp_path):
    path = write_bytes_atomic(tmp_path / "i.png", b"\x89PNG", mode=0o644)
    assert path.stat().st_mode & 0o777 == 0o644
