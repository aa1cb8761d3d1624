"""The supervisor: one daemon process runs the four checks and keeps status.json current.

Flow (STYLE.md "data flows one way"): Cadences fire -> a worker per check runs its rules
(daemon.runner) -> findings go to the AlertEngine -> status.json / window / verdict.
`Daemon.serve()` runs sessions; SIGHUP ends a session with "reload" and a new one starts with
the new config (the window, the status sequence and the instance lock carry over).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio

from daemon import selfmon as _selfmon  # noqa: F401 - registers the "selfmon" source
from daemon.alerts.engine import AlertEngine
from daemon.alerts.recent import recent as recent_alerts
from daemon.checks.base import Env, Rule
from daemon.checks.registry import rules_for
from daemon.clock import Clock, SystemClock
from daemon.config import Config
from daemon.errors import ConfigError
from daemon.lock import InstanceLock
from daemon.model import CHECKS, Finding, finding
from daemon.runner import overrun, run_check
from daemon.schedule import Cadences, interval_real
from daemon.service import signals
from daemon.service.metrics import MetricsExporter
from daemon.service.sdnotify import Notifier, run_watchdog, status_line
from daemon.sources.registry import SourceHub
from daemon.status import CheckState, StatusWriter
from daemon.window.lifecycle import WindowRunner, notification
from daemon.window.state import Window

TICK_S = 0.5
STATUS_EVERY_S = 5.0  # at least this often; at once after a check or an alert change
RUNTIME_OK_S = 10.0  # real seconds without a failed runtime write before it is resolved
RESTART_ONLY = ("window", "daemon", "metrics")  # config tables a reload cannot change


class RuleSet:
    """The rules of one config and the shared sources they read. A reload that leaves every
    table but `[alerts]` unchanged keeps them (with what they have scanned and sampled)."""

    def __init__(self, cfg: Config, clock: Clock, log: Any, window_id: str) -> None:
        self.cfg, self.log = cfg, log
        self.hub = SourceHub()
        self.env = Env(cfg=cfg, clock=clock, sources=self.hub, log=log,
                       state_dir=cfg.runtime_dir / "state", window_id=window_id)
        self.hub.bind(self.env)
        self.selfmon = self.hub.get("selfmon")
        self.rules: dict[str, list[Rule]] = {
            c: [cls(self.env) for cls in rules_for(c, cfg.checks.disabled)] for c in CHECKS}

    def fits(self, cfg: Config, window_id: str) -> bool:
        """Whether these rules can serve `cfg` in window `window_id` unchanged."""
        keep = set(Config.model_fields) - {"alerts"}
        return window_id == self.env.window_id and \
            self.cfg.model_dump(include=keep) == cfg.model_dump(include=keep)

    def adopt(self, cfg: Config) -> None:
        self.cfg = self.env.cfg = cfg

    def all(self) -> list[Rule]:
        return [r for rules in self.rules.values() for r in rules]

    def save(self) -> None:
        for rule in self.all():
            try:
                rule.save()
            except Exception as exc:
                self.log.error("rule_save_failed", rule=rule.name, error=repr(exc))

    def close(self) -> None:
        for rule in self.all():
            for action in (rule.save, rule.close):
                try:
                    action()
                except Exception as exc:
                    self.log.error("rule_close_failed", rule=rule.name, error=repr(exc))
        self.hub.close()


class Session:
    """One configuration's worth of running: a scheduler around the rules, feeding the
    daemon's one alert engine (which a reload does not rebuild)."""

    def __init__(self, daemon: Daemon, cfg: Config, ruleset: RuleSet) -> None:
        self.d, self.cfg = daemon, cfg
        self.ruleset = ruleset
        self.rules, self.selfmon = ruleset.rules, ruleset.selfmon
        self.engine = daemon.engine
        self.wake = {c: anyio.Event() for c in CHECKS}
        self.cadences = Cadences(daemon.clock, self._fire, daemon.log)

    def _fire(self, check: str) -> None:
        self.wake[check].set()

    def intervals(self) -> dict[str, float]:
        clock, sch = self.d.clock, self.cfg.schedule
        return {
            "health": interval_real(clock, sch.health, sch.min_interval),
            "position": interval_real(clock, sch.position, sch.min_interval),
            "integrity": interval_real(clock, sch.integrity, sch.min_interval),
            "jobs": max(self.cfg.jobs.rescan_every, sch.min_interval),
        }

    def timeout(self, check: str) -> float:
        return max(self.intervals()[check], self.cfg.schedule.min_timeout)

    async def worker(self, check: str) -> None:
        slot = self.cadences.slots[check]
        while True:
            await self.wake[check].wait()
            self.wake[check] = anyio.Event()
            slot.pending, slot.busy = False, True
            try:
                started = self.d.clock.monotonic()
                await self.d.run_one(self, check)
                # Duty cap: rest as long as the run took (at most one interval), so that a
                # full replay at a compressed cadence cannot take the host's CPU for itself.
                rest = min(self.d.clock.monotonic() - started, self.intervals()[check])
                await self.d.clock.sleep(rest)
            finally:
                slot.busy = False

    async def serve_rule(self, rule: Rule) -> None:
        """Run a rule's continuous watch; restart it (with a pause) if it dies."""
        async def emit(found: list[Finding]) -> None:
            await self.engine.observe(rule.name, found, self.d.clock.time(), rule.judging)
            self.d.dirty = True

        while True:
            try:
                await rule.serve(emit)
                return
            except Exception as exc:
                self.d.log.error("rule_serve_failed", rule=rule.name, error=repr(exc),
                                 exc_info=True)
                now = self.d.clock.time()
                await self.engine.observe("supervisor", [overrun(
                    rule.check, rule.name, f"watch raised {type(exc).__name__}: {exc}", now)],
                    now)
                await self.d.clock.sleep(5.0)

    def all_rules(self) -> list[Rule]:
        return self.ruleset.all()


class Daemon:
    """Owns what outlives a config reload: clock, window, lock, status sequence."""

    def __init__(self, cfg: Config, clock: Clock | None = None, *, new_window: bool = False,
                 log: Any = None, reload: Callable[[], Config] | None = None) -> None:
        self.cfg = cfg
        self.clock = clock or SystemClock(cfg.window.time_scale)
        self.log = log
        self.reload_config = reload
        self.new_window = new_window
        self.lock = InstanceLock(cfg.runtime_dir)
        self.status = StatusWriter(cfg.runtime_dir / "status.json")
        self.checks = {c: CheckState() for c in CHECKS}
        self.metrics: dict[str, Any] = {}
        self.dirty = True
        self.started_at = 0.0
        self.stop_event: anyio.Event | None = None
        self.reload_event: anyio.Event | None = None
        self._stop_asked = self._reload_asked = False
        self.exit_code = 0
        self.window: Window
        self.notifier = Notifier()
        self.exporter = MetricsExporter(cfg.metrics, log=log, source=cfg.source)  # validates
        self._ready = False
        self._runtime_failing = False
        self._runtime_failed_at = 0.0
        self._alert_sig: tuple[Any, ...] = ()
        self.fired: list[dict[str, Any]] = []
        self.last_doc: dict[str, Any] = {}
        self.current_verdict = "GREEN"
        self.on_started: Callable[[Daemon], None] | None = None  # the CLI's start line
        self.on_window_end: Callable[[Window, Any], None] | None = None  # CLI: verdict line
        self.engine: AlertEngine | None = None
        self.ruleset: RuleSet | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def serve(self) -> int:
        self.started_at = self.clock.time()
        self.stop_event, self.reload_event = anyio.Event(), anyio.Event()
        if self._stop_asked:
            self.stop_event.set()
        self.lock.acquire()
        try:
            self.runner = WindowRunner.from_config(self.cfg, self.cfg.runtime_dir, self.clock)
            self.window = self.runner.start(new=self.new_window)
            self.log.info("daemon_started", window_id=self.window.id, root=str(self.cfg.root),
                          time_scale=self.clock.scale, config=self.cfg.source)
            if self.on_started is not None:
                self.on_started(self)
            await self.exporter.start()
            self.engine = AlertEngine(self.cfg, self.clock, self.log, window_id=self.window.id,
                                      host=self.cfg.system.host or socket.gethostname())
            await self.engine.start()
            cfg: Config | None = self.cfg
            while cfg is not None:
                self.cfg = cfg
                cfg = await self._session(cfg)
            return self.exit_code
        finally:
            self.notifier.stopping()
            if self.ruleset is not None:
                self.ruleset.close()
            if self.engine is not None:
                with anyio.CancelScope(shield=True):
                    await self.engine.aclose()
            if hasattr(self, "runner"):
                self.runner.close()
            await self.exporter.aclose()
            self.notifier.close()
            self.lock.release()

    def _rules_for(self, cfg: Config) -> RuleSet:
        """The running rules if they fit `cfg` (an unchanged reload), else new ones."""
        if self.ruleset is not None and self.ruleset.fits(cfg, self.window.id):
            self.ruleset.adopt(cfg)
            return self.ruleset
        if self.ruleset is not None:
            self.ruleset.close()
        self.ruleset = None
        self.ruleset = RuleSet(cfg, self.clock, self.log, self.window.id)
        return self.ruleset

    async def _session(self, cfg: Config) -> Config | None:
        """Run until stop (None) or reload (the new config)."""
        assert self.engine is not None
        await self.engine.configure(cfg)
        session = Session(self, cfg, self._rules_for(cfg))
        self.session = session
        outcome: Config | None = None
        try:
            async with anyio.create_task_group() as tg:
                self._start_cadences(session, tg)
                outcome = await self._main_loop(session)
                tg.cancel_scope.cancel()
        finally:
            session.cadences.shutdown()
            session.ruleset.save()
            self._write_status(final=self._phase())
        return outcome

    def _start_cadences(self, session: Session, tg: Any) -> None:
        for check, interval in session.intervals().items():
            if session.rules[check]:
                session.cadences.add(check, interval)
                tg.start_soon(session.worker, check)
        for rule in session.all_rules():
            if type(rule).serve is not Rule.serve:
                tg.start_soon(session.serve_rule, rule)
        session.cadences.start()
        tg.start_soon(run_watchdog, self.notifier, self.clock)
        tg.start_soon(session.selfmon.run_lag_probe)
        self.log.info("checks_scheduled", intervals=session.intervals())

    async def _main_loop(self, session: Session) -> Config | None:
        assert self.stop_event is not None and self.reload_event is not None
        last_status = 0.0
        while True:
            with anyio.move_on_after(TICK_S):
                await self.stop_event.wait()
            if self.stop_event.is_set():
                self.log.info("daemon_stopping")
                return None
            now = self.clock.time()
            await session.engine.tick(now)
            self._note_alert_changes(session)
            session.cadences.overdue()
            await self._window_io(session, partial(self.window.heartbeat, now))
            self._poll_trigger_files()
            if self.reload_event.is_set():
                new = self._try_reload()
                if new is not None:
                    return new
            if self.dirty or now - last_status >= STATUS_EVERY_S:
                doc = self._write_status()
                last_status = now
                await self._window_io(session, partial(self.runner.on_tick, now, doc, self.fired))
            if self.runner.should_end(now, self.current_verdict):
                return await self._end_window(session, now)

    def _note_alert_changes(self, session: Session) -> None:
        """Repeats, escalations, acks and expiries happen in the engine's tick: a change in
        the open alerts makes status.json due now."""
        sig = tuple((a["fingerprint"], a["severity"], a.get("acked"), a.get("silenced"))
                    for a in session.engine.open_alerts())
        if sig != self._alert_sig:
            self._alert_sig, self.dirty = sig, True

    async def _window_io(self, session: Session, action: Callable[[], object]) -> None:
        """Window state, series and reports live on burnin's disk: a failure to write them
        (disk full, read-only) is a finding and is retried, never a dead daemon."""
        try:
            action()
        except OSError as exc:
            if not self._runtime_failing:
                self.log.error("runtime_write_failed", error=repr(exc))
            self._runtime_failing = True
            self._runtime_failed_at = self.clock.time()
            await session.engine.observe("supervisor.runtime", [finding(
                "daemon.runtime_unwritable", str(self.cfg.runtime_dir),
                f"cannot write burnin's runtime folder: {exc}", {"error": repr(exc)})],
                self.clock.time())
            return
        # Most calls write nothing (a heartbeat saves every 2 s): only a quiet spell resolves.
        if self._runtime_failing and self.clock.time() - self._runtime_failed_at >= RUNTIME_OK_S:
            self._runtime_failing = False
            await session.engine.observe("supervisor.runtime", [], self.clock.time())

    def _poll_trigger_files(self) -> None:
        """Stop/reload requests by file, for platforms without SIGHUP (Windows)."""
        if signals.stop_requested(self.cfg.runtime_dir):
            self.request_stop()
        if signals.reload_requested(self.cfg.runtime_dir):
            self.request_reload()

    def _try_reload(self) -> Config | None:
        self.reload_event = anyio.Event()
        if self.reload_config is None:
            return None
        self.notifier.reloading()
        try:
            cfg = self.reload_config()
            _reloadable(self.cfg, cfg)
        except ConfigError as exc:
            self.log.error("config_reload_refused", error=str(exc))
            self.notifier.ready()  # still running on the old config
            return None
        self.log.info("config_reloaded", config=cfg.source)
        self._ready = False  # READY=1 again after the new session's first status
        return cfg

    def request_stop(self) -> None:
        self._stop_asked = True
        if self.stop_event is not None:
            self.stop_event.set()

    def request_reload(self) -> None:
        if self.reload_event is not None:
            self.reload_event.set()

    # -- checks ------------------------------------------------------------------------------

    async def run_one(self, session: Session, check: str) -> None:
        state = self.checks[check]
        rules = session.rules[check]
        outcome = await run_check(check, rules, self.clock, session.timeout(check), self.log)
        await self._save_rules(rules)
        for rule, result in zip(rules, outcome.results, strict=True):
            if result.findings is not None:
                await session.engine.observe(result.rule, result.findings, outcome.started,
                                             rule.judging)
        missed, coalesced = session.cadences.take_missed(check)
        extra = outcome.overruns + ([overrun(check, "scheduler", f"missed {missed} slot(s)",
                                             outcome.started)] if missed else [])
        state.coalesced += coalesced
        if extra:
            await session.engine.observe("supervisor", extra, outcome.started)
        self._record(state, outcome, missed, session.cadences.next_run(check))
        self.runner.record_run(check, outcome.started, outcome.ok, missed)
        self.dirty = True

    async def _save_rules(self, rules: list[Rule]) -> None:
        """Persist rule state after each run (off the loop: a journal state is ~50 ms)."""
        for rule in rules:
            try:
                await anyio.to_thread.run_sync(rule.save)
            except Exception as exc:
                self.log.error("rule_save_failed", rule=rule.name, error=repr(exc))

    def _record(self, state: CheckState, outcome: Any, missed: int, next_run: float | None
                ) -> None:
        state.last_run, state.next_run = outcome.started, next_run
        state.duration_ms, state.ok = outcome.duration_ms, outcome.ok
        state.findings = len(outcome.findings)
        state.runs += 1
        state.failures += 0 if outcome.ok else 1
        state.missed += missed
        state.error = next((r.error for r in outcome.results if r.error), None)
        for group, values in outcome.metrics.items():
            self.metrics.setdefault(group, {}).update(values)

    # -- window end --------------------------------------------------------------------------

    async def _end_window(self, session: Session, now: float) -> Config | None:
        verdict, code, folder = self.runner.finish(now, session.engine.fired(), self.last_doc)
        self.log.info("window_completed", window_id=self.window.id, verdict=verdict,
                      report=str(folder))
        if self.on_window_end is not None:
            self.on_window_end(self.window, folder)
        assert self.runner.last_verdict is not None
        await session.engine.notify_verdict(
            notification(self.window, self.runner.last_verdict, folder))
        exiting = self.cfg.window.on_end == "exit"  # "continue": the workers go on anyway
        if not await session.engine.drain(self.cfg.window.end_drain if exiting else 0.0,
                                          lambda: self._stop_asked):
            self.log.warning("verdict_notification_pending",
                             pending=session.engine.pending())
        self._write_status()
        if self.cfg.window.on_end == "continue":
            self.window = self.runner.start(new=True)
            session.engine.set_window(self.window.id)
            if self.on_started is not None:
                self.on_started(self)
            return self.cfg
        self.exit_code = code
        return None

    # -- status ------------------------------------------------------------------------------

    def _phase(self) -> str:
        if self.window.phase == "completed":
            return "completed"
        return "stopped" if self._stop_asked else "running"

    def _write_status(self, final: str | None = None) -> dict[str, Any]:
        now = self.clock.time()
        engine = self.session.engine
        self.fired = engine.fired()
        window = self.window.status(now)
        if final is not None:
            window["phase"] = final
        doc: dict[str, Any] = {
            "system": self.cfg.system.name, "host": engine.host,  # fleet labels (metrics)
            "updated_at": _iso(now),
            "daemon": self._self_block(now),
            "window": window,
            "checks": {c: s.to_dict() for c, s in self.checks.items()},
            "alerts": {"open": engine.open_alerts(), "counts": engine.counts(),
                       "recent": recent_alerts(self.fired)},  # events + resolved (views)
            "metrics": self.metrics,
        }
        verdict = self.window.verdict or self.runner.verdict(now, self.fired, doc).color
        self.current_verdict = doc["verdict"] = verdict
        self.last_doc = doc
        try:
            full = self.status.write(doc)
            self.dirty = False
        except OSError as exc:
            self.log.error("status_write_failed", error=repr(exc))
            return doc
        self._notify_service(full)
        return full

    def _notify_service(self, full: dict[str, Any]) -> None:
        self.exporter.update(full)
        line = status_line(full)
        if not self._ready:  # first checks are scheduled and status.json exists
            self._ready = self.notifier.ready(line) or True
        else:
            self.notifier.status(line)

    def _self_block(self, now: float) -> dict[str, Any]:
        return {"started_at": _iso(self.started_at), "uptime_s": round(now - self.started_at, 1),
                **self.session.selfmon.snapshot()}


def _iso(ts: float) -> str:
    from daemon.clock import iso

    return iso(ts) or ""


def _reloadable(old: Config, new: Config) -> None:
    """A reload may change checks, rules, thresholds and channels; the window, burnin's own
    folders and the metrics listener are fixed for the life of the process."""
    for table in RESTART_ONLY:
        if getattr(old, table) != getattr(new, table):
            raise ConfigError(new.source, table, "changed; this table takes effect only after "
                              "a restart (the old config is kept)")
