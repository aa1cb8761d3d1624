"""The job-folder index: pending jobs, claims, results and failed notifications by file name.

The index is plain data plus the rules of SPEC §2/§3 that need memory of what was seen
(ids, times, duplicates, unreadable files). It does no I/O: the scanner and the watcher hand
it `Obs` (one look at one file). Memory stays compact for 100,000 results: a result is one
`name -> mtime_ns` entry plus one `job_id -> name` entry.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from typing import NamedTuple

from daemon.sources import jobs_parse as jp


class Obs(NamedTuple):
    """One look at one file: its stat figures and (for parsed kinds) its bytes."""

    folder: str
    name: str
    mtime_ns: int
    ctime: float
    data: bytes | None = None

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9

    @property
    def rel(self) -> str:
        return f"{self.folder}/{self.name}" if self.folder else self.name


class Series:
    """(time, value) floats in two arrays: 16 bytes a sample, pruned by time."""

    def __init__(self) -> None:
        self.t = array("d")
        self.v = array("d")

    def append(self, t: float, v: float = 0.0) -> None:
        self.t.append(t)
        self.v.append(v)

    def prune(self, edge: float) -> None:
        if self.t and min(self.t) < edge:
            keep = [i for i, t in enumerate(self.t) if t >= edge]
            self.t = array("d", (self.t[i] for i in keep))
            self.v = array("d", (self.v[i] for i in keep))

    def values(self) -> Iterator[float]:
        return iter(self.v)

    def items(self) -> list[tuple[float, float]]:
        return list(zip(self.t, self.v, strict=True))

    def __len__(self) -> int:
        return len(self.t)


class PendingRec(NamedTuple):
    job_id: str
    since: float  # job time, epoch seconds
    mtime_ns: int


class ClaimRec(NamedTuple):
    job_id: str
    since: float  # claim time, epoch seconds
    mtime_ns: int
    pid: int | None
    pid_gone: bool


class JobEvent(NamedTuple):
    """A fact seen once: `code` is a catalog code, `rel` the file, `reason` a short tag."""

    code: str
    rel: str
    job_id: str
    reason: str


class Settings(NamedTuple):
    patterns: dict[str, jp.Pattern]
    created_field: str
    claimed_field: str
    completed_field: str
    result_id_field: str
    settle_s: float
    window_s: float  # span of latency samples and rates (real seconds); inf in one-shot


class JobIndex:
    """What is on disk now, as far as events and rescans have told us."""

    def __init__(self, settings: Settings, pid_alive: Callable[[int], bool]) -> None:
        self.s = settings
        self.pid_alive = pid_alive
        self.pending: dict[str, PendingRec] = {}
        self.claims: dict[str, ClaimRec] = {}
        self.results: dict[str, int] = {}  # name -> mtime_ns
        self.result_alias: dict[str, str] = {}  # name -> job id, only when not the name's id
        self.alias_ids: dict[str, str] = {}  # job id -> first aliased result name
        self.failed: dict[str, float] = {}  # name -> time seen
        self.unparsed: dict[str, int] = {}  # rel -> mtime_ns of a job/result that did not parse
        self.created: dict[str, float] = {}  # job id -> job time, until its result is seen
        self.samples = Series()  # (result time, latency ms)
        self.result_times = Series()
        self.failed_times = Series()
        self.events: list[JobEvent] = []
        self._reported: set[tuple[str, str, str]] = set()

    # -- public operations -------------------------------------------------------------

    def put(self, kind: str, obs: Obs, now: float, live: bool) -> bool:
        """Record a file seen (created or changed); False when it must be re-read after settle."""
        return _PUT[kind](self, obs, now, live)

    def drop(self, kind: str, name: str) -> None:
        """Forget a file that is gone."""
        _DROP[kind](self, name)

    def names(self, kind: str) -> dict[str, int]:
        """name -> mtime_ns of the files of `kind` the index holds."""
        if kind == "pending":
            return {n: r.mtime_ns for n, r in self.pending.items()}
        if kind == "claims":
            return {n: r.mtime_ns for n, r in self.claims.items()}
        if kind == "results":
            return self.results
        return {n: 0 for n in self.failed}

    def has(self, kind: str, name: str) -> bool:
        return name in (self.pending, self.claims, self.results, self.failed)[
            ("pending", "claims", "results", "failed").index(kind)]

    def counts(self) -> dict[str, int]:
        return {"pending": len(self.pending), "claimed": len(self.claims),
                "done": len(self.results), "failed": len(self.failed)}

    def prune(self, now: float) -> None:
        """Drop samples older than the window, and job times of jobs long gone."""
        edge = now - self.s.window_s
        for series in (self.samples, self.result_times, self.failed_times):
            series.prune(edge)
        live = {r.job_id for r in self.pending.values()} | {c.job_id for c in self.claims.values()}
        for jid in [j for j, t in self.created.items() if t < edge and j not in live]:
            del self.created[jid]

    def result_of(self, jid: str) -> str | None:
        """The name of the (first) result for job `jid`, None when there is none."""
        name = jid + self.s.patterns["results"].suffix
        if name in self.results and name not in self.result_alias:
            return name
        return self.alias_ids.get(jid)

    def drain(self) -> list[JobEvent]:
        events, self.events = self.events, []
        return events

    # -- helpers -----------------------------------------------------------------------

    def _event(self, code: str, obs: Obs, job_id: str, reason: str) -> None:
        key = (code, obs.rel, f"{reason}:{obs.mtime_ns}")
        if key not in self._reported:
            self._reported.add(key)
            self.events.append(JobEvent(code, obs.rel, job_id, reason))

    def _parsed(self, obs: Obs, now: float) -> tuple[dict | None, bool]:
        """(object, judged): an unparsable file modified within `settle` is not judged yet."""
        obj = jp.parse_object(obs.data)
        if obj is not None:
            if self.unparsed:
                self.unparsed.pop(obs.rel, None)
            return obj, True
        if now - obs.mtime < self.s.settle_s:
            return None, False
        if self.unparsed.get(obs.rel) != obs.mtime_ns:
            self.unparsed[obs.rel] = obs.mtime_ns
            self._event("jobs.unreadable_file", obs, "", "unparsable")
        return None, True

    def _in_window(self, t: float, now: float) -> bool:
        return t >= now - self.s.window_s


# -- per-kind rules (module functions keep JobIndex small) ---------------------------------


def _put_pending(ix: JobIndex, obs: Obs, now: float, live: bool) -> bool:
    obj, judged = ix._parsed(obs, now)
    if not judged:
        return False
    jid = jp.strip_suffix(obs.name, ix.s.patterns["pending"].suffix)
    old = ix.pending.get(obs.name)
    since = jp.time_field(obj, ix.s.created_field)
    if since is None:
        since = old.since if old else (now if live else obs.mtime)
    ix.pending[obs.name] = PendingRec(jid, since, obs.mtime_ns)
    ix.created.setdefault(jid, since)
    first = ix.result_of(jid)
    if old is None and first is not None and (live or obs.mtime_ns > ix.results[first]):
        ix._event("jobs.duplicate_processing", obs, jid, "requeued after its result")
    return True


def _put_claim(ix: JobIndex, obs: Obs, now: float, live: bool) -> bool:
    obj = jp.parse_object(obs.data)
    pats = ix.s.patterns
    jid = jp.claim_id(obs.name, pats["claims"].suffix, pats["pending"].suffix)
    old = ix.claims.get(obs.name)
    since = jp.time_field(obj, ix.s.claimed_field)
    if since is None:
        since = old.since if old else (now if live else obs.ctime)
    pid = jp.pid_field(obj)
    gone = pid is not None and not ix.pid_alive(pid)
    ix.claims[obs.name] = ClaimRec(jid, since, obs.mtime_ns, pid, gone)
    return True


def _put_result(ix: JobIndex, obs: Obs, now: float, live: bool) -> bool:
    was_complete = obs.name in ix.results and not (ix.unparsed and obs.rel in ix.unparsed)
    obj, judged = ix._parsed(obs, now)
    if not judged:
        return False
    pat = ix.s.patterns["results"]
    jid = jp.result_id(obs.name, obj, ix.s.result_id_field, pat.suffix)
    old = ix.results.get(obs.name)
    if old is not None:
        if was_complete and old != obs.mtime_ns:
            ix._event("jobs.duplicate_processing", obs, jid, "result rewritten after completion")
        ix.results[obs.name] = obs.mtime_ns
        return True
    _new_result(ix, obs, obj, jid, now, live)
    return True


def _requeued_before(ix: JobIndex, jid: str, result: Obs) -> None:
    """A pending job newer than its result, indexed first (a fresh scan reads pending before
    results: a requeue while burnin was down or restarting) is a duplicate too."""
    pat = ix.s.patterns["pending"]
    name = jid + pat.suffix
    rec = ix.pending.get(name)
    if rec is not None and rec.mtime_ns > result.mtime_ns:
        ix._event("jobs.duplicate_processing", Obs(pat.folder, name, rec.mtime_ns, 0.0), jid,
                  "requeued after its result")


def _new_result(ix: JobIndex, obs: Obs, obj: dict | None, jid: str, now: float,
                live: bool) -> None:
    first = ix.result_of(jid)
    ix.results[obs.name] = obs.mtime_ns
    if jid != jp.strip_suffix(obs.name, ix.s.patterns["results"].suffix):
        ix.result_alias[obs.name] = jid
        ix.alias_ids.setdefault(jid, obs.name)
    if first is not None and first != obs.name:
        ix._event("jobs.duplicate_processing", obs, jid, f"second result (first: {first})")
    _requeued_before(ix, jid, obs)
    done = jp.time_field(obj, ix.s.completed_field)
    done = done if done is not None else (now if live else obs.mtime)
    created = jp.time_field(obj, ix.s.created_field)
    job_time = ix.created.pop(jid, None)
    created = created if created is not None else job_time
    if ix._in_window(done, now):
        ix.result_times.append(done)
        if created is not None:
            ix.samples.append(done, max(0.0, done - created) * 1000.0)


def _put_failed(ix: JobIndex, obs: Obs, now: float, live: bool) -> bool:
    if obs.name not in ix.failed:
        seen = now if live else obs.mtime
        ix.failed[obs.name] = seen
        if ix._in_window(seen, now):
            ix.failed_times.append(seen)
    return True


def _drop_pending(ix: JobIndex, name: str) -> None:
    ix.pending.pop(name, None)
    ix.unparsed.pop(_rel(ix, "pending", name), None)


def _drop_claim(ix: JobIndex, name: str) -> None:
    ix.claims.pop(name, None)


def _drop_result(ix: JobIndex, name: str) -> None:
    if ix.results.pop(name, None) is None:
        return
    ix.unparsed.pop(_rel(ix, "results", name), None)
    jid = ix.result_alias.pop(name, None)
    if jid is not None and ix.alias_ids.get(jid) == name:
        del ix.alias_ids[jid]


def _drop_failed(ix: JobIndex, name: str) -> None:
    ix.failed.pop(name, None)


def _rel(ix: JobIndex, kind: str, name: str) -> str:
    folder = ix.s.patterns[kind].folder
    return f"{folder}/{name}" if folder else name


_PUT = {"pending": _put_pending, "claims": _put_claim, "results": _put_result,
        "failed": _put_failed}
_DROP = {"pending": _drop_pending, "claims": _drop_claim, "results": _drop_result,
         "failed": _drop_failed}
