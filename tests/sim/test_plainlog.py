"""daemon/sim/plainlog.py: the reference system's plain text log."""

from __future__ import annotations

from pathlib import Path

from daemon.sim.plainlog import PlainLog


def test_lines_carry_time_level_and_component(tmp_path: Path) -> None:
    """Each line is `<iso time> <LEVEL> <component>: <message>`, appended."""
    log = PlainLog(tmp_path / "worker.log")
    log.info(0.0, "worker", "started")
    log.warning(1.5, "lock", "slow")
    assert (tmp_path / "worker.log").read_text().splitlines() == [
        "1970-01-01T00:00:00.000Z INFO worker: started",
        "1970-01-01T00:00:01.500Z WARNING lock: slow"]
