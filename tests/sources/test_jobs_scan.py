"""daemon/sources/jobs_scan.py: listings and bounded reads of the job folders."""

from __future__ import annotations

import os
from pathlib import Path

from daemon.sources.jobs_scan import CLAIM_CAP, list_folder, look, look_many


def test_listing_keeps_regular_files_only(tmp_path: Path) -> None:
    """A listing maps each regular file to its mtime; sub-folders and FIFOs are left out."""
    (tmp_path / "a.job.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    os.mkfifo(tmp_path / "pipe")
    listing = list_folder(tmp_path)
    assert listing == {"a.job.json": (tmp_path / "a.job.json").stat().st_mtime_ns}


def test_look_reads_the_file(tmp_path: Path) -> None:
    """A look at a job file carries its bytes, folder and name."""
    (tmp_path / "out").mkdir()
    (tmp_path / "out/j.job.json").write_bytes(b'{"n": 1}')
    obs = look(tmp_path, "out", "j.job.json", "pending")
    assert obs is not None
    assert (obs.folder, obs.name, obs.data) == ("out", "j.job.json", b'{"n": 1}')


def test_oversized_claim_reads_as_empty(tmp_path: Path) -> None:
    """A claim bigger than its cap is read as an empty marker, not loaded whole."""
    (tmp_path / "c.claimed").write_bytes(b"x" * (CLAIM_CAP + 10))
    obs = look(tmp_path, "", "c.claimed", "claims")
    assert obs is not None and obs.data == b""


def test_failed_reports_are_not_read(tmp_path: Path) -> None:
    """A failed-report file is only stat'ed: its content is never read."""
    (tmp_path / "r.failed_notify.txt").write_text("why")
    obs = look(tmp_path, "", "r.failed_notify.txt", "failed")
    assert obs is not None and obs.data is None


def test_vanished_file_is_none_not_an_error(tmp_path: Path) -> None:
    """A file gone between listing and reading gives None for that item."""
    (tmp_path / "here.job.json").write_text("{}")
    items = [("pending", "", "here.job.json"), ("pending", "", "gone.job.json")]
    looks = look_many(tmp_path, items)
    assert [(name, obs is None) for _, name, obs in looks] == [
        ("here.job.json", False), ("gone.job.json", True)]
