"""burnin's own folders (`daemon.runtime_dir`, `daemon.log_dir`) must take files at start.

A read-only or missing-and-uncreatable folder is refused before the daemon starts, with one
line naming the folder (exit 78 through `ConfigError`), instead of a traceback later. Once
running, a folder that stops taking writes is a finding, never a crash.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from daemon.errors import ConfigError


def unwritable(folder: Path) -> str | None:
    """Why `folder` cannot take a new file (None when it can): create it, write a probe."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".burnin-probe.", dir=folder)
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def require_writable(source: str, folders: dict[str, Path]) -> None:
    """Raise ConfigError for the first of `{key: folder}` that cannot be written."""
    for key, folder in folders.items():
        why = unwritable(folder)
        if why is not None:
            raise ConfigError(source, key, f"folder {folder.resolve()} is not writable: {why}")
