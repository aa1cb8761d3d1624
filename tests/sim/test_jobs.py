"""daemon/sim/jobs.py: the producer and worker of the reference system."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from pathlib import Path

from daemon.sim.jobs import GRANT, Producer, Worker, claim, pending
from daemon.sim.layout import Tree
from daemon.sim.ledger import Ledger
from daemon.sim.plainlog import PlainLog


def _tree(tmp_path: Path) -> Tree:
    return Tree(tmp_path / "tree").create()


def test_producer_submits_on_its_fixed_gap(tmp_path: Path) -> None:
    """In load mode a job is due every `gap` nominal seconds."""
    tree = _tree(tmp_path)
    producer = Producer(tree, random.Random(0), "job", gap_nominal_s=10.0)
    producer.tick(0.0, 0.0)
    made = producer.tick(0.0, 35.0)
    assert made == 3 and pending(tree)[0].name == "job-000001.job.json"


def test_a_job_is_claimed_once(tmp_path: Path) -> None:
    """Claiming renames the job; a second claim of the same file gets nothing."""
    tree = _tree(tmp_path)
    job = tree.outbox / "j.job.json"
    job.write_text("{}")
    first = claim(job)
    assert first is not None and first.name == "j.job.json.claimed" and claim(job) is None


def test_worker_writes_the_result_and_drops_the_claim(tmp_path: Path) -> None:
    """A processed job leaves a result naming it, no claim, and one log line."""
    tree = _tree(tmp_path)
    Producer(tree, random.Random(0), "job").submit(0.0)
    worker = Worker(tree, Ledger(tree.journal), PlainLog(tree.worker_log))
    assert worker.tick(1.0) == 1
    result = json.loads((tree.inbox / "job-000001.result.json").read_text())
    assert result["job_id"] == "job-000001" and result["status"] == "ok"
    assert list(tree.outbox.iterdir()) == []
    assert "job job-000001 done (ok)" in tree.worker_log.read_text()


def test_worker_grants_credit_before_consuming(tmp_path: Path) -> None:
    """An agent without credit is granted GRANT, then charged the job's cost."""
    tree = _tree(tmp_path)
    (tree.outbox / "x.job.json").write_text(json.dumps(
        {"type": "read_file", "agent_id": "agent-2", "cost": 1.5}))
    ledger = Ledger(tree.journal)
    Worker(tree, ledger, PlainLog(tree.worker_log)).tick(1.0)
    assert ledger.balance("agent-2") == Decimal(str(GRANT)) - Decimal("1.5")


def test_unreadable_job_gives_an_error_result(tmp_path: Path) -> None:
    """A job file that is not a JSON object still gets a result, with status error."""
    tree = _tree(tmp_path)
    (tree.outbox / "bad.job.json").write_text("[1, 2]")
    Worker(tree, Ledger(tree.journal), PlainLog(tree.worker_log)).tick(1.0)
    assert json.loads((tree.inbox / "bad.result.json").read_text())["status"] == "error"
