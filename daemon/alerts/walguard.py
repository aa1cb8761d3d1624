"""Keep the alert database's disk use bounded (SPEC §5, issue 18).

The WAL is checkpointed and truncated every `CHECKPOINT_EVERY` commits and after a failed one,
and `journal_size_limit` truncates it after each checkpoint, so it cannot regrow to fill space
freed on a full disk; `max_page_count` caps the database file itself (`alerts.max_db_bytes`):
beyond it a commit fails like on a full disk and alerting runs from memory.
"""

from __future__ import annotations

import contextlib
import sqlite3

CHECKPOINT_EVERY = 200  # successful commits between two TRUNCATE checkpoints
WAL_LIMIT_BYTES = 4 << 20  # what the WAL file is truncated to after a checkpoint


def bound(db: sqlite3.Connection, max_db_bytes: int) -> None:
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
