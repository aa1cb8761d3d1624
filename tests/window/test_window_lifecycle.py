"""The window as the supervisor drives it: ticks, spot reports, the end, the verdict."""

from __future__ import annotations

import orjson

from daemon.config import Config
from daemon.records import Figures
from daemon.window.lifecycle import WindowRunner, notification

H = 3600.0


def runner_for(tmp_path, clock, **kw):
    args = {"duration_s": 2 * H, "time_scale": 864.0, "spot_check_every_s": 0.5 * H} | kw
    return WindowRunner(tmp_path, clock, **args)


def test_healthy_2h_window_ends_green_with_every_report(tmp_path, clock, tick):
    """A compressed 2 h window on a healthy system: GREEN, exit 0, all report files."""
    runner = runner_for(tmp_path, clock)
    window = runner.start()
    tick(runner, clock, [])
    color, code, folder = runner.finish(clock.time(), [], Figures())
    names = sorted(p.name for p in folder.iterdir())
    assert (color, code) == ("GREEN", 0)
    assert names == ["final.html", "final.json", "final.md", "spot-1.json", "spot-1.md",
                     "spot-2.json", "spot-2.md", "spot-3.json", "spot-3.md"]
    assert folder == tmp_path / "reports" / window.id


def test_planted_critical_ends_red_with_the_reason(tmp_path, clock, tick, alert):
    """A CRITICAL alert in the window: RED, exit 2, and the reason in every format."""
    runner = runner_for(tmp_path, clock)
    runner.start()
    tick(runner, clock)
    critical = alert("journal.corrupt_line", "CRITICAL", kind="event",
                     subject="storage/events/credits.jsonl", evidence={"line": 42})
    color, code, folder = runner.finish(clock.time(), [critical], Figures())
    doc = orjson.loads((folder / "final.json").read_bytes())
    assert (color, code) == ("RED", 2)
    assert doc["verdict"]["reasons"][0]["code"] == "journal.corrupt_line"
    assert "journal.corrupt\\_line" in (folder / "final.md").read_text()
    assert "journal.corrupt_line" in (folder / "final.html").read_text()


def test_stop_on_red_ends_the_window_early(tmp_path, clock):
    """With stop_on_red, a RED verdict so far ends the window; its phase is stopped."""
    runner = runner_for(tmp_path, clock, stop_on_red=True)
    runner.start()
    clock.advance(1)
    assert runner.should_end(clock.time(), "RED")
    runner.finish(clock.time(), [], Figures())
    assert runner.window.phase == "stopped"


def test_without_stop_on_red_red_does_not_end_the_window(tmp_path, clock):
    """By default the window runs to its end whatever the verdict so far."""
    runner = runner_for(tmp_path, clock)
    runner.start()
    assert not runner.should_end(clock.time(), "RED")


def test_spot_reports_are_not_repeated_after_a_restart(tmp_path, clock, tick):
    """A resumed window continues spot numbering from what it already wrote."""
    runner = runner_for(tmp_path, clock)
    runner.start()
    tick(runner, clock, until=clock.time() + 0.6 * H / 864)
    again = runner_for(tmp_path, clock)
    assert again.start().spots_written == 1
    clock.advance(0.01)
    assert again.on_tick(clock.time(), Figures()) is None


def test_downtime_counts_missed_checks(tmp_path, clock):
    """A restart after 10 nominal minutes down counts 10 health and 1 position runs missed."""
    cadences = {"health": 60.0, "position": 600.0, "integrity": 3600.0}
    runner_for(tmp_path, clock, cadences=cadences).start()
    clock.advance(600 / 864)
    window = runner_for(tmp_path, clock, cadences=cadences).start()
    missed = {k: v.missed for k, v in window.checks.items()}
    assert missed == {"health": 10, "position": 1}


def test_bad_status_documents_do_not_crash_a_tick(tmp_path, clock):
    """on_tick accepts a status with garbage in every place."""
    runner = runner_for(tmp_path, clock)
    runner.start()
    clock.advance(1)
    bad = {"metrics": [1], "alerts": "x", "daemon": None}
    runner.on_tick(clock.time(), Figures.parse(bad))
    assert runner.series.points()[-1]["daemon_rss_mb"] is None


def test_spot_report_uses_open_alerts_when_none_given(tmp_path, clock, alert):
    """Without a fired list, a spot report takes status.alerts.open."""
    runner = runner_for(tmp_path, clock)
    runner.start()
    clock.advance(0.5 * H / 864)
    paths = runner.on_tick(clock.time(), Figures.parse(
        {"alerts": {"open": [alert(severity="HIGH").to_dict()]}}))
    doc = orjson.loads(paths["json"].read_bytes())
    assert doc["kind"] == "spot" and doc["verdict"]["color"] == "YELLOW"


def test_from_config_uses_the_window_section(tmp_path, clock):
    """from_config takes duration, scale, spot interval, stop_on_red and cadences."""
    cfg = Config()
    runner = WindowRunner.from_config(cfg, tmp_path, clock)
    assert (runner.duration_s, runner.spot_every_s, runner.cadences["position"]) == (
        72 * H, 8 * H, 600.0)


def test_verdict_notification(tmp_path, clock, alert):
    """The end-of-window notification names verdict, reasons and the report."""
    runner = runner_for(tmp_path, clock)
    runner.start()
    clock.advance(10)
    _, _, folder = runner.finish(clock.time(), [alert(severity="CRITICAL")], Figures())
    note = notification(runner.window, runner.last_verdict, folder)
    assert (note.color, note.label, note.exit_code, note.severity) == ("RED", "NO-GO", 2,
                                                                       "CRITICAL")
    assert note.report == str(folder / "final.md") and note.window_id == runner.window.id
    assert [(r.severity, r.code) for r in note.reasons] == [("CRITICAL", "jobs.stale_claim")]
