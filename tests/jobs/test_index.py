"""The job index: what it remembers, what it reports once."""

from __future__ import annotations

import math

from daemon.sources import jobs_parse as jp
from daemon.sources.jobs_index import JobIndex, Obs, Settings

NOW = 2_000_000_000.0
PATS = {k: jp.split_pattern(k, p) for k, p in (
    ("pending", "o/*.job.json"), ("claims", "o/*.claimed"), ("results", "i/*.result.json"),
    ("failed", "f/*.failed_notify.txt"))}


def index() -> JobIndex:
    s = Settings(PATS, "created_at", "claimed_at", "completed_at", "job_id", 2.0, math.inf)
    return JobIndex(s, pid_alive=lambda pid: pid == 1)


def obs(folder: str, name: str, data: bytes | None = b"{}", age: float = 60.0,
        ns: int = 0) -> Obs:
    return Obs(folder, name, int((NOW - age) * 1e9) + ns, NOW - age, data)


def test_unreadable_reported_once_across_rescans() -> None:
    """The same unparsable file seen twice (events, rescans) is reported once."""
    ix = index()
    ix.put("results", obs("i", "x.result.json", b"{"), NOW, live=False)
    ix.put("results", obs("i", "x.result.json", b"{"), NOW, live=False)
    assert [e.code for e in ix.drain()] == ["jobs.unreadable_file"]


def test_recent_unparsable_is_not_judged() -> None:
    """A torn file modified within settle is left for a re-read (put returns False)."""
    ix = index()
    assert ix.put("pending", obs("o", "a.job.json", b"{", age=0.5), NOW, live=True) is False
    assert ix.drain() == [] and ix.counts()["pending"] == 0


def test_rewrite_of_complete_result_is_duplicate() -> None:
    """A complete result whose mtime changes is reported as rewritten."""
    ix = index()
    ix.put("results", obs("i", "r.result.json"), NOW, live=True)
    ix.put("results", obs("i", "r.result.json", ns=5), NOW, live=True)
    assert [e.reason for e in ix.drain()] == ["result rewritten after completion"]


def test_result_completing_a_torn_write_is_not_rewrite() -> None:
    """A result first seen unparsable, then complete, is one result, not a rewrite."""
    ix = index()
    ix.put("results", obs("i", "r.result.json", b"", age=10), NOW, live=True)
    ix.drain()
    ix.put("results", obs("i", "r.result.json", ns=5), NOW, live=True)
    assert ix.drain() == []


def test_result_removal_forgets_alias_id() -> None:
    """Dropping a result whose id came from its content frees that id."""
    ix = index()
    ix.put("results", obs("i", "r.result.json", b'{"job_id": "J"}'), NOW, live=False)
    ix.drop("results", "r.result.json")
    assert ix.alias_ids == {} and ix.result_alias == {} and ix.result_of("J") is None


def test_latency_from_job_time_seen_pending() -> None:
    """A result without created_at takes the job time remembered from its pending file."""
    ix = index()
    ix.put("pending", obs("o", "a.job.json", b'{"created_at": 100.0}'), NOW, live=True)
    ix.put("results", obs("i", "a.result.json", b'{"completed_at": 100.25}'), NOW, live=True)
    assert ix.samples.items() == [(100.25, 250.0)]


def test_claim_with_live_pid_not_gone() -> None:
    """A claim naming a running pid is not marked gone; a dead pid is."""
    ix = index()
    ix.put("claims", obs("o", "a.claimed", b'{"pid": 1}'), NOW, live=True)
    ix.put("claims", obs("o", "b.claimed", b'{"pid": 999}'), NOW, live=True)
    assert (ix.claims["a.claimed"].pid_gone, ix.claims["b.claimed"].pid_gone) == (False, True)


def test_live_claim_time_is_first_sight() -> None:
    """A marker claim seen by the watcher is timed at first sight, kept on later changes."""
    ix = index()
    ix.put("claims", obs("o", "a.claimed", b""), NOW, live=True)
    ix.put("claims", obs("o", "a.claimed", b"", ns=9), NOW + 5, live=True)
    assert ix.claims["a.claimed"].since == NOW
