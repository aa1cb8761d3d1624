"""RuleState: one versioned, atomic, loud state file per rule (issue 16 item 5)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from daemon.rulestate import RuleState


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **kw: Any) -> None:
        self.lines.append((event, kw))

    def events(self) -> list[str]:
        return [e for e, _ in self.lines]


def state(tmp_path: Path, log: Log, **kw: Any) -> RuleState:
    return RuleState(tmp_path / "state", "rule.json", version=kw.pop("version", 1), log=log,
                     **kw)


def test_round_trip_and_envelope(tmp_path: Path) -> None:
    log = Log()
    rs = state(tmp_path, log, window_id="w1")
    assert rs.load() is None and log.lines == []  # absent: nothing to say
    assert rs.save({"seen": ["a", "b"], "n": 3}) is True
    doc = orjson.loads((tmp_path / "state" / "rule.json").read_bytes())
    assert doc == {"version": 1, "window_id": "w1", "data": {"seen": ["a", "b"], "n": 3}}
    assert state(tmp_path, log, window_id="w1").load() == {"seen": ["a", "b"], "n": 3}
    assert log.lines == []


@pytest.mark.parametrize(("content", "reason"), [
    (b"{not json", "not JSON"),
    (b"[1, 2]", "not a rule state"),
    (b'{"version": 7, "window_id": null, "data": {}}', "version 7, expected 1"),
])
def test_unusable_file_is_discarded_and_logged(tmp_path: Path, content: bytes,
                                               reason: str) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "rule.json").write_bytes(content)
    log = Log()
    assert state(tmp_path, log).load() is None
    assert log.events() == ["rule_state_discarded"]
    assert reason in log.lines[0][1]["reason"]
    assert log.lines[0][1]["path"].endswith("rule.json")


def test_per_window_state_of_another_window_is_not_loaded(tmp_path: Path) -> None:
    log = Log()
    state(tmp_path, log, window_id="w1", per_window=True).save({"n": 1})
    assert state(tmp_path, log, window_id="w2", per_window=True).load() is None
    assert state(tmp_path, log, window_id="w1", per_window=True).load() == {"n": 1}
    assert state(tmp_path, log, window_id="w2").load() == {"n": 1}  # not per window
    assert log.lines == []  # a new window starting afresh is expected, not a warning


def test_file_written_before_rulestate_still_loads(tmp_path: Path) -> None:
    """Upgrading burnin mid-window keeps the rules' bare-dict state files of version 1."""
    (tmp_path / "state").mkdir()
    legacy = {"window_id": "w1", "stale_seen": ["a"], "excessive_fired": True}
    (tmp_path / "state" / "rule.json").write_bytes(orjson.dumps(legacy))
    log = Log()
    assert state(tmp_path, log, window_id="w1", per_window=True).load() == legacy
    assert state(tmp_path, log, window_id="w2", per_window=True).load() is None
    assert state(tmp_path, log, version=2).load() is None  # a version-2 rule re-reads
    assert log.events() == ["rule_state_discarded"]


def test_failed_save_is_logged_not_raised(tmp_path: Path) -> None:
    """A state folder that cannot be written (here: a file is in its way) costs a warning,
    never the rule's run."""
    (tmp_path / "state").write_text("not a folder")
    log = Log()
    rs = state(tmp_path, log)
    assert rs.save({"n": 2}) is False
    assert log.events() == ["rule_state_save_failed"]
    assert log.lines[0][1]["path"].endswith("rule.json")
    assert rs.load() is None
    assert log.events() == ["rule_state_save_failed", "rule_state_discarded"]


def test_failed_save_leaves_no_temp_file(tmp_path: Path) -> None:
    log = Log()
    rs = state(tmp_path, log)
    assert rs.save({"n": 1})
    target = tmp_path / "state" / "rule.json"
    target.unlink()
    (target / "blocker").mkdir(parents=True)  # a non-empty folder cannot be replaced
    assert rs.save({"n": 2}) is False
    assert log.events() == ["rule_state_save_failed"]
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["rule.json"]  # no temp left


def test_unserialisable_data_is_logged_not_raised(tmp_path: Path) -> None:
    log = Log()
    assert state(tmp_path, log).save({"x": object()}) is False
    assert log.events() == ["rule_state_save_failed"]
    assert not (tmp_path / "state" / "rule.json").exists()


def test_oneshot_has_no_state(tmp_path: Path) -> None:
    log = Log()
    rs = RuleState(None, "rule.json", version=1, log=log)
    assert rs.save({"n": 1}) is False and rs.load() is None and rs.load_bytes() is None
    assert log.lines == []


def test_bytes_round_trip(tmp_path: Path) -> None:
    log = Log()
    rs = state(tmp_path, log)
    assert rs.save_bytes(b"\x00binary\n") is True
    assert rs.load_bytes() == b"\x00binary\n"
