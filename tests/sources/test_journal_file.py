"""daemon/sources/journal_file.py: what happened to the journal file since the last pass."""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import IO

import pytest

from daemon.sources.journal_file import MARK, Change, JournalFile
from daemon.sources.journal_scan import Position

DATA = b"".join(b'{"n": %d}\n' % n for n in range(2000))  # larger than two MARKs


def _verified(path: Path, data: bytes = DATA) -> tuple[JournalFile, Position]:
    """A JournalFile that has verified all of `data` at `path`."""
    path.write_bytes(data)
    jf = JournalFile(path)
    assert jf.follow(Position(), _never) == Change("same")  # nothing verified yet
    assert jf.fh is not None
    pos = Position(len(data), data.count(b"\n"), zlib.crc32(data))
    jf.set_marks(jf.fh, pos.offset)
    return jf, pos


def _never(old: IO[bytes]) -> None:
    raise AssertionError("no rotation expected")


def test_untouched_file_is_the_same(tmp_path: Path) -> None:
    """Nothing changed, or only appended: `same`."""
    jf, pos = _verified(tmp_path / "j")
    with (tmp_path / "j").open("ab") as fh:
        fh.write(b'{"n": -1}\n')
    assert jf.follow(pos, _never) == Change("same")
    jf.close()


def test_truncation_is_shrank_with_the_new_size(tmp_path: Path) -> None:
    """A file shorter than the verified range: `shrank`, carrying its size."""
    jf, pos = _verified(tmp_path / "j")
    os.truncate(tmp_path / "j", 10)
    assert jf.follow(pos, _never) == Change("shrank", 10)
    jf.close()


@pytest.mark.parametrize("at", [0, MARK - 1, len(DATA) - 2])
def test_changed_head_or_tail_is_changed(tmp_path: Path, at: int) -> None:
    """A byte changed in the fingerprinted head or tail, same size and inode: `changed`."""
    jf, pos = _verified(tmp_path / "j")
    with (tmp_path / "j").open("r+b") as fh:
        fh.seek(at)
        fh.write(b"X")
    assert jf.follow(pos, _never) == Change("changed")
    jf.close()


def test_longer_copy_under_a_new_inode_is_moved(tmp_path: Path) -> None:
    """A new file that starts with the verified bytes: `moved`, and it becomes the open one."""
    jf, pos = _verified(tmp_path / "j")
    (tmp_path / "copy").write_bytes(DATA + b'{"n": -1}\n')
    os.replace(tmp_path / "copy", tmp_path / "j")
    assert jf.follow(pos, _never) == Change("moved")
    assert jf.size() == len(DATA) + 10
    jf.close()


def test_renamed_old_file_is_rotated_and_finished(tmp_path: Path) -> None:
    """The old file renamed and a new one created: `rotated`; `finish` gets the old file."""
    jf, pos = _verified(tmp_path / "j")
    os.rename(tmp_path / "j", tmp_path / "j.1")
    (tmp_path / "j").write_bytes(b'{"n": 0}\n')
    finished: list[int] = []
    change = jf.follow(pos, lambda old: finished.append(os.fstat(old.fileno()).st_size))
    assert change == Change("rotated") and finished == [len(DATA)] and jf.size() == 9
    jf.close()


def test_rotation_found_after_a_restart(tmp_path: Path) -> None:
    """With no open handle (restored state), the old inode is found beside the new file."""
    jf, pos = _verified(tmp_path / "j")
    saved = jf.state()
    jf.close()
    os.rename(tmp_path / "j", tmp_path / "j.1")
    (tmp_path / "j").write_bytes(b"")
    restarted = JournalFile(tmp_path / "j")
    restarted.restore(saved)
    finished: list[bool] = []
    assert restarted.follow(pos, lambda old: finished.append(True)) == Change("rotated")
    assert finished == [True]
    restarted.close()


def test_deleted_and_recreated_is_replaced(tmp_path: Path) -> None:
    """The old file gone (no name left) and a different one in its place: `replaced`."""
    jf, pos = _verified(tmp_path / "j")
    os.unlink(tmp_path / "j")
    (tmp_path / "j").write_bytes(b'{"other": 1}\n')
    assert jf.follow(pos, _never) == Change("replaced")
    jf.close()


def test_missing_file_raises_oserror(tmp_path: Path) -> None:
    """A journal that does not exist is an OSError for the caller to report."""
    with pytest.raises(FileNotFoundError):
        JournalFile(tmp_path / "absent").follow(Position(), _never)


def test_state_round_trips_identity_and_marks(tmp_path: Path) -> None:
    """`state`/`restore` keep the identity and the fingerprints under their saved names."""
    jf, _ = _verified(tmp_path / "j")
    saved = jf.state()
    other = JournalFile(tmp_path / "j")
    other.restore({"ident": list(saved["ident"]), "marks": saved["marks"]})
    assert (other.ident, other.marks) == (saved["ident"], saved["marks"])
    assert set(saved) == {"ident", "marks"}
    jf.close()
