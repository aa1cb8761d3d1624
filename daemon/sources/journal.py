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
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import anyio

from daemon import atomic
from daemon.model import Finding, finding
from daemon.sources import journal_conditions as cond
from daemon.sources import journal_split as split
from daemon.sources import journal_state
from daemon.sources.journal_book import Book
from daemon.sources.journal_file import JournalFile
from daemon.sources.journal_parse import Fields, Parser
from daemon.sources.journal_scan import Position, find_first, scan
from daemon.sources.journal_small import SMALL_READ
from daemon.sources.ledger_snapshot import SnapshotError, parse_snapshot, reconcile
from daemon.sources.registry import source
from daemon.sources.regular import read_regular
from daemon.unit import Env


@dataclass
class Outcome:
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


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
        self.state_file = env.state_dir / "journal.state" if env.state_dir else None
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
        self._lock: anyio.Lock | None = None

    # ---------------------------------------------------------------- async API

    async def position(self, now: float) -> Outcome:
        """Apply the new bytes; events seen for the first time plus current conditions."""
        async with self._locked():
            return await anyio.to_thread.run_sync(self._guarded, self.advance, now)

    async def integrity(self, now: float) -> Outcome:
        """Full replay from byte 0 compared with the incremental state."""
        async with self._locked():
            return await anyio.to_thread.run_sync(self._guarded, self.verify, now)

    def _guarded(self, step: Any, now: float) -> Outcome:
        with self._busy:
            result: Outcome = step(now)
            return result

    def _locked(self) -> anyio.Lock:
        if self._lock is None:
            self._lock = anyio.Lock()
        return self._lock

    # ---------------------------------------------------------------- position

    def advance(self, now: float) -> Outcome:
        """Synchronous position pass (runs in a worker thread)."""
        self._load_once()
        try:
            out = Outcome(self._follow())
        except OSError as exc:
            self.file.close()
            return Outcome([cond.unavailable(self.rel, exc)], {"available": False})
        fh = self.file.fh
        assert fh is not None
        self.tail = self._read(fh, full=self.pos.offset == 0)
        self.passes += 1
        self._confirm(self.book, fh)
        out.findings += self.book.drain()
        out.findings += self._conditions(now)
        out.findings += self._reconcile(out.metrics)
        out.metrics.update(self.metrics())
        self._dirty = True
        return out

    def _follow(self) -> list[Finding]:
        change = self.file.follow(self.pos, self._finish)
        if change.kind == "rotated":
            self.pos = Position()
            self.file.marks = {}
        elif change.kind == "shrank":
            return self._rewritten(f"shrank from {self.pos.offset} to {change.size} bytes")
        elif change.kind == "changed":
            return self._rewritten("bytes already verified changed")
        elif change.kind == "replaced":
            return self._rewritten("replaced by a new file", keep_fh=True)
        return []

    def _finish(self, old: IO[bytes]) -> None:
        """Read the rest of a rotated file, then keep the books as the base of the next one."""
        self._read(old, full=False)
        self._confirm(self.book, old)
        self.base = journal_state.dump(self.book, self.pos, {})
        self.rotations += 1

    def _rewritten(self, reason: str, *, keep_fh: bool = False) -> list[Finding]:
        found = cond.rewritten(self.rel, reason, offset=self.pos.offset, line=self.pos.lines)
        if not keep_fh:
            self.file.reopen()
        self.book, self.pos, self.base = self._new_book(), Position(), None
        self.file.marks = {}
        return [found]

    def _read(self, fh: IO[bytes], *, full: bool) -> int:
        total = os.fstat(fh.fileno()).st_size
        progress = self._progress(total) if full and self.env.progress else None
        if total - self.pos.offset >= SMALL_READ:
            import numpy  # noqa: F401 - a large read takes the batched (numpy) paths
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

    def _conditions(self, now: float) -> list[Finding]:
        out = cond.negative_balances(self.book, self.env.cfg.ledger.allow_negative)
        out += cond.missing_correlation(self.book, self.rel, self.cfg.correlation_field)
        if self.tail and self.file.fh is not None:
            age = now - self.file.mtime()
            out += cond.torn_tail(self.rel, self.pos.offset, self.tail, age,
                                  self.cfg.torn_tail_grace)
        return out

    def _reconcile(self, metrics: dict[str, Any]) -> list[Finding]:
        rel = self.cfg.snapshot
        if not rel:
            return []
        try:
            data = read_regular(self.env.cfg.observed(rel))
        except FileNotFoundError as exc:
            metrics["snapshot"] = "absent"
            explicit = "snapshot" in self.cfg.model_fields_set
            return [cond.unavailable(rel, exc)] if explicit else []
        except OSError as exc:
            return [cond.unavailable(rel, exc)]
        try:
            snap = parse_snapshot(data)
        except SnapshotError as exc:
            return [finding("ledger.snapshot_corrupt", rel, f"{rel}: {exc}", {"reason": str(exc)})]
        return self._compare(rel, snap, metrics)

    def _compare(self, rel: str, snap: Any, metrics: dict[str, Any]) -> list[Finding]:
        out = []
        for account in snap.non_finite:
            if f"{rel}:{account}" not in self.snapshot_seen:
                self.snapshot_seen.add(f"{rel}:{account}")
                out.append(finding("ledger.non_finite", f"{rel}:{account}",
                                   f"snapshot balance of {account} is not finite",
                                   {"account": account, "snapshot": rel}))
        count = snap.event_count
        expected = self.book.balances if count is None else self.book.balances_at(count)
        if expected is None:
            metrics["snapshot"] = f"not reconciled (event_count {count} out of reach)"
            return out
        metrics["snapshot"] = "reconciled"
        found = reconcile(expected, snap, self.env.cfg.ledger.drift_tolerance)
        return out + cond.drifts(found, rel, count)

    # ---------------------------------------------------------------- integrity

    def verify(self, now: float) -> Outcome:
        """Synchronous integrity pass (worker thread)."""
        self._load_once()
        if self.env.oneshot and self.passes:
            return Outcome([], self.metrics())  # the one-shot position pass was the replay
        fh = self.file.fh
        if fh is None or self.env.oneshot:
            return self.advance(now)
        replay, pos = self._base_book(), Position()
        limit = self.pos.offset
        total = limit
        progress = self._progress(total) if self.env.progress else None
        scan(fh, pos, replay, limit=limit, progress=progress)
        self._confirm(replay, fh)
        out = Outcome(metrics=self.metrics())
        if pos.offset != limit or pos.crc != self.pos.crc:
            out.findings.append(cond.rewritten(self.rel, "bytes already verified changed",
                                               offset=limit))
            out.findings += replay.drain()
        else:
            replay.drain()
            diff = cond.mismatch(self.book, replay, self.rel, limit)
            if diff is None:
                return out
            out.findings.append(diff)
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
        """Persist the state (daemon only) atomically."""
        if self.state_file is None or not self._dirty:
            return
        if not self._busy.acquire(blocking=False):
            return  # a pass is running; the previous saved state stays consistent
        try:
            self._write_state(self.state_file)
        finally:
            self._busy.release()

    def _write_state(self, state_file: Path) -> None:
        self._dirty = False
        extra = {**self.file.state(), "rotations": self.rotations,
                 "signature": self._signature(), "has_base": self.base is not None}
        if self.base is not None:
            atomic.write_bytes(state_file.with_suffix(".base"), self.base)
        atomic.write_bytes(state_file, journal_state.dump(self.book, self.pos, extra))

    def _load_once(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if self.state_file is None or not self.state_file.exists():
            return
        try:
            self._load(self.state_file)
        except (OSError, ValueError) as exc:
            self.env.log.warning("journal_state_discarded", error=str(exc))
            self.book, self.pos, self.base = self._new_book(), Position(), None
            self.file.forget()

    def _load(self, path: Path) -> None:
        book = self._new_book()
        pos, extra = journal_state.load(path.read_bytes(), book)
        if extra.get("signature") != self._signature():
            raise ValueError("journal config changed since the state was saved")
        base = path.with_suffix(".base").read_bytes() if extra.get("has_base") else None
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
