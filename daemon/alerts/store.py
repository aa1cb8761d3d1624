"""Alert state, acks, silences and the durable outbox in one SQLite file under runtime/.

WAL journal, `synchronous = FULL`: a notification must be on disk before it is sent, and
survive not only kill -9 (NORMAL would do) but a power loss too. Writes are a few small
transactions per check run, so the extra fsync per commit costs nothing that matters.
The CLI (`burnin ack`, `burnin silence`) writes acks/silences through the same file while the
daemon runs; the daemon re-reads them every tick.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from daemon.alerts.state import AlertState, Silence
from daemon.records import Episode

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (fp TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS episodes (window_id TEXT, fp TEXT, first_seen REAL, data BLOB,
    PRIMARY KEY (window_id, fp, first_seen));
CREATE TABLE IF NOT EXISTS held (id INTEGER PRIMARY KEY, code TEXT, due REAL, data BLOB);
CREATE TABLE IF NOT EXISTS outbox (id INTEGER PRIMARY KEY, msg_id TEXT NOT NULL,
    channel TEXT NOT NULL, payload BLOB NOT NULL, created REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending', last_error TEXT);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (channel, status, id);
CREATE TABLE IF NOT EXISTS acks (fp TEXT PRIMARY KEY, until REAL, reason TEXT, at REAL);
CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, code TEXT, subject TEXT,
    until REAL, reason TEXT, created REAL);
CREATE TABLE IF NOT EXISTS disabled (channel TEXT PRIMARY KEY, reason TEXT, at REAL);
CREATE TABLE IF NOT EXISTS acks_applied (fp TEXT PRIMARY KEY, at REAL);
CREATE TABLE IF NOT EXISTS event_digests (window_id TEXT, fp TEXT, digest TEXT,
    PRIMARY KEY (window_id, fp, digest));
"""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    msg_id: str
    channel: str
    payload: dict[str, Any]
    created: float
    attempts: int
    next_at: float


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create) the alert database with WAL and FULL synchronous."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=10000")
    db.executescript(SCHEMA)
    return db


def open_db(path: Path, log: Any) -> sqlite3.Connection:
    """Open the database; a corrupt file is moved aside (kept for inspection), never fatal."""
    try:
        db = connect(path)
        if db.execute("PRAGMA quick_check").fetchone()[0] == "ok":
            return db
        db.close()
    except sqlite3.DatabaseError:
        pass
    aside = path.with_name(f"{path.name}.corrupt-{uuid.uuid4().hex[:8]}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            src.replace(Path(str(aside) + suffix))
    log.error("alerts.db_corrupt", path=str(path), moved_to=str(aside))
    return connect(path)


def dumps(obj: Any) -> bytes:
    """JSON of anything a finding may carry (huge ints, bytes, NaN, odd keys become text)."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS, default=str)
    except (TypeError, orjson.JSONEncodeError):
        return orjson.dumps(_plain(obj), option=orjson.OPT_NON_STR_KEYS, default=str)


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set | frozenset):
        return [_plain(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, str | float):
        return obj
    if isinstance(obj, int):
        return obj if -(2**63) <= obj < 2**64 else str(obj)
    return str(obj)


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def load_states(db: sqlite3.Connection) -> dict[str, AlertState]:
    rows = db.execute("SELECT data FROM alerts").fetchall()
    states = (AlertState.from_json(orjson.loads(r[0])) for r in rows)
    return {s.fp: s for s in states}


def save_states(db: sqlite3.Connection, changed: Iterable[AlertState],
                removed: Iterable[str]) -> None:
    db.executemany("INSERT OR REPLACE INTO alerts (fp, data) VALUES (?, ?)",
                   [(s.fp, dumps(s.to_json())) for s in changed])
    db.executemany("DELETE FROM alerts WHERE fp = ?", [(fp,) for fp in removed])


def save_episode(db: sqlite3.Connection, window_id: str, ep: Episode) -> None:
    """One entry of the window's alert history (its JSON, plus `_t`: first seen, epoch s)."""
    db.execute("INSERT OR REPLACE INTO episodes VALUES (?, ?, ?, ?)",
               (window_id, ep.fingerprint, ep.since, dumps(ep.to_dict() | {"_t": ep.since})))


def load_episodes(db: sqlite3.Connection, window_id: str) -> list[Episode]:
    """The window's alert history, oldest first (a row that is not an object is skipped)."""
    rows = db.execute("SELECT first_seen, data FROM episodes WHERE window_id = ? "
                      "ORDER BY first_seen", (window_id,)).fetchall()
    found = (Episode.parse(orjson.loads(data), since) for since, data in rows)
    return [e for e in found if e is not None]


def enqueue(db: sqlite3.Connection, msg_id: str, channel: str, payload: dict[str, Any],
            now: float) -> None:
    db.execute("INSERT INTO outbox (msg_id, channel, payload, created, next_at) "
               "VALUES (?, ?, ?, ?, ?)", (msg_id, channel, dumps(payload), now, now))


def next_pending(db: sqlite3.Connection, channel: str) -> OutboxRow | None:
    """The oldest pending message of `channel` (head of line keeps order per fingerprint)."""
    row = db.execute("SELECT id, msg_id, channel, payload, created, attempts, next_at "
                     "FROM outbox WHERE channel = ? AND status = 'pending' ORDER BY id LIMIT 1",
                     (channel,)).fetchone()
    if row is None:
        return None
    return OutboxRow(row[0], row[1], row[2], orjson.loads(row[3]), row[4], row[5], row[6])


def delivered(db: sqlite3.Connection, row_id: int) -> None:
    db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))


def retry_later(db: sqlite3.Connection, row_id: int, next_at: float, error: str) -> None:
    db.execute("UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ? "
               "WHERE id = ?", (next_at, error, row_id))


def give_up(db: sqlite3.Connection, row_id: int, status: str, error: str) -> None:
    """Keep a permanently failed message for inspection (`failed` or `disabled`)."""
    db.execute("UPDATE outbox SET attempts = attempts + 1, status = ?, last_error = ? "
               "WHERE id = ?", (status, error, row_id))


def retry_now(db: sqlite3.Connection, channel: str, now: float) -> int:
    """Make every backed-off pending message of `channel` due now; how many were."""
    with transaction(db):
        return db.execute("UPDATE outbox SET next_at = ? WHERE channel = ? AND "
                          "status = 'pending' AND next_at > ?", (now, channel, now)).rowcount


def queued(db: sqlite3.Connection, channel: str) -> list[tuple[str, int, str | None]]:
    """(message id, attempts, last error) of each pending message of `channel`, oldest first."""
    return db.execute("SELECT msg_id, attempts, last_error FROM outbox WHERE channel = ? "
                      "AND status = 'pending' ORDER BY id", (channel,)).fetchall()


def outbox_rows(db: sqlite3.Connection, status: str | None = None) -> list[dict[str, Any]]:
    sql = "SELECT id, msg_id, channel, status, attempts, last_error FROM outbox"
    rows = db.execute(sql + (" WHERE status = ?" if status else "") + " ORDER BY id",
                      (status,) if status else ()).fetchall()
    keys = ("id", "msg_id", "channel", "status", "attempts", "last_error")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def disable(db: sqlite3.Connection, channel: str, reason: str, now: float) -> None:
    with transaction(db):
        db.execute("INSERT OR REPLACE INTO disabled VALUES (?, ?, ?)", (channel, reason, now))
        db.execute("UPDATE outbox SET status = 'disabled' WHERE channel = ? "
                   "AND status = 'pending'", (channel,))


def disabled_channels(db: sqlite3.Connection) -> dict[str, str]:
    return dict(db.execute("SELECT channel, reason FROM disabled").fetchall())


def load_acks(db: sqlite3.Connection) -> dict[str, float | None]:
    return dict(db.execute("SELECT fp, until FROM acks").fetchall())


def load_silences(db: sqlite3.Connection) -> tuple[Silence, ...]:
    rows = db.execute("SELECT id, code, subject, until, reason, created FROM silences "
                      "ORDER BY created").fetchall()
    return tuple(Silence(*r) for r in rows)


def read_episodes(path: Path, window_id: str) -> list[Episode]:
    """The window's alert history, read-only (for `burnin report` while the daemon runs).

    Opens the file in SQLite's read-only mode, so a reader never creates or changes the
    store; raises sqlite3.Error when it is missing or unreadable."""
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
    try:
        return load_episodes(db, window_id)
    finally:
        db.close()


# -- what the engine remembers beyond alert states (survives reload, restart and kill -9) --


def load_held(db: sqlite3.Connection) -> list[tuple[str, float, dict[str, Any]]]:
    rows = db.execute("SELECT code, due, data FROM held ORDER BY id").fetchall()
    return [(c, d, orjson.loads(b)) for c, d, b in rows]


def save_held(db: sqlite3.Connection, held: Iterable[tuple[str, float, Any]]) -> None:
    db.execute("DELETE FROM held")
    db.executemany("INSERT INTO held (code, due, data) VALUES (?, ?, ?)",
                   [(code, due, dumps(rec)) for code, due, rec in held])


def ack_rows(db: sqlite3.Connection) -> list[tuple[str, float | None, float]]:
    """Every ack the CLI wrote: (fingerprint, until, written at)."""
    return db.execute("SELECT fp, until, at FROM acks").fetchall()


def put_ack(db: sqlite3.Connection, fp: str, until: float | None, reason: str,
            now: float) -> None:
    with transaction(db):
        db.execute("INSERT OR REPLACE INTO acks VALUES (?, ?, ?, ?)", (fp, until, reason, now))


def load_acks_applied(db: sqlite3.Connection) -> dict[str, float]:
    return dict(db.execute("SELECT fp, at FROM acks_applied").fetchall())


def save_acks_applied(db: sqlite3.Connection, applied: dict[str, float]) -> None:
    db.executemany("INSERT OR REPLACE INTO acks_applied VALUES (?, ?)", list(applied.items()))


def load_digests(db: sqlite3.Connection, window_id: str) -> set[tuple[str, str]]:
    """(fingerprint, digest) of every event already notified in `window_id`."""
    rows = db.execute("SELECT fp, digest FROM event_digests WHERE window_id = ?",
                      (window_id,)).fetchall()
    return {(fp, d) for fp, d in rows}


def save_digests(db: sqlite3.Connection, window_id: str,
                 digests: Iterable[tuple[str, str]]) -> None:
    db.executemany("INSERT OR IGNORE INTO event_digests VALUES (?, ?, ?)",
                   [(window_id, fp, d) for fp, d in digests])


def load_alert(db: sqlite3.Connection, fp: str) -> dict[str, Any] | None:
    row = db.execute("SELECT data FROM alerts WHERE fp = ?", (fp,)).fetchone()
    return orjson.loads(row[0]) if row else None


def add_silence(db: sqlite3.Connection, sil: Silence) -> None:
    with transaction(db):
        db.execute("INSERT INTO silences VALUES (?, ?, ?, ?, ?, ?)",
                   (sil.id, sil.code, sil.subject, sil.until, sil.reason, sil.created))


def remove_silence(db: sqlite3.Connection, silence_id: str) -> bool:
    with transaction(db):
        return db.execute("DELETE FROM silences WHERE id = ?", (silence_id,)).rowcount > 0


class Outbox:
    """The durable outbox: a message is written here (in the engine's transaction) before
    it is sent, and deleted only once its channel accepted it."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def enqueue(self, msg_id: str, channel: str, payload: dict[str, Any], now: float) -> None:
        enqueue(self.db, msg_id, channel, payload, now)

    def next_pending(self, channel: str) -> OutboxRow | None:
        return next_pending(self.db, channel)

    def delivered(self, row_id: int) -> None:
        delivered(self.db, row_id)

    def retry_later(self, row_id: int, next_at: float, error: str) -> None:
        retry_later(self.db, row_id, next_at, error)

    def give_up(self, row_id: int, status: str, error: str) -> None:
        give_up(self.db, row_id, status, error)

    def disable(self, channel: str, reason: str, now: float) -> None:
        disable(self.db, channel, reason, now)

    def rows(self, status: str | None = None) -> list[dict[str, Any]]:
        return outbox_rows(self.db, status)

    def pending(self) -> int:
        return int(self.db.execute(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0])


# -- disk bound (SPEC §5, issue 18) ---------------------------------------------------------
# The WAL is checkpointed and truncated every `CHECKPOINT_EVERY` commits and after a failed one,
# and `journal_size_limit` truncates it after each checkpoint, so it cannot regrow to fill space
# freed on a full disk; `max_page_count` caps the database file itself (`alerts.max_db_bytes`):
# beyond it a commit fails like on a full disk and alerting runs from memory.

CHECKPOINT_EVERY = 200  # successful commits between two TRUNCATE checkpoints
WAL_LIMIT_BYTES = 4 << 20  # what the WAL file is truncated to after a checkpoint


def bound_disk(db: sqlite3.Connection, max_db_bytes: int) -> None:
    """Cap the WAL after checkpoints and the database's size (in whole pages)."""
    page = int(db.execute("PRAGMA page_size").fetchone()[0])
    db.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
    db.execute(f"PRAGMA max_page_count = {max(max_db_bytes // page, 1)}")


def checkpoint(db: sqlite3.Connection) -> None:
    """Copy the WAL into the database and truncate it (best effort: a full disk may refuse)."""
    with contextlib.suppress(sqlite3.Error):
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()


def after_failure(db: sqlite3.Connection) -> None:
    """A commit failed: end any transaction it left open (else every later BEGIN fails, even
    once the disk has room again) and give the WAL's space back."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")
    checkpoint(db)
