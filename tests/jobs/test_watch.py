"""The daemon's job-folder watcher: real files, a real watchfiles watcher, a scaled clock."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
import structlog.testing

from daemon.checks.jobs_watch import JobsWatch
from daemon.clock import SystemClock
from daemon.model import Finding
from tests.jobs.conftest import IN, OUT, make_env, tick, write

pytestmark = pytest.mark.anyio


class Watched:
    """A serving JobsWatch rule and everything it emitted."""

    def __init__(self, rule: JobsWatch) -> None:
        self.rule = rule
        self.src = rule.src
        self.emitted: list[list[Finding]] = []

    async def emit(self, found: list[Finding]) -> None:
        self.emitted.append(found)

    @property
    def current(self) -> set[tuple[str, str]]:
        return {(f.code, f.subject) for f in self.emitted[-1]} if self.emitted else set()

    def events(self, code: str) -> list[Finding]:
        return [f for batch in self.emitted for f in batch if f.code == code]

    async def until(self, pred: Callable[[], bool], timeout: float = 6.0) -> None:
        with anyio.fail_after(timeout):
            while not pred():
                await anyio.sleep(0.02)


@asynccontextmanager
async def serving(root: Path, scale: float = 1.0, **jobs: Any) -> AsyncIterator[Watched]:
    env = make_env(root, clock=SystemClock(scale), **jobs)
    w = Watched(JobsWatch(env))
    async with anyio.create_task_group() as tg:
        tg.start_soon(w.rule.serve, w.emit)
        await w.until(lambda: w.src.watching and w.src.scanned)
        yield w
        tg.cancel_scope.cancel()


async def test_stale_claim_fires_on_time_and_resolves(tree: Path) -> None:
    """A claim crossing stale_claim_after fires within 1 s, and resolves when removed."""
    async with serving(tree, scale=100, stale_claim_after=100) as w:  # 1 real second
        claim = write(tree / OUT / "abc.claimed", raw=b"")
        t0 = time.monotonic()
        subject = ("jobs.stale_claim", f"{OUT}/abc.claimed")
        await w.until(lambda: subject in w.current, timeout=4)
        assert time.monotonic() - t0 >= 0.9  # never before the limit
        claim.unlink()
        await w.until(lambda: subject not in w.current, timeout=4)


async def test_fifty_jobs_50ms_apart_processed_once(tree: Path) -> None:
    """Seed 003 Test 4: 50 jobs, claimed and completed: all accounted for, none stale."""
    async with serving(tree, scale=10, stale_claim_after=60) as w:  # 6 real seconds
        for i in range(50):
            job = write(tree / OUT / f"t4-{i}.job.json", {"n": i})
            job.rename(tree / OUT / f"t4-{i}.job.json.claimed")
            write(tree / IN / f"t4-{i}.result.json", {"job_id": f"t4-{i}"})
            (tree / OUT / f"t4-{i}.job.json.claimed").unlink()
            await anyio.sleep(0.05)
        await w.until(lambda: w.src.index.counts()["done"] == 50)
        assert w.src.index.counts() == {"pending": 0, "claimed": 0, "done": 50, "failed": 0}
        assert not any(f.code.startswith("jobs.") for b in w.emitted for f in b)


async def test_result_rewritten_after_completion(tree: Path) -> None:
    """A result file modified after it was complete is jobs.duplicate_processing."""
    async with serving(tree) as w:
        path = write(tree / IN / "r.result.json", {"job_id": "R1"})
        await w.until(lambda: w.src.index.counts()["done"] == 1)
        await anyio.sleep(0.05)
        write(path, {"job_id": "R1", "again": True})
        await w.until(lambda: bool(w.events("jobs.duplicate_processing")))
        assert w.events("jobs.duplicate_processing")[0].subject == "R1"


async def test_job_requeued_after_result(tree: Path) -> None:
    """A job file appearing after its result exists is jobs.duplicate_processing."""
    async with serving(tree) as w:
        write(tree / IN / "q.result.json", {})
        await w.until(lambda: w.src.index.counts()["done"] == 1)
        write(tree / OUT / "q.job.json", {})
        await w.until(lambda: bool(w.events("jobs.duplicate_processing")))


async def test_pending_too_long_fires_by_timer(tree: Path) -> None:
    """A job left unclaimed past pending_after fires without any rescan."""
    async with serving(tree, scale=100, pending_after=50) as w:  # 0.5 real seconds
        write(tree / OUT / "slow.job.json", {})
        await w.until(lambda: ("jobs.pending_too_long", f"{OUT}/slow.job.json") in w.current)
        assert w.src.stats["rescans"] == 1


async def test_dropped_events_recovered_by_rescan(tree: Path) -> None:
    """A burst whose events are all lost is found by the next rescan; degraded shows it."""
    async with serving(tree) as w:
        w.src.event_filter = lambda changes: set()  # the kernel queue overflowed
        past = time.time() - 10
        for i in range(2000):
            path = tree / OUT / f"b{i}.job.json"
            path.write_bytes(b"{}")
            os.utime(path, (past, past))
        t = tick(w.rule.env)
        await w.rule.run(t)
        assert w.src.index.counts()["pending"] == 2000
        assert t.metrics["jobs"]["degraded"] is True and t.metrics["jobs"]["missed"] == 2000
        w.src.event_filter = None
        t = tick(w.rule.env)
        await w.rule.run(t)
        assert t.metrics["jobs"]["degraded"] is False


async def test_folder_removed_and_recreated(tree: Path) -> None:
    """A watched folder deleted is source.unavailable; recreated, it is watched again."""
    async with serving(tree) as w:
        folder = tree / OUT
        write(folder / "c.claimed", raw=b"")
        await w.until(lambda: w.src.index.counts()["claimed"] == 1)
        shutil.rmtree(folder)
        await w.until(lambda: ("source.unavailable", OUT) in w.current)
        assert w.src.index.counts()["claimed"] == 0
        folder.mkdir()
        await w.until(lambda: ("source.unavailable", OUT) not in w.current)
        await w.until(lambda: w.src.watching)
        write(folder / "d.claimed", raw=b"")
        await w.until(lambda: w.src.index.counts()["claimed"] == 1)


async def test_restart_with_open_claims_ages_from_file(tree: Path) -> None:
    """A daemon started while a claim is open ages it from claimed_at, not from the start."""
    write(tree / OUT / "old.claimed", {"claimed_at": time.time() - 250})
    async with serving(tree, stale_claim_after=240) as w:
        await w.until(lambda: ("jobs.stale_claim", f"{OUT}/old.claimed") in w.current)


async def test_excessive_fires_once_across_restart(tree: Path, tmp_path: Path) -> None:
    """The distinct stale claims of the window survive a restart; excessive fires once."""
    for i in range(5):
        write(tree / OUT / f"s{i}.claimed", {"claimed_at": time.time() - 900})
    state = tmp_path / "state"
    env = make_env(tree, state_dir=state)
    rule = JobsWatch(env)
    first = await rule.run(tick(env))
    rule.save()
    env2 = make_env(tree, state_dir=state)
    again = await JobsWatch(env2).run(tick(env2))
    assert [f.code for f in first].count("jobs.stale_claims_excessive") == 1
    assert [f.code for f in again].count("jobs.stale_claims_excessive") == 0


async def test_a_new_window_counts_stale_claims_afresh(tree: Path, tmp_path: Path) -> None:
    """stale_claims_excessive is per window: the next window can fire it again."""
    for i in range(5):
        write(tree / OUT / f"s{i}.claimed", {"claimed_at": time.time() - 900})
    state = tmp_path / "state"
    env = make_env(tree, state_dir=state)
    env.window_id = "w-1"
    rule = JobsWatch(env)
    await rule.run(tick(env))
    rule.save()
    env2 = make_env(tree, state_dir=state)
    env2.window_id = "w-2"
    again = await JobsWatch(env2).run(tick(env2))
    assert [f.code for f in again].count("jobs.stale_claims_excessive") == 1


async def test_a_corrupt_state_is_logged_and_the_rule_starts_afresh(tree: Path,
                                                                    tmp_path: Path) -> None:
    """A damaged jobs_watch.json is said in the log (it used to be dropped silently)."""
    write(tree / OUT / "s0.claimed", {"claimed_at": time.time() - 900})
    state = tmp_path / "state"
    state.mkdir()
    (state / "jobs_watch.json").write_bytes(b'{"version": 1, "data": {"stale_seen": 5')
    env = make_env(tree, state_dir=state)
    with structlog.testing.capture_logs() as logs:
        rule = JobsWatch(env)
    found = await rule.run(tick(env))
    assert [e["event"] for e in logs] == ["rule_state_discarded"]
    assert "jobs.stale_claim" in [f.code for f in found]
    rule.save()
    assert JobsWatch(make_env(tree, state_dir=state)).stale_seen == {f"{OUT}/s0.claimed"}
