"""One configuration's worth of running: the rules (`RuleSet`) and the scheduler around them
(`Session`), feeding the daemon's one alert engine. A reload ends a session and starts the
next one around the same engine; the rules and their sources carry over when the new config
leaves every table but `[alerts]` unchanged.

`Session.run_check(check)` runs one check and hands its findings to the engine; the outcome
goes to a `CheckRecorder`. A session never calls back into the daemon.
"""

from __future__ import annotations

from typing import Any

import anyio

from daemon.alerts.engine import AlertEngine
from daemon.checks.base import Rule
from daemon.checks.registry import Units
from daemon.clock import Clock
from daemon.config import Config
from daemon.errors import ConfigError
from daemon.model import CHECKS, Finding
from daemon.recorder import CheckRecorder
from daemon.runner import CheckOutcome, overrun, run_check
from daemon.schedule import Cadences, interval_real

RESTART_ONLY = ("window", "daemon", "metrics")  # config tables a reload cannot change


def reloadable(old: Config, new: Config) -> None:
    """A reload may change checks, rules, thresholds and channels; the window, burnin's own
    folders and the metrics listener are fixed for the life of the process."""
    for table in RESTART_ONLY:
        if getattr(old, table) != getattr(new, table):
            raise ConfigError(new.source, table, "changed; this table takes effect only after "
                              "a restart (the old config is kept)")


class RuleSet:
    """The rules of one config and the shared sources they read."""

    def __init__(self, cfg: Config, clock: Clock, log: Any, window_id: str) -> None:
        self.cfg, self.log = cfg, log
        self.units = Units.build(cfg, clock, log, state_dir=cfg.runtime_dir / "state",
                                 window_id=window_id)
        self.env, self.hub = self.units.env, self.units.hub
        self.selfmon = self.hub.get("selfmon")
        self.rules: dict[str, list[Rule]] = {c: self.units.rules(c) for c in CHECKS}

    @classmethod
    def carry(cls, old: RuleSet | None, cfg: Config, clock: Clock, log: Any,
              window_id: str) -> RuleSet:
        """`old` if it fits `cfg` (an unchanged reload: rules keep their samples and
        scans), else `old` closed and new rules."""
        if old is not None and old.fits(cfg, window_id):
            old.adopt(cfg)
            return old
        if old is not None:
            old.close()
        return cls(cfg, clock, log, window_id)

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
            self._safely(rule, rule.save)

    def close(self) -> None:
        for rule in self.all():
            self._safely(rule, rule.save)
            self._safely(rule, rule.close)
        self.units.close()

    def _safely(self, rule: Rule, action: Any) -> None:
        try:
            action()
        except Exception as exc:
            self.log.error("rule_close_failed", rule=rule.name, error=repr(exc))


class Session:
    """The cadences and the workers of one config around a `RuleSet`."""

    def __init__(self, cfg: Config, clock: Clock, log: Any, engine: AlertEngine,
                 ruleset: RuleSet, recorder: CheckRecorder) -> None:
        self.cfg, self.clock, self.log = cfg, clock, log
        self.engine, self.ruleset, self.recorder = engine, ruleset, recorder
        self.rules, self.selfmon = ruleset.rules, ruleset.selfmon
        self.wake = {c: anyio.Event() for c in CHECKS}
        self.cadences = Cadences(clock, self._fire, log)

    def _fire(self, check: str) -> None:
        self.wake[check].set()

    def intervals(self) -> dict[str, float]:
        clock, sch = self.clock, self.cfg.schedule
        return {
            "health": interval_real(clock, sch.health, sch.min_interval),
            "position": interval_real(clock, sch.position, sch.min_interval),
            "integrity": interval_real(clock, sch.integrity, sch.min_interval),
            "jobs": max(self.cfg.jobs.rescan_every, sch.min_interval),
        }

    def timeout(self, check: str) -> float:
        return max(self.intervals()[check], self.cfg.schedule.min_timeout)

    def start(self, tg: Any) -> None:
        """Schedule every check, start the continuous watches and the lag probe in `tg`."""
        for check, interval in self.intervals().items():
            if self.rules[check]:
                self.cadences.add(check, interval)
                tg.start_soon(self.worker, check)
        for rule in self.ruleset.all():
            if type(rule).serve is not Rule.serve:
                tg.start_soon(self.serve_rule, rule)
        self.cadences.start()
        tg.start_soon(self.selfmon.run_lag_probe)
        self.log.info("checks_scheduled", intervals=self.intervals())

    def close(self) -> None:
        self.cadences.shutdown()
        self.ruleset.save()

    async def run_check(self, check: str) -> CheckOutcome:
        """Run the rules of `check`, save their state, hand their findings to the engine."""
        rules = self.rules[check]
        outcome = await run_check(check, rules, self.clock, self.timeout(check), self.log)
        await self._save(rules)
        for rule, result in zip(rules, outcome.results, strict=True):
            if result.findings is not None:
                await self.engine.observe(result.rule, result.findings, outcome.started,
                                          rule.judging)
        outcome.missed, outcome.coalesced = self.cadences.take_missed(check)
        outcome.next_run = self.cadences.next_run(check)
        extra = outcome.overruns + ([overrun(check, "scheduler", f"missed {outcome.missed} "
                                             "slot(s)", outcome.started)]
                                    if outcome.missed else [])
        if extra:
            await self.engine.observe("supervisor", extra, outcome.started)
        return outcome

    async def _save(self, rules: list[Rule]) -> None:
        """Persist rule state after each run (off the loop: a journal state is ~50 ms)."""
        for rule in rules:
            try:
                await anyio.to_thread.run_sync(rule.save)
            except Exception as exc:
                self.log.error("rule_save_failed", rule=rule.name, error=repr(exc))

    async def worker(self, check: str) -> None:
        slot = self.cadences.slots[check]
        while True:
            await self.wake[check].wait()
            self.wake[check] = anyio.Event()
            slot.pending, slot.busy = False, True
            try:
                started = self.clock.monotonic()
                self.recorder.apply(await self.run_check(check))
                # Duty cap: rest as long as the run took (at most one interval), so that a
                # full replay at a compressed cadence cannot take the host's CPU for itself.
                rest = min(self.clock.monotonic() - started, self.intervals()[check])
                await self.clock.sleep(rest)
            finally:
                slot.busy = False

    async def serve_rule(self, rule: Rule) -> None:
        """Run a rule's continuous watch; restart it (with a pause) if it dies."""
        async def emit(found: list[Finding]) -> None:
            await self.engine.observe(rule.name, found, self.clock.time(), rule.judging)
            self.recorder.touch()

        while True:
            try:
                await rule.serve(emit)
                return
            except Exception as exc:
                self.log.error("rule_serve_failed", rule=rule.name, error=repr(exc),
                               exc_info=True)
                now = self.clock.time()
                await self.engine.observe("supervisor", [overrun(
                    rule.check, rule.name, f"watch raised {type(exc).__name__}: {exc}", now)],
                    now)
                await self.clock.sleep(5.0)
