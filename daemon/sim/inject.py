"""One injector per fault of the plan: each makes exactly the artefact its SPEC code detects.

An injector gets the running system, the fault (with its params) and `now`; a lasting fault
registers its undo with `system.hold(until, undo)`; a fault that kills the worker raises
`Crash`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal

from daemon.clock import iso
from daemon.sim.faults import Crash, Fault, hold_real_s
from daemon.sim.files import append_line, json_objects, read_json, replace_json
from daemon.sim.jobs import claim
from daemon.sim.statemachine import GAP_NOMINAL_S
from daemon.sim.system import System

OVERDRAFT_ACCOUNT = "agent-overdraft"
DRIFT_ACCOUNT = "agent-1"
LOCK_LINE = "Lock timeout acquiring runtime/system_state.json.lock after 5.0s"

Injector = Callable[[System, Fault, float], None]


def duplicate_result(system: System, fault: Fault, now: float) -> None:
    """A second result file for a job that already has one (same `job_id` field)."""
    first = system.worker.last_result
    if first is None or not first.exists():
        system.producer.submit(now)
        system.worker.tick(now)
        first = system.worker.last_result
    assert first is not None
    result = read_json(first)
    job_id = result["job_id"] if isinstance(result, dict) else first.name
    replace_json(first.with_name(f"{job_id}-retry.result.json"),
                 {**(result or {}), "job_id": job_id, "completed_at": iso(now)})


def corrupt_journal_line(system: System, fault: Fault, now: float) -> None:
    """A complete journal line that is not JSON (a write cut short, then a newline)."""
    append_line(system.tree.journal,
                b'{"event_type": "credit.consumed", "agent_id": "agent-2", "delta": -0.5, "idem')


def duplicate_idempotency_key(system: System, fault: Fault, now: float) -> None:
    """The same grant appended twice with one idempotency key (applied twice)."""
    key = f"fault-{system.opts.incarnation}-{now:.3f}:grant"
    for _ in range(2):
        system.ledger.append(now, "credit.granted", "agent-3", key, "fault-dup", delta=2.5)


def negative_balance(system: System, fault: Fault, now: float) -> None:
    """An account spends credits it was never granted; repaid when the hold ends."""
    ledger = system.ledger
    stamp = f"{system.opts.incarnation}-{now:.3f}"
    ledger.append(now, "credit.consumed", OVERDRAFT_ACCOUNT, f"overdraft-{stamp}:consume",
                  "fault-overdraft", delta=-5.0)

    def repay() -> None:
        ledger.append(now, "credit.granted", OVERDRAFT_ACCOUNT, f"overdraft-{stamp}:repay",
                      "fault-overdraft", delta=5.0)

    system.hold(now + hold_real_s(fault, system.opts.scale), repay)


def snapshot_drift(system: System, fault: Fault, now: float) -> None:
    """The system's own snapshot disagrees with its journal for a while."""
    system.drift[DRIFT_ACCOUNT] = Decimal(str(fault.params.get("amount", 7.5)))
    system.hold(now + hold_real_s(fault, system.opts.scale),
                lambda: system.drift.pop(DRIFT_ACCOUNT, None))


def torn_state_file(system: System, fault: Fault, now: float) -> None:
    """The state file is left half-written (no temp + rename) until the hold ends."""
    until = now + hold_real_s(fault, system.opts.scale)
    system.machine.paused_until = until
    system.tree.state.write_bytes(b'{"state": "OPERAT')
    system.hold(until, system.machine.write_state)


def duplicate_transition_id(system: System, fault: Fault, now: float) -> None:
    """A normal, continuous transition logged under the previous transition's id."""
    machine = system.machine
    if not machine.last_id:
        machine.transition(now, "OPERATIONAL" if machine.state != "OPERATIONAL" else "DEGRADED")
    target = "OPERATIONAL" if machine.state != "OPERATIONAL" else "DEGRADED"
    machine.transition(now, target, transition_id=machine.last_id)


def lock_timeout_burst(system: System, fault: Fault, now: float) -> None:
    """WARNING "Lock timeout" lines: `fraction` of the transitions of the whole window.

    So the rate stays above 5 % whether it is taken over the last hour or the whole run.
    """
    so_far = sum(1 for _ in json_objects(system.tree.transitions))
    in_window = max(so_far, system.opts.window_s / (sum(GAP_NOMINAL_S) / 2))
    lines = max(int(fault.params.get("min_lines", 5)),
                math.ceil(fault.params.get("fraction", 0.1) * in_window))
    for _ in range(lines):
        system.log.warning(now, "state", LOCK_LINE)


def memory_growth(system: System, fault: Fault, now: float) -> None:
    """The worker's RSS grows at `mb_per_real_min` for the hold, capped at `max_mb`."""
    system.memory.begin(now, now + hold_real_s(fault, system.opts.scale),
                        fault.params.get("mb_per_real_min", 60.0),
                        fault.params.get("max_mb", 120.0))


def stale_claim(system: System, fault: Fault, now: float) -> None:
    """The worker claims a job and dies holding it; the claim is never completed."""
    job_id = system.producer.submit(now)
    claimed = claim(system.tree.outbox / f"{job_id}.job.json")
    system.log.warning(now, "worker", f"claimed {job_id}; worker killed while processing")
    assert claimed is not None
    raise Crash(fault.params.get("down_real_s", 1.0))


def crash_restart(system: System, fault: Fault, now: float) -> None:
    """The worker process dies; the supervisor starts a new one after `down_real_s`."""
    system.log.warning(now, "worker", "worker process killed (simulated crash)")
    raise Crash(fault.params.get("down_real_s", 4.0))



INJECTORS: dict[str, Injector] = {
    "duplicate_result": duplicate_result,
    "corrupt_journal_line": corrupt_journal_line,
    "duplicate_idempotency_key": duplicate_idempotency_key,
    "negative_balance": negative_balance,
    "snapshot_drift": snapshot_drift,
    "torn_state_file": torn_state_file,
    "duplicate_transition_id": duplicate_transition_id,
    "lock_timeout_burst": lock_timeout_burst,
    "memory_growth": memory_growth,
    "stale_claim": stale_claim,
    "crash_restart": crash_restart,
}


def inject(system: System, fault: Fault, now: float) -> None:
    INJECTORS[fault.name](system, fault, now)
