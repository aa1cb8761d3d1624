"""The full replay (integrity) compared with the incremental state, and one-shot behaviour."""

from __future__ import annotations

from decimal import Decimal

import pytest

from daemon.checks.journal_integrity import JournalIntegrity
from daemon.checks.journal_position import JournalPosition
from tests.journal.conftest import Tree, codes, run_pass

pytestmark = pytest.mark.anyio


async def test_replay_of_a_healthy_journal_finds_nothing(tree: Tree) -> None:
    """After position runs, the hourly replay agrees and reports nothing."""
    env = tree.env()
    tree.events(0, 50)
    tree.append(b"[1]\n")
    src = env.sources.get("journal")
    await run_pass(src, tree.clock.time())
    assert (await run_pass(src, tree.clock.time(), "integrity")).findings == []


async def test_lost_incremental_state_is_a_replay_mismatch(tree: Tree) -> None:
    """An incremental state that disagrees with the replay is journal.replay_mismatch."""
    env = tree.env()
    tree.events(0, 10)
    src = env.sources.get("journal")
    await run_pass(src, tree.clock.time())
    src.book.balances["a1"] = Decimal(7)
    out = await run_pass(src, tree.clock.time(), "integrity")
    assert codes(out.findings) == ["journal.replay_mismatch"]
    assert out.findings[0].evidence["accounts"] == {"a1": ["7", "10"]}
    assert src.book.balances["a1"] == 10  # the replay is taken as the truth


async def test_verified_bytes_changed_is_rewritten_by_replay(tree: Tree) -> None:
    """A changed byte deep inside the verified range is found by the full replay."""
    env = tree.env()
    tree.events(0, 2000)
    src = env.sources.get("journal")
    await run_pass(src, tree.clock.time())
    with tree.journal.open("r+b") as fh:
        fh.seek(100_000)
        fh.write(b"#")
    out = await run_pass(src, tree.clock.time(), "integrity")
    assert "journal.rewritten" in codes(out.findings)


async def test_oneshot_integrity_after_position_adds_nothing(tree: Tree) -> None:
    """In `burnin check`, the position pass was the replay: no event is reported twice."""
    env = tree.env(oneshot=True)
    tree.append(b"{bad\n")
    position, integrity = JournalPosition(env), JournalIntegrity(env)
    first = await position.run(tree.tick())
    second = await integrity.run(tree.tick("integrity"))
    assert codes(first) == ["journal.corrupt_line"] and second == []


async def test_oneshot_integrity_alone_reports_everything(tree: Tree) -> None:
    """`burnin check --only integrity` does the pass itself and reports its findings."""
    env = tree.env(oneshot=True)
    tree.append(b"{bad\n")
    found = await JournalIntegrity(env).run(tree.tick("integrity"))
    assert codes(found) == ["journal.corrupt_line"]


async def test_progress_is_reported_for_a_full_read(tree: Tree) -> None:
    """A full read calls env.progress with bytes done and total."""
    seen: list[tuple[str, int, int]] = []
    env = tree.env(oneshot=True, progress=lambda *a: seen.append(a))
    tree.events(0, 100)
    await JournalPosition(env).run(tree.tick())
    size = tree.journal.stat().st_size
    assert seen[-1] == ("journal replay", size, size)


async def test_position_rule_publishes_metrics(tree: Tree) -> None:
    """The position rule publishes the journal figures under metrics['journal']."""
    env = tree.env()
    tree.events(0, 4)
    tick = tree.tick()
    await JournalPosition(env).run(tick)
    assert tick.metrics["journal"]["events"] == 4 and tick.metrics["journal"]["accounts"] == 1


async def test_rule_save_persists_state(tree: Tree) -> None:
    """Rule.save writes the journal state under the state folder."""
    env = tree.env()
    tree.events(0, 4)
    rule = JournalPosition(env)
    await rule.run(tree.tick())
    rule.save()
    assert (tree.state_dir / "journal.state").stat().st_size > 0
