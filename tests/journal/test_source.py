"""The journal source on real files: healthy trees, each defect, file lifecycle, restarts."""

from __future__ import annotations

import json
import os

import pytest
import structlog.testing

from tests.journal.conftest import Tree, codes, event, run_pass

pytestmark = pytest.mark.anyio


async def position(tree: Tree, env=None):  # type: ignore[no-untyped-def]
    env = env or tree.env()
    return await run_pass(env.sources.get("journal"), tree.clock.time())


async def test_empty_journal_is_healthy(tree: Tree) -> None:
    """An empty journal and no snapshot give no finding."""
    out = await position(tree)
    assert out.findings == [] and out.metrics["snapshot"] == "absent"


async def test_healthy_journal_with_matching_snapshot(tree: Tree) -> None:
    """Events plus a float-noisy snapshot that agrees give no finding."""
    tree.events(0, 3, delta=0.1)
    tree.snapshot({"balances": {"a1": 0.30000000000000004}})
    out = await position(tree)
    assert out.findings == [] and out.metrics["events"] == 3


async def test_lagging_snapshot_with_event_count_is_healthy(tree: Tree) -> None:
    """A snapshot taken 2 events ago (event_count) is compared at that point."""
    tree.events(0, 5, delta=2)
    tree.snapshot({"balances": {"a1": 6}, "event_count": 3})
    assert (await position(tree)).findings == []


async def test_drift_is_reported_per_account(tree: Tree) -> None:
    """A snapshot balance off beyond tolerance is ledger.drift for that account."""
    tree.events(0, 2, account="a1")
    tree.events(2, 3, account="a2")
    tree.snapshot({"a1": 2, "a2": 5})
    [found] = (await position(tree)).findings
    assert (found.code, found.subject, found.evidence["actual"]) == ("ledger.drift", "a2", "5")


@pytest.mark.parametrize("content", [b"not json", b"[1, 2]", b'{"a": "x"}'])
async def test_corrupt_snapshot_is_a_finding(tree: Tree, content: bytes) -> None:
    """A snapshot that is not a JSON object of balances is ledger.snapshot_corrupt."""
    tree.snapshot(content)
    assert codes((await position(tree)).findings) == ["ledger.snapshot_corrupt"]


async def test_explicit_missing_snapshot_is_unavailable(tree: Tree) -> None:
    """A snapshot path set in the config but absent is source.unavailable."""
    env = tree.env(journal={"snapshot": "runtime/other.json"})
    [found] = (await position(tree, env)).findings
    assert (found.code, found.subject) == ("source.unavailable", "runtime/other.json")


async def test_missing_journal_is_unavailable(tree: Tree) -> None:
    """No journal file: source.unavailable with the relative path."""
    tree.journal.unlink()
    [found] = (await position(tree)).findings
    assert (found.code, found.subject) == ("source.unavailable", "storage/events/credits.jsonl")


@pytest.mark.parametrize(("lines", "code"), [
    ([b"{broken\n"], "journal.corrupt_line"),
    ([b'["an", "array"]\n'], "journal.corrupt_line"),
    ([b'"a string"\n'], "journal.corrupt_line"),
    ([b"\x00" * 64 + b"\n"], "journal.corrupt_line"),
    ([b'{"agent_id": "a1", "delta": "5 EUR", "correlation_id": "c"}\n'], "journal.invalid_field"),
    ([b'{"agent_id": "a1", "delta": NaN, "correlation_id": "c"}\n'], "ledger.non_finite"),
    ([json.dumps(event(1)).encode() + b"\n"] * 2, "journal.duplicate_key"),
    ([json.dumps(event(1, delta=-5)).encode() + b"\n"], "ledger.negative_balance"),
    ([b'{"agent_id": "a1", "delta": 1}\n'], "journal.missing_correlation_id"),
])
async def test_each_defect_has_its_code(tree: Tree, lines: list[bytes], code: str) -> None:
    """Each journal/ledger defect is reported with its SPEC code."""
    tree.events(100, 102)
    tree.append(*lines)
    assert codes((await position(tree)).findings) == [code]


async def test_sequence_gap_when_configured(tree: Tree) -> None:
    """With journal.sequence_field set, a skipped number is journal.sequence_gap."""
    tree.append(event(1, seq=1), event(2, seq=2), event(3, seq=5))
    env = tree.env(journal={"sequence_field": "seq"})
    assert codes((await position(tree, env)).findings) == ["journal.sequence_gap"]


async def test_events_are_reported_once_conditions_every_run(tree: Tree) -> None:
    """A corrupt line is reported on the first run only; a negative balance on every run."""
    tree.append(b"{oops\n", event(1, delta=-1))
    env = tree.env()
    first = await position(tree, env)
    tree.events(2, 3, account="b")
    second = await position(tree, env)
    assert codes(first.findings) == ["journal.corrupt_line", "ledger.negative_balance"]
    assert codes(second.findings) == ["ledger.negative_balance"]


async def test_only_new_bytes_are_read(tree: Tree) -> None:
    """A second run applies only the appended events."""
    env = tree.env()
    tree.events(0, 10)
    await position(tree, env)
    tree.events(10, 15)
    out = await position(tree, env)
    assert out.metrics["events"] == 15 and env.sources.get("journal").book.balances["a1"] == 15


async def test_unterminated_tail_within_grace_is_not_reported(tree: Tree) -> None:
    """A fresh line without its newline is an in-flight write."""
    tree.events(0, 2)
    tree.append(b'{"agent_id": "a1", "del')
    out = await position(tree)
    assert out.findings == [] and out.metrics["tail_bytes"] == 23


async def test_unterminated_tail_past_grace_is_torn(tree: Tree) -> None:
    """An unterminated line unchanged for longer than the grace is journal.torn_tail."""
    tree.events(0, 2)
    tree.append(b"\x00\x00\x00\x00")  # a NUL run left by a crash
    old = tree.clock.time() - 120
    os.utime(tree.journal, (old, old))
    assert codes((await position(tree)).findings) == ["journal.torn_tail"]


async def test_completed_tail_is_applied(tree: Tree) -> None:
    """When the in-flight line is completed, it is applied once."""
    env = tree.env()
    tree.append(b'{"agent_id": "a1", "delta": 4, "correlation_id": "c", ')
    await position(tree, env)
    tree.append(b'"idempotency_key": "z"}\n')
    out = await position(tree, env)
    assert out.findings == [] and out.metrics["events"] == 1


async def test_truncated_while_watched_is_rewritten(tree: Tree) -> None:
    """A journal cut to half its size is journal.rewritten and re-read from byte 0."""
    env = tree.env()
    tree.events(0, 10)
    await position(tree, env)
    data = tree.journal.read_bytes()
    with tree.journal.open("r+b") as fh:
        fh.truncate(len(data) // 2)
    out = await position(tree, env)
    assert codes(out.findings) == ["journal.rewritten"]
    assert out.metrics["events"] == 5 and out.metrics["offset"] < len(data)


async def test_verified_bytes_changed_in_place_is_rewritten(tree: Tree) -> None:
    """Editing a verified byte without changing the size is journal.rewritten."""
    env = tree.env()
    tree.events(0, 10)
    await position(tree, env)
    data = tree.journal.read_bytes().replace(b'"delta": 1', b'"delta": 9', 1)
    tree.journal.write_bytes(data)
    assert codes((await position(tree, env)).findings) == ["journal.rewritten"]


async def test_replaced_by_a_new_file_is_rewritten(tree: Tree) -> None:
    """A different file renamed over the journal is journal.rewritten."""
    env = tree.env()
    tree.events(0, 5)
    await position(tree, env)
    other = tree.journal.with_name("new.jsonl")
    other.write_bytes(b"".join(json.dumps(event(n, "z")).encode() + b"\n" for n in range(3)))
    os.replace(other, tree.journal)
    out = await position(tree, env)
    assert codes(out.findings) == ["journal.rewritten"]
    assert env.sources.get("journal").book.balances == {"z": 3}


async def test_replaced_by_a_longer_copy_continues(tree: Tree) -> None:
    """A new inode holding the verified bytes plus more is read on without a finding."""
    env = tree.env()
    tree.events(0, 5)
    await position(tree, env)
    copy = tree.journal.with_name("copy.jsonl")
    copy.write_bytes(tree.journal.read_bytes() + json.dumps(event(5)).encode() + b"\n")
    os.replace(copy, tree.journal)
    out = await position(tree, env)
    assert out.findings == [] and out.metrics["events"] == 6


async def test_rotation_finishes_the_old_file(tree: Tree) -> None:
    """Rename + new file: the old file's last events and the new file are both applied."""
    env = tree.env()
    tree.events(0, 5)
    await position(tree, env)
    tree.events(5, 7)
    os.rename(tree.journal, tree.journal.with_name("credits.jsonl.1"))
    tree.events(7, 10)
    out = await position(tree, env)
    src = env.sources.get("journal")
    assert out.findings == [] and src.book.balances["a1"] == 10 and out.metrics["rotations"] == 1
    assert (await run_pass(src, tree.clock.time(), "integrity")).findings == []


async def test_restart_mid_file_counts_each_event_once(tree: Tree) -> None:
    """After save and restart, reading continues: nothing twice, nothing skipped."""
    env = tree.env()
    tree.events(0, 7)
    tree.append(b"[1]\n")
    await position(tree, env)
    env.sources.get("journal").save()
    tree.events(7, 12)
    again = tree.env()
    out = await position(tree, again)
    assert out.findings == [] and out.metrics["events"] == 12
    assert again.sources.get("journal").book.balances["a1"] == 12


async def test_restart_after_rotation_finds_the_old_file(tree: Tree) -> None:
    """A restart after a rotation finishes the renamed file by its inode."""
    env = tree.env()
    tree.events(0, 3)
    await position(tree, env)
    env.sources.get("journal").save()
    tree.events(3, 4)
    os.rename(tree.journal, tree.journal.with_name("credits.jsonl.1"))
    tree.events(4, 6)
    out = await position(tree, tree.env())
    assert out.findings == [] and out.metrics["events"] == 6


async def test_damaged_state_file_is_discarded(tree: Tree) -> None:
    """A state file that does not load is ignored and the journal re-read."""
    tree.state_dir.mkdir()
    (tree.state_dir / "journal.state").write_bytes(b"garbage")
    tree.events(0, 3)
    with structlog.testing.capture_logs() as logs:
        out = await position(tree)
    assert out.findings == [] and out.metrics["events"] == 3
    assert [e["event"] for e in logs] == ["rule_state_discarded"]


async def test_unwritable_state_is_logged_and_saved_later(tree: Tree) -> None:
    """A state save that fails (here: a file where the folder should be) is logged, never
    raised into the rule, and retried at the next save."""
    tree.state_dir.parent.mkdir(parents=True, exist_ok=True)
    tree.state_dir.write_text("in the way")
    env = tree.env()
    tree.events(0, 3)
    await position(tree, env)
    src = env.sources.get("journal")
    with structlog.testing.capture_logs() as logs:
        src.save()
    assert [e["event"] for e in logs] == ["rule_state_save_failed"]
    tree.state_dir.unlink()
    src.save()
    assert (tree.state_dir / "journal.state").exists()


async def test_oneshot_writes_nothing(tree: Tree) -> None:
    """`burnin check` mode saves no state."""
    env = tree.env(oneshot=True)
    tree.events(0, 3)
    await position(tree, env)
    env.sources.get("journal").save()
    assert not tree.state_dir.exists()


async def test_fifty_megabyte_line_is_skipped_with_bounded_memory(tree: Tree) -> None:
    """A 50 MB line is journal.oversized_line; memory stays far below its size."""
    import tracemalloc

    tree.events(0, 2)
    with tree.journal.open("ab") as fh:
        fh.write(b'{"x": "' + b"y" * (50 << 20) + b'"}\n')
    tree.events(2, 4)
    tracemalloc.start()
    out = await position(tree)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert codes(out.findings) == ["journal.oversized_line"] and out.metrics["events"] == 4
    assert peak < 12 << 20


async def test_lagging_snapshot_reconciles_after_restart(tree: Tree) -> None:
    """The recent history survives a restart, so a lagging snapshot still reconciles."""
    env = tree.env()
    tree.events(0, 5, delta=2)
    await position(tree, env)
    env.sources.get("journal").save()
    tree.snapshot({"balances": {"a1": 8}, "event_count": 4})
    assert (await position(tree, tree.env())).findings == []


async def test_state_of_another_config_is_discarded(tree: Tree) -> None:
    """A state saved under different journal settings is not reused."""
    env = tree.env()
    tree.events(0, 3)
    await position(tree, env)
    env.sources.get("journal").save()
    other = tree.env(journal={"account_field": "owner"})
    out = await position(tree, other)
    assert out.metrics["events"] == 3 and out.metrics["accounts"] == 0


async def test_journal_that_is_a_folder_is_unavailable(tree: Tree) -> None:
    """A folder where the journal should be is source.unavailable, not a crash."""
    tree.journal.unlink()
    tree.journal.mkdir()
    assert codes((await position(tree)).findings) == ["source.unavailable"]


async def test_crlf_line_endings_are_events(tree: Tree) -> None:
    """Lines ending in \\r\\n are read as events."""
    tree.append(json.dumps(event(1)).encode() + b"\r\n")
    out = await position(tree)
    assert out.findings == [] and out.metrics["events"] == 1
