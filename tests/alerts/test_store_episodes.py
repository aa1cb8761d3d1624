"""The window's alert history in the store: typed episodes in, the same episodes out."""

from __future__ import annotations

from pathlib import Path

import orjson

from daemon.alerts import store
from daemon.records import Episode


def episode(fp: str, since: float, **over: object) -> Episode:
    base: dict = dict(fingerprint=fp, status="firing", code="jobs.stale_claim",
                      severity="HIGH", kind="condition", subject=fp, message="m",
                      first_seen="2026-01-01T00:00:00Z", evidence={"n": 1}, since=since,
                      window_id="w-1")
    return Episode(**(base | over))


def test_episodes_round_trip_in_first_seen_order(tmp_path: Path) -> None:
    """Saved episodes load back equal, oldest first, only those of the window asked for."""
    db = store.connect(tmp_path / "alerts.sqlite3")
    late, early = episode("b", 20.0, acked=True), episode("a", 10.0, silenced=True)
    with store.transaction(db):
        store.save_episode(db, "w-1", late)
        store.save_episode(db, "w-1", early)
        store.save_episode(db, "w-2", episode("c", 5.0, window_id="w-2"))
    assert store.load_episodes(db, "w-1") == [early, late]
    db.close()
    assert store.read_episodes(tmp_path / "alerts.sqlite3", "w-2")[0].fingerprint == "c"


def test_the_stored_row_keeps_its_json_fields(tmp_path: Path) -> None:
    """The row is the alert record plus the window flags and `_t` (the history's format)."""
    db = store.connect(tmp_path / "alerts.sqlite3")
    store.save_episode(db, "w-1", episode("a", 10.0))
    (data,) = db.execute("SELECT data FROM episodes").fetchone()
    row = orjson.loads(data)
    assert row["schema"] == "burnin.alert/1" and row["_t"] == 10.0
    assert {"silenced", "silenced_before_fire", "acked", "notified_at"} <= set(row)


def test_a_damaged_row_is_skipped(tmp_path: Path) -> None:
    """A history row that is not a JSON object is left out, the others are read."""
    db = store.connect(tmp_path / "alerts.sqlite3")
    store.save_episode(db, "w-1", episode("a", 10.0))
    db.execute("INSERT INTO episodes VALUES ('w-1', 'x', 11.0, ?)", (b"[1, 2]",))
    assert [e.fingerprint for e in store.load_episodes(db, "w-1")] == ["a"]
