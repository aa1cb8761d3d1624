"""`burnin check`: every selected check once, now; nothing written (SPEC §7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from daemon.checks.base import Env
from daemon.checks.registry import rules_for
from daemon.clock import SystemClock, iso
from daemon.config import Config
from daemon.errors import RootMissingError
from daemon.model import Finding, Severity, verdict_of
from daemon.runner import run_check
from daemon.sources.registry import SourceHub

ORDER = ("health", "jobs", "position", "integrity")


async def check_once(cfg: Config, only: list[str], log: Any,
                     progress: Callable[[str, int, int], None] | None = None) -> dict[str, Any]:
    """Run the checks in `only` once and return the `burnin.check/1` document."""
    if not cfg.root.is_dir():
        raise RootMissingError(f"observed root {cfg.root} does not exist or is not a folder")
    clock = SystemClock(1.0)
    hub = SourceHub()
    env = Env(cfg=cfg, clock=clock, sources=hub, log=log, oneshot=True, progress=progress)
    hub.bind(env)
    findings: list[Finding] = []
    metrics: dict[str, Any] = {}
    try:
        for check in (c for c in ORDER if c in only):
            rules = [cls(env) for cls in rules_for(check, cfg.checks.disabled)]
            outcome = await run_check(check, rules, clock, 3600.0, log)
            findings += outcome.findings + outcome.overruns
            for group, values in outcome.metrics.items():
                metrics.setdefault(group, {}).update(values)
            for rule in rules:
                rule.close()
    finally:
        hub.close()
    findings.sort(key=lambda f: (-f.severity, f.code, f.subject))
    return {"schema": "burnin.check/1", "root": str(cfg.root), "checked_at": iso(clock.time()),
            "verdict": verdict_of(findings), "findings": [f.to_dict() for f in findings],
            "metrics": metrics}


def exit_code(findings: list[dict[str, Any]]) -> int:
    """Monitoring-plugin convention: 0 nothing above INFO, 1 MEDIUM/HIGH, 2 CRITICAL."""
    top = max((Severity[f["severity"]] for f in findings), default=Severity.INFO)
    return {Severity.INFO: 0, Severity.MEDIUM: 1, Severity.HIGH: 1, Severity.CRITICAL: 2}[top]

