"""daemon/sim/ledger.py: the reference system's journal and its own projection."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from daemon.sim.ledger import Ledger


def test_replay_rebuilds_the_balances(tmp_path: Path) -> None:
    """A restarted worker gets back the balances its journal holds, exactly."""
    journal = tmp_path / "credits.jsonl"
    ledger = Ledger(journal)
    ledger.append(0.0, "credit.granted", "agent-1", "k1", "j1", delta=10.0)
    ledger.append(0.0, "credit.consumed", "agent-1", "k2", "j1", delta=-0.1)
    again = Ledger.replay(journal)
    assert again.balance("agent-1") == Decimal("9.9") and again.event_count == 2


def test_replay_skips_garbage_and_a_torn_tail(tmp_path: Path) -> None:
    """Lines that are not JSON objects and an unterminated last line are not applied."""
    journal = tmp_path / "credits.jsonl"
    good = json.dumps({"agent_id": "a", "delta": 2}).encode()
    journal.write_bytes(b"{bad\n[1]\n" + good + b"\n" + good)
    ledger = Ledger.replay(journal)
    assert ledger.balance("a") == Decimal(2) and ledger.event_count == 1


def test_snapshot_offsets_simulate_drift(tmp_path: Path) -> None:
    """A snapshot with an offset shows that account off by it; the count is unchanged."""
    ledger = Ledger(tmp_path / "credits.jsonl")
    ledger.append(0.0, "credit.granted", "a", "k1", "j1", delta=1.0)
    snap = ledger.snapshot({"a": Decimal("7.5"), "b": Decimal(1)})
    assert snap == {"balances": {"a": 8.5, "b": 1.0}, "event_count": 1}


def test_keys_are_tracked_only_when_asked(tmp_path: Path) -> None:
    """Idempotency keys are kept with track_keys, and not otherwise (flat worker memory)."""
    tracked, plain = Ledger(tmp_path / "t.jsonl", track_keys=True), Ledger(tmp_path / "p.jsonl")
    for ledger in (tracked, plain):
        ledger.append(0.0, "credit.granted", "a", "k1", "j1", delta=1.0)
    assert (tracked.keys, plain.keys) == (["k1"], [])
