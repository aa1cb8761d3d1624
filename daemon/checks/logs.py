"""Log scanning: lock-timeout lines against state transitions, and ERROR lines per hour.

Both logs (`[logs] paths`) and the transitions JSONL (`[state] transitions`) are tailed
incrementally (`daemon.sources.logtail`), so each tick reads only what was appended, across
rotation. In the daemon the figures are over the last hour (nominal, so scaled) of what was
read; in a one-shot check over everything present (SPEC §2). Lines are bounded by
`logs.max_line_bytes`; patterns are matched on that prefix.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

from daemon.checks.base import Env, Rule, Tick
from daemon.checks.registry import register
from daemon.clock import parse_timestamp, real
from daemon.config import ThresholdsCfg
from daemon.model import Finding, Severity, finding
from daemon.rulestate import RuleState
from daemon.sources.logtail import LineTail

HOUR_S = 3600.0
TRANSITION_LINE_BYTES = 256  # transitions are only counted
_STAMP = re.compile(r"^\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)")


@dataclass
class Counts:
    """What one scan saw: lock-timeout and ERROR lines, and the time span of stamped lines."""

    lock_re: re.Pattern[str]
    error_re: re.Pattern[str]
    stamps: bool = False
    locks: int = 0
    errors: int = 0
    lines: int = 0
    first: float | None = None
    last: float | None = None

    def __call__(self, raw: bytes) -> None:
        text = raw.decode("utf-8", "replace")
        self.lines += 1
        self.locks += bool(self.lock_re.search(text))
        self.errors += bool(self.error_re.search(text))
        if self.stamps and (m := _STAMP.match(text)):
            ts = parse_timestamp(m.group(1).replace(",", ".").replace(" ", "T"))
            if ts is not None:
                self.first = ts if self.first is None else min(self.first, ts)
                self.last = ts if self.last is None else max(self.last, ts)


@dataclass
class LineCount:
    """Counts complete non-blank lines (the transitions JSONL)."""

    n: int = 0

    def __call__(self, raw: bytes) -> None:
        self.n += bool(raw.strip())


class Window:
    """Counts added at times, summed over the trailing `span_s` seconds."""

    def __init__(self) -> None:
        self.items: deque[tuple[float, int]] = deque()

    def add(self, at: float, n: int) -> None:
        if n:
            self.items.append((at, n))

    def total(self, now: float, span_s: float) -> int:
        while self.items and self.items[0][0] <= now - span_s:
            self.items.popleft()
        return sum(n for _, n in self.items)


def lock_severity(timeouts: int, transitions: int, th: ThresholdsCfg) -> tuple[Severity | None,
                                                                                float | None]:
    """(severity, rate): HIGH at >= high, CRITICAL above critical; no transitions counts as 1."""
    if timeouts <= 0:
        return None, (0.0 if transitions else None)
    rate = timeouts / max(transitions, 1)
    if rate > th.lock_timeout_critical:
        return Severity.CRITICAL, rate
    return (Severity.HIGH if rate >= th.lock_timeout_high else None), rate


def errors_per_hour(errors: int, span_s: float | None) -> float:
    """ERROR lines per hour over `span_s` seconds, never a span under one hour."""
    return errors / (max(span_s or 0.0, HOUR_S) / HOUR_S)


@register
class LogsRule(Rule):
    """Tails the logs and the transitions file each health tick."""

    name = "logs"
    check = "health"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        cfg = env.cfg
        self.logs = LineTail(cfg.root, list(cfg.logs.paths), cfg.logs.max_line_bytes, env.oneshot)
        self.transitions = LineTail(cfg.root, [cfg.state.transitions], TRANSITION_LINE_BYTES,
                                    env.oneshot)
        self.lock_w, self.trans_w, self.err_w = Window(), Window(), Window()
        self.state = RuleState(env.state_dir, "logtail.json", version=1, log=env.log)
        self._restore()

    async def run(self, tick: Tick) -> list[Finding]:
        cfg = self.env.cfg.logs
        counts = Counts(re.compile(cfg.lock_timeout_pattern), re.compile(cfg.error_pattern),
                        stamps=self.env.oneshot)
        trans = LineCount()
        await self.env.offload(self._scan, counts, trans)
        if self.env.oneshot:
            return self._judge(tick, counts.locks, trans.n, counts.errors,
                               errors_per_hour(counts.errors, _span(counts)), counts.lines)
        span = real(self.env.clock, HOUR_S)
        for w, n in ((self.lock_w, counts.locks), (self.trans_w, trans.n),
                     (self.err_w, counts.errors)):
            w.add(tick.now, n)
        errs = self.err_w.total(tick.now, span)
        return self._judge(tick, self.lock_w.total(tick.now, span),
                           self.trans_w.total(tick.now, span), errs, float(errs), counts.lines)

    def _scan(self, counts: Counts, trans: LineCount) -> None:
        self.logs.scan(counts)
        self.transitions.scan(trans)

    def _judge(self, tick: Tick, timeouts: int, transitions: int, errors: int,
               per_hour: float, lines: int) -> list[Finding]:
        th = self.env.cfg.thresholds
        sev, rate = lock_severity(timeouts, transitions, th)
        tick.metric("locks", {"timeouts": timeouts, "transitions": transitions,
                              "rate": None if rate is None else round(rate, 6)})
        st = self.logs.stats
        tick.metric("logs", {"errors_last_hour": errors, "errors_per_hour": round(per_hour, 2),
                             "lines": lines, "long_lines": st.long_lines,
                             "rotations": st.rotations, "truncations": st.truncations})
        out = self._unreadable()
        if sev is not None and rate is not None:
            out.append(_lock_finding(sev, rate, timeouts, transitions, th))
        limit = self.env.cfg.logs.max_errors_per_hour
        if per_hour > limit:
            out.append(finding("logs.error_rate", "logs",
                               f"{per_hour:.0f} ERROR lines per hour (limit {limit:g})",
                               {"errors": errors, "per_hour": round(per_hour, 2),
                                "limit": limit}))
        return out

    def _unreadable(self) -> list[Finding]:
        errors = {**self.logs.errors, **self.transitions.errors}
        return [finding("source.unavailable", path, f"cannot read {path}: {why}",
                        {"path": path, "reason": why}) for path, why in sorted(errors.items())]

    def _restore(self) -> None:
        data = self.state.load()
        if isinstance(data, dict):
            self.logs.restore(data.get("logs"))
            self.transitions.restore(data.get("transitions"))

    def save(self) -> None:
        self.state.save({"logs": self.logs.state(), "transitions": self.transitions.state()})

    def close(self) -> None:
        self.logs.close()
        self.transitions.close()


def _span(counts: Counts) -> float | None:
    if counts.first is None or counts.last is None:
        return None
    return counts.last - counts.first


def _lock_finding(sev: Severity, rate: float, timeouts: int, transitions: int,
                  th: ThresholdsCfg) -> Finding:
    limit = th.lock_timeout_critical if sev == Severity.CRITICAL else th.lock_timeout_high
    return finding("locks.timeout_rate", "locks",
                   f"lock timeouts are {rate:.2%} of transitions ({timeouts}/{transitions})",
                   {"timeouts": timeouts, "transitions": transitions, "rate": round(rate, 6),
                    "limit": limit}, severity=sev)
