"""The one-method interface every rule implements (STYLE.md §1), and what units are given.

This module sits below both `daemon.sources` and `daemon.checks` (which re-exports it as
`daemon.checks.base`): sources build themselves from an `Env`, rules get one, and neither has to
import the other for it.

A *rule* belongs to one of the four checks of SPEC §3 (`health`, `position`, `integrity`,
`jobs`). The supervisor calls `run(tick)` on the check's cadence; a rule that also watches
continuously (the job folders) overrides `serve(emit)`, which the daemon runs as a background
task and which pushes findings through `emit` whenever it sees something.

Contract of what a rule returns (from `run` or through `emit`): **every condition it currently
sees, plus the events that are new since its last report**. A condition the rule raised before
and does not return now is resolved by the alert engine, unless `judging(code, subject)` says
the rule could not judge it yet. A rule that raises keeps its previous
conditions open (a failed look is not a clean look) and becomes a `daemon.check_overrun`.

Rules keep their own state; a rule that must survive restarts stores it under
`env.state_dir` (None in a one-shot `burnin check`, which keeps no rule state).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar

from daemon.clock import Clock
from daemon.config import Config
from daemon.model import Finding

Emit = Callable[[list[Finding]], Awaitable[None]]
T = TypeVar("T")


class Sources(Protocol):
    """The shared sources of one run (`daemon.sources.registry.SourceHub`)."""

    def get(self, name: str) -> Any: ...


class Offload:
    """How units run blocking calls: `await env.offload(fn, *args)`.

    The daemon runs them in a worker thread (anyio) so that its event loop never blocks. A
    one-shot `burnin check` has no loop (`loopless`, daemon.oneshot): the call runs directly —
    nothing else would run meanwhile — and the locks of shared sources are no-ops."""

    def __init__(self, loopless: bool = False) -> None:
        self.loopless = loopless

    async def __call__(self, fn: Callable[..., T], *args: Any) -> T:
        if self.loopless:
            return fn(*args)
        import anyio.to_thread

        return await anyio.to_thread.run_sync(fn, *args)

    def lock(self) -> AsyncContextManager[Any]:
        """A lock for a shared source's async API (anyio's; none needed when `loopless`)."""
        if self.loopless:
            return _NoLock()
        import anyio

        return anyio.Lock()


class _NoLock:
    """The lock of a loopless one-shot: the rules run one after the other, never together."""

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


@dataclass
class Env:
    """What a rule may use: config, the clock, shared sources, a logger, a state folder."""

    cfg: Config
    clock: Clock
    sources: Sources
    log: Any
    oneshot: bool = False
    state_dir: Path | None = None
    progress: Callable[[str, int, int], None] | None = None  # (label, done, total) for `check`
    window_id: str | None = None  # the burn-in window the daemon is in (None in `check`)
    offload: Offload = field(default_factory=Offload)  # how blocking calls run


@dataclass
class Tick:
    """One run of one check: `now` is read once (real epoch seconds)."""

    check: str
    now: float
    metrics: dict[str, Any] = field(default_factory=dict)

    def metric(self, group: str, values: dict[str, Any]) -> None:
        """Publish figures under `status.metrics[group]` (merged, last write wins)."""
        self.metrics.setdefault(group, {}).update(values)


class Rule:
    """Base of all rules. Subclasses set `name` and `check` and implement `run`."""

    name: ClassVar[str]
    check: ClassVar[str]

    def __init__(self, env: Env) -> None:
        self.env = env

    async def run(self, tick: Tick) -> list[Finding]:
        raise NotImplementedError

    async def begin(self) -> None:
        """One-shot `burnin check`: a first look taken as the check starts, before the
        other checks run (a CPU sample then spans their run); the default takes none."""
        return None

    async def serve(self, emit: Emit) -> None:
        """Continuous observation; the default rule has none."""
        return None

    def judging(self, code: str, subject: str) -> bool:
        """Whether this rule can judge `code`/`subject` now. A rule that has just started
        (after a reload or a restart) and has not yet scanned its folders or gathered its
        samples returns False: its silence about a condition then resolves nothing."""
        return True

    def save(self) -> None:
        """Persist state (called at shutdown and after runs); default: nothing to save."""

    def close(self) -> None:
        """Release files, watchers, threads."""
