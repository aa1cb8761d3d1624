"""Producer and worker of the reference system.

The producer drops `<id>.job.json` files (written to a hidden temp name, then renamed) into
`data/webrelay_out/`. The worker claims a job by renaming it to `<id>.job.json.claimed`,
processes it (ledger events with idempotency keys and the job id as correlation id), writes
`data/webrelay_in/<id>.result.json` atomically, then removes its claim.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from daemon.clock import iso
from daemon.sim.files import read_json, replace_json
from daemon.sim.layout import Tree
from daemon.sim.ledger import Ledger
from daemon.sim.plainlog import PlainLog

JOB_TYPES = ("agent_plan", "read_file", "list_files")
AGENTS = tuple(f"agent-{n}" for n in range(1, 6))
COSTS = (0.25, 0.5, 1.0, 1.5)
GRANT = 10.0
SEED_RATE_NOMINAL_S = (180.0, 360.0)  # 10-20 jobs per nominal hour (seed 003)
JOB_SUFFIX, CLAIM_SUFFIX = ".job.json", ".job.json.claimed"


@dataclass
class Producer:
    """Submits jobs on a nominal schedule: seed rate, or `gap_nominal_s` fixed (load mode)."""

    tree: Tree
    rng: random.Random
    prefix: str
    gap_nominal_s: float | None = None
    count: int = 0
    next_due: float | None = None
    max_per_tick: int = 1000

    def gap(self) -> float:
        return self.gap_nominal_s or self.rng.uniform(*SEED_RATE_NOMINAL_S)

    def tick(self, now: float, nominal_now: float) -> int:
        if self.next_due is None:
            self.next_due = nominal_now + self.gap()
        made = 0
        while nominal_now >= self.next_due and made < self.max_per_tick:
            self.submit(now)
            self.next_due += self.gap()
            made += 1
        if made == self.max_per_tick:
            self.next_due = nominal_now + self.gap()
        return made

    def submit(self, now: float) -> str:
        self.count += 1
        job_id = f"{self.prefix}-{self.count:06d}"
        job = {"job_id": job_id, "type": self.rng.choice(JOB_TYPES),
               "agent_id": self.rng.choice(AGENTS), "cost": self.rng.choice(COSTS),
               "created_at": iso(now)}
        replace_json(self.tree.outbox / f"{job_id}{JOB_SUFFIX}", job)
        return job_id


def pending(tree: Tree) -> list[Path]:
    """Pending job files, oldest name first."""
    return sorted(p for p in tree.outbox.iterdir() if p.name.endswith(JOB_SUFFIX))


def claim(path: Path) -> Path | None:
    """Claim a job by atomic rename; None if another worker (or nobody) has it now."""
    target = path.with_name(path.name + ".claimed")
    try:
        path.rename(target)
    except FileNotFoundError:
        return None
    return target


@dataclass
class Worker:
    tree: Tree
    ledger: Ledger
    log: PlainLog
    done: int = 0
    last_result: Path | None = field(default=None)

    def tick(self, now: float) -> int:
        handled = 0
        for path in pending(self.tree):
            claimed = claim(path)
            if claimed is not None:
                self.process(now, claimed)
                handled += 1
        return handled

    def process(self, now: float, claimed: Path) -> None:
        job_id = claimed.name.removesuffix(CLAIM_SUFFIX)
        job = read_json(claimed)
        ok = isinstance(job, dict)
        if ok:
            self.account(now, job_id, job)
        result = {"job_id": job_id, "status": "ok" if ok else "error",
                  "created_at": job.get("created_at") if ok else None,
                  "completed_at": iso(now), "output": {"type": job.get("type") if ok else None}}
        self.last_result = self.tree.inbox / f"{job_id}.result.json"
        replace_json(self.last_result, result)
        claimed.unlink()
        self.done += 1
        self.log.info(now, "worker", f"job {job_id} done ({result['status']})")

    def account(self, now: float, job_id: str, job: dict[str, Any]) -> None:
        """Ledger events of one job: grant when short, approval for plans, then consume."""
        agent = job.get("agent_id") if isinstance(job.get("agent_id"), str) else AGENTS[0]
        cost = Decimal(str(job.get("cost", 0.25)))
        if self.ledger.balance(agent) < cost:
            self.ledger.append(now, "credit.granted", agent, f"{job_id}:grant", job_id,
                               delta=GRANT)
        if job.get("type") == "agent_plan":
            request = f"req-{job_id}"
            self.ledger.append(now, "approval.requested", agent, f"{job_id}:request", job_id,
                               request_id=request)
            self.ledger.append(now, "approval.approved", agent, f"{job_id}:decision", job_id,
                               request_id=request)
        self.ledger.append(now, "credit.consumed", agent, f"{job_id}:consume", job_id,
                           delta=-float(cost))
