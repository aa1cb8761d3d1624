"""The alert engine: the supervisor's one entry point to alerts (decide -> outbox -> channels).

`observe` and `tick` run the pure decision, then commit the new alert states and every
message it produced to SQLite in one transaction, and only then wake the delivery workers: a
notification is durable before it is sent, and after a kill -9 the next `start` sends
whatever is still pending, with the same id.

When SQLite cannot commit (disk full, read-only runtime folder) the decision is applied in
memory anyway and its messages wait in a bounded in-memory outbox (`memqueue`) that the
workers take first, so every channel that needs no disk still delivers; the engine raises
`daemon.runtime_unwritable` for the database and, once the disk takes a transaction again,
writes what memory kept into SQLite (at-least-once resumes). SPEC §5.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

import anyio

from daemon import storm
from daemon.alerts import decide, router, store
from daemon.alerts.deadman import Deadman
from daemon.alerts.memqueue import MemQueue, Unsaved
from daemon.alerts.retry import FAILING_AFTER
from daemon.alerts.state import AlertState, Policy, digest, fingerprint, record
from daemon.alerts.worker import Worker
from daemon.channels.base import Channel
from daemon.channels.build import build, http_client
from daemon.channels.verdict import VerdictMessage
from daemon.clock import Clock, iso, real
from daemon.config import Config
from daemon.model import Finding, Kind, Severity, finding
from daemon.records import AlertRecord, Episode


@dataclass(frozen=True, slots=True)
class Batch:
    """Everything one decision writes, committed in one transaction."""

    changed: list[AlertState]
    removed: list[str]
    episodes: dict[tuple[str, float], Episode]
    held: list[router.Held] | None  # None: the waiting groups did not change
    outgoing: list[tuple[str, str, dict]]  # (message id, channel, payload)
    digests: set[tuple[str, str]]  # events notified by this batch


Judging = Callable[[str, str], bool]  # (code, subject) -> could the rule judge it now?
DELIVERY_RULE = "alerts.delivery"
STOP_CHECK_S = 0.5  # drain: how soon a stop request is noticed while waiting
ENDPOINT_RULE = "alerts.endpoints"
OUTBOX_RULE = "alerts.outbox"


class AlertEngine:
    def __init__(self, cfg: Config, clock: Clock, log: Any, *, window_id: str,
                 host: str) -> None:
        self.cfg, self.clock, self.log = cfg, clock, log
        self.window_id, self.host = window_id, host
        self.policy = Policy.from_config(cfg, clock.scale)
        self.group_wait_s = real(clock, cfg.alerts.group_wait)
        self.states: dict[str, AlertState] = {}
        self.held: list[router.Held] = []
        self.silences: tuple = ()
        self.episodes: dict[tuple[str, float], Episode] = {}
        self.channels: dict[str, Channel] = {}
        self.workers: dict[str, Worker] = {}
        self._tg: Any = None  # the workers' task group, open from start() to aclose()
        self._scopes: dict[str, anyio.CancelScope] = {}
        self._ended: dict[str, anyio.Event] = {}
        self._progress = anyio.Event()
        self.outbox: store.Outbox | None = None
        self.health: dict[str, str] = {}
        self.acks_applied: dict[str, float] = {}
        self.digests: set[tuple[str, str]] = set()
        self.db: Any = None
        self.client: Any = None
        self.deadman: Deadman | None = None
        self.memory = MemQueue()  # the outbox while SQLite cannot commit
        self.unsaved = Unsaved()
        self.commits = 0

    # lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Load everything the engine remembers (alert states, waiting groups, silences,
        applied acks, notified events, channel health) and start the channels."""
        self.db = store.open_db(self.cfg.runtime_dir / "alerts.sqlite3", self.log)
        store.bound_disk(self.db, self.cfg.alerts.max_db_bytes)
        self.outbox = store.Outbox(self.db)
        self.states = store.load_states(self.db)
        self.held = [router.Held(c, d, r) for c, d, r in store.load_held(self.db)]
        self.silences = store.load_silences(self.db)
        self.acks_applied = store.load_acks_applied(self.db)
        self._load_window()
        self.health = {s.subject: "failing" for s in self.states.values()
                       if s.open and s.rule == DELIVERY_RULE}
        self.client = http_client()
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._start_channels()

    async def configure(self, cfg: Config) -> None:
        """A reload: the new config's channels around the same state (nothing is reloaded
        from disk, nothing resolves). Unchanged alert settings keep the running workers."""
        same = cfg.alerts == self.cfg.alerts and cfg.system == self.cfg.system
        self.cfg = cfg
        self.policy = Policy.from_config(cfg, self.clock.scale)
        self.group_wait_s = real(self.clock, cfg.alerts.group_wait)
        if same or self.db is None:
            return
        await self._stop_channels()
        self._start_channels()
        gone = [name for name in self.health if name not in self.channels]
        for name in gone:
            del self.health[name]
        if gone:
            self._health_changed(self.clock.time())

    def _start_channels(self) -> None:
        disabled = store.disabled_channels(self.db)
        for ch in build(self.cfg, self.clock, self.client):
            self.channels[ch.name] = ch
            if ch.name in disabled:
                self.health[ch.name] = "gone"
            else:
                self._start_worker(ch)
        if self.cfg.alerts.deadman is not None:
            self.deadman = Deadman(self.cfg.alerts.deadman, self.clock, self.client, self.log)

    def _start_worker(self, ch: Channel) -> None:
        a = self.cfg.alerts
        w = _Worker(ch, self.db, self.clock, self.log, (a.retry_base, a.retry_max),
                    self._on_health, settled=self._settled, memory=self.memory)
        if self.health.get(ch.name) == "failing":
            w.failures = FAILING_AFTER  # its next delivery reports the channel healthy again
        self.workers[ch.name] = w
        self._ended[ch.name] = anyio.Event()
        self._tg.start_soon(self._run_worker, w, name=f"deliver:{ch.name}")

    async def _run_worker(self, w: Worker) -> None:
        """One worker in the engine's task group; a crash is logged, never the daemon's."""
        name = w.channel.name
        try:
            with anyio.CancelScope() as scope:
                self._scopes[name] = scope
                await w.run()
        except Exception as exc:
            self.log.error("alert.worker_failed", channel=name, error=repr(exc), exc_info=True)
        finally:
            self._ended[name].set()

    def _settled(self) -> None:
        self._progress.set()

    async def _stop_channels(self, timeout_s: float = 3.0) -> None:
        """Stop the workers; a message being sent stays pending and goes out later."""
        for worker in self.workers.values():
            worker.stop()
        for scope in self._scopes.values():
            scope.cancel()
        with anyio.move_on_after(timeout_s):
            for ended in self._ended.values():
                await ended.wait()
        for ch in self.channels.values():
            with contextlib.suppress(Exception):
                await ch.aclose()
        if self.deadman is not None:
            await self.deadman.aclose()
        self.workers, self.channels, self.deadman = {}, {}, None
        self._scopes, self._ended = {}, {}

    async def aclose(self, timeout_s: float = 3.0) -> None:
        """Stop the workers; a message being sent stays pending and goes out at next start."""
        with anyio.CancelScope(shield=True):
            await self._stop_channels(timeout_s)
            if self.client is not None:
                with contextlib.suppress(Exception):
                    await self.client.aclose()
        if self._tg is not None:
            self._tg.cancel_scope.cancel()
            tg, self._tg = self._tg, None
            await tg.__aexit__(None, None, None)
        if self.db is not None:
            self.db.close()
            self.db = None

    # the supervisor's calls ------------------------------------------------------------------

    async def observe(self, rule: str, findings: list[Finding], now: float,
                      judging: Judging | None = None) -> None:
        """One look of `rule`. Conditions it owns and did not report resolve, except those
        `judging(code, subject)` says the rule could not judge yet (a rule that has just
        started and has not gathered its samples or scanned its folders has not looked).
        An event already notified in this window is not notified again."""
        findings = storm.bound(findings, self.cfg.alerts.max_subjects_per_code)
        seen = {fingerprint(f.code, f.subject) for f in findings}
        kept = {fp: st for fp, st in self.states.items()
                if judging is not None and st.rule == rule and fp not in seen
                and st.kind is Kind.CONDITION and not judging(st.code, st.subject)}
        fresh = [f for f in findings if f.kind is not Kind.EVENT
                 or (fingerprint(f.code, f.subject), digest(f)) not in self.digests]
        prev = {fp: st for fp, st in self.states.items() if fp not in kept}
        states, notices = decide.observe(prev, rule, fresh, now, self.policy, self.silences)
        self._commit(states | kept, notices, now)

    async def tick(self, now: float) -> None:
        if self.unsaved.error is not None or self.memory.idle():
            self._recover(now)
        self._reload(now)
        states, notices = decide.tick(self.states, now, self.policy, self.silences)
        self._commit(states, notices, now)
        if self.deadman is not None:
            self.deadman.maybe_ping(now)

    def _load_window(self) -> None:
        self.episodes = {(e.fingerprint, e.since): e
                         for e in store.load_episodes(self.db, self.window_id)}
        self.digests = store.load_digests(self.db, self.window_id)

    def set_window(self, window_id: str) -> None:
        """A new window: alerts still firing are carried into its history."""
        self.window_id = window_id
        self.episodes, self.digests = {}, set()
        if self.db is None:
            return
        self._load_window()
        carried = self._episodes([s for s in self.states.values() if s.open])
        self.unsaved.episodes = {}  # the old window's report is written
        self._write_or_keep(Batch([], [], carried, None, [], set()), self.clock.time())
        self.episodes.update(carried)

    async def notify_verdict(self, verdict: VerdictMessage) -> None:
        now = self.clock.time()
        summary = verdict.sent_from(self.cfg.system.name, self.host).to_dict()
        payload = {"type": "verdict", "system": self.cfg.system.name, "created": now,
                   "records": [], "summary": summary}
        msg_id = _msg_id()
        names = [n for n in self.channels if n in self.workers]
        outgoing = [(msg_id, name, payload) for name in names]
        self._write_or_keep(Batch([], [], {}, None, outgoing, set()), now)
        self._wake(names)

    async def drain(self, timeout_s: float = 10.0,
                    stopping: Callable[[], bool] = lambda: False) -> bool:
        """Retry every channel at once, then wait (real time) until every pending message was
        accepted; False on timeout or when `stopping()` (SIGTERM), with what stays queued
        logged per channel. Woken each time a worker settles a message, not by a poll."""
        for worker in self.workers.values():
            worker.drain()
        with anyio.move_on_after(timeout_s):
            while self.pending() and not stopping():
                self._progress = anyio.Event()
                if not self.pending():
                    break
                with anyio.move_on_after(STOP_CHECK_S):  # only to notice `stopping()`
                    await self._progress.wait()
            if not self.pending():
                return True
        for left in (w.queued() for w in self.workers.values()):
            if left["pending"]:
                self.log.warning("alert.still_queued", **left)
        return False

    # reading ---------------------------------------------------------------------------------

    def open_alerts(self) -> list[dict[str, Any]]:
        """status.json `alerts.open` (its file format): records plus ack and silence flags."""
        live = [s for s in self.states.values() if s.open]
        live.sort(key=lambda s: (-s.severity, s.first_seen))
        return [self._record(s).to_dict() | {"acked": s.acked_until is not None,
                                             "silenced": s.silenced} for s in live]

    def signature(self) -> tuple:
        """Changes whenever an open alert appears, goes, escalates, is acked or silenced."""
        return tuple((s.fp, s.severity, s.acked_until is not None, s.silenced)
                     for s in self.states.values() if s.open)

    def counts(self) -> dict[str, int]:
        out = {s.name: 0 for s in reversed(Severity)}
        for s in self.states.values():
            if s.open:
                out[s.severity.name] += 1
        return out

    def fired(self) -> list[Episode]:
        """The window's history: every alert that fired in it, once per firing."""
        return list(self.episodes.values())

    def pending(self) -> int:
        """Messages not yet accepted by their channel (for tests and status)."""
        if self.db is None or not self.outbox:
            return len(self.memory)
        try:
            stored = self.outbox.pending() - sum(w.owed_sent() for w in self.workers.values())
        except sqlite3.Error:
            stored = 0
        return max(stored, 0) + len(self.memory)

    def outbox_state(self) -> str:
        """status.json `alerts.outbox`: "sqlite", or "memory" while the disk refuses."""
        return "memory" if self.unsaved.error is not None or len(self.memory) else "sqlite"

    # internals -------------------------------------------------------------------------------

    def _record(self, st: AlertState) -> AlertRecord:
        return record(st, system=self.cfg.system.name, host=self.host, window_id=self.window_id)

    def _commit(self, states: dict[str, AlertState], notices: list[decide.Notice],
                now: float) -> None:
        changed = [s for fp, s in states.items() if self.states.get(fp) != s]
        removed = [fp for fp in self.states if fp not in states]
        records = [self._record(n.state).to_dict() | {"reason": n.reason,
                                                      "silenced": n.state.silenced}
                   for n in notices]
        held = router.hold(self.held, records, now, self.group_wait_s)
        groups, rest = router.flush(held, now)
        if not (changed or removed or records or groups):
            return
        events = {(n.state.fp, n.state.digests[-1]) for n in notices
                  if n.state.kind is Kind.EVENT and n.state.digests}
        batch = Batch(changed, removed, self._episodes(changed),
                      rest if (records or groups) else None, self._messages(groups, now),
                      events - self.digests)
        failed_now = self._write_or_keep(batch, now)
        self.states, self.held = states, rest
        self.episodes.update(batch.episodes)
        self.digests |= batch.digests
        self._log(notices)
        self._wake({name for _, name, _ in batch.outgoing})
        if failed_now:
            self._outbox_health(now)

    def _write_or_keep(self, batch: Batch, now: float) -> bool:
        """Commit `batch`; when SQLite refuses, keep it in memory (True: it just began)."""
        began = False
        if self.unsaved.error is None:
            try:
                self._write(batch, now)
                self._committed()
                return False
            except sqlite3.Error as exc:
                store.after_failure(self.db)
                self.unsaved.error, began = str(exc), True
                self.log.error("alerts.commit_failed", error=str(exc), outbox="memory")
        self.unsaved.keep(batch.removed, batch.episodes, batch.digests)
        for msg_id, name, payload in batch.outgoing:
            if self.memory.put(msg_id, name, payload, now):
                self.log.warning("alerts.memory_outbox_full", dropped=self.memory.dropped)
        return began

    def _committed(self) -> None:
        self.commits += 1
        if self.commits % store.CHECKPOINT_EVERY == 0:
            store.checkpoint(self.db)

    def _recover(self, now: float) -> None:
        """Write what memory kept (alert states, history, messages not in flight) in one
        transaction; the first that succeeds ends the degraded mode."""
        idle = self.memory.idle()
        u = self.unsaved
        try:
            with store.transaction(self.db):
                store.save_states(self.db, list(self.states.values()),
                                  [fp for fp in u.removed if fp not in self.states])
                self._save_episodes(u.episodes)
                store.save_held(self.db, [(h.code, h.due, h.record) for h in self.held])
                store.save_digests(self.db, self.window_id, u.digests)
                store.save_acks_applied(self.db, self.acks_applied)
                for row in idle:
                    self.outbox.enqueue(row.msg_id, row.channel, row.payload, row.created)
        except sqlite3.Error:
            store.after_failure(self.db)
            self._outbox_health(now)  # still failing: observed again (a debounce may wait)
            return
        self.memory.forget(idle)
        was = self.unsaved
        self.unsaved = Unsaved()
        store.checkpoint(self.db)
        self.log.info("alerts.outbox_recovered", moved=len(idle), batches=was.batches,
                      error=was.error)
        self._wake(list(self.workers))
        if was.error is not None:
            self._outbox_health(now)

    def _outbox_health(self, now: float) -> None:
        """`daemon.runtime_unwritable` for the alert database while it cannot commit."""
        path = str(self.cfg.runtime_dir / "alerts.sqlite3")
        found = [] if self.unsaved.error is None else [finding(
            "daemon.runtime_unwritable", path, f"cannot commit alerts to {path}: "
            f"{self.unsaved.error}; alerting runs from memory", {"error": self.unsaved.error,
                                                                  "outbox": "memory"})]
        states, notices = decide.observe(self.states, OUTBOX_RULE, found, now, self.policy,
                                         self.silences)
        self._commit(states, notices, now)

    def _write(self, batch: Batch, now: float) -> None:
        """One transaction: alert states, window history, waiting groups, new messages."""
        with store.transaction(self.db):
            store.save_states(self.db, batch.changed, batch.removed)
            self._save_episodes(batch.episodes)
            if batch.held is not None:
                store.save_held(self.db, [(h.code, h.due, h.record) for h in batch.held])
            store.save_digests(self.db, self.window_id, batch.digests)
            for msg_id, name, payload in batch.outgoing:
                self.outbox.enqueue(msg_id, name, payload, now)

    def _messages(self, groups: dict[str, list[dict]],
                  now: float) -> list[tuple[str, str, dict]]:
        routes = [router.Route(n, c.min_severity, c.always) for n, c in self.channels.items()
                  if n in self.workers]
        out = []
        for records in groups.values():
            msg_id = _msg_id()
            for name, mine in router.route(records, routes).items():
                payload = {"type": "alerts", "system": self.cfg.system.name, "created": now,
                           "records": mine, "summary": {}}
                out.append((msg_id, name, payload))
        return out

    def _episodes(self, changed: list[AlertState]) -> dict[tuple[str, float], Episode]:
        """History entries (for `fired()`) of the alerts that changed and have fired."""
        out = {}
        for st in changed:
            if not st.fired or st.status == "pending" or _never_fired_again(st):
                continue
            key = (st.fp, st.first_seen)
            out[key] = self._episode(st, self.episodes.get(key))
        return out

    def _episode(self, st: AlertState, old: Episode | None) -> Episode:
        """`st` as an episode of the window; flags once set on `old` stay set."""
        rec = self._record(st)
        return Episode(
            **{f.name: getattr(rec, f.name) for f in fields(AlertRecord)},
            silenced=st.silenced or (old is not None and old.silenced),
            silenced_before_fire=st.silenced_before_fire,
            acked=st.acked or (old is not None and old.acked),
            notified_at=(old.notified_at if old is not None else None) or iso(st.last_notified),
            since=st.first_seen)

    def _save_episodes(self, episodes: dict[tuple[str, float], Episode]) -> None:
        for ep in episodes.values():
            store.save_episode(self.db, self.window_id, ep)

    def _reload(self, now: float) -> None:
        """Acks and silences written by the CLI while the daemon runs; an ack applies once
        (remembered on disk, so a restart does not apply it again)."""
        self.silences = store.load_silences(self.db)
        states, applied = dict(self.states), {}
        for fp, until, at in store.ack_rows(self.db):
            st = states.get(fp)
            fresh = at > self.acks_applied.get(fp, float("-inf"))
            if st is not None and st.open and at >= st.first_seen and fresh:
                states[fp] = decide.ack(st, until)
                applied[fp] = at
        if not applied:
            return
        self._commit(states, [], now)
        if self.states is states or self.states == states:
            self.acks_applied.update(applied)
            try:
                with store.transaction(self.db):
                    store.save_acks_applied(self.db, applied)
            except sqlite3.Error:  # kept in memory: written at recovery
                store.after_failure(self.db)

    def _on_health(self, channel: str, status: str, detail: str) -> None:
        self.health[channel] = status
        if status == "gone":
            self.workers.pop(channel, None)
        self._health_changed(self.clock.time())

    def _health_changed(self, now: float) -> None:
        failing = [finding("daemon.delivery_failing", name, f"channel {name} failed its last "
                           "3 delivery attempts", {"channel": name})
                   for name, st in self.health.items() if st == "failing"]
        gone = [finding("daemon.endpoint_disabled", name, f"channel {name} answered 410 Gone "
                        "and is disabled", {"channel": name})
                for name, st in self.health.items() if st == "gone"]
        s1, n1 = decide.observe(self.states, DELIVERY_RULE, failing, now, self.policy,
                                self.silences)
        s2, n2 = decide.observe(s1, ENDPOINT_RULE, gone, now, self.policy, self.silences)
        self._commit(s2, n1 + n2, now)

    def _wake(self, names: Any) -> None:
        for name in names:
            w = self.workers.get(name)
            if w is not None:
                w.wake.set()

    def _log(self, notices: list[decide.Notice]) -> None:
        for n in notices:
            self.log.info("alert.notice", reason=n.reason, code=n.state.code,
                          severity=n.state.severity.name, fingerprint=n.state.fp,
                          silenced=n.state.silenced)


class _Worker(Worker):
    """A delivery worker that tells the engine each time a message was settled (sent, given
    up or put back for a retry): `drain` waits on that instead of polling."""

    def __init__(self, *args: Any, settled: Callable[[], None],
                 memory: MemQueue | None = None) -> None:
        super().__init__(*args, memory=memory)
        self._settled = settled

    async def attempt(self, row: store.OutboxRow) -> bool:
        try:
            return await super().attempt(row)
        finally:
            self._settled()


def _msg_id() -> str:
    return "msg_" + uuid.uuid4().hex


def _never_fired_again(st: AlertState) -> bool:
    """A re-occurrence that went away before passing the debounce: not a new episode.

    Such a state carries the earlier episode's `fired` and `resolved_at` with its own, later
    `first_seen`; the earlier episode is already in the history.
    """
    return st.status == "resolved" and st.resolved_at is not None and \
        st.resolved_at < st.first_seen
