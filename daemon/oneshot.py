"""`burnin check`: every selected check once, now (SPEC §7); nothing written but the host CPU
reading kept for the next check (`sources/cpucache.py`).

`check_sync` runs it without an event loop: the rules are coroutines, but in a one-shot check
nothing needs to suspend — the env's offload calls directly instead of in a worker thread,
its locks are no-ops, and sleeps block (`BlockingClock`) — so the whole check is driven by one
`send(None)` and asyncio, anyio (and ssl, which asyncio pulls in) are never imported. Should
anything still await the loop (the coroutine yields), the run is dropped and the check runs
again under asyncio with worker threads, as before.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any

from daemon.checks.registry import Units
from daemon.clock import SystemClock, iso
from daemon.config import Config
from daemon.errors import RootMissingError
from daemon.model import Finding, Severity, verdict_of
from daemon.runner import NeedsLoop, run_check, wants_loop
from daemon.unit import Offload

ORDER = ("health", "jobs", "position", "integrity")  # the order of the output's metrics
# health runs last: its host CPU sample spans the other checks' run instead of a sleep
RUN_ORDER = ("jobs", "position", "integrity", "health")


class BlockingClock(SystemClock):
    """The real clock of a loopless one-shot check: a sleep blocks (nothing else runs)."""

    async def sleep(self, real_s: float) -> None:
        time.sleep(max(0.0, real_s))


def drive(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run `coro` to completion with one `send(None)`; NeedsLoop (after closing it) if it
    suspends, which only an await on a real event loop does."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise NeedsLoop


def check_sync(cfg: Config, only: list[str], log: Any,
               progress: Callable[[str, int, int], None] | None = None,
               cpu_start: Any = None) -> dict[str, Any]:
    """`check_once` without an event loop; under asyncio if something needs one."""
    try:
        doc: dict[str, Any] = drive(check_once(cfg, only, log, progress, cpu_start,
                                               loopless=True))
        return doc
    except NeedsLoop as exc:
        log.info("oneshot_needs_loop", why=str(exc) or "a coroutine suspended")
    import anyio

    return anyio.run(lambda: check_once(cfg, only, log, progress, cpu_start))


async def check_once(cfg: Config, only: list[str], log: Any,
                     progress: Callable[[str, int, int], None] | None = None,
                     cpu_start: Any = None, loopless: bool = False) -> dict[str, Any]:
    """Run the checks in `only` once and return the `burnin.check/1` document.

    `cpu_start` (a `sources.host.CpuReading` taken as the process started) makes the host
    CPU sample span the whole run; without it the sample starts here. `loopless`: see
    `check_sync`."""
    if not cfg.root.is_dir():
        raise RootMissingError(f"observed root {cfg.root} does not exist or is not a folder")
    clock = BlockingClock(1.0) if loopless else SystemClock(1.0)
    units = Units.build(cfg, clock, log, oneshot=True, progress=progress)
    units.env.offload = Offload(loopless)  # before any source is made: they offload through it
    hub = units.hub
    findings: list[Finding] = []
    by_check: dict[str, dict[str, Any]] = {}
    try:
        if "health" in only and "host" not in cfg.checks.disabled:
            sampler = hub.get("host")  # the first CPU reading: the sample spans the checks
            if cpu_start is not None:
                sampler.begin(cpu_start)
        built = {c: units.rules(c) for c in RUN_ORDER if c in only}
        await _begin(built.get("health", []), log)  # first process looks, likewise
        for check, rules in built.items():
            outcome = await run_check(check, rules, clock, 3600.0, log, inline=loopless)
            findings += outcome.findings + outcome.overruns
            by_check[check] = outcome.metrics
            for rule in rules:
                rule.close()
    finally:
        hub.close()
    metrics: dict[str, Any] = {}
    for check in (c for c in ORDER if c in by_check):
        for group, values in by_check[check].items():
            metrics.setdefault(group, {}).update(values)
    findings.sort(key=lambda f: (-f.severity, f.code, f.subject))
    return {"schema": "burnin.check/1", "root": str(cfg.root), "checked_at": iso(clock.time()),
            "verdict": verdict_of(findings), "findings": [f.to_dict() for f in findings],
            "metrics": metrics}


async def _begin(rules: list[Any], log: Any) -> None:
    """Each rule's first look as the check starts; one that fails looks again in its run."""
    for rule in rules:
        try:
            await rule.begin()
        except Exception as exc:
            if wants_loop(exc):
                raise NeedsLoop(f"rule {rule.name}: {exc}") from exc
            log.warning("rule_begin_failed", rule=rule.name, error=repr(exc))


def exit_code(findings: list[dict[str, Any]]) -> int:
    """Monitoring-plugin convention: 0 nothing above INFO, 1 MEDIUM/HIGH, 2 CRITICAL."""
    top = max((Severity[f["severity"]] for f in findings), default=Severity.INFO)
    return {Severity.INFO: 0, Severity.MEDIUM: 1, Severity.HIGH: 1, Severity.CRITICAL: 2}[top]

