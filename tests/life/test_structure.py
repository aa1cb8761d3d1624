"""The supervisor's structure (issue 16 items 1 and 5): a pure status document, a recorder
that applies check outcomes, a session that runs a check without calling back into the
daemon, and no SQL text outside the alert store."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from daemon.clock import FakeClock
from daemon.model import finding
from daemon.recorder import CheckRecorder
from daemon.runner import CheckOutcome, RuleResult
from daemon.status import CheckState, build_status

DAEMON = Path(__file__).parents[2] / "daemon"
SQL = re.compile(r"\b(SELECT\s+\S+.*\bFROM|INSERT\s+(OR\s+\w+\s+)?INTO|DELETE\s+FROM|"
                 r"UPDATE\s+\w+\s+SET|CREATE\s+(TABLE|INDEX)|PRAGMA\s+\w+|"
                 r"[\"'](BEGIN|COMMIT|ROLLBACK)\b|\.execute(many|script)?\()", re.IGNORECASE)


def test_build_status_is_pure_and_complete() -> None:
    checks = {"health": CheckState(runs=2, ok=True, last_run=1_800_000_000.0)}
    alerts = {"open": [], "counts": {"CRITICAL": 0}, "recent": []}
    doc = build_status(1_800_000_060.0, system="ledger", host="h", started_at=1_800_000_000.0,
                       selfmon={"rss_bytes": 1}, window={"phase": "running", "id": "w"},
                       checks=checks, alerts=alerts, metrics={"jobs": {"pending": 3}},
                       phase="stopped")
    assert doc["daemon"] == {"started_at": "2027-01-15T08:00:00.000Z", "uptime_s": 60.0,
                             "rss_bytes": 1}
    assert doc["window"] == {"phase": "stopped", "id": "w"}
    assert doc["checks"]["health"]["runs"] == 2 and doc["alerts"] is alerts
    assert (doc["system"], doc["host"], doc["metrics"]) == ("ledger", "h", {"jobs": {"pending": 3}})
    again = build_status(1_800_000_060.0, system="ledger", host="h", started_at=1_800_000_000.0,
                         selfmon={"rss_bytes": 1}, window={"phase": "running", "id": "w"},
                         checks=checks, alerts=alerts, metrics={"jobs": {"pending": 3}},
                         phase="stopped")
    assert again == doc


@pytest.mark.parametrize(("results", "ok", "failures", "error", "findings"), [
    ([RuleResult("a", [])], True, 0, None, 0),
    ([RuleResult("a", [finding("state.corrupt", "s", "m")]), RuleResult("b", [])],
     True, 0, None, 1),
    ([RuleResult("a", None, "raised X"), RuleResult("b", [])], False, 1, "raised X", 0),
])
def test_recorder_applies_an_outcome(results, ok, failures, error, findings) -> None:
    runs: list[tuple] = []
    rec = CheckRecorder(lambda *a: runs.append(a))
    rec.dirty = False
    out = CheckOutcome("health", 100.0, 12.5, results, {"host": {"cpu": 1}}, missed=2,
                       coalesced=1, next_run=160.0)
    rec.apply(out)
    st = rec.checks["health"]
    assert (st.ok, st.failures, st.error, st.findings) == (ok, failures, error, findings)
    assert (st.runs, st.missed, st.coalesced, st.next_run) == (1, 2, 1, 160.0)
    assert rec.metrics == {"host": {"cpu": 1}} and rec.dirty
    assert runs == [("health", 100.0, ok, 2)]


def test_session_runs_a_check_without_the_daemon(tmp_path: Path) -> None:
    """`Session.run_check` returns the outcome and feeds the engine (here a missing journal);
    it needs no Daemon."""
    import anyio

    from daemon.config import load_config
    from daemon.session import RuleSet, Session

    cfg = load_config(None, overrides={
        "system": {"root": str(tmp_path)},
        "daemon": {"runtime_dir": str(tmp_path / "rt"), "log_dir": str(tmp_path / "logs")}},
        env={})

    class Engine:
        def __init__(self) -> None:
            self.seen: list[tuple[str, list]] = []

        async def observe(self, rule, found, now, judging=None):
            self.seen.append((rule, [f.code for f in found]))

    class Log:
        def __getattr__(self, name):
            return lambda *a, **k: None

    async def main() -> CheckOutcome:
        clock = FakeClock()
        rules = RuleSet(cfg, clock, Log(), "w1")
        session = Session(cfg, clock, Log(), Engine(), rules, CheckRecorder(lambda *a: None))
        session.cadences.add("integrity", 3600.0)
        try:
            out = await session.run_check("integrity")
        finally:
            rules.close()
        assert ("journal_integrity", ["source.unavailable"]) in session.engine.seen
        return out

    out = anyio.run(main)
    assert out.check == "integrity" and "source.unavailable" in [f.code for f in out.findings]


def test_session_and_recorder_never_import_the_daemon() -> None:
    for name in ("session.py", "recorder.py", "status.py"):
        tree = ast.parse((DAEMON / name).read_text())
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "daemon.app" not in imported, name


def test_app_is_small() -> None:
    assert len((DAEMON / "app.py").read_text().splitlines()) < 250


def test_no_sql_outside_the_store() -> None:
    found = [str(p.relative_to(DAEMON)) for p in DAEMON.rglob("*.py")
             if p != DAEMON / "alerts/store.py" and SQL.search(p.read_text())]
    assert found == []
