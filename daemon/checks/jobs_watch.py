"""Rule `jobs_watch` (check `jobs`): stale claims, duplicates, long-pending jobs, unreadable files.

`serve(emit)` runs the job-folder watcher and one timer: the timer sleeps until the next claim
or job crosses its limit (or a half-written file is due for a re-read), so a stale claim is
reported within moments of crossing `jobs.stale_claim_after`, without polling. `run(tick)` is
the reconciling rescan (the whole truth in a one-shot `burnin check`).
"""

from __future__ import annotations

import itertools

from daemon import storm
from daemon.checks import jobs_decide as jd
from daemon.checks.base import Emit, Env, Rule, Tick
from daemon.checks.registry import register
from daemon.lazy import lazy
from daemon.model import Finding
from daemon.rulestate import RuleState
from daemon.window.clamp import floored

anyio = lazy("anyio")  # only `serve` (the daemon) uses it: a one-shot check never imports it


@register
class JobsWatch(Rule):
    name = "jobs_watch"
    check = "jobs"

    def __init__(self, env: Env) -> None:
        super().__init__(env)
        self.src = env.sources.get("jobs")
        self.stale_seen: set[str] = set()
        self.excessive_fired = False
        self._wake: anyio.Event | None = None
        self._last: frozenset[str] | None = None
        self.state = RuleState(env.state_dir, "jobs_watch.json", version=1, log=env.log,
                               window_id=env.window_id, per_window=True)
        self._load()

    async def run(self, tick: Tick) -> list[Finding]:
        if self.src.scanned:
            await self.src.rescan()
        else:
            await self.src.ensure_scanned()
        tick.metric("jobs", self.src.metrics())
        return self.findings(tick.now)

    async def serve(self, emit: Emit) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self.src.watch, self._notify)
            tg.start_soon(self._timers, emit)

    def judging(self, code: str, subject: str) -> bool:
        """Nothing is judged before the first scan of the folders (the index is empty)."""
        return bool(self.src.scanned)

    def findings(self, now: float) -> list[Finding]:
        """Every condition seen now, plus the events not reported yet."""
        ix, pats = self.src.index, self.src.patterns
        stale = jd.stale_findings(ix.claims, pats["claims"].folder, now, self._stale_s())
        out = stale + self._pending_bounded(now)  # a flood is built in chunks (storm.py)
        out += [jd.unavailable_finding(f, why) for f, why in sorted(self.src.unavailable.items())]
        out += [jd.event_finding(ev) for ev in ix.drain()]
        return out + self._excessive(stale)

    def _pending_bounded(self, now: float) -> list[Finding]:
        bounder = storm.Bounder(self.env.cfg.alerts.max_subjects_per_code)
        items = iter(self.src.index.pending.items())
        while chunk := dict(itertools.islice(items, 1000)):
            bounder.add(jd.pending_findings(chunk, self.src.patterns["pending"].folder, now,
                                            self._pending_s()))
        return bounder.result()

    def _excessive(self, stale: list[Finding]) -> list[Finding]:
        self.stale_seen.update(f.subject for f in stale)
        limit = self.env.cfg.thresholds.stale_claims_excessive
        if self.excessive_fired or len(self.stale_seen) < limit:
            return []
        self.excessive_fired = True
        return [jd.excessive_finding(self.src.patterns["claims"].folder, len(self.stale_seen),
                                     limit)]

    def _stale_s(self) -> float:
        """The stale-claim limit in real seconds, never below `jobs.settle` (SPEC §4)."""
        jobs = self.env.cfg.jobs
        return floored(jobs.stale_claim_after, self.env.clock.scale, jobs.settle)

    def _pending_s(self) -> float:
        jobs = self.env.cfg.jobs
        return floored(jobs.pending_after, self.env.clock.scale, jobs.settle)

    # -- the timer ---------------------------------------------------------------------

    def _notify(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _timers(self, emit: Emit) -> None:
        while True:
            self._wake = anyio.Event()
            await self.src.reread_due()
            found = self.findings(self.env.clock.time())
            key = frozenset(f.fingerprint for f in found)
            if key != self._last or any(f.kind == "event" for f in found):
                self._last = key
                await emit(found)
            await self._sleep(self._deadline())

    def _deadline(self) -> float | None:
        ix, now = self.src.index, self.env.clock.time()
        times = [jd.next_deadline(ix.claims.values(), ix.pending.values(), now, self._stale_s(),
                                  self._pending_s()),
                 self.src.next_reread()]
        return min((t for t in times if t is not None), default=None)

    async def _sleep(self, deadline: float | None) -> None:
        """Until `deadline` (epoch) passes or the watcher reports a change."""
        wake = self._wake
        assert wake is not None
        if wake.is_set():
            return
        async with anyio.create_task_group() as tg:
            if deadline is not None:
                tg.start_soon(self._sleeper, deadline)
            await wake.wait()
            tg.cancel_scope.cancel()

    async def _sleeper(self, deadline: float) -> None:
        await self.env.clock.sleep(max(0.0, deadline - self.env.clock.time()) + 0.001)
        self._notify()

    # -- state across restarts ---------------------------------------------------------

    def _load(self) -> None:
        data = self.state.load()  # per window: a new window counts stale claims afresh
        if not isinstance(data, dict):
            return
        try:
            self.stale_seen = {str(s) for s in data.get("stale_seen", [])}
            self.excessive_fired = bool(data.get("excessive_fired", False))
        except TypeError as exc:
            self.state.discard(f"bad field: {exc}")

    def save(self) -> None:
        self.state.save({"window_id": self.env.window_id, "stale_seen": sorted(self.stale_seen),
                         "excessive_fired": self.excessive_fired})

    def close(self) -> None:
        self.src.close()
