"""Every finding code burnin can raise (SPEC §3), with its tier, kind and runbook.

This table is the single source of truth: notifications and reports show the runbook, and the
README's finding table is checked against it by a test.
"""

from __future__ import annotations

from dataclasses import dataclass

from daemon.severity import Kind, Severity

C, E = Kind.CONDITION, Kind.EVENT
CRIT, HIGH, MED, INFO = Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.INFO


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: str
    severity: Severity
    kind: Kind
    check: str
    runbook: str
    sampled: bool = False  # fires only after 2 consecutive runs of its check (debounce)
    real: bool = False  # a real measurement: judged on real samples (SPEC §4)

    @property
    def environmental(self) -> bool:
        """The machine burnin runs on, or burnin itself, not the system under test (SPEC §4):
        never escalated to CRITICAL, never a RED verdict on its own."""
        return self.code.startswith(ENVIRONMENTAL_PREFIXES)


ENVIRONMENTAL_PREFIXES = ("host.", "daemon.")
# Conditions on a real measurement (host CPU/memory/disk, process CPU, burnin's loop lag): they
# fire only after holding for `thresholds.sample_for_min` real seconds as well as their debounce
# runs, and their repeat and escalation clocks have real floors too (daemon/alerts/decide.py).
REAL_MEASUREMENTS = frozenset({
    "host.cpu_high", "host.memory_high", "host.disk_high", "process.cpu_high",
    "process.idle_cpu", "daemon.loop_lag",
})


_ROWS: list[tuple[str, Severity, Kind, str, bool, str]] = [
    ("jobs.stale_claim", HIGH, C, "jobs", False,
     "A job has been claimed for longer than jobs.stale_claim_after without a result: the worker "
     "holding it probably died or hung. Look at the claim file (its claimed_at/pid), the worker's "
     "log and process list. Resolve by restarting the worker or re-queueing the job; the alert "
     "resolves when the claim file disappears. A claim naming a pid that no longer exists may "
     "fire before the age limit."),
    ("jobs.stale_claims_excessive", CRIT, E, "jobs", False,
     "Five or more distinct claims went stale in this window: job processing is systematically "
     "unreliable (seed 003 red light). Check worker crashes, lock contention and the claim/rename "
     "protocol before going live."),
    ("jobs.duplicate_processing", CRIT, E, "jobs", False,
     "A job was processed more than once: two results for one id, a result rewritten after "
     "completion, or a job re-queued after its result existed. Compare the result files and the "
     "ledger events for that job id; fix the claim protocol (atomic rename) before going live."),
    ("jobs.pending_too_long", MED, C, "jobs", False,
     "A job has waited unclaimed longer than jobs.pending_after. Check that a worker is running "
     "and watching the pending folder, and whether the queue is backing up."),
    ("jobs.latency", HIGH, C, "position", True,
     "Job-to-result p95 latency over the last hour exceeds 500 ms (HIGH) or 1000 ms (CRITICAL). "
     "Look at worker CPU, lock timeouts and slow downstream calls; see metrics.jobs.latency_ms."),
    ("jobs.failed_notifications", HIGH, C, "position", True,
     "Failed notifications exceed 0.1 % (HIGH) or 1 % (CRITICAL) of results. Inspect "
     "data/failed_reports/*.failed_notify.txt and the reachability of the core API."),
    ("jobs.unreadable_file", MED, E, "jobs", False,
     "A job or result file still does not parse after the settle delay. Open the file named in "
     "the subject; a writer may not write atomically (write to a temp file, then rename)."),
    ("journal.corrupt_line", CRIT, E, "position", False,
     "A complete journal line is not a JSON object (bad JSON, invalid UTF-8, NUL bytes from a "
     "crash). The ledger history is damaged at the line and byte offset in the evidence. Stop, "
     "restore from backup or repair the line, and find the writer that produced it."),
    ("journal.torn_tail", HIGH, C, "position", False,
     "The journal ends with an unterminated line that has not changed for longer than "
     "journal.torn_tail_grace: a writer crashed mid-append. Check the writer; the line is ignored "
     "until it is completed or repaired."),
    ("journal.rewritten", CRIT, E, "integrity", False,
     "The journal shrank or bytes already verified changed: the append-only history was "
     "rewritten. Compare with a backup; find who truncated or edited the file. burnin re-reads "
     "the journal from the start."),
    ("journal.duplicate_key", CRIT, E, "position", False,
     "An idempotency key appears twice: an event was applied twice (balances count it twice). "
     "Find both lines (evidence), check the writer's idempotency guard."),
    ("journal.sequence_gap", HIGH, E, "position", False,
     "The sequence field did not advance by exactly 1: an event is missing, duplicated or out of "
     "order. Compare the lines around the offset in the evidence."),
    ("journal.missing_correlation_id", MED, C, "position", False,
     "Events without a correlation id cannot be traced to their request. The evidence has the "
     "count; fix the writer that omits the field."),
    ("journal.oversized_line", HIGH, E, "position", False,
     "A journal line is longer than journal.max_line_bytes; it was skipped. Inspect the writer; "
     "raise the limit only if such events are legitimate."),
    ("journal.invalid_field", HIGH, E, "position", False,
     "A journal event has a field burnin reads with the wrong type: a delta that is neither a "
     "finite JSON number nor a string holding a finite decimal (`\"10.50\"` is fine; "
     "`\"5 EUR\"` or `\"NaN\"` are not), an account or idempotency key that is not a string or "
     "integer, a non-integer sequence. The event counts but its balance change is not applied. "
     "Fix the writer; compare with the system's own projection."),
    ("journal.replay_mismatch", CRIT, E, "integrity", False,
     "The hourly full replay disagrees with the incremental state built every 10 minutes: the "
     "history changed under burnin or burnin lost track. The evidence lists the accounts and "
     "figures; the full replay is taken as the truth."),
    ("ledger.negative_balance", CRIT, C, "position", False,
     "An account's replayed balance is below zero (credits spent that were never granted). Trace "
     "the account's events; set ledger.allow_negative only if overdrafts are by design."),
    ("ledger.non_finite", CRIT, E, "position", False,
     "A delta or balance is NaN or Infinity; the event was not applied. Find the writer that "
     "produced it (line and offset in the evidence)."),
    ("ledger.drift", CRIT, C, "position", False,
     "The system's own balance snapshot differs from burnin's exact replay beyond "
     "ledger.drift_tolerance. The projection is out of sync with the journal: rebuild it and "
     "find the missed or double-applied event."),
    ("ledger.snapshot_corrupt", HIGH, C, "position", False,
     "The ledger snapshot file exists but is not a JSON object of balances, so it cannot be "
     "reconciled. Check the snapshot writer (atomic replace)."),
    ("ledger.approval_race", CRIT, E, "integrity", False,
     "One approval request received more than one final decision (approved and rejected, or "
     "twice): a race in the approval path. Inspect the request id's events."),
    ("ledger.orphan_decision", HIGH, E, "integrity", False,
     "A final approval decision names a request that was never requested. Check for a lost "
     "approval.requested event or a forged decision."),
    ("state.corrupt", CRIT, C, "health", False,
     "The state file is not a JSON object (torn write, empty, garbage). The system may not know "
     "its own state; check its writer uses write-temp-then-rename and restore the file."),
    ("state.unknown", HIGH, C, "health", False,
     "The state file names a state that is not in state.states. Check for a new state the "
     "config does not list, or a bad write."),
    ("state.mismatch", HIGH, C, "health", False,
     "The state file disagrees with the last transition's to_state: a transition was logged "
     "but not applied, or the reverse. Compare both files."),
    ("transitions.corrupt_line", CRIT, E, "integrity", False,
     "A complete line of the transitions log is not a JSON object. Inspect it at the line and "
     "offset in the evidence; the log writer is not appending atomically."),
    ("transitions.duplicate_id", CRIT, E, "integrity", False,
     "A transition id appears twice: a transition was recorded twice. Compare both lines."),
    ("transitions.discontinuity", MED, E, "integrity", False,
     "A transition starts from a state that is not the previous transition's to_state: a "
     "transition is missing from the log."),
    ("locks.timeout_rate", HIGH, C, "health", True,
     "Lock-timeout log lines are >= 1 % (HIGH) or > 5 % (CRITICAL) of state transitions (seed "
     "003). Look for contention on the state file lock and slow holders."),
    ("process.down", CRIT, C, "health", False,
     "A watched process is not running (pidfile stale or no matching command line). Start it "
     "and read its last log lines for the cause of death."),
    ("process.restarted", HIGH, E, "health", False,
     "A watched process's pid or start time changed: it crashed or was restarted. Read its log "
     "around the time in the evidence."),
    ("process.memory_growth", HIGH, C, "health", True,
     "The process's RSS grows by more than 0.1 (HIGH) or 1.0 (CRITICAL) MB per minute over at "
     "least 30 minutes: a likely leak. Take a heap profile; compare with the load."),
    ("process.cpu_high", MED, C, "health", True,
     "A watched process used more than 80 % CPU over 5 samples. Check for busy loops or load."),
    ("process.idle_cpu", MED, C, "health", True,
     "A watched process burns CPU above idle_cpu_max while no job is pending or claimed (seed "
     "003: idle worker < 2 %). Look for polling loops."),
    ("host.cpu_high", MED, C, "health", True,
     "Host CPU above 80 % (MEDIUM) or 95 % (HIGH), held for thresholds.sample_for_min (30 s "
     "real). Find the top consumers; the burn-in's figures are unreliable on a saturated host. "
     "Environmental: never CRITICAL, never decides the verdict; the report states the share of "
     "the window the host was saturated (YELLOW from thresholds.environment_yellow_share)."),
    ("host.memory_high", MED, C, "health", True,
     "Host memory above 80 % (MEDIUM) or 95 % (HIGH). Find the top consumers before the OOM "
     "killer does."),
    ("host.disk_high", MED, C, "health", True,
     "A disk holding the observed tree or burnin's runtime is above 80 % (MEDIUM) or 95 % "
     "(HIGH) full. Free space or rotate logs; a full disk corrupts appends."),
    ("heartbeat.stale", HIGH, C, "health", False,
     "The heartbeat file has not been touched within its max_age: the process that beats it is "
     "hung or dead. Check it and its log."),
    ("logs.error_rate", MED, C, "health", True,
     "More ERROR lines per hour than logs.max_errors_per_hour. Read the log for the dominant "
     "error."),
    ("source.unavailable", HIGH, C, "health", False,
     "A configured file or folder is missing or unreadable, so burnin cannot observe it. Check "
     "the path, permissions and the config; the alert resolves when it is back."),
    ("daemon.check_overrun", HIGH, E, "health", False,
     "A check raised, ran past its timeout or missed its slot: burnin's view is incomplete for "
     "that period. Read logs/burnin.jsonl for the error; check host load."),
    ("daemon.delivery_failing", HIGH, C, "health", False,
     "A notification channel failed its last 3 attempts; alerts are queued in the durable "
     "outbox and will be delivered when it recovers. Check the SMTP server / webhook endpoint. "
     "burnin's own trouble: never CRITICAL, never counted against the system under test."),
    ("daemon.endpoint_disabled", HIGH, C, "health", False,
     "A webhook answered 410 Gone and was disabled. Fix or remove the endpoint in the config "
     "and reload (SIGHUP)."),
    ("daemon.runtime_unwritable", HIGH, C, "health", True,
     "burnin cannot write its own runtime folder (window state, time series, reports) or its "
     "log folder (logs/burnin.jsonl): the disk is full, read-only or failing. Checks and alerts "
     "go on; the window's coverage, reports and log may be incomplete until it is fixed. Free "
     "space or fix permissions."),
    ("daemon.loop_lag", MED, C, "health", True,
     "burnin's event loop was blocked for more than 100 ms: a check is doing heavy work on the "
     "loop, or the host is starved. See metrics.daemon.loop_lag_ms."),
]

CATALOG: dict[str, CodeInfo] = {
    code: CodeInfo(code, sev, kind, check, runbook, sampled, code in REAL_MEASUREMENTS)
    for code, sev, kind, check, sampled, runbook in _ROWS
}


def runbook(code: str) -> str:
    """The runbook paragraph for `code` (empty for an unknown code)."""
    info = CATALOG.get(code)
    return info.runbook if info else ""


def markdown_table() -> str:
    """The README's finding table: one row per code, generated from this catalog."""
    rows = ["| code | severity | kind | check | runbook |", "|---|---|---|---|---|"]
    for info in CATALOG.values():
        text = info.runbook.replace("|", "\\|")
        rows.append(f"| `{info.code}` | {info.severity.name} | {info.kind.value} | "
                    f"{info.check} | {text} |")
    return "\n".join(rows)
