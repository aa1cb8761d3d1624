"""`[[process]]` rule: down, restarted, CPU over N samples, idle CPU, RSS growth trend.

The decisions are pure functions of a sample history (`cpu_percent_over`, `rss_slope_mb_min`,
`growth_severity`), table-tested; `ProcessRule` only gathers looks (in a worker thread) and keeps
one `Track` per target. The RSS series restarts with the process.

Memory trend: least-squares slope of the *floor* of RSS (trailing minimum over a few samples),
in MB per real minute, once the samples span at least `thresholds.memory_min_span` (nominal,
so scaled) and give at least MIN_FIT_POINTS floor points. A leak lifts the floor; an
allocation spike that is freed again does not.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from daemon.checks.base import Env, Rule, Tick
from daemon.checks.host import oneshot_wait_s
from daemon.checks.registry import register
from daemon.clock import iso, real
from daemon.config import ProcessCfg, ThresholdsCfg
from daemon.model import Finding, Severity, finding
from daemon.sources.procs import BAD_PIDFILE, DOWN, UNREADABLE, UP, ProcLook, look

MB = 1024 * 1024
FLOOR_SAMPLES = 5
MIN_FIT_POINTS = 10
MAX_SAMPLES = 2000
Sample = tuple[float, int, float]  # (real monotonic s, rss bytes, cpu seconds)


def cpu_percent_over(samples: Sequence[Sample], n: int) -> float | None:
    """Mean CPU % of one core over the last `n` intervals; None until there are n intervals."""
    if n < 1 or len(samples) < n + 1:
        return None
    first, last = samples[-n - 1], samples[-1]
    span = last[0] - first[0]
    if span <= 0:
        return None
    return max(0.0, (last[2] - first[2]) / span * 100.0)


def floor_series(values: Sequence[float], k: int = FLOOR_SAMPLES) -> list[float]:
    """Trailing minimum over `k` values: the floor a leak raises and a freed spike does not."""
    return [min(values[max(0, i - k + 1): i + 1]) for i in range(len(values))]


def lsq_slope(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Least-squares slope dy/dx; None for fewer than 2 points or no spread in x."""
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx <= 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def rss_slope_mb_min(samples: Sequence[Sample], min_span_s: float) -> float | None:
    """RSS trend in MB per real minute once the samples span `min_span_s` real seconds."""
    k = FLOOR_SAMPLES
    if len(samples) < k - 1 + MIN_FIT_POINTS or samples[-1][0] - samples[0][0] < min_span_s:
        return None
    xs = [s[0] / 60.0 for s in samples][k - 1:]
    ys = floor_series([s[1] / MB for s in samples], k)[k - 1:]  # full windows only
    return lsq_slope(xs, ys)


def growth_severity(slope: float | None, th: ThresholdsCfg, span_min: float = math.inf
                    ) -> Severity | None:
    """HIGH above the high threshold, CRITICAL above the critical one (SPEC §5 bands).

    The fitted rise over the span (slope x span) must also reach `memory_min_rise_mb`: at
    high time scales the span is seconds, and a few hundred kB of warm-up would otherwise
    read as a leak of several MB per minute.
    """
    if slope is None or slope * span_min < th.memory_min_rise_mb:
        return None
    if slope > th.memory_growth_critical_mb_min:
        return Severity.CRITICAL
    if slope > th.memory_growth_high_mb_min:
        return Severity.HIGH
    return None


@dataclass
class Track:
    """History of one target: identity, samples since it (re)started, restart count."""

    identity: tuple[int, float] | None = None
    samples: deque[Sample] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))
    restarts: int = 0

    def observe(self, seen: ProcLook, keep_s: float) -> bool:
        """Add a look; True when it shows a restart (new pid or start time)."""
        restarted = False
        if seen.identity is not None:
            restarted = self.identity is not None and seen.identity != self.identity
            if restarted or self.identity is None:
                self.samples.clear()
            self.restarts += restarted
            self.identity = seen.identity
        if seen.status == UP and seen.rss_bytes is not None and seen.cpu_s is not None:
            self.samples.append((seen.at, seen.rss_bytes, seen.cpu_s))
        while self.samples and self.samples[-1][0] - self.samples[0][0] > keep_s:
            self.samples.popleft()
        return restarted


def queue_activity(env_sources: object) -> tuple[int, ...] | None:
    """What the job folders look like now: (pending, claimed, *activity), None without jobs.

    Expects the shared source `jobs` to expose `pending_count`, `claimed_count` (ints) and
    `activity` (a tuple that changes whenever anything happens in the job folders).
    """
    try:
        jobs = env_sources.get("jobs")  # type: ignore[attr-defined]
        return (int(jobs.pending_count), int(jobs.claimed_count), *jobs.activity)
    except Exception:
        return None


def idle_between(before: tuple[int, ...] | None, now: tuple[int, ...] | None) -> bool | None:
    """Idle since the last look: nothing pending or claimed, and nothing happened between."""
    if now is None:
        return None
    return now[0] == 0 and now[1] == 0 and before == now


@register
class ProcessRule(Rule):
    """Every `[[process]]` target, every health tick."""

    name = "process"
    check = "health"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.tracks: dict[str, Track] = {}
        self.idle: deque[bool] = deque(maxlen=env.cfg.thresholds.cpu_samples)
        self._last_queue: tuple[int, ...] | None = None
        self._told_no_jobs = False
        self._first_at: float | None = None  # one-shot: when the first looks were taken

    async def begin(self) -> None:
        """One-shot: the first look at every target, taken as `burnin check` starts, so
        that the CPU sample spans the other checks' run instead of a sleep."""
        targets = list(self.env.cfg.process)
        if self.env.oneshot and targets and self._first_at is None:
            await self._first_looks(targets)

    async def run(self, tick: Tick) -> list[Finding]:
        targets = list(self.env.cfg.process)
        if not targets:
            return []
        if self.env.oneshot:  # one CPU sample from the first look (see begin); no trend
            await self._oneshot_wait(targets)
        looks = await self._look_all(targets)
        seen_queue = queue_activity(self.env.sources)
        self._note_idle(idle_between(self._last_queue, seen_queue))
        self._last_queue = seen_queue
        out: list[Finding] = []
        metrics: dict[str, dict[str, object]] = {}
        for target, seen in zip(targets, looks, strict=True):
            out += self._judge(target, seen, metrics)
        tick.metric("processes", metrics)
        return out

    def judging(self, code: str, subject: str) -> bool:
        """CPU and memory conditions need their samples first (after a start or reload)."""
        track = self.tracks.get(subject)
        th = self.env.cfg.thresholds
        if code in ("process.cpu_high", "process.idle_cpu"):
            cpu = cpu_percent_over(track.samples, th.cpu_samples) if track else None
            if cpu is None:
                return False
            return code == "process.cpu_high" or len(self.idle) == self.idle.maxlen
        if code == "process.memory_growth":
            span = real(self.env.clock, th.memory_min_span)
            return track is not None and rss_slope_mb_min(track.samples, span) is not None
        return True

    def _note_idle(self, idle: bool | None) -> None:
        if idle is not None:
            self.idle.append(idle)
        elif not self._told_no_jobs:
            self._told_no_jobs = True
            self.env.log.info("process.idle_cpu skipped: no jobs source with pending_count "
                              "and claimed_count")

    async def _first_looks(self, targets: list[ProcessCfg]) -> None:
        for target, seen in zip(targets, await self._look_all(targets), strict=True):
            self._track(target).observe(seen, self._keep_s())
        self._first_at = self.env.clock.monotonic()

    async def _oneshot_wait(self, targets: list[ProcessCfg]) -> None:
        """Take the first looks if `begin` did not, then wait for the sample to span at
        least the host rule's minimum (ONESHOT_CPU_MIN_S)."""
        if self._first_at is None:
            await self._first_looks(targets)
        assert self._first_at is not None
        await self.env.clock.sleep(oneshot_wait_s(self.env.clock.monotonic() - self._first_at))

    def _track(self, target: ProcessCfg) -> Track:
        return self.tracks.setdefault(target.name, Track())

    async def _look_all(self, targets: list[ProcessCfg]) -> list[ProcLook]:
        hints = [self._track(t).identity for t in targets]
        root, clock = self.env.cfg.root, self.env.clock

        def work() -> list[ProcLook]:
            return [look(t, root, clock.monotonic(), h) for t, h in zip(targets, hints,
                                                                       strict=True)]

        return await self.env.offload(work)

    def _keep_s(self) -> float:
        cfg, clock = self.env.cfg, self.env.clock
        tick_s = max(real(clock, cfg.schedule.health), cfg.schedule.min_interval)
        return max(2 * real(clock, cfg.thresholds.memory_min_span),
                   (cfg.thresholds.cpu_samples + 2) * tick_s,
                   (FLOOR_SAMPLES + MIN_FIT_POINTS + 1) * tick_s)  # enough points to fit

    def _judge(self, target: ProcessCfg, seen: ProcLook,
               metrics: dict[str, dict[str, object]]) -> list[Finding]:
        track = self._track(target)
        before = track.identity
        out = []
        if track.observe(seen, self._keep_s()):
            out.append(_restarted(target.name, before, seen, track.restarts))
        out += _state_findings(target, seen)
        cpu = slope = None
        if seen.status == UP:
            cpu, slope, more = self._measure(target, track)
            out += more
        metrics[target.name] = {
            "pid": seen.pid, "up": seen.status in (UP, UNREADABLE),
            "rss_bytes": seen.rss_bytes, "cpu_percent": _round(cpu),
            "rss_slope_mb_min": _round(slope, 4), "restarts": track.restarts}
        if self.env.oneshot:  # how long the one-shot CPU figure was measured over
            metrics[target.name]["cpu_sample_s"] = _round(sample_s(track, cpu), 3)
        return out

    def _measure(self, target: ProcessCfg,
                 track: Track) -> tuple[float | None, float | None, list[Finding]]:
        """CPU % over the configured samples and the RSS slope, with their findings."""
        th = self.env.cfg.thresholds
        n = 1 if self.env.oneshot else th.cpu_samples
        cpu = cpu_percent_over(track.samples, n)
        out = self._cpu_findings(target, cpu, n)
        if self.env.oneshot:
            return cpu, None, out
        slope = rss_slope_mb_min(track.samples, real(self.env.clock, th.memory_min_span))
        return cpu, slope, out + _growth_findings(target.name, slope, track, th)

    def _cpu_findings(self, target: ProcessCfg, cpu: float | None, n: int) -> list[Finding]:
        if cpu is None:
            return []
        ev: dict[str, object] = {"cpu_percent": round(cpu, 2), "samples": n}
        over = f"{n} samples"
        if self.env.oneshot:
            span = sample_s(self._track(target), cpu)
            ev["sample_s"] = _round(span, 3)
            over = f"a {span or 0.0:.2f} s sample"
        if cpu > target.cpu_max:
            return [finding("process.cpu_high", target.name,
                            f"{target.name} used {cpu:.1f} % CPU over {over} "
                            f"(limit {target.cpu_max:g} %)", {**ev, "limit": target.cpu_max})]
        idle = len(self.idle) == self.idle.maxlen and all(self.idle)
        if idle and not self.env.oneshot and cpu > target.idle_cpu_max:
            return [finding("process.idle_cpu", target.name,
                            f"{target.name} used {cpu:.1f} % CPU while no job was pending "
                            f"or claimed (limit {target.idle_cpu_max:g} %)",
                            {**ev, "limit": target.idle_cpu_max})]
        return []


def sample_s(track: Track, cpu: float | None) -> float | None:
    """Real seconds between the two looks a one-shot CPU figure is measured over (pure);
    None without a figure (down, restarted or unreadable at one of the looks)."""
    if cpu is None or len(track.samples) < 2:
        return None
    return track.samples[-1][0] - track.samples[-2][0]


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _restarted(name: str, before: tuple[int, float] | None, seen: ProcLook,
               restarts: int) -> Finding:
    old_pid = before[0] if before else None
    return finding("process.restarted", name,
                   f"{name} was restarted: pid {old_pid} -> {seen.pid}",
                   {"previous_pid": old_pid, "pid": seen.pid,
                    "previous_start": iso(before[1]) if before else None,
                    "start": iso(seen.create_time), "restarts": restarts})


def _state_findings(target: ProcessCfg, seen: ProcLook) -> list[Finding]:
    if seen.status == DOWN:
        return [finding("process.down", target.name, f"{target.name} is not running: "
                        f"{seen.reason}", {"reason": seen.reason, "pid": seen.pid})]
    if seen.status == BAD_PIDFILE:
        return [finding("source.unavailable", target.pidfile,
                        f"pidfile of {target.name} is unusable: {seen.reason}",
                        {"process": target.name, "reason": seen.reason})]
    if seen.status == UNREADABLE:
        return [finding("source.unavailable", f"process:{target.name}",
                        f"{target.name} cannot be sampled: {seen.reason}",
                        {"process": target.name, "pid": seen.pid, "reason": seen.reason})]
    return []


def _growth_findings(name: str, slope: float | None, track: Track,
                     th: ThresholdsCfg) -> list[Finding]:
    span_min = (track.samples[-1][0] - track.samples[0][0]) / 60.0 if track.samples else 0.0
    sev = growth_severity(slope, th, span_min)
    if sev is None or slope is None:
        return []
    limit = (th.memory_growth_critical_mb_min if sev == Severity.CRITICAL
             else th.memory_growth_high_mb_min)
    return [finding("process.memory_growth", name,
                    f"{name} RSS grows {slope:.3f} MB/min over {span_min:.1f} real min "
                    f"(limit {limit:g})",
                    {"slope_mb_min": round(slope, 4), "span_real_min": round(span_min, 3),
                     "samples": len(track.samples), "rss_bytes": track.samples[-1][1],
                     "limit_mb_min": limit}, severity=sev)]
