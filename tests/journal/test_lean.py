"""The lean pass (journal_lean) gives the exact path's replay, finding for finding.

Each case is replayed three ways by a one-shot check: the exact path alone, the lean pass in
one process, and the lean pass on two cores; batches are made tiny so a journal of a few
hundred lines spans many of them (and the cut falls between them).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from daemon.sources import journal_lean as lean
from daemon.sources import journal_split as split
from tests.journal.conftest import Tree, event, run_pass

pytestmark = pytest.mark.anyio
MODES = {"exact": (1 << 60, 1 << 60), "lean": (0, 1 << 60), "lean, two cores": (0, 0)}


async def replay(tree: Tree, monkeypatch: pytest.MonkeyPatch, mode: str) -> dict[str, Any]:
    """What a one-shot position pass reports and keeps, with the lean pass on or off."""
    small_read, min_bytes = MODES[mode]
    monkeypatch.setattr(split, "SMALL_READ", small_read)
    monkeypatch.setattr(split, "MIN_BYTES", min_bytes)
    monkeypatch.setattr(lean, "CHUNK", 2048)
    src = tree.env(oneshot=True).sources.get("journal")
    out = await run_pass(src, tree.clock.time())
    book, events = src.book, out.metrics["events"]
    out.metrics.pop("keys_table_bytes")  # the filter's size depends on when it was last grown
    return {"findings": sorted((f.code, f.subject, repr(sorted(f.evidence.items())))
                               for f in out.findings),
            "metrics": out.metrics, "crc": src.pos.crc, "lines": src.pos.lines,
            "keys": book.key_count, "balances": [(a, str(v)) for a, v in book.balances.items()],
            "at": [book.balances_at(n) for n in (0, 1, events // 2, events - 3, events)]}


def healthy(n: int, start: int = 0, accounts: int = 7) -> list[dict[str, Any]]:
    return [event(i, account=f"acc{i % accounts}", delta=f"{i % 13}.{i % 100:02d}")
            for i in range(start, start + n)]


def raw(obj: dict[str, Any], **texts: str) -> bytes:
    """A line whose fields in `texts` hold the given JSON text verbatim."""
    obj = {**obj, **dict.fromkeys(texts, "@@")}
    line = json.dumps(obj)
    for name, text in texts.items():
        line = line.replace(f'"{name}": "@@"', f'"{name}": {text}')
    return line.encode() + b"\n"


CASES: dict[str, Any] = {
    "clean": lambda: [healthy(400)],
    "accounts appearing late, int accounts": lambda: [
        healthy(150), healthy(100, 150, accounts=40),
        [event(i, account=i % 3, delta=i) for i in range(250, 300)], healthy(100, 300),
        [event(i, account=10**20 + i % 2) for i in range(400, 450)], healthy(100, 450)],
    "corrupt and non-ASCII lines": lambda: [
        healthy(150), [b"{oops\n"], healthy(100, 150),
        [raw(event(900), agent_id='"acc\\u00e9"'), event(901, account="accé")],
        healthy(100, 250)],
    "duplicate keys, near and far": lambda: [
        healthy(200), healthy(1, 5), healthy(100, 200), healthy(1, 250), healthy(50, 300)],
    "exponents, huge numbers and string deltas": lambda: [
        healthy(100), [raw(event(900), delta="1e3"), raw(event(901), delta="2.5E-3")],
        healthy(100, 100), [raw(event(902), delta="123456789012345678901234.5")],
        [event(i, delta=f"-{i}.25") for i in range(200, 300)],
        [raw(event(903), delta='"1e2"'), raw(event(904), delta='"NaN"')], healthy(50, 300)],
    "sums near the int64 limit": lambda: [
        [raw(event(i, account="big"), delta=f"99999999999999999.{i % 10}")
         for i in range(300)]],
    "approvals, also escaped": lambda: [
        healthy(150),
        [event(900, event_type="approval.requested", request_id="R1"),
         event(901, event_type="approval.approved", request_id="R1")],
        healthy(100, 150),
        [raw(event(902, request_id="R2"), event_type='"approval\\u002eapproved"')],
        healthy(100, 250)],
    "missing, empty and null correlation ids": lambda: [
        healthy(120), [dict(event(900), correlation_id="")], healthy(100, 120),
        [{k: v for k, v in event(901).items() if k != "correlation_id"}],
        [dict(event(902), correlation_id=None)], healthy(100, 220)],
    "invalid fields and types": lambda: [
        healthy(120), [event(900, account=True), event(901, delta=[1]),
                       raw(event(902), idempotency_key="7"), dict(event(903), event_type=5)],
        healthy(100, 120), [dict(event(904), extra={"deep": [1, 2, {"x": None}]})],
        healthy(100, 220)],
    "nesting too deep, a long line, blank lines": lambda: [
        healthy(120), [raw(event(900), extra="[" * 300 + "]" * 300)],
        healthy(100, 120), [event(901, note="x" * 5000)], [b"\n", b"  \n"],
        healthy(100, 220)],
    "torn tail": lambda: [healthy(300), [b'{"agent_id": "acc1", "delta": 1']],
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_lean_replay_equals_the_exact_path(tree: Tree, monkeypatch: pytest.MonkeyPatch,
                                                 case: str) -> None:
    """Findings, counters, balances (value, exponent and order), keys, fingerprint, history."""
    for part in CASES[case]():
        tree.append(*part)
    exact = await replay(tree, monkeypatch, "exact")
    for mode in ("lean", "lean, two cores"):
        got = await replay(tree, monkeypatch, mode)
        for key in exact:
            assert got[key] == exact[key], (mode, key)


async def test_the_lean_pass_covers_clean_batches(tree: Tree,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A clean journal is read by the lean pass up to its last complete line, and the
    learned decoder (known accounts and event types) takes most batches."""
    tree.append(*healthy(400), b'{"agent_id": "acc1"')
    taken: list[bool] = []
    real = lean._Decoders.decode
    monkeypatch.setattr(lean._Decoders, "decode",
                        lambda self, body: taken.append(bool(self.learned)) or real(self, body))
    seen: list[dict[str, Any]] = []
    merge = split._merge
    monkeypatch.setattr(split, "_merge", lambda book, pos, half: seen.append(half) or merge(
        book, pos, half))
    exact = await replay(tree, monkeypatch, "exact")
    got = await replay(tree, monkeypatch, "lean")
    assert got == exact
    assert [h["lines"] for h in seen] == [400] and seen[0]["offset"] == exact["metrics"]["offset"]
    assert len(taken) > 20 and taken.count(True) > len(taken) // 2



async def test_without_preadv_the_file_is_read_by_seek_and_read(
        tree: Tree, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the OS has no preadv (Windows), the lean pass reads through the file object."""
    tree.append(*healthy(300), b"{oops\n", *healthy(50, 300))
    exact = await replay(tree, monkeypatch, "exact")
    monkeypatch.delattr(lean.os, "preadv")
    seen: list[int] = []
    merge = split._merge
    monkeypatch.setattr(split, "_merge", lambda book, pos, half: seen.append(half["lines"])
                        or merge(book, pos, half))
    assert await replay(tree, monkeypatch, "lean") == exact
    assert seen and 250 < seen[0] <= 300  # the clean batches before the corrupt line
