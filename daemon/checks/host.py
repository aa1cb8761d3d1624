"""Host CPU, memory and disks against `thresholds.host_high_percent` / `host_critical_percent`.

Above the high threshold a finding is MEDIUM, above the critical one HIGH (SPEC §3). The rule
reports what it sees each run; the alert engine debounces these sampled codes.
"""

from __future__ import annotations

from daemon.checks.base import Rule, Tick
from daemon.checks.registry import register
from daemon.config import ThresholdsCfg
from daemon.model import Finding, Severity, finding
from daemon.sources.host import HostLook, HostSampler

# A one-shot `burnin check` measures host CPU from the start of its checks to the host rule
# (health runs last), at least this long: the other checks' work overlaps the sample.
ONESHOT_CPU_MIN_S = 0.1


def band(percent: float | None, th: ThresholdsCfg) -> Severity | None:
    """MEDIUM above the high threshold, HIGH above the critical one, else None."""
    if percent is None or percent <= th.host_high_percent:
        return None
    return Severity.HIGH if percent > th.host_critical_percent else Severity.MEDIUM


def judge(seen: HostLook, th: ThresholdsCfg) -> list[Finding]:
    """The host findings of one look (pure)."""
    out = []
    for code, what, value in (("host.cpu_high", "CPU", seen.cpu_percent),
                              ("host.memory_high", "memory", seen.memory_percent)):
        sev = band(value, th)
        if sev is not None:
            out.append(finding(code, "host", f"host {what} at {value:.1f} %",
                               {"percent": value, **_limits(th)}, severity=sev))
    for path, used in seen.disks.items():
        sev = band(used, th)
        if sev is not None:
            out.append(finding("host.disk_high", path, f"disk holding {path} is {used:.1f} % full",
                               {"percent": used, "path": path, **_limits(th)}, severity=sev))
    for path, error in seen.disk_errors.items():
        out.append(finding("source.unavailable", path, f"cannot read disk usage of {path}: "
                           f"{error}", {"path": path, "reason": error}))
    return out


def saturated(seen: HostLook, th: ThresholdsCfg) -> list[str]:
    """The resources above their HIGH level (`host_critical_percent`) in this look (pure):
    `cpu`, `memory`, `disk <path>` — what the verdict's saturated-host share counts."""
    out = [name for name, value in (("cpu", seen.cpu_percent), ("memory", seen.memory_percent))
           if value is not None and value > th.host_critical_percent]
    return out + [f"disk {path}" for path, used in sorted(seen.disks.items())
                  if used is not None and used > th.host_critical_percent]


def _limits(th: ThresholdsCfg) -> dict[str, float]:
    return {"high_percent": th.host_high_percent, "critical_percent": th.host_critical_percent}


@register
class HostRule(Rule):
    """Host CPU (over the interval since the last run), memory and disks, every health tick."""

    name = "host"
    check = "health"

    async def run(self, tick: Tick) -> list[Finding]:
        sampler: HostSampler = self.env.sources.get("host")
        if self.env.oneshot:
            await self.env.clock.sleep(oneshot_wait_s(sampler.span_s()))
        span = sampler.span_s()
        seen = await self.env.offload(sampler.sample)
        th = self.env.cfg.thresholds
        values = {"cpu_percent": _round(seen.cpu_percent),
                  "memory_percent": seen.memory_percent, "disks": seen.disks,
                  "saturated": None if seen.cpu_percent is None else saturated(seen, th)}
        if self.env.oneshot:  # how long the one-shot CPU figure was measured over
            values["cpu_sample_s"] = round(span, 3)
        tick.metric("host", values)
        return judge(seen, th)


def oneshot_wait_s(span_s: float) -> float:
    """How much longer a one-shot check waits for its CPU sample to span ONESHOT_CPU_MIN_S."""
    return max(0.0, ONESHOT_CPU_MIN_S - span_s)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
