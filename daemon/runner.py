"""Running one check: every enabled rule, each isolated and timed (STYLE.md §4).

A rule that raises or runs past the timeout becomes a `daemon.check_overrun` finding; its
previous conditions stay as they were (a failed look is not a clean look). A loopless one-shot
check (`inline`) runs each rule directly in the caller's coroutine: no task, no timeout (there
is no loop to time it; a one-shot run ends with its process), the same isolation otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from daemon.checks.base import Rule, Tick
from daemon.clock import Clock, iso
from daemon.model import Finding, finding

if TYPE_CHECKING:
    import asyncio


@dataclass
class RuleResult:
    rule: str
    findings: list[Finding] | None  # None: the rule failed this round
    error: str | None = None


@dataclass
class CheckOutcome:
    check: str
    started: float
    duration_ms: float
    results: list[RuleResult] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    missed: int = 0  # cadence slots that passed while the check was busy or the host stalled
    coalesced: int = 0  # wake-ups folded into this run
    next_run: float | None = None

    @property
    def error(self) -> str | None:
        return next((r.error for r in self.results if r.error), None)

    @property
    def ok(self) -> bool:
        return all(r.findings is not None for r in self.results)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in (r.findings or [])]

    @property
    def overruns(self) -> list[Finding]:
        return [overrun(self.check, r.rule, r.error or "failed", self.started)
                for r in self.results if r.findings is None]


def overrun(check: str, rule: str, why: str, at: float) -> Finding:
    """One overrun; `at` makes each occurrence its own event (the same text hours later is
    a new fact, not a repeat of the old one)."""
    return finding("daemon.check_overrun", f"{check}/{rule}", f"{check} rule {rule}: {why}",
                   {"check": check, "rule": rule, "error": why, "at": iso(at)})


async def run_rule(rule: Rule, tick: Tick, timeout_s: float, log: Any) -> RuleResult:
    """Run one rule under a timeout that holds even when the rule is stuck in a thread.

    A rule blocked in a worker thread (an NFS hang, a FIFO) cannot be cancelled; the run is
    left behind as a background task, reported as an overrun, and the rule is skipped until
    it comes back, so one stuck read never stops the other rules or the daemon.
    """
    import asyncio  # here: a loopless one-shot check runs rules with run_rule_inline

    earlier: asyncio.Task[list[Finding]] | None = getattr(rule, "_burnin_task", None)
    if earlier is not None and not earlier.done():
        return RuleResult(rule.name, None, "still running since an earlier run (stuck?)")
    task = asyncio.ensure_future(rule.run(tick))
    rule._burnin_task = task  # type: ignore[attr-defined]
    task.add_done_callback(_consume)
    try:
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
    except asyncio.CancelledError:
        task.cancel()
        raise
    if not done:
        log.warning("rule_timeout", rule=rule.name, timeout_s=timeout_s)
        return RuleResult(rule.name, None, f"ran past its timeout of {timeout_s:.1f}s")
    if (exc := task.exception()) is not None:
        return _failed(rule, exc, log)
    return RuleResult(rule.name, list(task.result()))


class NeedsLoop(Exception):
    """Code run without an event loop needed one (it suspended, or asked for the loop)."""


def wants_loop(exc: BaseException) -> bool:
    """Whether `exc` says that an event loop was needed and none runs (anyio's, sniffio's
    or asyncio's words for it): not a failure of the rule, a reason to run under asyncio."""
    if isinstance(exc, NeedsLoop):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"NoEventLoopError", "AsyncLibraryNotFoundError"}:
        return True
    return isinstance(exc, RuntimeError) and "event loop" in str(exc)


async def run_rule_inline(rule: Rule, tick: Tick, log: Any) -> RuleResult:
    """Run one rule in this coroutine (a loopless one-shot check); a raise is its result,
    except one saying it needed an event loop (NeedsLoop: the caller runs under asyncio)."""
    try:
        found = await rule.run(tick)
    except Exception as exc:
        if wants_loop(exc):
            raise NeedsLoop(f"rule {rule.name}: {exc}") from exc
        return _failed(rule, exc, log)
    return RuleResult(rule.name, list(found))


def _failed(rule: Rule, exc: BaseException, log: Any) -> RuleResult:
    log.error("rule_failed", rule=rule.name, error=repr(exc),
              exc_info=(type(exc), exc, exc.__traceback__))
    return RuleResult(rule.name, None, f"raised {type(exc).__name__}: {exc}")


def _consume(task: asyncio.Task[Any]) -> None:
    """Retrieve the outcome of a run left behind, so asyncio does not warn about it."""
    if not task.cancelled():
        task.exception()


async def run_check(check: str, rules: list[Rule], clock: Clock, timeout_s: float,
                    log: Any, inline: bool = False) -> CheckOutcome:
    """Run the rules of one check in order; `now` is read once; each rule gets the timeout
    (`inline`: run in this coroutine, as a loopless one-shot check does)."""
    tick = Tick(check=check, now=clock.time())
    t0 = clock.monotonic()
    results = [await (run_rule_inline(rule, tick, log) if inline else
                      run_rule(rule, tick, timeout_s, log)) for rule in rules]
    elapsed = (clock.monotonic() - t0) * 1000
    return CheckOutcome(check, tick.now, elapsed, results, tick.metrics)
