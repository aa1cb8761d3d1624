"""The job-folder source (`@source("jobs")`): an index kept current by file events and rescans.

Two feeds keep one `JobIndex` true to the disk (SPEC §2):

- a watchfiles watcher (`awatch`, non-recursive, one per set of present folders) applies each
  batch of changes by looking at the files again (an event says *where*, the disk says *what*);
- a full rescan (`os.scandir` of every folder) at start-up and on `jobs.rescan_every`, which
  reconciles the index with the disk. watchfiles drops events silently (inotify queue
  overflow, watch limit, Windows buffer overflow) and folders get deleted and recreated: a
  rescan that finds files the watcher missed marks the source *degraded* and repairs the index.

Half-written job and result files (modified within `jobs.settle`, not parsing) are re-read
after the settle delay before they are judged.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemon.clock import Clock, real
from daemon.config import JobsCfg
from daemon.errors import ConfigError
from daemon.lazy import lazy
from daemon.sources import jobs_parse as jp
from daemon.sources import jobs_scan as scan
from daemon.sources.jobs_index import JobIndex, Obs, Settings
from daemon.sources.registry import source
from daemon.sources.regular import kind as kind_of
from daemon.unit import Env, Offload

psutil = lazy("psutil")  # on first use: a check without host or process rules never imports it
anyio = lazy("anyio")  # the watcher (daemon only); a loopless one-shot check never imports it
asyncio = lazy("asyncio")
HOUR = 3600.0
CHUNK = 2048  # files read per thread hop during a rescan
Item = tuple[str, str, str]  # (kind, folder, name)


def _pid_alive(pid: int) -> bool:
    return psutil.pid_exists(pid)


@source("jobs")
def jobs_source(env: Env) -> JobsSource:
    """The job-folder source of `env`: it takes its own config slice (`[jobs]`), the observed
    root and the config file's name (for errors), not the whole Config."""
    cfg = env.cfg
    return JobsSource(cfg.jobs, root=cfg.root, config_file=cfg.source, clock=env.clock,
                      log=env.log, oneshot=env.oneshot, offload=env.offload)


class JobsSource:
    """The shared job-folder index, its watcher and its rescans."""

    poll_s = 0.5  # real seconds between checks for a missing folder coming back
    debounce_ms = 400
    step_ms = 50

    def __init__(self, jobs: JobsCfg, *, root: Path, config_file: str, clock: Clock, log: Any,
                 oneshot: bool = False, offload: Offload | None = None) -> None:
        self.jobs, self.clock, self.log, self.oneshot = jobs, clock, log, oneshot
        self.offload = offload or Offload()  # worker threads, or direct in a loopless check
        self.root = os.path.abspath(root)
        self.patterns = _patterns(jobs, config_file)
        self.order = [self.patterns[k] for k in jp.KINDS]
        self.folders = sorted({p.folder for p in self.order})
        self._abs = {os.path.join(self.root, f) if f else self.root: f for f in self.folders}
        self.index = JobIndex(_settings(jobs, self.patterns, self._window_s()), _pid_alive)
        self.unavailable: dict[str, str] = {}  # folder -> reason
        self.rereads: dict[Item, float] = {}  # -> epoch deadline
        self.stats = {"rescans": 0, "events": 0, "missed": 0}
        self.watching = False
        self.watch_error = ""
        self.last_missed = 0
        self.scanned = False
        self.event_filter: Callable[[set[Any]], set[Any]] | None = None  # test hook: drop events
        self._watch_since = math.inf
        self._lock: Any = None

    def _window_s(self) -> float:
        """The rate window in real seconds: one nominal hour; all of history in one shot."""
        return math.inf if self.oneshot else real(self.clock, HOUR)

    # -- rescans ---------------------------------------------------------------------

    async def rescan(self) -> None:
        """Reconcile the index with a full listing of every folder."""
        self._lock = self._lock or self.offload.lock()
        async with self._lock:
            started = self.clock.monotonic()
            listings = await self.offload(self._list_all)
            todo, gone = self._diff(listings)
            counting = self.scanned and self._watch_since < started
            missed = await self._read_and_apply(todo, listings, counting)
            missed += self._apply_gone(gone, counting)
            self.last_missed = missed
            self.stats["missed"] += missed
            self.stats["rescans"] += 1
            self.scanned = True
            self.index.prune(self.clock.time())
        if missed:
            self.log.warning("jobs.missed_events", count=missed)

    async def ensure_scanned(self) -> None:
        """One rescan if none ran yet; in one-shot, also wait out the settle delay."""
        if self.scanned:
            return
        await self.rescan()
        if self.oneshot and self.rereads:
            await self.clock.sleep(self.jobs.settle)
            await self.reread_due(force=True)

    def _list_all(self) -> dict[str, dict[str, int] | str]:
        out: dict[str, dict[str, int] | str] = {}
        for folder in self.folders:
            try:
                out[folder] = scan.list_folder(self._path(folder))
            except FileNotFoundError:
                out[folder] = "missing"
            except NotADirectoryError:
                out[folder] = f"missing ({_what_is(self._path(folder))} is there, not a folder)"
            except PermissionError:
                out[folder] = "permission denied"
            except OSError as exc:
                out[folder] = f"unreadable: {exc.strerror or exc}"
        return out

    def _diff(self, listings: dict[str, Any]) -> tuple[list[Item], list[Item]]:
        todo: list[Item] = []
        gone: list[Item] = []
        for folder, listing in listings.items():
            if isinstance(listing, str):
                self.unavailable[folder] = listing
                if listing.startswith("missing"):
                    gone += self._known_in(folder)
                continue
            self.unavailable.pop(folder, None)
            todo += self._changed_in(folder, listing)
            gone += [it for it in self._known_in(folder) if it[2] not in listing]
        return todo, gone

    def _changed_in(self, folder: str, listing: dict[str, int]) -> list[Item]:
        known = {p.kind: self.index.names(p.kind) for p in self.order if p.folder == folder}
        out: list[Item] = []
        for name, mtime_ns in listing.items():
            kind = jp.classify(self.order, folder, name)
            if kind is None:
                continue
            seen = known[kind].get(name)
            if seen is None or (kind != "failed" and seen != mtime_ns):
                out.append((kind, folder, name))
        return out

    def _known_in(self, folder: str) -> list[Item]:
        return [(p.kind, folder, name) for p in self.order if p.folder == folder
                for name in self.index.names(p.kind)]

    async def _read_and_apply(self, todo: list[Item], listings: dict[str, Any],
                              counting: bool) -> int:
        """Read new and changed files in a thread, chunk by chunk, applying the previous
        chunk on the loop meanwhile (the reads release the GIL)."""
        chunks = [todo[i:i + CHUNK] for i in range(0, len(todo), CHUNK)]
        if self.offload.loopless:
            return self._read_ahead(chunks, listings, counting)
        missed = 0
        nxt = asyncio.ensure_future(self._read(chunks[0], listings)) if chunks else None
        try:
            for i in range(len(chunks)):
                assert nxt is not None
                looks = await nxt
                nxt = None
                if i + 1 < len(chunks):
                    nxt = asyncio.ensure_future(self._read(chunks[i + 1], listings))
                missed += self._apply_looks(looks, counting)
        finally:
            if nxt is not None:
                nxt.cancel()
        return missed

    def _read_ahead(self, chunks: list[list[Item]], listings: dict[str, Any],
                    counting: bool) -> int:
        """`_read_and_apply` of a loopless one-shot check: one worker thread reads the next
        chunk while this one applies the previous (no thread for a single chunk)."""
        if len(chunks) < 2:
            return sum(self._apply_looks(self._read_now(c, listings), counting) for c in chunks)
        from concurrent.futures import ThreadPoolExecutor

        missed = 0
        with ThreadPoolExecutor(1, thread_name_prefix="burnin-jobs") as pool:
            nxt = pool.submit(self._read_now, chunks[0], listings)
            for i in range(len(chunks)):
                looks = nxt.result()
                if i + 1 < len(chunks):
                    nxt = pool.submit(self._read_now, chunks[i + 1], listings)
                missed += self._apply_looks(looks, counting)
        return missed

    async def _read(self, chunk: list[Item], listings: dict[str, Any],
                    ) -> list[tuple[str, str, Obs | None]]:
        return await self.offload(scan.look_many, self.root, chunk, _known(chunk, listings))

    def _read_now(self, chunk: list[Item], listings: dict[str, Any],
                  ) -> list[tuple[str, str, Obs | None]]:
        return scan.look_many(self.root, chunk, _known(chunk, listings))

    def _apply_looks(self, looks: list[tuple[str, str, Obs | None]], counting: bool) -> int:
        now = self.clock.time()
        missed = 0
        for kind, name, obs in looks:
            if obs is None or (self.watching and not os.path.lexists(self._file(obs))):
                continue
            fresh = not self.index.has(kind, name)
            missed += counting and fresh and now - obs.mtime > self.jobs.settle
            self._put(kind, obs, now, live=False)
        return int(missed)

    def _apply_gone(self, gone: list[Item], counting: bool) -> int:
        missed = 0
        for kind, folder, name in gone:
            if self.watching and os.path.lexists(os.path.join(self._path(folder), name)):
                continue
            self.index.drop(kind, name)
            missed += counting
        return int(missed)

    # -- settle re-reads ---------------------------------------------------------------

    def _put(self, kind: str, obs: Obs, now: float, live: bool) -> None:
        if self.index.put(kind, obs, now, live):
            self.rereads.pop((kind, obs.folder, obs.name), None)
        else:
            self.rereads[(kind, obs.folder, obs.name)] = obs.mtime + self.jobs.settle

    def next_reread(self) -> float | None:
        """Epoch time of the next due settle re-read, None when none waits."""
        return min(self.rereads.values(), default=None)

    async def reread_due(self, force: bool = False) -> None:
        """Re-read the half-written files whose settle delay has passed (all, with `force`)."""
        now = self.clock.time()
        due = [it for it, t in self.rereads.items() if force or t <= now]
        for it in due:
            del self.rereads[it]
        looks = await self.offload(scan.look_many, self.root, due)
        now = self.clock.time() + (self.jobs.settle if force else 0.0)
        for kind, name, obs in looks:
            if obs is None:
                self.index.drop(kind, name)
            else:
                self._put(kind, obs, now, live=not self.oneshot)

    # -- the watcher -------------------------------------------------------------------

    async def watch(self, notify: Callable[[], None]) -> None:
        """Watch the present folders forever; restart when the set of present folders changes."""
        while True:
            present = self._present()
            if present:
                await self._watch_once(present, notify)
            else:
                self.watching = False
                await self.rescan()
                notify()
                await anyio.sleep(self.poll_s)

    async def _watch_once(self, present: list[str], notify: Callable[[], None]) -> None:
        stop = anyio.Event()
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._consume, present, stop, notify)
                for _ in range(3):
                    await anyio.sleep(0)  # let awatch create its watch first
                try:
                    await self._watching(present, stop, notify)
                finally:
                    stop.set()  # the watch thread sees it within one step; no waiting
                tg.cancel_scope.cancel()
            if stop.is_set() and self.watch_error:
                await anyio.sleep(self.poll_s)
        finally:
            self.watching, self._watch_since = False, math.inf
            stop.set()
        await self.rescan()
        notify()

    async def _watching(self, present: list[str], stop: anyio.Event,
                        notify: Callable[[], None]) -> None:
        if not stop.is_set():
            self.watching, self._watch_since = True, self.clock.monotonic()
            self.watch_error = ""
        await self.rescan()
        notify()
        await self._until_folders_change(present, stop)

    async def _consume(self, present: list[str], stop: anyio.Event,
                       notify: Callable[[], None]) -> None:
        from watchfiles import awatch  # the daemon's watcher; a one-shot check never loads it

        paths = [self._path(f) for f in present]
        try:
            async for changes in awatch(*paths, watch_filter=None, stop_event=stop,
                                        debounce=self.debounce_ms, step=self.step_ms,
                                        rust_timeout=1000, recursive=False):
                await self.apply_changes(changes)
                notify()
        except (OSError, RuntimeError, ExceptionGroup) as exc:  # watch limit, folder gone, ...
            self._watch_failed(exc)
        stop.set()

    def _watch_failed(self, exc: BaseException) -> None:
        """A name that is not valid UTF-8 kills watchfiles' event batch
        (WatchfilesRustInternalError "Unable to decode path"): not a broken watch, so no
        pause; the rescan that follows repairs the batch (it lists such names as text, with
        the bad bytes escaped in findings)."""
        if _undecodable_path_error(exc):
            self.stats["undecodable"] = self.stats.get("undecodable", 0) + 1
            self.log.info("jobs.watch_undecodable_name", error=repr(str(exc)))
            return
        self.watch_error = f"{type(exc).__name__}: {exc}"
        self.log.warning("jobs.watch_failed", error=self.watch_error)
        self.watching = False

    async def _until_folders_change(self, present: list[str], stop: anyio.Event) -> None:
        while not stop.is_set():
            with anyio.move_on_after(self.poll_s):
                await stop.wait()
            if self._present() != present:
                return

    async def apply_changes(self, changes: set[Any]) -> None:
        """Apply one batch of watcher changes: look again at every path named."""
        if self.event_filter is not None:
            changes = self.event_filter(changes)
        self.stats["events"] += len(changes)
        items = sorted({it for _, path in changes if (it := self._item(path)) is not None})
        looks = await self.offload(scan.look_many, self.root, items)
        now = self.clock.time()
        for kind, name, obs in looks:
            if obs is None:
                self.index.drop(kind, name)
            else:
                self._put(kind, obs, now, live=True)

    # -- paths and status --------------------------------------------------------------

    def _item(self, path: str) -> Item | None:
        folder = self._abs.get(os.path.dirname(path))
        if folder is None:
            return None
        name = os.path.basename(path)
        kind = jp.classify(self.order, folder, name)
        return (kind, folder, name) if kind else None

    def _path(self, folder: str) -> str:
        return os.path.join(self.root, folder) if folder else self.root

    def _file(self, obs: Obs) -> str:
        return os.path.join(self._path(obs.folder), obs.name)

    def _present(self) -> list[str]:
        return [f for f in self.folders if os.path.isdir(self._path(f))]

    @property
    def degraded(self) -> str:
        """Why the index may not match the disk right now ('' when it does)."""
        if self.unavailable:
            return "folder unavailable: " + ", ".join(sorted(self.unavailable))
        if self.last_missed:
            return f"last rescan repaired {self.last_missed} missed file events"
        if not self.oneshot and not self.watching:
            return self.watch_error or "watcher not running"
        return ""

    @property
    def pending_count(self) -> int:
        """Jobs waiting (for `process.idle_cpu`); raises until the first scan is done."""
        if not self.scanned:
            raise LookupError("job folders not scanned yet")
        return len(self.index.pending)

    @property
    def claimed_count(self) -> int:
        if not self.scanned:
            raise LookupError("job folders not scanned yet")
        return len(self.index.claims)

    @property
    def activity(self) -> tuple[int, ...]:
        """Changes when anything happens in the job folders (file events, counts)."""
        return (self.stats["events"], self.stats["missed"], *self.index.counts().values())

    def metrics(self) -> dict[str, Any]:
        why = self.degraded
        return {**self.index.counts(), "degraded": bool(why), "degraded_reason": why,
                "watching": self.watching, **self.stats}

    def close(self) -> None:
        self.watching = False


def _patterns(jobs: JobsCfg, config_file: str) -> dict[str, jp.Pattern]:
    try:
        return {k: jp.split_pattern(k, getattr(jobs, k)) for k in jp.KINDS}
    except ValueError as exc:
        raise ConfigError(config_file, "jobs", str(exc)) from None


def _known(chunk: list[Item], listings: dict[str, Any]) -> list[Any]:
    """What the listing already says of each file (claims need their ctime: stat them)."""
    return [None if kind == "claims" else (listings[folder][name], 0.0)
            for kind, folder, name in chunk]


def _settings(j: JobsCfg, patterns: dict[str, jp.Pattern], window_s: float) -> Settings:
    return Settings(patterns, j.created_field, j.claimed_field, j.completed_field,
                    j.result_id_field, j.settle, window_s)


def _what_is(path: Path | str) -> str:
    try:
        return kind_of(os.stat(path).st_mode)
    except OSError:
        return "nothing"


def _undecodable_path_error(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_undecodable_path_error(e) for e in exc.exceptions)
    return isinstance(exc, RuntimeError) and "decode path" in str(exc)
