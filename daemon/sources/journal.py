"""The shared `journal` source: the incremental replay of the credit journal (SPEC §2, §3).

`position(now)` reads only the bytes appended since the last run; `integrity(now)` replays the
file from byte 0 up to the incremental offset and compares. Both run in a worker thread under
one lock. The state (offset, crc32 of the verified bytes, balances, key table, counters) is
saved under `env.state_dir/journal.state` in the daemon, so a restart continues where it
stopped; a one-shot `burnin check` (state_dir None) writes nothing.

File identity, rotation and truncation are `JournalFile`'s (sources/journal_file.py): it says
what happened to the file (`same`, `moved`, `rotated`, `replaced`, `shrank`, `changed`) and this
module replays. Rotated: the old file is finished, the new one is read from 0, the books carry
on. Replaced, shrank or changed: `journal.rewritten` and a re-read from 0.

A pass returns what it observed (`Observed`, sources/journal_obs.py): the lines that are not
healthy events, the append-only break, the inputs of the conditions and of the snapshot
comparison. The rules judge them with checks/journal_decide.py.
"""

from __future__ import annotations

import os
import threading
from typing import IO, Any

from daemon.rulestate import RuleState
from daemon.sources import journal_conditions as cond
from daemon.sources import journal_split as split
from daemon.sources import journal_state
from daemon.sources.journal_book import Book
from daemon.sources.journal_file import JournalFile
from daemon.sources.journal_obs import (
    Observed,
    Rewritten,
    SnapshotAbsent,
    SnapshotCorrupt,
    SnapshotObs,
    SnapshotRead,
    Tail,
    Unavailable,
)
from daemon.sources.journal_parse import Fields, Parser
from daemon.sources.journal_scan import Position, find_first, scan
from daemon.sources.journal_small import SMALL_READ, load_numpy
from daemon.sources.ledger_snapshot import Snapshot, SnapshotError, by_text, parse_snapshot
from daemon.sources.registry import source
from daemon.sources.regular import read_regular
from daemon.unit import Env


@source("journal")
class JournalSource:
    """Incremental journal state shared by the `journal_position` and `journal_integrity` rules."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.cfg = env.cfg.journal
        self.rel = self.cfg.path
        self.path = env.cfg.observed(self.cfg.path)
        c = self.cfg
        self.parser = Parser(Fields(c.account_field, c.delta_field, c.id_field,
                                    c.correlation_field, c.type_field, c.sequence_field,
                                    c.request_field if c.decision_types else ""))
        self.state = RuleState(env.state_dir, "journal.state", version=journal_state.VERSION,
                               log=env.log)  # binary: journal_state versions its own header
        self.base_state = RuleState(env.state_dir, "journal.base", version=journal_state.VERSION,
                                    log=env.log)
        self.book = self._new_book()
        self.pos = Position()
        self.file = JournalFile(self.path)
        self.base: bytes | None = None
        self.rotations = 0
        self.passes = 0
        self.tail = 0
        self.snapshot_seen: set[str] = set()
        self._loaded = False
        self._dirty = False
        self._busy = threading.Lock()  # held while a pass mutates the books
        self._lock: Any = None

    # ---------------------------------------------------------------- async API

    async def position(self, now: float) -> Observed:
        """Apply the new bytes; what they and the file show now (judged by the rule)."""
        async with self._locked():
            return await self.env.offload(self._guarded, self.advance, now)

    async def integrity(self, now: float) -> Observed:
        """Full replay from byte 0 compared with the incremental state (judged by the rule)."""
        async with self._locked():
            return await self.env.offload(self._guarded, self.verify, now)

    def _guarded(self, step: Any, now: float) -> Observed:
        with self._busy:
            result: Observed = step(now)
            return result

    def _locked(self) -> Any:
        if self._lock is None:
            self._lock = self.env.offload.lock()
        return self._lock

    # ---------------------------------------------------------------- position

    def advance(self, now: float) -> Observed:
        """Synchronous position pass (runs in a worker thread)."""
        self._load_once()
        try:
            out = Observed(rewritten=self._follow())
        except OSError as exc:
            self.file.close()
            return Observed({"available": False}, unavailable=Unavailable.of(self.rel, exc))
        fh = self.file.fh
        assert fh is not None
        self.tail = self._read(fh, full=self.pos.offset == 0)
        self.passes += 1
        self._confirm(self.book, fh)
        out.lines = self.book.drain()
        self._conditions(out, now)
        out.snapshot = self._snapshot(out.metrics)
        out.metrics.update(self.metrics())
        self._dirty = True
        return out

    def _follow(self) -> Rewritten | None:
        """Act on what happened to the file; the append-only break it saw, if any."""
        change = self.file.follow(self.pos, self._finish)
        if change.kind == "rotated":
            self.pos = Position()
            self.file.marks = {}
            return None
        if change.kind in ("shrank", "changed", "replaced"):
            seen = Rewritten(change.kind, self.pos.offset, self.pos.lines, change.size)
            self._restart(reopen=change.kind != "replaced")
            return seen
        return None

    def _finish(self, old: IO[bytes]) -> None:
        """Read the rest of a rotated file, then keep the books as the base of the next one."""
        self._read(old, full=False)
        self._confirm(self.book, old)
        self.base = journal_state.dump(self.book, self.pos, {})
        self.rotations += 1

    def _restart(self, *, reopen: bool) -> None:
        """Append-only broken: forget the books and read the file from byte 0."""
        if reopen:
            self.file.reopen()
        self.book, self.pos, self.base = self._new_book(), Position(), None
        self.file.marks = {}

    def _read(self, fh: IO[bytes], *, full: bool) -> int:
        total = os.fstat(fh.fileno()).st_size
        progress = self._progress(total) if full and self.env.progress else None
        if total - self.pos.offset >= SMALL_READ:
            load_numpy()  # a large read takes the batched (numpy) paths
        if full and self.env.oneshot and not self.pos.offset and split.usable(self.book, total):
            split.replay(fh, self.pos, self.book, self._new_book(), total, progress)
        tail = scan(fh, self.pos, self.book, progress=progress)
        self.file.set_marks(fh, self.pos.offset)
        return tail

    def _progress(self, total: int) -> Any:
        report = self.env.progress
        assert report is not None
        return lambda done: report("journal replay", min(done, total), total)

    def _confirm(self, book: Book, fh: IO[bytes]) -> None:
        """Exact re-check of hash matches: report true duplicates, drop hash collisions."""
        suspects, book.suspects = book.suspects, []
        if not suspects:
            return
        first = find_first(fh, self.parser, {s[0] for s in suspects}, self.pos.offset)
        for key, line, offset in suspects:
            where = first.get(key)
            if where is not None and where[0] == line and self.base is None:
                continue  # a different key with the same 64-bit hash
            book.duplicate(key, line, offset, where if where and where[0] < line else None)

    # ---------------------------------------------------------------- conditions

    def _conditions(self, out: Observed, now: float) -> None:
        out.negative = cond.negatives(self.book)
        out.missing_correlation = self.book.counts["missing_correlation"]
        if self.tail and self.file.fh is not None:
            out.tail = Tail(self.pos.offset, self.tail, now - self.file.mtime())

    def _snapshot(self, metrics: dict[str, Any]) -> SnapshotObs | None:
        rel = self.cfg.snapshot
        if not rel:
            return None
        try:
            data = read_regular(self.env.cfg.observed(rel))
        except FileNotFoundError as exc:
            metrics["snapshot"] = "absent"
            return SnapshotAbsent(rel, Unavailable.of(rel, exc).error)
        except OSError as exc:
            return Unavailable.of(rel, exc)
        try:
            snap = parse_snapshot(data)
        except SnapshotError as exc:
            return SnapshotCorrupt(rel, str(exc))
        return self._compare(rel, snap, metrics)

    def _compare(self, rel: str, snap: Snapshot, metrics: dict[str, Any]) -> SnapshotRead:
        """The snapshot with the replay's balances at its event count (None: out of reach)."""
        new = tuple(a for a in snap.non_finite if f"{rel}:{a}" not in self.snapshot_seen)
        self.snapshot_seen.update(f"{rel}:{a}" for a in new)
        count = snap.event_count
        expected = self.book.balances if count is None else self.book.balances_at(count)
        if expected is None:
            metrics["snapshot"] = f"not reconciled (event_count {count} out of reach)"
            return SnapshotRead(rel, snap, None, new)
        metrics["snapshot"] = "reconciled"
        return SnapshotRead(rel, snap, by_text(expected), new)

    # ---------------------------------------------------------------- integrity

    def verify(self, now: float) -> Observed:
        """Synchronous integrity pass (worker thread)."""
        self._load_once()
        if self.env.oneshot and self.passes:
            return Observed(self.metrics())  # the one-shot position pass was the replay
        fh = self.file.fh
        if fh is None or self.env.oneshot:
            return self.advance(now)
        replay, pos = self._base_book(), Position()
        limit = self.pos.offset
        total = limit
        progress = self._progress(total) if self.env.progress else None
        scan(fh, pos, replay, limit=limit, progress=progress)
        self._confirm(replay, fh)
        out = Observed(self.metrics())
        if pos.offset != limit or pos.crc != self.pos.crc:
            out.rewritten = Rewritten("changed", limit)
            out.lines = replay.drain()
        else:
            replay.drain()
            out.mismatch = cond.diff(self.book, replay, limit)
            if not out.mismatch.differs:
                return out
        self.book, self.pos = replay, pos  # the full replay is the truth
        self.file.set_marks(fh, self.pos.offset)
        self._dirty = True
        return out

    def _base_book(self) -> Book:
        book = self._new_book()
        if self.base is not None:
            journal_state.load(self.base, book)
        return book

    # ---------------------------------------------------------------- state

    def _new_book(self) -> Book:
        return Book(self.parser, self.rel, max_line=self.cfg.max_line_bytes,
                    request_type=self.cfg.request_type, decision_types=self.cfg.decision_types)

    def _signature(self) -> str:
        return self.cfg.model_dump_json() + str(self.path)

    def save(self) -> None:
        """Persist the state (daemon only) atomically; a failed write is logged and retried at
        the next save."""
        if self.state.path is None or not self._dirty:
            return
        if not self._busy.acquire(blocking=False):
            return  # a pass is running; the previous saved state stays consistent
        try:
            self._dirty = not self._write_state()
        finally:
            self._busy.release()

    def _write_state(self) -> bool:
        extra = {**self.file.state(), "rotations": self.rotations,
                 "signature": self._signature(), "has_base": self.base is not None}
        if self.base is not None and not self.base_state.save_bytes(self.base):
            return False
        return self.state.save_bytes(journal_state.dump(self.book, self.pos, extra))

    def _load_once(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        raw = self.state.load_bytes()
        if raw is None:
            return
        try:
            self._load(raw)
        except ValueError as exc:
            self.state.discard(str(exc))
            self.book, self.pos, self.base = self._new_book(), Position(), None
            self.file.forget()

    def _load(self, raw: bytes) -> None:
        book = self._new_book()
        pos, extra = journal_state.load(raw, book)
        if extra.get("signature") != self._signature():
            raise ValueError("journal config changed since the state was saved")
        base = self.base_state.load_bytes() if extra.get("has_base") else None
        if extra.get("has_base") and base is None:
            raise ValueError("journal.base is missing")
        self.book, self.pos, self.base = book, pos, base
        self.file.restore(extra)
        self.rotations = int(extra.get("rotations", 0))

    def metrics(self) -> dict[str, Any]:
        c = self.book.counts
        return {**c, "available": self.file.fh is not None, "bytes": self.file.size(),
                "offset": self.pos.offset, "accounts": len(self.book.balances),
                "tail_bytes": self.tail, "rotations": self.rotations,
                "keys_table_bytes": self.book.keys_bytes(),
                "findings_dropped": self.book.dropped}

    def close(self) -> None:
        self.file.close()
