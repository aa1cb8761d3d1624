"""daemon/sources/journal.py: the incremental journal source on a real file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from daemon.sources.journal import JournalSource
from daemon.sources.journal_obs import CorruptLine, Rewritten
from tests.journal.conftest import Tree, event, run_pass

pytestmark = pytest.mark.anyio


@pytest.fixture
def jtree(seed_tree: Path, tmp_path: Path) -> Any:
    t = Tree(seed_tree, tmp_path)
    yield t
    for hub in t.hubs:
        hub.close()


def _source(tree: Tree) -> JournalSource:
    source = tree.env().sources.get("journal")
    assert isinstance(source, JournalSource)
    return source


async def test_each_pass_reads_only_new_lines(jtree: Tree) -> None:
    """A second position pass applies only the lines appended since the first."""
    jtree.events(0, 3)
    source = _source(jtree)
    await run_pass(source, jtree.clock.time())
    jtree.events(3, 5)
    out = await run_pass(source, jtree.clock.time())
    assert out.metrics["events"] == 5 and source.pos.lines == 5


async def test_shrunk_journal_is_rewritten(jtree: Tree) -> None:
    """A journal shorter than what was read is journal.rewritten."""
    jtree.events(0, 3)
    source = _source(jtree)
    await run_pass(source, jtree.clock.time())
    with jtree.journal.open("r+b") as fh:
        fh.truncate(10)
    out = await run_pass(source, jtree.clock.time())
    assert "journal.rewritten" in [f.code for f in out.findings]


async def test_missing_journal_is_unavailable(jtree: Tree) -> None:
    """A journal that cannot be opened is source.unavailable, not an exception."""
    os.unlink(jtree.journal)
    out = await run_pass(_source(jtree), jtree.clock.time())
    assert [f.code for f in out.findings] == ["source.unavailable"]
    assert out.metrics == {"available": False}


async def test_integrity_pass_agrees_with_the_incremental_state(jtree: Tree) -> None:
    """A full replay of an untouched journal finds nothing."""
    jtree.events(0, 4)
    source = _source(jtree)
    await run_pass(source, jtree.clock.time())
    assert (await run_pass(source, jtree.clock.time(), "integrity")).findings == []


async def test_bytes_changed_in_place_are_caught_by_the_replay(jtree: Tree) -> None:
    """Bytes already read, then changed at the same size, are journal.rewritten."""
    jtree.append(event(0, delta=1), event(1, delta=2))
    source = _source(jtree)
    await run_pass(source, jtree.clock.time())
    data = jtree.journal.read_bytes()
    jtree.journal.write_bytes(data.replace(b'"delta": 2', b'"delta": 9'))
    out = await run_pass(source, jtree.clock.time(), "integrity")
    assert "journal.rewritten" in [f.code for f in out.findings]


async def test_a_pass_returns_observations_not_findings(jtree: Tree) -> None:
    """The source says what it saw (typed); codes and messages are the rule's to decide."""
    jtree.append(event(0), b"{not json\n", event(1, account="b", delta=-2))
    observed = await _source(jtree).position(jtree.clock.time())
    [corrupt] = observed.lines
    assert isinstance(corrupt, CorruptLine)
    assert (corrupt.line, corrupt.text) == (2, "{not json")
    assert observed.negative == [("b", -2)] and observed.rewritten is None


async def test_truncation_is_observed_with_how_far_it_was_verified(jtree: Tree) -> None:
    """A shrunk journal is observed as Rewritten("shrank") with the verified offset and lines."""
    jtree.events(0, 3)
    source = _source(jtree)
    await source.position(jtree.clock.time())
    verified = source.pos.offset
    with jtree.journal.open("r+b") as fh:
        fh.truncate(10)
    observed = await source.position(jtree.clock.time())
    assert observed.rewritten == Rewritten("shrank", verified, 3, 10)
