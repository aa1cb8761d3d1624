"""The two-core replay of a one-shot check gives the sequential replay's result, exactly."""

from __future__ import annotations

import os
import zlib
from decimal import Decimal
from typing import Any

import pytest

from daemon.sources import journal_split as split
from tests.journal.conftest import Tree, event, run_pass

pytestmark = pytest.mark.anyio
MERGE_ALL, RECEIVE = split._merge_all, split._receive  # as defined (each test wraps them)


def test_crc32_combine_is_zlibs() -> None:
    """crc32(A+B) from crc32(A), crc32(B) and len(B), for empty and long pieces."""
    for n1, n2 in ((0, 0), (0, 7), (7, 0), (1000, 12_345), (3, 1 << 20)):
        a, b = os.urandom(n1), os.urandom(n2)
        assert split.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


async def replay(tree: Tree, monkeypatch: pytest.MonkeyPatch, *, two: bool) -> dict[str, Any]:
    """A one-shot position pass, in pieces on two cores (any size) or not; what it reports
    and keeps, and how the pieces were put together."""
    monkeypatch.setattr(split, "MIN_BYTES", 0 if two else 1 << 60)
    monkeypatch.setattr(split, "SMALL_READ", 0 if two else 1 << 60)
    at_once: list[bool] = []
    real = MERGE_ALL
    monkeypatch.setattr(split, "_merge_all", lambda *a: at_once.append(real(*a)) or at_once[-1])
    received: list[int] = []
    receive = RECEIVE
    monkeypatch.setattr(split, "_receive", lambda fd: received.append(
        len((got := receive(fd) or ({}, []))[0])) or got)
    src = tree.env(oneshot=True).sources.get("journal")
    out = await run_pass(src, tree.clock.time())
    book = src.book
    out.metrics.pop("keys_table_bytes")  # the filter's size depends on when it was last grown
    return {"findings": sorted((f.code, f.subject, repr(sorted(f.evidence.items())))
                               for f in out.findings),
            "metrics": out.metrics, "crc": src.pos.crc, "keys": book.key_count,
            "balances": [(a, str(v)) for a, v in book.balances.items()],
            "at": [book.balances_at(n) for n in (0, 1, out.metrics["events"] // 2,
                                                 out.metrics["events"] - 3)],
            "at_once": at_once, "received": received}


def healthy(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [event(i, account=f"acc{i % 7}", delta=f"{i % 13}.{i % 100:02d}")
            for i in range(start, start + n)]


CASES = {
    "clean": lambda: [healthy(3000)],
    "corrupt in the second half": lambda: [healthy(2000), [b"{oops\n"], healthy(900, 2000)],
    "key seen in both halves": lambda: [healthy(2000), healthy(1, 5)],
    "approvals in the second half": lambda: [healthy(2000), [
        event(9000, event_type="approval.requested", request_id="R1"),
        event(9001, event_type="approval.approved", request_id="R1"),
        event(9002, event_type="approval.approved", request_id="R2")], healthy(1000, 2000)],
    "string and exponent deltas": lambda: [healthy(1000), [event(8000, delta="1e3")],
                                           [event(i, delta=f"-{i}.5") for i in range(1000, 3000)]],
    "torn tail": lambda: [healthy(3000), [b'{"agent_id": "acc1", "delta": 1']],
    "torn tail and missing correlation ids": lambda: [
        healthy(1000), [dict(event(8000), correlation_id="")], healthy(2000, 1000),
        [b'{"agent_id": "acc1", "delta": 1']],
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_split_replay_equals_sequential(tree: Tree, monkeypatch: pytest.MonkeyPatch,
                                              case: str) -> None:
    """Findings, counters, balances (value and exponent), keys, fingerprint and history."""
    for part in CASES[case]():
        tree.append(*part)
    one = await replay(tree, monkeypatch, two=False)
    assert one["at_once"] == [] and one["received"] == []
    for child_takes_all in (False, True):
        if child_takes_all:
            parent_takes_no_piece(monkeypatch)
        two = await replay(tree, monkeypatch, two=True)
        assert two["at_once"] == [case in ("clean", "torn tail")]  # else: piece by piece
        assert not child_takes_all or two["received"][0] >= 1  # its halves were sent
        for key in ("findings", "metrics", "crc", "keys", "balances", "at"):
            assert two[key] == one[key], (key, child_takes_all)


def parent_takes_no_piece(monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked child takes every piece (the parent only merges): what it sends is used."""
    parent, take = os.getpid(), split._take
    monkeypatch.setattr(split, "_take",
                        lambda *a: ({}, []) if os.getpid() == parent else take(*a))


async def test_a_failing_child_leaves_its_pieces_to_the_parent(
        tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that dies (here: cannot send its pieces) changes nothing but the speed."""
    tree.append(*healthy(3000))
    one = await replay(tree, monkeypatch, two=False)
    parent_takes_no_piece(monkeypatch)
    monkeypatch.setattr(split, "_payload", lambda *a: 1 / 0)
    two = await replay(tree, monkeypatch, two=True)
    assert two["at_once"] == [False] and two["received"] == [0]
    assert two["balances"] == one["balances"]
    assert two["metrics"] == one["metrics"] and two["crc"] == one["crc"]
    assert Decimal(two["balances"][0][1]) > 0


async def test_no_fork_means_one_process(tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """fork failing (no memory, no process slot) leaves the whole replay to the process."""
    tree.append(*healthy(3000))
    one = await replay(tree, monkeypatch, two=False)

    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(split.os, "fork", refuse)
    two = await replay(tree, monkeypatch, two=True)
    assert two["at_once"] == [False] and two["received"] == []
    assert two["metrics"] == one["metrics"] and two["crc"] == one["crc"]
