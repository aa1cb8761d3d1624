"""daemon/sources/jobs.py: the job-folder index kept true to the disk by rescans."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from daemon.sources.jobs import JobsSource

from .conftest import make_env

pytestmark = pytest.mark.anyio
OUT, IN = "data/webrelay_out", "data/webrelay_in"


def _source(root: Path, oneshot: bool = True) -> JobsSource:
    source = make_env(root, oneshot=oneshot).sources.get("jobs")
    assert isinstance(source, JobsSource)
    return source


async def test_rescan_counts_pending_and_claimed_jobs(seed_tree: Path) -> None:
    """After a rescan the index holds the jobs and claims on disk."""
    for name in ("a", "b"):
        (seed_tree / OUT / f"{name}.job.json").write_text(json.dumps({"n": name}))
    (seed_tree / OUT / "a.claimed").write_text("")
    source = _source(seed_tree)
    await source.rescan()
    assert (source.pending_count, source.claimed_count) == (2, 1)


async def test_counts_before_the_first_scan_are_refused(seed_tree: Path) -> None:
    """Before any scan the source does not pretend the queue is empty."""
    with pytest.raises(LookupError):
        _ = _source(seed_tree).pending_count


async def test_a_missing_folder_degrades_the_source(seed_tree: Path) -> None:
    """A job folder that is gone is named in `degraded` and the metrics."""
    shutil.rmtree(seed_tree / IN)
    source = _source(seed_tree)
    await source.rescan()
    assert source.degraded == f"folder unavailable: {IN}"
    assert source.metrics()["degraded"] is True


async def test_a_removed_job_leaves_the_index(seed_tree: Path) -> None:
    """A job deleted from disk is dropped by the next rescan."""
    job = seed_tree / OUT / "x.job.json"
    job.write_text("{}")
    source = _source(seed_tree)
    await source.rescan()
    job.unlink()
    await source.rescan()
    assert source.pending_count == 0 and source.stats["rescans"] == 2


async def test_a_daemon_without_watcher_is_degraded(seed_tree: Path) -> None:
    """In the daemon (not one-shot) a scanned index with no watcher running says so."""
    source = _source(seed_tree, oneshot=False)
    await source.rescan()
    assert source.degraded == "watcher not running"
