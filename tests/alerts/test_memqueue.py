"""The in-memory outbox (issue 18 item 2): ordered per channel, bounded, settled like SQLite."""

from __future__ import annotations

from daemon.alerts.memqueue import MemQueue, Unsaved


def test_oldest_first_per_channel_and_settled() -> None:
    q = MemQueue()
    for i, ch in enumerate(["a", "b", "a"]):
        q.put(f"m{i}", ch, {"n": i}, float(i))
    first = q.next_pending("a")
    assert first is not None and first.msg_id == "m0" and first.id < 0
    q.claim(first.id)
    q.retry_later(first.id, 99.0, "503")
    again = q.next_pending("a")
    assert again is not None and (again.msg_id, again.attempts, again.next_at) == ("m0", 1, 99.0)
    q.delivered(first.id)
    assert [q.next_pending(c).msg_id for c in "ab"] == ["m2", "m1"]
    assert q.next_pending("c") is None


def test_bounded_drops_the_oldest_and_counts() -> None:
    q = MemQueue(limit=3)
    dropped = [q.put(f"m{i}", "a", {}, 0.0) for i in range(5)]
    assert dropped == [0, 0, 0, 1, 1] and q.dropped == 2
    assert [r.msg_id for r in q.idle()] == ["m2", "m3", "m4"]


def test_a_message_in_flight_is_not_moved_to_sqlite() -> None:
    q = MemQueue()
    q.put("m0", "a", {}, 0.0)
    q.put("m1", "a", {}, 0.0)
    q.claim(q.next_pending("a").id)
    idle = q.idle()
    assert [r.msg_id for r in idle] == ["m1"]
    q.forget(idle)
    assert len(q) == 1 and q.next_pending("a").msg_id == "m0"


def test_gone_channel_and_permanent_failure_leave_nothing() -> None:
    q = MemQueue()
    q.put("m0", "a", {}, 0.0)
    q.put("m1", "b", {}, 0.0)
    q.drop_channel("a")
    q.give_up(q.next_pending("b").id, "failed", "400")
    assert len(q) == 0


def test_unsaved_accumulates_what_memory_decided() -> None:
    u = Unsaved()
    u.keep(["fp1"], {("fp2", 1.0): {"x": 1}}, {("fp3", "d")})
    u.keep(["fp4"], {}, set())
    assert (u.removed, u.batches, set(u.episodes), u.digests) == (
        {"fp1", "fp4"}, 2, {("fp2", 1.0)}, {("fp3", "d")})
