"""daemon/checks/journal_decide.py: journal observations in, findings out (pure, as tables)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from daemon.checks import journal_decide as d
from daemon.config import load_config
from daemon.model import Severity
from daemon.sources import journal_obs as o
from daemon.sources.ledger_snapshot import Snapshot

C, H, M = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM
LIM = d.Limits("j.jsonl", torn_tail_grace_s=60.0)
DELTA_WHY = "delta is not a finite decimal (a JSON number or a string holding one)"

# -- one line: every kind of observation, its code, severity, message and evidence ------------

LINES: list[tuple[o.LineFact, str, Severity, str, dict[str, Any]]] = [
    (o.CorruptLine(3, 40, "not JSON", "{oops"), "journal.corrupt_line", C,
     "line 3 is not a JSON object (not JSON)", {"reason": "not JSON", "text": "{oops"}),
    (o.OversizedLine(4, 50, 2000, 1024), "journal.oversized_line", H,
     "line 4 is 2000 bytes, over journal.max_line_bytes (1024); skipped",
     {"bytes": 2000, "limit": 1024}),
    (o.InvalidField(5, 60, "key"), "journal.invalid_field", H,
     "line 5: idempotency key is not a string", {"reason": "idempotency key is not a string"}),
    (o.InvalidField(5, 60, "account"), "journal.invalid_field", H,
     "line 5: account is not a string or integer",
     {"reason": "account is not a string or integer"}),
    (o.InvalidField(5, 60, "delta", "a1"), "journal.invalid_field", H, f"line 5: {DELTA_WHY}",
     {"reason": DELTA_WHY, "account": "a1"}),
    (o.InvalidField(5, 60, "sequence"), "journal.invalid_field", H,
     "line 5: sequence is not an integer", {"reason": "sequence is not an integer"}),
    (o.NonFiniteDelta(6, 70, 42), "ledger.non_finite", C,
     "line 6: non-finite delta for account 42; not applied", {"account": 42}),
    (o.SequenceGap(7, 80, 9, 7), "journal.sequence_gap", H, "line 7: sequence 9 after 7",
     {"sequence": 9, "previous": 7}),
    (o.OrphanDecision(8, 90, "r1"), "ledger.orphan_decision", H,
     "decision for request r1 that was never requested", {"request_id": "r1"}),
    (o.ApprovalRace(9, 99, "r1", 8), "ledger.approval_race", C,
     "request r1 decided again at line 9 (first at 8)", {"request_id": "r1", "first_line": 8}),
    (o.DuplicateKey(10, 120, b'"k1"', (2, 15)), "journal.duplicate_key", C,
     "idempotency key 'k1' seen again at line 10 (first at line 2)",
     {"key": "k1", "first_line": 2, "first_offset": 15}),
    (o.DuplicateKey(10, 120, b"17", None), "journal.duplicate_key", C,
     "idempotency key 17 seen again at line 10",
     {"key": 17, "first_line": None, "first_offset": None}),
]


@pytest.mark.parametrize(("fact", "code", "severity", "message", "evidence"), LINES)
def test_line_observation_becomes_its_event(fact: o.LineFact, code: str, severity: Severity,
                                            message: str, evidence: dict[str, Any]) -> None:
    """Each line observation is one event finding about `path:line`, evidence + line/offset."""
    [found] = d.line_findings([fact], "j.jsonl")
    assert (found.code, found.severity, found.kind) == (code, severity, "event")
    assert (found.subject, found.message) == (f"j.jsonl:{fact.line}", message)
    assert found.evidence == {**evidence, "line": fact.line, "offset": fact.offset}
    assert list(found.evidence)[-2:] == ["line", "offset"]


@pytest.mark.parametrize(("raw", "text"), [
    (b'"k1"', "k1"), (b"17", 17), (b"[1, 2]", "[1, 2]"), (b"{bad", "{bad"),
    (b'"\\u00e9"', "\u00e9")])
def test_key_text_is_the_json_value_or_the_raw_text(raw: bytes, text: Any) -> None:
    """A key is shown as its JSON value (strings, ints; others as repr), else its raw text."""
    assert d.key_text(raw) == text


# -- the file ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("obs", "reason", "evidence"), [
    (o.Rewritten("shrank", 300, 7, 10), "shrank from 300 to 10 bytes", {"offset": 300, "line": 7}),
    (o.Rewritten("changed", 300, 7), "bytes already verified changed", {"offset": 300, "line": 7}),
    (o.Rewritten("replaced", 300, 7), "replaced by a new file", {"offset": 300, "line": 7}),
    (o.Rewritten("changed", 300), "bytes already verified changed", {"offset": 300}),
])
def test_rewritten_names_how(obs: o.Rewritten, reason: str, evidence: dict[str, Any]) -> None:
    """journal.rewritten says how append-only broke and how far the file was verified."""
    found = d.rewritten("j.jsonl", obs)
    assert (found.code, found.severity, found.subject) == ("journal.rewritten", C, "j.jsonl")
    assert found.message == f"j.jsonl was rewritten: {reason}"
    assert found.evidence == {"reason": reason, **evidence}


def test_unavailable_names_the_reason() -> None:
    """An unreadable file is source.unavailable carrying the system's reason."""
    obs = o.Unavailable.of("j.jsonl", PermissionError(13, "Permission denied"))
    found = d.unavailable(obs)
    assert (found.code, found.severity, found.message) == (
        "source.unavailable", H, "j.jsonl: Permission denied")
    assert found.evidence == {"path": "j.jsonl", "error": "Permission denied"}


@pytest.mark.parametrize(("tail", "grace", "findings"), [
    (o.Tail(100, 0, 999.0), 60.0, []),
    (o.Tail(100, 10, 60.0), 60.0, []),
    (o.Tail(100, 10, 60.04), 60.0, [("unterminated last line (10 bytes) unchanged for 60s",
                                     {"offset": 100, "bytes": 10, "age_s": 60.0})]),
    (o.Tail(100, 10, 31.0), 30.0, [("unterminated last line (10 bytes) unchanged for 31s",
                                    {"offset": 100, "bytes": 10, "age_s": 31.0})]),
])
def test_torn_tail_only_after_the_grace(tail: o.Tail, grace: float, findings: list[Any]) -> None:
    """An unterminated last line is torn only when it outlives the grace period."""
    found = d.torn_tail("j.jsonl", tail, grace)
    assert [(f.message, f.evidence) for f in found] == findings
    assert all((f.code, f.severity) == ("journal.torn_tail", H) for f in found)


# -- the books ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("negative", "allow", "expected"), [
    ([], False, []),
    ([("a", Decimal("-1.5")), (7, -2)], False,
     [("a", "account a balance is -1.5", {"account": "a", "balance": "-1.5"}),
      ("7", "account 7 balance is -2", {"account": "7", "balance": "-2"})]),
    ([("a", Decimal("-1.5"))], True, []),
])
def test_negative_balances(negative: list[Any], allow: bool, expected: list[Any]) -> None:
    """One ledger.negative_balance per account below zero, unless negatives are allowed."""
    found = d.negative_balances(negative, allow)
    assert [(f.subject, f.message, f.evidence) for f in found] == expected
    assert all((f.code, f.severity) == ("ledger.negative_balance", C) for f in found)


@pytest.mark.parametrize(("count", "expected"), [
    (0, []), (3, [("3 events without corr", {"count": 3, "field": "corr"})])])
def test_missing_correlation_is_one_finding_with_the_count(count: int,
                                                           expected: list[Any]) -> None:
    """Events without a correlation id give one MEDIUM finding carrying their count."""
    found = d.missing_correlation(count, "j.jsonl", "corr")
    assert [(f.message, f.evidence) for f in found] == expected
    assert all((f.code, f.severity) == ("journal.missing_correlation_id", M) for f in found)


def _diff(counters: dict[str, list[int]], accounts: int, keys: tuple[int, int]) -> o.BookDiff:
    return o.BookDiff(500, counters, [(f"a{i:02}", i, i + 1) for i in range(accounts)], keys)


@pytest.mark.parametrize(("diff", "message", "sample"), [
    (_diff({}, 0, (4, 4)), None, 0),
    (_diff({}, 0, (4, 5)), "0 accounts, 0 counters", 0),
    (_diff({"events": [3, 4]}, 0, (4, 4)), "0 accounts, 1 counters", 0),
    (_diff({}, 25, (4, 4)), "25 accounts, 0 counters", 20),
])
def test_replay_mismatch(diff: o.BookDiff, message: str | None, sample: int) -> None:
    """Any difference is journal.replay_mismatch; the evidence shows at most 20 accounts."""
    found = d.mismatch("j.jsonl", diff)
    if message is None:
        assert found == []
        return
    [f] = found
    assert (f.code, f.severity) == ("journal.replay_mismatch", C)
    assert f.message == ("full replay disagrees with the incremental state up to byte 500: "
                         + message)
    assert len(f.evidence["accounts"]) == sample
    assert f.evidence["accounts_differing"] == len(diff.accounts)
    assert f.evidence["keys"] == list(diff.keys) and f.evidence["counters"] == diff.counters
    if sample:
        assert f.evidence["accounts"]["a00"] == ["0", "1"]


# -- the snapshot ------------------------------------------------------------------------------

SNAP = Snapshot({"a": Decimal("10"), "b": Decimal("2.5")}, None, ["c"])
SNAP_AT = Snapshot({"a": Decimal("10")}, 4)


@pytest.mark.parametrize(("obs", "explicit", "expected"), [
    (o.SnapshotAbsent("s.json", "No such file"), False, []),
    (o.SnapshotAbsent("s.json", "No such file"), True,
     [("source.unavailable", "s.json", {"path": "s.json", "error": "No such file"})]),
    (o.Unavailable("s.json", "a FIFO"), False,
     [("source.unavailable", "s.json", {"path": "s.json", "error": "a FIFO"})]),
    (o.SnapshotCorrupt("s.json", "not JSON"), False,
     [("ledger.snapshot_corrupt", "s.json", {"reason": "not JSON"})]),
    (o.SnapshotRead("s.json", SNAP, None, ("c",)), False,
     [("ledger.non_finite", "s.json:c", {"account": "c", "snapshot": "s.json"})]),
    (o.SnapshotRead("s.json", SNAP, {"a": Decimal(10), "b": Decimal("2.5")}), False, []),
    (o.SnapshotRead("s.json", SNAP, {"a": Decimal(10), "b": Decimal("2.5000001")}), False, []),
    (o.SnapshotRead("s.json", SNAP, {"a": Decimal(10), "b": Decimal(2)}, ("c",)), False,
     [("ledger.non_finite", "s.json:c", {"account": "c", "snapshot": "s.json"}),
      ("ledger.drift", "b", {"account": "b", "expected": "2", "actual": "2.5",
                             "difference": "0.5", "snapshot": "s.json", "event_count": None})]),
    (o.SnapshotRead("s.json", SNAP_AT, {"a": Decimal(9), "z": Decimal(1)}), False,
     [("ledger.drift", "a", {"account": "a", "expected": "9", "actual": "10",
                             "difference": "1", "snapshot": "s.json", "event_count": 4}),
      ("ledger.drift", "z", {"account": "z", "expected": "1", "actual": "0",
                             "difference": "-1", "snapshot": "s.json", "event_count": 4})]),
])
def test_snapshot(obs: o.SnapshotObs, explicit: bool, expected: list[Any]) -> None:
    """Each snapshot observation gives its findings; drifts beyond the tolerance only."""
    found = d.snapshot_findings(obs, LIM._replace(snapshot_explicit=explicit))
    assert [(f.code, f.subject, f.evidence) for f in found] == expected


def test_drift_message_shows_both_sides() -> None:
    """A drift says what the snapshot and the replay hold, and the difference."""
    [f] = d.snapshot_findings(o.SnapshotRead("s.json", SNAP_AT, {"a": Decimal(9)}), LIM)
    assert (f.severity, f.message) == (C, "snapshot says 10, replay says 9 (diff 1)")


def test_tolerance_comes_from_the_limits() -> None:
    """A wider tolerance hides a small drift."""
    obs = o.SnapshotRead("s.json", SNAP_AT, {"a": Decimal("9.9")})
    assert [f.code for f in d.snapshot_findings(obs, LIM)] == ["ledger.drift"]
    assert d.snapshot_findings(obs, LIM._replace(drift_tolerance=0.2)) == []


# -- one pass ----------------------------------------------------------------------------------


def test_unavailable_journal_is_the_only_finding() -> None:
    """A pass that could not open the journal reports that alone."""
    obs = o.Observed(unavailable=o.Unavailable("j.jsonl", "No such file"),
                     missing_correlation=3)
    assert [f.code for f in d.judge(obs, LIM)] == ["source.unavailable"]


def test_a_pass_reports_in_the_source_order() -> None:
    """Rewritten first, then the lines, then conditions, then the snapshot and a mismatch."""
    obs = o.Observed(
        rewritten=o.Rewritten("shrank", 9, 1, 3),
        lines=[o.CorruptLine(1, 0, "x", "y"), o.SequenceGap(2, 5, 4, 2)],
        negative=[("a", -1)], missing_correlation=2, tail=o.Tail(9, 4, 61.0),
        snapshot=o.SnapshotCorrupt("s.json", "bad"), mismatch=_diff({}, 1, (0, 0)))
    assert [f.code for f in d.judge(obs, LIM)] == [
        "journal.rewritten", "journal.corrupt_line", "journal.sequence_gap",
        "ledger.negative_balance", "journal.missing_correlation_id", "journal.torn_tail",
        "ledger.snapshot_corrupt", "journal.replay_mismatch"]


def test_a_healthy_pass_has_no_findings() -> None:
    """Nothing observed wrong: no findings."""
    obs = o.Observed(tail=o.Tail(9, 0, 500.0), snapshot=o.SnapshotRead("s.json", SNAP_AT, None))
    assert d.judge(obs, LIM) == []


@pytest.mark.parametrize(("journal", "ledger", "expected"), [
    ({}, {}, d.Limits("storage/events/credits.jsonl")),
    ({"correlation_field": "cid", "torn_tail_grace": "5m", "snapshot": "s.json"},
     {"allow_negative": True, "drift_tolerance": 0.5},
     d.Limits("storage/events/credits.jsonl", "cid", 300.0, True, 0.5, True)),
])
def test_limits_come_from_the_config(tmp_path: Any, journal: dict[str, Any],
                                     ledger: dict[str, Any], expected: d.Limits) -> None:
    """The judgements' limits are the `[journal]` and `[ledger]` settings (real seconds)."""
    cfg = load_config(None, root=str(tmp_path), overrides={"journal": journal, "ledger": ledger})
    assert d.limits(cfg) == expected
