"""Real small file systems for the degradation tests: tmpfs mounts (root only, else skipped)
and a daemon subprocess on a seed tree."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.procs import burnin, wait_for  # noqa: F401 - the degrade tests import them here

REPO = Path(__file__).parents[2]
Mount = Callable[..., Path]


def _mount(target: Path, options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)],
                          capture_output=True, text=True, timeout=30)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Mount]:
    """`tmpfs("logs", size="256k", ro=False)` mounts a real tmpfs; skipped where mount fails."""
    mounted: list[Path] = []

    def mount(name: str, size: str = "256k", ro: bool = False) -> Path:
        target = tmp_path / name
        target.mkdir(parents=True, exist_ok=True)
        result = _mount(target, f"size={size},mode=0755" + (",ro" if ro else ""))
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
        mounted.append(target)
        return target

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], capture_output=True, timeout=30)


def remount(target: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(target)], check=True,
                   capture_output=True, timeout=30)


def fill(folder: Path) -> Path:
    """Fill the file system of `folder` to the last byte with a real `dd`."""
    filler = folder / "filler"
    subprocess.run(["dd", "if=/dev/zero", f"of={filler}", "bs=4k"], capture_output=True,
                   timeout=60)
    return filler




def status(runtime: Path) -> dict | None:
    try:
        return json.loads((runtime / "status.json").read_text())
    except (OSError, ValueError):
        return None


def open_codes(runtime: Path) -> dict[str, list[str]]:
    """{code: [subject, …]} of the open alerts in status.json."""
    out: dict[str, list[str]] = {}
    for alert in (status(runtime) or {}).get("alerts", {}).get("open", []):
        out.setdefault(alert["code"], []).append(alert["subject"])
    return out
