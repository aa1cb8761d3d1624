"""daemon/unit.py: what a rule is given (Env, Tick) and what it implements (Rule)."""

from __future__ import annotations

import asyncio
from typing import Any

from daemon.checks import base
from daemon.clock import SystemClock
from daemon.config import Config
from daemon.sources.registry import SourceHub
from daemon.unit import Env, Rule, Tick


def test_tick_metrics_merge_per_group() -> None:
    """Figures published twice under one group merge, the last write winning."""
    tick = Tick("health", now=1.0)
    tick.metric("host", {"cpu": 1, "mem": 2})
    tick.metric("host", {"cpu": 3})
    assert tick.metrics == {"host": {"cpu": 3, "mem": 2}}


def test_default_rule_judges_everything_and_serves_nothing() -> None:
    """A rule without overrides judges every code and has no background task."""
    env = Env(cfg=Config(), clock=SystemClock(), sources=SourceHub(), log=None)
    rule = Rule(env)
    assert rule.judging("x.y", "s") and asyncio.run(rule.serve(_emit)) is None


def test_checks_base_names_the_same_types() -> None:
    """`daemon.checks.base` re-exports the unit types, so old imports keep working."""
    assert (base.Env, base.Rule, base.Tick) == (Env, Rule, Tick)


async def _emit(findings: Any) -> None:
    return None
