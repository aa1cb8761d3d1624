"""Helpers for journal tests: a tree with a journal, an Env bound to it, line writers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import structlog

from daemon.checks import journal_decide
from daemon.checks.base import Env, Tick
from daemon.clock import FakeClock
from daemon.config import load_config
from daemon.model import Finding
from daemon.sources.journal_book import Book
from daemon.sources.registry import SourceHub

JOURNAL = "storage/events/credits.jsonl"
SNAPSHOT = "runtime/balances.json"


def event(n: int, account: str = "a1", delta: Any = 1, **extra: Any) -> dict[str, Any]:
    """A healthy balance-changing event number `n`."""
    ev = {"event_type": "credit.granted", "agent_id": account, "delta": delta,
          "idempotency_key": f"k{n}", "correlation_id": f"c{n}"}
    ev.update(extra)
    return ev


def line(obj: Any) -> bytes:
    return json.dumps(obj).encode() + b"\n"


class Tree:
    """A seed tree plus a way to build Envs and run the journal source on it."""

    def __init__(self, root: Path, tmp: Path) -> None:
        self.root = root
        self.journal = root / JOURNAL
        self.state_dir = tmp / "state"
        self.clock = FakeClock()
        self.hubs: list[SourceHub] = []

    def append(self, *items: Any) -> None:
        with self.journal.open("ab") as fh:
            for item in items:
                fh.write(item if isinstance(item, bytes) else line(item))
        now = self.clock.time()  # file times follow the injected clock
        os.utime(self.journal, (now, now))

    def events(self, start: int, stop: int, **kw: Any) -> None:
        self.append(*(event(n, **kw) for n in range(start, stop)))

    def snapshot(self, obj: Any) -> None:
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        (self.root / SNAPSHOT).write_bytes(data)

    def env(self, *, oneshot: bool = False, journal: dict[str, Any] | None = None,
            ledger: dict[str, Any] | None = None, progress: Any = None) -> Env:
        overrides = {"journal": journal or {}, "ledger": ledger or {}}
        cfg = load_config(None, root=str(self.root), overrides=overrides)
        hub = SourceHub()
        self.hubs.append(hub)
        env = Env(cfg=cfg, clock=self.clock, sources=hub, log=structlog.get_logger(),
                  oneshot=oneshot, state_dir=None if oneshot else self.state_dir,
                  progress=progress)
        hub.bind(env)
        return env

    def tick(self, check: str = "position") -> Tick:
        return Tick(check=check, now=self.clock.time())


@pytest.fixture
def tree(seed_tree: Path, tmp_path: Path) -> Any:
    t = Tree(seed_tree, tmp_path)
    yield t
    for hub in t.hubs:
        hub.close()


def codes(findings: list[Any]) -> list[str]:
    return sorted(f.code for f in findings)


class Judged(NamedTuple):
    """A pass of the journal source as its rule sees it: the judged findings and the metrics."""

    findings: list[Finding]
    metrics: dict[str, Any]


async def run_pass(source: Any, now: float, name: str = "position") -> Judged:
    """Run the `position` or `integrity` pass and judge it as the journal rules do."""
    observed = await getattr(source, name)(now)
    return Judged(journal_decide.judge(observed, journal_decide.limits(source.env.cfg)),
                  observed.metrics)


def drained(book: Book) -> list[Finding]:
    """The findings about the lines a Book has seen since the last drain."""
    return journal_decide.line_findings(book.drain(), book.rel)
