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


def test_crc32_combine_is_zlibs() -> None:
    """crc32(A+B) from crc32(A), crc32(B) and len(B), for empty and long pieces."""
    for n1, n2 in ((0, 0), (0, 7), (7, 0), (1000, 12_345), (3, 1 << 20)):
        a, b = os.urandom(n1), os.urandom(n2)
        assert split.crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b)


async def replay(tree: Tree, monkeypatch: pytest.MonkeyPatch, *, two: bool) -> dict[str, Any]:
    """A one-shot position pass, split in two (any size) or not; what it reports and keeps."""
    monkeypatch.setattr(split, "MIN_BYTES", 0 if two else 1 << 60)
    merged: list[bool] = []
    real = split.merge
    monkeypatch.setattr(split, "merge", lambda *a: merged.append(real(*a)) or merged[-1])
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
            "merged": merged}


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
    two = await replay(tree, monkeypatch, two=True)
    assert two["merged"] == ([True] if case in ("clean", "string and exponent deltas",
                                                "torn tail and missing correlation ids")
                             else [False] if case == "key seen in both halves" else [])
    for key in ("findings", "metrics", "crc", "keys", "balances", "at"):
        assert two[key] == one[key], key


async def test_a_failing_child_leaves_the_half_to_the_parent(
        tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that dies (here: cannot reopen the file) changes nothing but the speed."""
    tree.append(*healthy(3000))
    one = await replay(tree, monkeypatch, two=False)
    monkeypatch.setattr(split, "_half", lambda *a: 1 / 0)
    two = await replay(tree, monkeypatch, two=True)
    assert two["merged"] == [] and two["balances"] == one["balances"]
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
    assert two["merged"] == [] and two["metrics"] == one["metrics"] and two["crc"] == one["crc"]
