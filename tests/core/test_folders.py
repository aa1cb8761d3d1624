"""daemon/folders.py: burnin's own folders must take files at start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from daemon.errors import ConfigError
from daemon.folders import require_writable, unwritable

needs_non_root = pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")


def test_missing_folder_is_created(tmp_path: Path) -> None:
    """A folder that does not exist yet is created and counts as writable."""
    folder = tmp_path / "a" / "b"
    assert unwritable(folder) is None
    assert folder.is_dir() and list(folder.iterdir()) == []


@needs_non_root
def test_read_only_folder_gives_the_reason(tmp_path: Path) -> None:
    """A read-only folder is unwritable, with the system's reason."""
    tmp_path.chmod(0o500)
    try:
        assert unwritable(tmp_path) == "Permission denied"
    finally:
        tmp_path.chmod(0o700)


def test_folder_under_a_file_is_refused_naming_the_key(tmp_path: Path) -> None:
    """The config error names the source and the key of the first bad folder."""
    (tmp_path / "file").write_text("x")
    folders = {"daemon.log_dir": tmp_path / "logs", "daemon.runtime_dir": tmp_path / "file/rt"}
    with pytest.raises(ConfigError, match=r"burnin.toml: daemon.runtime_dir: .*not writable"):
        require_writable("burnin.toml", folders)
