"""Minimal alert engine of the spine: open/resolve by fingerprint, alert log only.

Replaced by the full engine (decide/outbox/channels); the interface below is the contract.
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from daemon.catalog import runbook
from daemon.clock import Clock, iso
from daemon.config import Config
from daemon.model import Finding, Kind, Severity


def fingerprint(code: str, subject: str) -> str:
    return hashlib.sha256(f"{code}|{subject}".encode()).hexdigest()[:16]


class AlertEngine:
    def __init__(self, cfg: Config, clock: Clock, log: Any, *, window_id: str, host: str) -> None:
        self.cfg, self.clock, self.log = cfg, clock, log
        self.window_id, self.host = window_id, host
        self._open: dict[str, dict[str, Any]] = {}
        self._owner: dict[str, str] = {}
        self._fired: list[dict[str, Any]] = []

    async def start(self) -> None:
        self.cfg.log_dir.mkdir(parents=True, exist_ok=True)

    async def observe(self, rule: str, findings: list[Finding], now: float) -> None:
        seen = set()
        for f in findings:
            fp = fingerprint(f.code, f.subject)
            seen.add(fp)
            if fp in self._open and f.kind is Kind.CONDITION:
                self._open[fp]["last_seen"] = iso(now)
                continue
            record = self._record(f, fp, now)
            self._fired.append(record)
            self._write(record)
            if f.kind is Kind.CONDITION:
                self._open[fp] = record
                self._owner[fp] = rule
        for fp in [fp for fp, owner in self._owner.items() if owner == rule and fp not in seen]:
            record = self._open.pop(fp)
            del self._owner[fp]
            record.update(status="resolved", resolved_at=iso(now))
            self._write(record)

    def _record(self, f: Finding, fp: str, now: float) -> dict[str, Any]:
        return {
            "schema": "burnin.alert/1", "fingerprint": fp, "status": "firing",
            "code": f.code, "severity": f.severity.name, "kind": f.kind.value,
            "subject": f.subject, "message": f.message, "runbook": runbook(f.code),
            "first_seen": iso(now), "last_seen": iso(now), "resolved_at": None,
            "escalated_from": None, "system": self.cfg.system.name, "host": self.host,
            "window_id": self.window_id, "evidence": dict(f.evidence),
        }

    def _write(self, record: dict[str, Any]) -> None:
        with open(self.cfg.log_dir / "alerts.jsonl", "ab") as fh:
            fh.write(orjson.dumps(record, default=str) + b"\n")

    async def tick(self, now: float) -> None:
        return None

    def open_alerts(self) -> list[dict[str, Any]]:
        return sorted(self._open.values(), key=lambda r: -Severity[r["severity"]])

    def counts(self) -> dict[str, int]:
        out = {s.name: 0 for s in Severity}
        for record in self._open.values():
            out[record["severity"]] += 1
        return out

    def fired(self) -> list[dict[str, Any]]:
        return [dict(r, silenced=False, silenced_before_fire=False, acked=False)
                for r in self._fired]

    def set_window(self, window_id: str) -> None:
        self.window_id = window_id

    async def notify_verdict(self, summary: dict[str, Any]) -> None:
        self._write({"schema": "burnin.verdict/1", **summary})

    async def aclose(self, timeout_s: float = 3.0) -> None:
        return None
