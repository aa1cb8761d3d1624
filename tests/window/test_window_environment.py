"""SPEC §4 "Environmental conditions": the host and burnin itself qualify the verdict.

`host.*` / `daemon.*` alerts never decide the colour; the share of the window the host was
saturated is stated, and is a YELLOW reason only at or above `environment_yellow_share`.
"""

from __future__ import annotations

import orjson
import pytest

from daemon.checks.host import saturated
from daemon.config import ThresholdsCfg
from daemon.records import Figures
from daemon.sources.host import HostLook
from daemon.window.lifecycle import WindowRunner
from daemon.window.state import HostLoad, HostShare
from daemon.window.verdict import decide
from tests.window.conftest import make_status

H = 3600.0


def load(share: float | None, by: dict | None = None,
         sustained: float | None = -1.0) -> HostShare:
    return HostShare(host="box", observed_s=100.0, saturated_share=share,
                     sustained_share=share if sustained == -1.0 else sustained,
                     saturated_by=by if by is not None else {"cpu": share})


@pytest.mark.parametrize(("codes", "share", "color"), [
    ([("host.cpu_high", "HIGH")], 0.0, "GREEN"),
    ([("daemon.delivery_failing", "HIGH")], None, "GREEN"),
    ([("daemon.delivery_failing", "CRITICAL")], None, "GREEN"),
    ([("daemon.check_overrun", "HIGH"), ("host.memory_high", "HIGH")], 0.05, "GREEN"),
    ([], 0.0999, "GREEN"),
    ([], 0.10, "YELLOW"),
    ([], (0.5, 0.0), "GREEN"),  # busy half the time in short blips: noise
    ([("host.cpu_high", "HIGH")], 1.0, "YELLOW"),
    ([("host.cpu_high", "HIGH"), ("jobs.stale_claim", "HIGH")], 0.0, "YELLOW"),
    ([("host.cpu_high", "HIGH"), ("process.down", "CRITICAL")], 1.0, "RED"),
], ids=["host-high", "delivery", "daemon-critical", "overrun+mem", "under-share",
        "at-share", "blips", "saturated-all-window", "plus-sut-high", "plus-sut-critical"])
def test_environment_qualifies_the_verdict(alert, codes, share, color):
    """Environmental alerts alone never make RED, nor YELLOW below the saturated share."""
    fired = [alert(code, sev, subject=f"s{i}") for i, (code, sev) in enumerate(codes)]
    raw, sustained = share if isinstance(share, tuple) else (share, share)
    verdict = decide(fired, 1.0, {}, host_load=load(raw, sustained=sustained))
    assert verdict.color == color
    assert all(not r.code.startswith(("host.", "daemon.")) for r in verdict.reasons)
    env_codes = [a.code for a in verdict.environment.alerts]
    assert env_codes == [c for c, _ in codes if c.startswith(("host.", "daemon."))]


def test_saturation_reason_names_host_resource_and_share(alert):
    """The YELLOW reason names the host, what was saturated, and the share."""
    verdict = decide([], 1.0, {}, host_load=load(0.25, {"cpu": 0.25, "memory": 0.02}))
    (reason,) = verdict.reasons
    assert reason.code == "window.host_saturated" and reason.subject == "box"
    assert "25.0% of the window" in reason.message and "cpu 25.0%" in reason.message
    assert verdict.environment.saturated_share == 0.25


@pytest.mark.parametrize(("looks", "observed", "any_s", "cpu_s"), [
    ([(0, []), (1, ["cpu"]), (2, ["cpu"]), (3, [])], 3.0, 2.0, 2.0),
    ([(0, ["cpu"]), (1, None), (2, ["memory"])], 1.0, 1.0, 0.0),
    ([(0, []), (100, ["cpu"]), (101, ["cpu", "memory"])], 1.0, 1.0, 1.0),
], ids=["spans-back", "no-look-not-counted", "gap-skipped"])
def test_host_load_accumulates_saturated_time(looks, observed, any_s, cpu_s):
    """Each span counts for the look that ends it; gaps over the limit are not counted."""
    host = HostLoad()
    for t, sat in looks:
        host.add(float(t), sat, max_span_s=60.0)
    assert host.observed_s == observed
    assert host.saturated_s.get("any", 0.0) == any_s
    assert host.saturated_s.get("cpu", 0.0) == cpu_s


@pytest.mark.parametrize(("spells", "sustained"), [
    ([10.0, 10.0, 10.0], 0.0),   # three 10 s blips: noise
    ([29.0], 0.0),
    ([30.0], 30.0),              # the whole spell counts once it lasted the floor
    ([45.0, 5.0], 45.0),
], ids=["blips", "under-floor", "at-floor", "long-and-blip"])
def test_only_spells_of_the_floor_are_sustained(spells, sustained):
    """Sustained saturation counts spells of at least `floor_s` real seconds, whole."""
    host, t = HostLoad(), 0.0
    host.add(t, [], 60.0)
    for spell in spells:
        for _ in range(int(spell / 0.5)):
            t += 0.5
            host.add(t, ["cpu"], 60.0, floor_s=30.0)
        t += 0.5
        host.add(t, [], 60.0, floor_s=30.0)
    assert host.saturated_s.get("sustained", 0.0) == pytest.approx(sustained)
    assert host.saturated_s["any"] == pytest.approx(sum(spells))


def test_host_load_survives_save_and_load():
    """The counts are persisted with the window (a restart keeps the share)."""
    host = HostLoad(observed_s=10.0, saturated_s={"any": 2.0, "cpu": 2.0}, host="box")
    again = HostLoad.from_dict(orjson.loads(orjson.dumps(host.to_dict())))
    assert (again.observed_s, again.saturated_s, again.share(10.0)) == (10.0, host.saturated_s,
                                                                         0.2)


def test_share_is_of_the_whole_window():
    """A busy first minute of a 72 h window is a small share, not 100 % (interim verdicts)."""
    host = HostLoad()
    host.add(0.0, ["cpu"], 60.0)
    host.add(1.0, ["cpu"], 60.0)
    assert host.share(300.0) == pytest.approx(1 / 300)


@pytest.mark.parametrize(("cpu", "mem", "disks", "expected"), [
    (99.0, 40.0, {"/": 50.0}, ["cpu"]),
    (50.0, 96.0, {"/": 99.0}, ["memory", "disk /"]),
    (95.0, 95.0, {}, []),
], ids=["cpu", "memory+disk", "at-limit"])
def test_saturated_resources(cpu, mem, disks, expected):
    """Above `host_critical_percent` (the HIGH level) a resource is saturated."""
    assert saturated(HostLook(cpu, mem, disks), ThresholdsCfg()) == expected


def busy_status(i: int, busy: bool) -> dict:
    doc = make_status(i)
    doc["metrics"]["host"]["saturated"] = ["cpu"] if busy else []
    return doc


@pytest.mark.parametrize(("busy", "color", "raw", "sustained"), [
    (lambda i: False, "GREEN", 0.0, 0.0),
    (lambda i: i % 2 == 0, "GREEN", 0.5, 0.0),              # blips half the time: noise
    (lambda i: 20 <= i < 40, "YELLOW", 0.167, 0.167),        # one 20-run spell, > 30 s real
], ids=["quiet", "blips", "one-spell"])
def test_window_states_saturated_share_in_every_report(tmp_path, clock, alert, busy, color, raw,
                                                       sustained):
    """The window counts its saturated share; final.json/md state it; YELLOW from 10 %
    counting spells of `sample_for_min` only."""
    runner = WindowRunner(tmp_path, clock, 2 * H, 36.0, 10 * H)  # 120 runs of 1.67 s real
    runner.start()
    i = 0
    while not runner.should_end(clock.time()):
        clock.advance(60 / 36)
        i += 1
        runner.on_tick(clock.time(), Figures.parse(busy_status(i, busy(i))), [])
    cpu_high = alert("host.cpu_high", "HIGH", subject="host")
    got, _, folder = runner.finish(clock.time(), [cpu_high], Figures())
    env = orjson.loads((folder / "final.json").read_bytes())["verdict"]["environment"]
    assert got == color
    assert env["saturated_share"] == pytest.approx(raw, abs=0.02)
    assert env["sustained_share"] == pytest.approx(sustained, abs=0.02)
    md = (folder / "final.md").read_text()
    assert "## Environment" in md and "saturated" in md and "host.cpu\\_high" in md
