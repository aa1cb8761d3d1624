"""Window state and its store: start, resume with downtime, new window, bad state."""

from __future__ import annotations

import re

import orjson
import pytest

from daemon.window.state import Window, WindowStateError
from daemon.window.store import WindowStore


def test_open_starts_a_window_with_an_id(tmp_path, clock):
    """A first open creates a window whose id carries its start time."""
    window = WindowStore(tmp_path, clock).open(7200, 864)
    assert re.fullmatch(r"w-\d{8}T\d{6}Z-[0-9a-f]{4}", window.id)
    assert window.started_at == clock.time() and window.phase == "running"


def test_ends_at_is_scaled(tmp_path, clock):
    """ends_at = started_at + duration / time scale (72 h at 864 = 5 min)."""
    window = WindowStore(tmp_path, clock).open(72 * 3600, 864)
    assert window.ends_at - window.started_at == pytest.approx(300)


def test_state_and_pointer_are_persisted(tmp_path, clock):
    """window.json under windows/<id>/ and the current_window pointer exist."""
    window = WindowStore(tmp_path, clock).open(7200, 864)
    doc = orjson.loads((tmp_path / "windows" / window.id / "window.json").read_bytes())
    assert doc["id"] == window.id
    assert (tmp_path / "current_window").read_text().strip() == window.id


def test_reopen_resumes_the_same_window_and_records_the_gap(tmp_path, clock):
    """A restart resumes the same id; the time since the last heartbeat is downtime."""
    store = WindowStore(tmp_path, clock)
    first = store.open(7200, 864)
    first.heartbeat(clock.time())
    clock.advance(1.0)
    second = WindowStore(tmp_path, clock).open(7200, 864)
    assert second.id == first.id and second.restarts == 1
    assert second.downtime == [{"from": first.started_at, "to": clock.time()}]


def test_new_window_when_asked(tmp_path, clock):
    """--new-window starts a fresh window even when one is running."""
    store = WindowStore(tmp_path, clock)
    first = store.open(7200, 864)
    clock.advance(1)
    assert store.open(7200, 864, new=True).id != first.id


def test_finished_window_is_not_resumed(tmp_path, clock):
    """After a window completed, open starts the next one."""
    store = WindowStore(tmp_path, clock)
    first = store.open(7200, 864)
    clock.advance(9)
    first.finish(clock.time(), "GREEN")
    second = store.open(7200, 864)
    assert second.id != first.id and store.load(first.id).phase == "completed"


def test_unusable_state_starts_a_new_window(tmp_path, clock):
    """A corrupt window.json does not crash open: a new window starts."""
    store = WindowStore(tmp_path, clock)
    first = store.open(7200, 864)
    (tmp_path / "windows" / first.id / "window.json").write_text("{not json")
    clock.advance(1)
    assert store.open(7200, 864).id != first.id


def test_load_rejects_a_bad_state(tmp_path, clock):
    """Loading a state with wrong fields raises WindowStateError."""
    store = WindowStore(tmp_path, clock)
    first = store.open(7200, 864)
    (tmp_path / "windows" / first.id / "window.json").write_text('{"schema": "burnin.window/1"}')
    with pytest.raises(WindowStateError):
        store.load(first.id)


@pytest.mark.parametrize("bad", ["../x", "a/b", "", ".."])
def test_bad_window_ids_are_refused(tmp_path, clock, bad):
    """A window id cannot name a path outside the windows folder."""
    with pytest.raises(WindowStateError):
        WindowStore(tmp_path, clock).load(bad)


def test_heartbeat_persists_at_most_every_few_seconds(tmp_path, clock):
    """heartbeat() writes the state only every persist_every_s real seconds."""
    window = WindowStore(tmp_path, clock).open(72 * 3600, 1)
    path = tmp_path / "windows" / window.id / "window.json"
    window.heartbeat(clock.time())
    clock.advance(0.5)
    window.heartbeat(clock.time())
    stored = orjson.loads(path.read_bytes())["heartbeat_at"]
    assert stored == clock.time() - 0.5


def test_coverage_counts_downtime_inside_the_window():
    """coverage = 1 - downtime / elapsed, downtime clipped to the window."""
    window = Window(id="w", started_at=0.0, duration_s=100.0, time_scale=1.0)
    window.record_gap(-10, 10)
    window.record_gap(40, 50)
    assert window.coverage(100) == pytest.approx(0.8)
    assert window.coverage(200) == pytest.approx(0.8)


def test_elapsed_is_nominal_and_capped():
    """elapsed_s is in window seconds and stops at the end."""
    window = Window(id="w", started_at=0.0, duration_s=7200.0, time_scale=864.0)
    assert window.elapsed_s(5) == pytest.approx(4320)
    assert window.elapsed_s(1000) == pytest.approx(7200)


def test_finish_before_the_end_is_stopped():
    """A window finished early (stop_on_red) has phase stopped."""
    window = Window(id="w", started_at=0.0, duration_s=100.0, time_scale=1.0)
    window.finish(30, "RED")
    assert (window.phase, window.finished_at, window.verdict) == ("stopped", 30, "RED")


def test_record_run_counts_runs_failures_and_misses():
    """record_run accumulates per check."""
    window = Window(id="w", started_at=0.0, duration_s=100.0, time_scale=1.0)
    window.record_run("health", 1, True)
    window.record_run("health", 2, False, missed=2)
    runs = window.checks["health"]
    assert (runs.runs, runs.failed, runs.missed, runs.last_run) == (2, 1, 2, 2)


def test_status_object_has_the_spec_fields():
    """status() gives the SPEC §6 window object."""
    window = Window(id="w", started_at=0.0, duration_s=100.0, time_scale=1.0)
    assert set(window.status(10)) >= {"id", "started_at", "ends_at", "duration_s", "elapsed_s",
                                      "time_scale", "phase"}


def test_round_trip_through_dict():
    """to_dict / from_dict keep every persisted field."""
    window = Window(id="w", started_at=0.0, duration_s=100.0, time_scale=2.0)
    window.record_gap(1, 2)
    window.record_run("position", 3, True)
    assert Window.from_dict(orjson.loads(orjson.dumps(window.to_dict()))) == window
