"""`burnin check` on job folders: one rescan is the whole truth (SPEC §3)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import orjson
import pytest

from daemon.checks.jobs_rates import JobsRates
from daemon.checks.jobs_watch import JobsWatch
from daemon.model import Severity
from tests.jobs.conftest import FAILED, IN, OUT, codes, make_env, tick, write

pytestmark = pytest.mark.anyio


async def check(root: Path, **jobs: object) -> list:
    env = make_env(root, oneshot=True, **jobs)
    found = await JobsWatch(env).run(tick(env))
    return found + await JobsRates(env).run(tick(env, "position"))


def iso_ago(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - seconds))


async def test_healthy_tree_reports_nothing(tree: Path) -> None:
    """Fresh jobs, a fresh claim coexisting with its result, and results: no finding."""
    write(tree / OUT / "a.job.json", {"created_at": iso_ago(5)})
    write(tree / OUT / "b.job.json.claimed", raw=b"")
    write(tree / IN / "b.result.json", {"job_id": "b", "created_at": iso_ago(3)})
    write(tree / IN / "c.result.json", {"completed_at": iso_ago(1)})
    assert await check(tree) == []


async def test_empty_tree_reports_nothing(tree: Path) -> None:
    """The seed layout with no job files at all is healthy."""
    assert await check(tree) == []


async def test_old_claim_is_stale(tree: Path) -> None:
    """A claim older than stale_claim_after (claimed_at) is jobs.stale_claim HIGH."""
    write(tree / OUT / "abc.claimed", {"claimed_at": iso_ago(400)})
    found = await check(tree)
    assert codes(found) == [("jobs.stale_claim", f"{OUT}/abc.claimed")]
    assert found[0].severity is Severity.HIGH and found[0].evidence["job_id"] == "abc"


async def test_garbage_claim_falls_back_to_ctime(tree: Path) -> None:
    """A claim whose JSON is garbage takes its time from the file (ctime): fresh, not stale."""
    write(tree / OUT / "abc.claimed", raw=b"{{{ not json")
    assert await check(tree) == []


async def test_claim_naming_dead_pid_fires_early(tree: Path) -> None:
    """A fresh claim naming a pid that no longer exists is stale at once."""
    write(tree / OUT / "abc.claimed", {"claimed_at": iso_ago(1), "pid": 2**22 + 12345})
    found = await check(tree)
    assert codes(found) == [("jobs.stale_claim", f"{OUT}/abc.claimed")]
    assert found[0].evidence["pid_gone"] is True


async def test_claim_age_uses_claimed_at_not_start(tree: Path) -> None:
    """A daemon (re)started while claims are open ages them from claimed_at."""
    write(tree / OUT / "x.job.json.claimed", {"claimed_at": iso_ago(250)})
    env = make_env(tree, oneshot=True, stale_claim_after=240)
    found = await JobsWatch(env).run(tick(env))
    assert codes(found) == [("jobs.stale_claim", f"{OUT}/x.job.json.claimed")]


async def test_five_stale_claims_are_excessive(tree: Path) -> None:
    """Five distinct stale claims add one jobs.stale_claims_excessive CRITICAL."""
    for i in range(5):
        write(tree / OUT / f"j{i}.claimed", {"claimed_at": iso_ago(600)})
    found = await check(tree)
    excessive = [f for f in found if f.code == "jobs.stale_claims_excessive"]
    assert len(excessive) == 1 and excessive[0].severity is Severity.CRITICAL
    assert len([f for f in found if f.code == "jobs.stale_claim"]) == 5


async def test_two_results_for_one_job(tree: Path) -> None:
    """Two result files naming one job id are jobs.duplicate_processing (subject = job id)."""
    write(tree / IN / "r1.result.json", {"job_id": "J7"})
    write(tree / IN / "r2.result.json", {"job_id": "J7"})
    found = await check(tree)
    assert codes(found) == [("jobs.duplicate_processing", "J7")]
    assert found[0].severity is Severity.CRITICAL and found[0].evidence["job_id"] == "J7"


async def test_requeued_job_after_result(tree: Path) -> None:
    """A pending job newer than its existing result is a re-queue: duplicate processing."""
    write(tree / IN / "q.result.json", {"job_id": "q"}, age_s=30)
    write(tree / OUT / "q.job.json", {"created_at": iso_ago(1)})
    assert codes(await check(tree)) == [("jobs.duplicate_processing", "q")]


async def test_pending_too_long(tree: Path) -> None:
    """A job unclaimed longer than pending_after is jobs.pending_too_long MEDIUM."""
    write(tree / OUT / "old.job.json", {"created_at": iso_ago(1000)})
    write(tree / OUT / "mtime.job.json", {}, age_s=1000)
    found = await check(tree)
    assert codes(found) == [("jobs.pending_too_long", f"{OUT}/mtime.job.json"),
                            ("jobs.pending_too_long", f"{OUT}/old.job.json")]


@pytest.mark.parametrize("raw", [b"", b'{"job_id": "x", ', b"[1, 2]", b"\x00" * 8])
async def test_unreadable_result(tree: Path, raw: bytes) -> None:
    """An empty, torn, non-object or NUL result older than settle is jobs.unreadable_file."""
    write(tree / IN / "x.result.json", raw=raw, age_s=10)
    assert codes(await check(tree)) == [("jobs.unreadable_file", f"{IN}/x.result.json")]


async def test_half_written_job_is_reread_after_settle(tree: Path) -> None:
    """A fresh job that does not parse yet waits for settle and is judged on its re-read."""
    path = write(tree / OUT / "w.job.json", raw=b'{"created_at": ')
    src = make_env(tree, oneshot=True, settle=0.3).sources.get("jobs")
    await src.rescan()
    assert list(src.rereads) == [("pending", OUT, "w.job.json")]
    path.write_bytes(orjson.dumps({"created_at": iso_ago(1)}))
    await src.reread_due(force=True)
    assert src.index.counts()["pending"] == 1 and src.index.drain() == []


async def test_half_written_job_never_completed_is_unreadable(tree: Path) -> None:
    """A fresh torn job still torn after settle is jobs.unreadable_file."""
    write(tree / OUT / "w.job.json", raw=b'{"created_at": ')
    found = await check(tree, settle=0.2)
    assert codes(found) == [("jobs.unreadable_file", f"{OUT}/w.job.json")]


async def test_missing_folder_is_source_unavailable(tree: Path) -> None:
    """A job folder that does not exist is source.unavailable, subject = the folder."""
    (tree / FAILED).rmdir()
    found = await check(tree)
    assert codes(found) == [("source.unavailable", FAILED)]


async def test_folder_that_is_a_file_is_unavailable(tree: Path) -> None:
    """A job 'folder' that is a plain file is source.unavailable, no crash."""
    (tree / IN).rmdir()
    (tree / IN).write_text("oops")
    assert codes(await check(tree)) == [("source.unavailable", IN)]


async def test_unreadable_folder_is_unavailable(tree: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    """A folder that cannot be listed (permission denied) is source.unavailable."""
    folder = tree / OUT
    folder.chmod(0)
    try:
        if os.geteuid() == 0:  # root reads anything: make the listing fail as it would
            real_scandir = os.scandir

            def denied(path: object) -> object:
                if Path(str(path)) == folder:
                    raise PermissionError(13, "Permission denied", str(path))
                return real_scandir(path)  # type: ignore[arg-type]
            monkeypatch.setattr(os, "scandir", denied)
        found = await check(tree)
    finally:
        folder.chmod(0o755)
    assert codes(found) == [("source.unavailable", OUT)]
    assert found[0].evidence["reason"] == "permission denied"


async def test_latency_and_failed_rate_metrics(tree: Path) -> None:
    """Results carrying created_at give latency percentiles; queue depth is published."""
    env = make_env(tree, oneshot=True)
    for i in range(30):
        write(tree / IN / f"r{i}.result.json",
              {"created_at": 1_768_000_000.0, "completed_at": 1_768_000_000.0 + i / 100})
    t = tick(env, "position")
    assert await JobsRates(env).run(t) == []
    lat = t.metrics["jobs"]["latency_ms"]
    assert lat["count"] == 30 and lat["p50"] == pytest.approx(140.0)
    assert t.metrics["jobs"]["done"] == 30 and t.metrics["jobs"]["failed_rate"] == 0.0


async def test_high_latency_is_critical(tree: Path) -> None:
    """p95 above 1000 ms over >= 20 results is jobs.latency CRITICAL."""
    for i in range(20):
        write(tree / IN / f"r{i}.result.json", {"created_at": 1000.0, "completed_at": 1002.0})
    found = await check(tree)
    assert codes(found) == [("jobs.latency", IN)]
    assert found[0].severity is Severity.CRITICAL


async def test_failed_notifications_rate(tree: Path) -> None:
    """1 failed notification for 50 results (2 %) is jobs.failed_notifications CRITICAL."""
    for i in range(50):
        write(tree / IN / f"r{i}.result.json", {})
    write(tree / FAILED / "n1.failed_notify.txt", raw=b"boom")
    found = await check(tree)
    assert codes(found) == [("jobs.failed_notifications", FAILED)]
    assert found[0].severity is Severity.CRITICAL


async def test_awkward_names_are_json_safe(tree: Path) -> None:
    """Names with spaces, unicode, <, >, quotes and invalid bytes come out as valid JSON."""
    out = os.fsencode(tree / OUT)
    for stem in (b'a b <x> "q" \xc3\xa9\xe2\x82\xac', b"bad\xff'"):
        fd = os.open(out + b"/" + stem + b".claimed", os.O_CREAT | os.O_WRONLY)
        os.write(fd, orjson.dumps({"claimed_at": iso_ago(900)}))
        os.close(fd)
    found = await check(tree)
    text = orjson.dumps([f.to_dict() for f in found]).decode()
    subjects = {f.subject for f in found if f.code == "jobs.stale_claim"}
    assert subjects == {f'{OUT}/a b <x> "q" é€.claimed', f"{OUT}/bad\\xff'.claimed"}
    assert '\\"q\\"' in text
