"""Limits that compression makes meaningless are floored and said once (SPEC §4)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import structlog

from daemon.checks.base import Env
from daemon.checks.jobs_watch import JobsWatch
from daemon.clock import FakeClock
from daemon.config import load_config
from daemon.records import Figures
from daemon.sources.registry import SourceHub
from daemon.window.clamp import clamped_limits, floored
from daemon.window.lifecycle import WindowRunner


@pytest.mark.parametrize(("scale", "keys"), [
    (1.0, []),
    (60.0, []),
    (864.0, ["schedule.health", "jobs.stale_claim_after", "jobs.pending_after"]),
    # 60 s / 864 = 69 ms < 250 ms; 5 m -> 0.35 s, 15 m -> 1.04 s < jobs.settle 2 s
    (8640.0, ["schedule.health", "schedule.position", "jobs.stale_claim_after",
              "jobs.pending_after"]),  # position 600 s / 8640 = 69 ms
], ids=["1x", "60x", "864x", "8640x"])
def test_clamped_limits_table(scale, keys):
    """Which default limits each time scale floors."""
    found = clamped_limits(load_config(), scale)
    assert [c.key for c in found] == keys
    for c in found:
        assert c.scaled_s < c.floor_s and c.floor_key in c.text


def test_floored_is_the_larger_of_scaled_and_floor():
    """floored(): the scaled value above the floor, else the floor."""
    assert (floored(900, 8640, 2.0), floored(900, 100, 2.0)) == (2.0, 9.0)


def test_job_limits_use_the_floor(seed_tree: Path):
    """At 8640x the stale-claim and pending limits are jobs.settle (2 s), not 35/104 ms."""
    cfg = load_config(root=str(seed_tree))
    hub = SourceHub()
    env = Env(cfg=cfg, clock=FakeClock(scale=8640.0), sources=hub,
              log=structlog.get_logger("test"))
    hub.bind(env)
    watch = JobsWatch(env)
    try:
        assert (watch._stale_s(), watch._pending_s()) == (2.0, 2.0)
    finally:
        watch.close()


def test_window_says_what_was_floored_once(tmp_path: Path, capsys):
    """status.json's window block, window.json and the report list the floored limits;
    the log says it once per window (not again on resume)."""
    cfg = load_config(overrides={"window": {"time_scale": 8640.0, "duration": "1h"}})
    clock = FakeClock(scale=8640.0)
    runner = WindowRunner.from_config(cfg, tmp_path, clock)
    with structlog.testing.capture_logs() as logs:
        window = runner.start()
        runner.close()
        WindowRunner.from_config(cfg, tmp_path, clock).start()
    said = [e for e in logs if e["event"] == "window.clamped"]
    assert [e["key"] for e in said] == [c.key for c in window.clamped]
    assert "jobs.pending_after" in [c["key"] for c in window.status(clock.time())["clamped"]]
    clock.advance(1.0)
    _, _, folder = runner.finish(clock.time(), [], Figures())
    doc = orjson.loads((folder / "final.json").read_bytes())
    assert len(doc["window"]["clamped"]) == 4
    assert "Floored: jobs.pending\\_after" in (folder / "final.md").read_text()


def test_a_clamp_round_trips_and_a_damaged_one_is_dropped():
    """window.json keeps each floored limit whole; a damaged stored entry reads as None."""
    from daemon.window.clamp import Clamp

    (first, *_) = clamped_limits(load_config(), 8640.0)
    assert Clamp.parse(orjson.loads(orjson.dumps(first.to_dict()))) == first
    assert [Clamp.parse(bad) for bad in (None, {}, {**first.to_dict(), "floor_s": "2"},
                                         {**first.to_dict(), "key": 3})] == [None] * 4
