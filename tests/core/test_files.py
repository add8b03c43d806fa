"""Writing files and folders all at once (ductogram.core.files)."""

from __future__ import annotations

import pytest

from ductogram.core.files import atomic_directory, check_output_directory, write_bytes_atomic


class TestWriteBytes:
    def test_writes_and_replaces(self, tmp_path):
        path = tmp_path / "a.png"
        path.write_bytes(b"old")
        assert write_bytes_atomic(path, b"\x89PNG\r\n") == path
        assert path.read_bytes() == b"\x89PNG\r\n"
        assert [p.name for p in tmp_path.iterdir()] == ["a.png"]

    def test_refuses_text(self, tmp_path):
        with pytest.raises(TypeError, match="data must be bytes, got str"):
            write_bytes_atomic(tmp_path / "a.bin", "text")
        assert list(tmp_path.iterdir()) == []

    def test_missing_folder(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            write_bytes_atomic(tmp_path / "nope" / "a.bin", b"x")


class TestCheckOutputDirectory:
    def test_new_and_empty_are_fine(self, tmp_path):
        assert check_output_directory(tmp_path / "new") == (tmp_path / "new").absolute()
        (tmp_path / "empty").mkdir()
        check_output_directory(tmp_path / "empty")

    def test_non_empty(self, tmp_path):
        (tmp_path / "f.txt").write_text("x")
        with pytest.raises(FileExistsError, match="exists and is not empty"):
            check_output_directory(tmp_path)
        check_output_directory(tmp_path, overwrite=True)

    def test_file(self, tmp_path):
        (tmp_path / "f").write_text("x")
        with pytest.raises(FileExistsError, match="exists and is not a folder"):
            check_output_directory(tmp_path / "f", overwrite=True)


class TestAtomicDirectory:
    def test_creates_parents_and_renames(self, tmp_path):
        out = tmp_path / "a" / "b" / "case"
        with atomic_directory(out) as tmp:
            assert tmp.parent == out.parent.absolute()
            assert not out.exists()
            (tmp / "x.txt").write_text("x")
        assert (out / "x.txt").read_text() == "x"
        assert [p.name for p in out.parent.iterdir()] == ["case"]

    def test_failure_removes_everything_it_made(self, tmp_path):
        out = tmp_path / "a" / "b" / "case"
        with pytest.raises(KeyError), atomic_directory(out) as tmp:
            (tmp / "x.txt").write_text("x")
            raise KeyError("boom")
        assert list(tmp_path.iterdir()) == []

    def test_overwrite(self, tmp_path):
        out = tmp_path / "case"
        out.mkdir()
        (out / "old.txt").write_text("old")
        with atomic_directory(out, overwrite=True) as tmp:
            (tmp / "new.txt").write_text("new")
        assert [p.name for p in out.iterdir()] == ["new.txt"]
        assert [p.name for p in tmp_path.iterdir()] == ["case"]

    def test_refuses_before_running_the_block(self, tmp_path):
        out = tmp_path / "case"
        out.mkdir()
        (out / "old.txt").write_text("old")
        ran = []
        with pytest.raises(FileExistsError), atomic_directory(out):
            ran.append(True)
        assert ran == []
        assert [p.name for p in out.iterdir()] == ["old.txt"]

    def test_folder_filled_meanwhile_is_not_replaced(self, tmp_path):
        out = tmp_path / "case"
        with pytest.raises(FileExistsError), atomic_directory(out) as tmp:
            (tmp / "mine.txt").write_text("mine")
            out.mkdir()
            (out / "theirs.txt").write_text("theirs")
        assert [p.name for p in out.iterdir()] == ["theirs.txt"]
        assert [p.name for p in tmp_path.iterdir()] == ["case"]
