"""state.* and transitions.* rules on small fixture trees (SPEC §3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.checks.base import Env, Tick
from daemon.checks.state import StateRule, judge_state
from daemon.checks.transitions import TransitionsRule, scan_transitions
from daemon.clock import FakeClock, SystemClock
from daemon.config import load_config
from daemon.logsetup import get_logger
from daemon.sources.jsonl import iter_lines
from daemon.sources.registry import SourceHub

pytestmark = pytest.mark.anyio
T = '{{"transition_id": "{id}", "from_state": "{a}", "to_state": "{b}", "timestamp": 1}}\n'


def env_for(root: Path, **state: object) -> Env:
    overrides = {"state": dict(state)} if state else None
    cfg = load_config(None, root=str(root), overrides=overrides)
    hub = SourceHub()
    env = Env(cfg=cfg, clock=FakeClock(), sources=hub, log=get_logger(), oneshot=True)
    hub.bind(env)
    return env


def codes(findings: list) -> list[str]:
    return sorted(f.code for f in findings)


def judge(raw: bytes, last: dict | None = None, states: list[str] | None = None) -> list[str]:
    return codes(judge_state("s.json", raw, last, state_field="state", to_field="to_state",
                             states=states or []))


def test_healthy_state_gives_nothing() -> None:
    """A JSON object whose state matches the last transition is fine."""
    assert judge(b'{"state": "RUNNING"}', {"to_state": "RUNNING"}) == []


@pytest.mark.parametrize("raw", [b'{"state": "RUN', b"", b"[1, 2]", b'"RUNNING"', b"\x00\x00"])
def test_torn_or_non_object_state_is_corrupt(raw: bytes) -> None:
    """Torn, empty, array, string and NUL state files are state.corrupt."""
    assert judge(raw) == ["state.corrupt"]


def test_unknown_state_only_when_states_listed() -> None:
    """state.unknown needs state.states to be set."""
    assert judge(b'{"state": "WEIRD"}') == []
    assert judge(b'{"state": "WEIRD"}', states=["RUNNING"]) == ["state.unknown"]


def test_state_disagreeing_with_last_transition_is_mismatch() -> None:
    """The state file must equal the last transition's to_state."""
    assert judge(b'{"state": "DEGRADED"}', {"to_state": "RUNNING"}) == ["state.mismatch"]


async def test_state_rule_on_healthy_tree(seed_tree: Path) -> None:
    """The seed tree fixture is healthy."""
    rule = StateRule(env_for(seed_tree))
    assert await rule.run(Tick("health", 0.0)) == []


async def test_state_rule_reports_missing_file(seed_tree: Path) -> None:
    """A missing state file is source.unavailable, not a crash."""
    (seed_tree / "runtime/system_state.json").unlink()
    found = await StateRule(env_for(seed_tree)).run(Tick("health", 0.0))
    assert codes(found) == ["source.unavailable"]
    assert found[0].subject == "runtime/system_state.json"


async def test_state_rule_sees_torn_file(seed_tree: Path) -> None:
    """A torn state file is CRITICAL state.corrupt at once."""
    (seed_tree / "runtime/system_state.json").write_text('{"state": "RUNN')
    found = await StateRule(env_for(seed_tree)).run(Tick("health", 0.0))
    assert [(f.code, f.severity.name) for f in found] == [("state.corrupt", "CRITICAL")]


def scan(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "t.jsonl"
    path.write_text(text)
    found, _ = scan_transitions("t.jsonl", iter_lines(path), id_field="transition_id",
                                from_field="from_state", to_field="to_state")
    return codes(found)


def test_continuous_unique_transitions_are_clean(tmp_path: Path) -> None:
    """A chain A->B->C with unique ids gives nothing."""
    assert scan(tmp_path, T.format(id=1, a="A", b="B") + T.format(id=2, a="B", b="C")) == []


def test_duplicate_transition_id(tmp_path: Path) -> None:
    """The same transition id twice is transitions.duplicate_id."""
    text = T.format(id=1, a="A", b="B") + T.format(id=1, a="B", b="C")
    assert scan(tmp_path, text) == ["transitions.duplicate_id"]


def test_discontinuity(tmp_path: Path) -> None:
    """A transition from a state that is not the previous to_state is a discontinuity."""
    text = T.format(id=1, a="A", b="B") + T.format(id=2, a="X", b="C")
    assert scan(tmp_path, text) == ["transitions.discontinuity"]


def test_corrupt_line_and_torn_tail(tmp_path: Path) -> None:
    """A complete bad line is corrupt; an unterminated last line is an in-flight write."""
    text = T.format(id=1, a="A", b="B") + "not json\n" + T.format(id=2, a="B", b="C") + '{"tra'
    assert scan(tmp_path, text) == ["transitions.corrupt_line"]


async def test_transitions_events_are_reported_once(seed_tree: Path) -> None:
    """The daemon's rule reports a defect the first time it sees it, not every pass."""
    log = seed_tree / "logs/state_transitions.jsonl"
    log.write_text(log.read_text() + T.format(id="t1", a="RUNNING", b="RUNNING"))
    rule = TransitionsRule(env_for(seed_tree))
    first = await rule.run(Tick("integrity", 0.0))
    assert codes(first) == ["transitions.duplicate_id"]
    assert first[0].evidence["line"] == 2 and first[0].evidence["offset"] > 0
    assert await rule.run(Tick("integrity", 1.0)) == []


async def test_mismatch_caught_between_two_writes_is_not_reported(seed_tree: Path) -> None:
    """A transition appended just before the state file is replaced is no mismatch."""
    import anyio

    log = seed_tree / "logs/state_transitions.jsonl"
    log.write_text(log.read_text() + T.format(id="t2", a="RUNNING", b="DEGRADED"))
    rule = StateRule(env_for(seed_tree, settle="50ms"))
    rule.env.clock = SystemClock(1.0)

    async def writer() -> None:
        await anyio.sleep(0.01)
        (seed_tree / "runtime/system_state.json").write_text('{"state": "DEGRADED"}')

    async with anyio.create_task_group() as tg:
        tg.start_soon(writer)
        found = await rule.run(Tick("health", 0.0))
    assert found == []


async def test_lasting_mismatch_is_reported(seed_tree: Path) -> None:
    """A mismatch still there after the settle delay is state.mismatch."""
    log = seed_tree / "logs/state_transitions.jsonl"
    log.write_text(log.read_text() + T.format(id="t2", a="RUNNING", b="DEGRADED"))
    rule = StateRule(env_for(seed_tree, settle="10ms"))
    rule.env.clock = SystemClock(1.0)
    assert codes(await rule.run(Tick("health", 0.0))) == ["state.mismatch"]
