"""A job requeued while burnin was down is a duplicate whatever order a fresh scan reads the
folders in (it goes by folder name: with `queue/` for jobs and `results/` for results the
pending file is indexed first, and the requeue was lost after a restart)."""

from __future__ import annotations

from tests.jobs.test_index import NOW, index, obs


def test_requeue_seen_by_a_fresh_scan_is_a_duplicate() -> None:
    ix = index()
    ix.put("pending", obs("o", "j.job.json", age=10.0), NOW, live=False)
    ix.put("results", obs("i", "j.result.json", b'{"job_id": "j"}', age=60.0), NOW, live=False)
    events = ix.drain()
    assert [(e.code, e.reason, e.rel) for e in events] == [
        ("jobs.duplicate_processing", "requeued after its result", "o/j.job.json")]
    ix.put("results", obs("i", "j.result.json", b'{"job_id": "j"}', age=60.0), NOW, live=False)
    assert ix.drain() == []


def test_pending_older_than_its_result_is_not_a_duplicate() -> None:
    ix = index()
    ix.put("pending", obs("o", "k.job.json", age=90.0), NOW, live=False)
    ix.put("results", obs("i", "k.result.json", b'{"job_id": "k"}', age=60.0), NOW, live=False)
    assert [e.code for e in ix.drain()] == []


def test_live_requeue_still_reported_once() -> None:
    ix = index()
    ix.put("results", obs("i", "m.result.json", b'{"job_id": "m"}', age=60.0), NOW, live=False)
    ix.put("pending", obs("o", "m.job.json", age=1.0), NOW, live=True)
    ix.put("results", obs("i", "m.result.json", b'{"job_id": "m"}', age=60.0), NOW, live=False)
    assert [e.reason for e in ix.drain()] == ["requeued after its result"]
