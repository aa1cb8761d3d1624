"""The supervisor's process: lock, signals, reload, window end, status.json.

Flow (STYLE.md "data flows one way"): cadences fire -> `Session.run_check` runs a check's
rules (daemon.runner) -> findings go to the AlertEngine -> the outcome goes to the
`CheckRecorder` -> status.json / window / verdict. The daemon creates the AlertEngine once
(alert states, acks, silences, notified events, channel health: on disk, for the process's
life); SIGHUP ends a session and the next one runs the new config around the same engine.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from functools import partial
from typing import Any

import anyio

from daemon.alerts.engine import AlertEngine
from daemon.alerts.recent import recent as recent_alerts
from daemon.clock import Clock, SystemClock
from daemon.config import Config
from daemon.errors import ConfigError
from daemon.lock import InstanceLock
from daemon.recorder import CheckRecorder, RuntimeGuard
from daemon.records import Episode, Figures
from daemon.service import signals
from daemon.service.metrics import MetricsExporter
from daemon.service.sdnotify import Notifier, run_watchdog, status_line
from daemon.session import RuleSet, Session
from daemon.session import reloadable as _reloadable
from daemon.status import StatusWriter, build_status
from daemon.window.lifecycle import WindowRunner, notification
from daemon.window.state import Window

TICK_S = 0.5
STATUS_EVERY_S = 5.0  # at least this often; at once after a check or an alert change


class Daemon:
    """Process lifecycle: what outlives a config reload (clock, window, lock, engine,
    status sequence), the signals, the reload and the end of the window."""

    def __init__(self, cfg: Config, clock: Clock | None = None, *, new_window: bool = False,
                 log: Any = None, reload: Callable[[], Config] | None = None) -> None:
        self.cfg, self.log, self.reload_config = cfg, log, reload
        self.clock = clock or SystemClock(cfg.window.time_scale)
        self.new_window = new_window
        self.lock = InstanceLock(cfg.runtime_dir)
        self.status = StatusWriter(cfg.runtime_dir / "status.json")
        self.started_at, self.exit_code = 0.0, 0
        self.stop_event: anyio.Event | None = None
        self.reload_event: anyio.Event | None = None
        self._stop_asked = False
        self.window: Window
        self.notifier = Notifier()
        self.exporter = MetricsExporter(cfg.metrics, log=log, source=cfg.source)  # validates
        self._ready = False
        self._alert_sig: tuple[Any, ...] = ()
        self.fired: list[Episode] = []
        self.figures = Figures()  # the last status write's, for the window and the report
        self.current_verdict = "GREEN"
        self.on_started: Callable[[Daemon], None] | None = None  # the CLI's start line
        self.on_window_end: Callable[[Window, Any], None] | None = None  # CLI: verdict line
        self.engine: AlertEngine | None = None
        self.ruleset: RuleSet | None = None

    async def serve(self) -> int:
        self.started_at = self.clock.time()
        self.stop_event, self.reload_event = anyio.Event(), anyio.Event()
        if self._stop_asked:
            self.stop_event.set()
        self.lock.acquire()
        try:
            await self._open()
            cfg: Config | None = self.cfg
            while cfg is not None:
                self.cfg = cfg
                cfg = await self._session(cfg)
            return self.exit_code
        finally:
            await self._close()

    async def _open(self) -> None:
        self.runner = WindowRunner.from_config(self.cfg, self.cfg.runtime_dir, self.clock)
        self.window = self.runner.start(new=self.new_window)
        self.recorder = CheckRecorder(self.runner.record_run)
        self.log.info("daemon_started", window_id=self.window.id, root=str(self.cfg.root),
                      time_scale=self.clock.scale, config=self.cfg.source)
        if self.on_started is not None:
            self.on_started(self)
        await self.exporter.start()
        self.engine = AlertEngine(self.cfg, self.clock, self.log, window_id=self.window.id,
                                  host=self.cfg.system.host or socket.gethostname())
        await self.engine.start()
        self.guard = RuntimeGuard(self.engine, self.clock, self.log, str(self.cfg.runtime_dir))

    async def _close(self) -> None:
        self.notifier.stopping()
        if self.ruleset is not None:
            self.ruleset.close()
        if self.engine is not None:
            await self.engine.aclose()  # shields its own shutdown
        if hasattr(self, "runner"):
            self.runner.close()
        await self.exporter.aclose()
        self.notifier.close()
        self.lock.release()

    async def _session(self, cfg: Config) -> Config | None:
        """Run until stop (None) or reload (the new config)."""
        assert self.engine is not None
        await self.engine.configure(cfg)
        self.ruleset = RuleSet.carry(self.ruleset, cfg, self.clock, self.log, self.window.id)
        self.session = Session(cfg, self.clock, self.log, self.engine, self.ruleset,
                               self.recorder)
        outcome: Config | None = None
        try:
            async with anyio.create_task_group() as tg:
                self.session.start(tg)
                tg.start_soon(run_watchdog, self.notifier, self.clock)
                outcome = await self._main_loop(self.session)
                tg.cancel_scope.cancel()
        finally:
            self.session.close()
            self._write_status(final=self._phase())
        return outcome

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
            self._note_alert_changes(session.engine)
            session.cadences.overdue()
            await self.guard.run(partial(self.window.heartbeat, now))
            self._poll_trigger_files()
            if self.reload_event.is_set() and (new := self._try_reload()) is not None:
                return new
            if self.recorder.dirty or now - last_status >= STATUS_EVERY_S:
                self._write_status()
                last_status = now
                await self.guard.run(partial(self.runner.on_tick, now, self.figures, self.fired))
            if self.runner.should_end(now, self.current_verdict):
                return await self._end_window(session.engine, now)

    def _note_alert_changes(self, engine: AlertEngine) -> None:
        """Repeats, escalations, acks and expiries happen in the engine's tick: a change in
        the open alerts makes status.json due now."""
        if (sig := engine.signature()) != self._alert_sig:
            self._alert_sig, self.recorder.dirty = sig, True

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

    async def _end_window(self, engine: AlertEngine, now: float) -> Config | None:
        verdict, code, folder = self.runner.finish(now, engine.fired(), self.figures)
        self.log.info("window_completed", window_id=self.window.id, verdict=verdict,
                      report=str(folder))
        if self.on_window_end is not None:
            self.on_window_end(self.window, folder)
        assert self.runner.last_verdict is not None
        await engine.notify_verdict(notification(self.window, self.runner.last_verdict, folder))
        exiting = self.cfg.window.on_end == "exit"  # "continue": the workers go on anyway
        if not await engine.drain(self.cfg.window.end_drain if exiting else 0.0,
                                  lambda: self._stop_asked):
            self.log.warning("verdict_notification_pending", pending=engine.pending())
        self._write_status()
        if self.cfg.window.on_end == "continue":
            if (window := await self.guard.until_done(partial(self.runner.start, new=True),
                                                      lambda: self._stop_asked)) is None:
                return None  # stopped while the runtime disk refused the next window
            self.window = window
            engine.set_window(self.window.id)
            if self.on_started is not None:
                self.on_started(self)
            return self.cfg
        self.exit_code = code
        return None

    def _phase(self) -> str:
        done = self.window.phase == "completed"
        return "completed" if done else "stopped" if self._stop_asked else "running"

    def _write_status(self, final: str | None = None) -> None:
        now, engine = self.clock.time(), self.engine
        assert engine is not None
        self.fired = engine.fired()
        alerts = {"open": engine.open_alerts(), "counts": engine.counts(),
                  "recent": recent_alerts(self.fired),  # events + resolved (views)
                  "outbox": engine.outbox_state()}  # "memory" while SQLite cannot commit
        self.figures = Figures(metrics=self.recorder.metrics, counts=alerts["counts"],
                               daemon=self.session.selfmon.snapshot(), system=self.cfg.system.name)
        doc = build_status(now, system=self.cfg.system.name, host=engine.host,
                           started_at=self.started_at, selfmon=dict(self.figures.daemon),
                           window=self.window.status(now), checks=self.recorder.checks,
                           alerts=alerts, metrics=self.recorder.metrics, phase=final)
        verdict = self.window.verdict or self.runner.verdict(now, self.fired, self.figures).color
        self.current_verdict = doc["verdict"] = verdict
        try:
            full = self.status.write(doc)
            self.recorder.dirty = False
        except OSError as exc:
            self.log.error("status_write_failed", error=repr(exc))
            return
        self._notify_service(full)

    def _notify_service(self, full: dict[str, Any]) -> None:
        self.exporter.update(full)
        line = status_line(full)
        if not self._ready:  # first checks are scheduled and status.json exists
            self._ready = self.notifier.ready(line) or True
        else:
            self.notifier.status(line)
