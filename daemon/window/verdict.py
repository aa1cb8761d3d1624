"""The verdict of a window (SPEC §5), as pure functions tested as tables.

Rule: RED if any CRITICAL alert fired in the window (an escalation to CRITICAL counts);
else YELLOW if any HIGH fired or the daemon covered less than the window (`coverage <
thresholds.coverage_min`, default 0.999: a few minutes of a 72 h window, so a restart is not
a failed burn-in while a long outage is); else GREEN. Alerts silenced before they fired are
excluded from the rule and listed apart. Every reason carries its evidence.

Environmental alerts (`host.*`, `daemon.*`: the machine and burnin itself, SPEC §4) qualify the
verdict and do not decide it: they are listed under `environment`, never as reasons. The
window's saturated-host share (CPU, memory or disk above `host_critical_percent`) is stated
there too, and is a YELLOW reason only at or above `environment_yellow_share` (10 %) —
counting only spells of saturation that lasted `sample_for_min` (30 s real), as the alerts
do: a 10-second busy blip is noise.

The seed thresholds (lock timeouts, failed notifications, p95 latency, memory trend, stale
claims) grade the window's figures in `figures()`: shown in the report beside the verdict.
They do not decide it on their own (the checks raise alerts from the same thresholds, and an
alert silenced for planned chaos must not come back through its figure).

Deadlines per tier (nominal): CRITICAL 0 — "immediate action": met when the alert was
acknowledged or resolved; HIGH 1 h and MEDIUM 4 h: met when `(resolved_at - first_seen) *
time_scale` is within the deadline. Events (a fact that happened once) have no resolution and
are counted apart; INFO has no deadline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from daemon import model
from daemon.catalog import ENVIRONMENTAL_PREFIXES
from daemon.clock import parse_timestamp
from daemon.config import ThresholdsCfg
from daemon.configmodel import Field
from daemon.model import Severity
from daemon.numbers import number_at
from daemon.records import AlertRecord, Episode
from daemon.window.state import HostShare

LABELS = {"GREEN": "GO", "YELLOW": "CONDITIONAL", "RED": "NO-GO"}
EXIT_CODES = {"GREEN": 0, "YELLOW": 1, "RED": 2}
DEADLINES_S = {"CRITICAL": 0.0, "HIGH": 3600.0, "MEDIUM": 4 * 3600.0}
RANK = {s.name: int(s) for s in Severity}  # INFO 0 .. CRITICAL 3


class Thresholds(ThresholdsCfg):
    """SPEC §5 bands: below `*_high` is green, up to `*_critical` yellow, above it red.

    The config's `[thresholds]` table (`ThresholdsCfg`: one source of the names, defaults and
    limits) plus the coverage a window must reach, which is not configurable."""

    frozen = True

    coverage_min: float = Field(0.999, ge=0, le=1)

    @classmethod
    def from_config(cls, cfg: ThresholdsCfg, coverage_min: float = 0.999) -> Thresholds:
        """From `config.thresholds`, as loaded (already validated)."""
        return cls.model_validate({**dict(cfg), "coverage_min": coverage_min})


@dataclass(frozen=True, slots=True)
class Listed:
    """An alert as the verdict lists it: excluded (silenced before firing) or environmental."""

    severity: str
    code: str
    subject: str
    message: str
    first_seen: str | None = None
    resolved_at: str | None = None
    escalated_from: str | None = None

    @classmethod
    def of(cls, alert: AlertRecord) -> Listed:
        return cls(severity=severity_of(alert), code=alert.code, subject=alert.subject,
                   message=alert.message, first_seen=alert.first_seen,
                   resolved_at=alert.resolved_at, escalated_from=alert.escalated_from)


@dataclass(frozen=True, slots=True)
class Cause(Listed):
    """One reason of the verdict (a CRITICAL or HIGH alert, short coverage, a saturated host),
    with its evidence."""

    evidence: dict[str, Any] = field(default_factory=dict)
    runbook: str = ""

    @classmethod
    def of(cls, alert: AlertRecord) -> Cause:
        return cls(**asdict(Listed.of(alert)), evidence=dict(alert.evidence),
                   runbook=alert.runbook)


@dataclass(frozen=True, slots=True)
class Environment:
    """The host's saturated share of the window and the environmental alerts that fired
    (`host.*`, `daemon.*`): they qualify the verdict; `yellow` is the one part that counts."""

    host: str = ""
    saturated_share: float | None = None
    sustained_share: float | None = None
    saturated_by: dict[str, float] = field(default_factory=dict)
    saturated_above_percent: float = 95.0
    yellow_share: float = 0.10
    yellow: bool = False
    alerts: list[Listed] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Figure:
    """One seed 003 figure of the window, graded against its SPEC §5 band."""

    key: str
    label: str
    value: float | None
    unit: str  # ratio, ms, MB/min, count
    band: str  # green, yellow, red, unknown


@dataclass
class Verdict:
    color: str
    label: str
    reasons: list[Cause] = field(default_factory=list)
    excluded: list[Listed] = field(default_factory=list)
    tiers: dict[str, dict[str, int]] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    coverage: float = 1.0
    environment: Environment = field(default_factory=Environment)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.color]

    def to_dict(self) -> dict[str, Any]:
        """The `verdict` object of the report's JSON."""
        return asdict(self)


def decide(fired: Sequence[Episode], coverage: float, metrics: Mapping[str, Any] | None,
           thresholds: Thresholds | None = None, time_scale: float = 1.0,
           host_load: HostShare | None = None) -> Verdict:
    """The verdict for alerts `fired` in a window covered to `coverage` (0..1).

    `host_load` is `HostLoad.summary()` of the window: the share of it the host was saturated.
    """
    th = thresholds or Thresholds()
    coverage = coverage if isinstance(coverage, int | float) and 0 <= coverage <= 1 else 0.0
    alerts = list(fired)
    counted = [a for a in alerts if not a.silenced_before_fire]
    judged = [a for a in counted if not is_environmental(a)]
    reasons = [Cause.of(a) for a in judged if severity_of(a) in ("CRITICAL", "HIGH")]
    if coverage < th.coverage_min:
        reasons.append(_coverage_reason(coverage, th))
    env = environment(counted, host_load, th)
    if env.yellow:
        reasons.append(_saturation_reason(env, th))
    reasons.sort(key=lambda r: -RANK[r.severity])
    return Verdict(
        color=color_of(reasons), label=LABELS[color_of(reasons)], reasons=reasons,
        excluded=[Listed.of(a) for a in alerts if a.silenced_before_fire],
        tiers=tier_deadlines(counted, time_scale),
        figures=figures(metrics or {}, alerts, th), coverage=round(coverage, 6),
        environment=env,
    )


def is_environmental(alert: AlertRecord) -> bool:
    """`host.*` and `daemon.*` (SPEC §4): they qualify the verdict, they do not decide it."""
    return alert.code.startswith(ENVIRONMENTAL_PREFIXES)


def environment(alerts: Sequence[Episode], host_load: HostShare | None,
                th: Thresholds) -> Environment:
    """The host's saturated share of the window and the environmental alerts that fired.

    `saturated_share`: any look above the HIGH level; `sustained_share`: only spells that
    lasted `sample_for_min` real seconds — the one that can make the window YELLOW."""
    load = host_load or HostShare()
    sustained = load.sustained_share
    return Environment(
        host=load.host, saturated_share=load.saturated_share, sustained_share=sustained,
        saturated_by={k: v for k, v in load.saturated_by.items() if v},
        saturated_above_percent=th.host_critical_percent,
        yellow_share=th.environment_yellow_share,
        yellow=sustained is not None and sustained > 0
        and sustained >= th.environment_yellow_share,
        alerts=[Listed.of(a) for a in alerts if is_environmental(a)
                and severity_of(a) in ("CRITICAL", "HIGH", "MEDIUM")],
    )


def _saturation_reason(env: Environment, th: Thresholds) -> Cause:
    by = ", ".join(f"{k} {v:.1%}" for k, v in sorted(env.saturated_by.items()))
    return Cause(
        severity="HIGH", code="window.host_saturated", subject=env.host or "host",
        message=f"the host {env.host or ''} was saturated (above "
                f"{th.host_critical_percent:g} %: {by or 'n/a'}) for "
                f"{env.sustained_share or 0:.1%} of the window in spells of 30 s real or "
                f"more ({env.saturated_share or 0:.1%} counting every look; YELLOW from "
                f"{th.environment_yellow_share:.0%}); its figures may be unreliable",
        evidence={"host": env.host, "saturated_share": env.saturated_share,
                  "sustained_share": env.sustained_share,
                  "saturated_by": dict(env.saturated_by), "yellow_share": env.yellow_share})


def color_of(reasons: Sequence[Listed]) -> str:
    """The window's colour from its reasons: the one rule of `daemon.model.color_of`."""
    return model.color_of(max((Severity[r.severity] for r in reasons), default=Severity.INFO))


def severity_of(alert: AlertRecord) -> str:
    """The alert's tier (after escalation); unknown text counts as HIGH, never ignored."""
    text = alert.severity.strip().upper()
    return text if text in RANK else "HIGH"


def _coverage_reason(coverage: float, th: Thresholds) -> Cause:
    return Cause(
        severity="HIGH", code="window.coverage", subject="window",
        message=f"the daemon covered {coverage:.2%} of the window "
                f"(less than {th.coverage_min:.1%}); see the downtime list",
        evidence={"coverage": round(coverage, 6), "required": th.coverage_min})


def original_tier(alert: AlertRecord) -> str:
    """The tier an alert fired at (before any escalation): its deadline's tier."""
    before = (alert.escalated_from or "").strip().upper()
    return before if before in RANK else severity_of(alert)


def deadline_met(alert: Episode, tier: str, time_scale: float) -> bool | None:
    """True met, False late, None still open (not resolved, nor acknowledged for CRITICAL)."""
    if tier == "CRITICAL" and alert.acked:
        return True
    first = parse_timestamp(alert.first_seen)
    resolved = parse_timestamp(alert.resolved_at)
    if resolved is None:
        return None
    if tier == "CRITICAL":
        return True
    if first is None:
        return False
    return (resolved - first) * time_scale <= DEADLINES_S[tier]


def tier_deadlines(alerts: Sequence[Episode], time_scale: float) -> dict[str, dict[str, int]]:
    """Per tier: fired, events, resolved_within_deadline, late, open."""
    keys = ("fired", "events", "resolved_within_deadline", "late", "open")
    out = {tier: dict.fromkeys(keys, 0) for tier in DEADLINES_S}
    for alert in alerts:
        tier = original_tier(alert)
        if tier not in out:
            continue
        row = out[tier]
        row["fired"] += 1
        if alert.is_event:
            row["events"] += 1
            continue
        met = deadline_met(alert, tier, time_scale)
        row["open" if met is None else "resolved_within_deadline" if met else "late"] += 1
    return out


def band(value: float | None, high: float, critical: float, *, red_at: bool = False) -> str:
    """`green` below `high`, `yellow` up to `critical`, `red` above (or at, with red_at)."""
    if value is None:
        return "unknown"
    if value > critical or (red_at and value >= critical):
        return "red"
    return "yellow" if value >= high else "green"


def figures(metrics: Mapping[str, Any], alerts: Sequence[AlertRecord],
            th: Thresholds) -> list[Figure]:
    """The seed 003 figures of the window, each graded against its SPEC §5 band."""
    lock = number_at(metrics, "locks", "rate")
    failed = number_at(metrics, "jobs", "failed_rate")
    p95 = number_at(metrics, "jobs", "latency_ms", "p95")
    growth = max_growth(metrics)
    stale = float(len({a.subject for a in alerts if a.code == "jobs.stale_claim"}))
    rows = [
        ("lock_timeout_rate", "Lock timeout rate", lock, "ratio",
         band(lock, th.lock_timeout_high, th.lock_timeout_critical)),
        ("failed_notification_rate", "Failed notifications", failed, "ratio",
         band(failed, th.failed_notify_high, th.failed_notify_critical)),
        ("job_latency_p95_ms", "Job latency p95", p95, "ms",
         band(p95, th.latency_p95_high_ms, th.latency_p95_critical_ms)),
        ("memory_growth_mb_min", "Memory trend (worst process)", growth, "MB/min",
         band(growth, th.memory_growth_high_mb_min, th.memory_growth_critical_mb_min)),
        ("stale_claims", "Stale claims", stale, "count",
         band(stale, 1, th.stale_claims_excessive, red_at=True)),
    ]
    return [Figure(*row) for row in rows]


def max_growth(metrics: Mapping[str, Any]) -> float | None:
    procs = metrics.get("processes")
    if not isinstance(procs, dict):
        return None
    slopes = [number_at(p, "rss_slope_mb_min") for p in procs.values()]
    return max((s for s in slopes if s is not None), default=None)
