"""Read a reference tree back and list what is wrong with it, independently of burnin.

A clean run (`--faults none`) must give no problem at all; each scripted fault shows up here as
the artefact its SPEC code detects. Used by the tests and the benchmark.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from daemon.clock import parse_timestamp
from daemon.sim.files import complete_lines, json_objects, read_json
from daemon.sim.jobs import CLAIM_SUFFIX
from daemon.sim.layout import Tree
from daemon.sim.ledger import Ledger
from daemon.sim.statemachine import STATES


@dataclass
class Audit:
    problems: list[str] = field(default_factory=list)
    results: int = 0
    events: int = 0
    transitions: int = 0
    lock_timeouts: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def lock_timeout_rate(self) -> float:
        return self.lock_timeouts / self.transitions if self.transitions else 0.0

    def p95_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0


def audit(tree: Tree) -> Audit:
    """Every check of a clean tree, with the figures behind them."""
    report = Audit()
    _jobs(tree, report)
    _journal(tree, report)
    _transitions(tree, report)
    _locks(tree, report)
    return report


def _jobs(tree: Tree, report: Audit) -> None:
    ids: Counter[str] = Counter()
    for path in tree.inbox.glob("*.result.json"):
        result = read_json(path)
        if not isinstance(result, dict):
            report.problems.append(f"unreadable result {path.name}")
            continue
        ids[str(result.get("job_id"))] += 1
        _latency(result, report)
    report.results = sum(ids.values())
    report.problems += [f"job {j} has {n} results" for j, n in ids.items() if n > 1]
    claims = [p.name.removesuffix(CLAIM_SUFFIX) for p in tree.outbox.glob("*.claimed")]
    report.problems += [f"job {j} still claimed" for j in claims]
    report.problems += [f"failed notification {p.name}" for p in tree.failed.iterdir()]


def _latency(result: dict[str, Any], report: Audit) -> None:
    created = parse_timestamp(result.get("created_at"))
    completed = parse_timestamp(result.get("completed_at"))
    if created is not None and completed is not None:
        report.latencies_ms.append((completed - created) * 1000.0)


def _journal(tree: Tree, report: Audit) -> None:
    for number, line in enumerate(complete_lines(tree.journal), 1):
        try:
            event = json.loads(line)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            report.problems.append(f"journal line {number} is not a JSON object")
        elif not event.get("correlation_id"):
            report.problems.append(f"journal line {number} has no correlation id")
    ledger = Ledger.replay(tree.journal, track_keys=True)
    report.events = ledger.event_count
    dups = [k for k, n in Counter(ledger.keys).items() if n > 1]
    report.problems += [f"idempotency key {k} used twice" for k in dups]
    report.problems += [f"{a} balance {b} < 0" for a, b in ledger.balances.items() if b < 0]
    _snapshot(tree, ledger, report)


def _snapshot(tree: Tree, ledger: Ledger, report: Audit) -> None:
    snap = read_json(tree.snapshot)
    if not isinstance(snap, dict) or snap.get("event_count") != ledger.event_count:
        report.problems.append(f"snapshot is not the full replay: {snap!r:.80}")
        return
    for agent, value in snap.get("balances", {}).items():
        if Decimal(str(value)) != ledger.balance(agent):
            report.problems.append(f"snapshot {agent}={value} != replay {ledger.balance(agent)}")


def _transitions(tree: Tree, report: Audit) -> None:
    seen: set[str] = set()
    last = None
    for record in json_objects(tree.transitions):
        tid, src, dst = (record.get(k) for k in ("transition_id", "from_state", "to_state"))
        if tid in seen:
            report.problems.append(f"transition id {tid} twice")
        if last is not None and src != last:
            report.problems.append(f"transition {tid} from {src} after {last}")
        seen.add(str(tid))
        last = dst
        report.transitions += 1
    state = read_json(tree.state)
    if not isinstance(state, dict) or state.get("state") not in STATES:
        report.problems.append(f"state file is not a known state: {state!r:.60}")
    elif last is not None and state["state"] != last:
        report.problems.append(f"state {state['state']} != last transition {last}")


def _locks(tree: Tree, report: Audit) -> None:
    for log in tree.root.glob("logs/*.log"):
        report.lock_timeouts += sum(b"Lock timeout" in line for line in complete_lines(log))
    if report.lock_timeout_rate >= 0.01:
        report.problems.append(f"lock timeouts {report.lock_timeout_rate:.1%} of transitions")
