"""daemon/oneshot.py: `burnin check` runs the selected checks once and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import structlog

from daemon.config import load_config
from daemon.errors import RootMissingError
from daemon.oneshot import check_once, exit_code

pytestmark = pytest.mark.anyio


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


async def test_healthy_tree_is_green_and_untouched(seed_tree: Path) -> None:
    """A healthy seed tree checks GREEN and no file is created or changed."""
    before = {p: p.read_bytes() for p in _files(seed_tree)}
    cfg = load_config(root=str(seed_tree), overrides={"checks": {"disabled": ["host"]}})
    doc = await check_once(cfg, ["jobs", "position", "integrity"], structlog.get_logger())
    assert (doc["schema"], doc["verdict"], doc["findings"]) == ("burnin.check/1", "GREEN", [])
    assert {p: p.read_bytes() for p in _files(seed_tree)} == before


async def test_only_the_selected_checks_run(seed_tree: Path) -> None:
    """A negative balance is found by `position`, and not when only `jobs` runs."""
    (seed_tree / "storage/events/credits.jsonl").write_text(json.dumps(
        {"agent_id": "a1", "delta": -5, "idempotency_key": "k", "correlation_id": "c"}) + "\n")
    cfg = load_config(root=str(seed_tree), overrides={"checks": {"disabled": ["host"]}})
    log = structlog.get_logger()
    found = await check_once(cfg, ["position"], log)
    assert "ledger.negative_balance" in [f["code"] for f in found["findings"]]
    assert (await check_once(cfg, ["jobs"], log))["findings"] == []


async def test_missing_root_is_a_clear_error(tmp_path: Path) -> None:
    """A root that does not exist is refused before any check runs."""
    cfg = load_config(root=str(tmp_path / "nope"))
    with pytest.raises(RootMissingError, match="does not exist"):
        await check_once(cfg, ["jobs"], structlog.get_logger())


@pytest.mark.parametrize(("severities", "code"), [
    ([], 0), (["INFO"], 0), (["MEDIUM"], 1), (["HIGH", "INFO"], 1), (["CRITICAL", "MEDIUM"], 2)])
def test_exit_code_follows_the_worst_finding(severities: list[str], code: int) -> None:
    """Monitoring-plugin exit codes: 0 up to INFO, 1 MEDIUM/HIGH, 2 CRITICAL."""
    assert exit_code([{"severity": s} for s in severities]) == code
