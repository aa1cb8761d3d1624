"""A status.json document as SPEC §6 describes it, shared by the service tests."""

from __future__ import annotations

from typing import Any

NOW = 1_768_298_400.0  # 2026-01-13T10:00:00Z


def sample_status() -> dict[str, Any]:
    alert = {"schema": "burnin.alert/1", "fingerprint": "f1", "status": "firing",
             "code": "jobs.stale_claim", "severity": "HIGH", "kind": "condition",
             "subject": "data/webrelay_out/abc.claimed", "message": "claim older than 5m",
             "first_seen": "2026-01-13T09:40:00Z", "last_seen": "2026-01-13T10:00:00Z"}
    return {
        "schema": "burnin.status/1", "seq": 12, "updated_at": "2026-01-13T09:59:58Z",
        "pid": 4242, "version": "0.1.0",
        "daemon": {"started_at": "2026-01-13T09:00:00Z", "uptime_s": 3600,
                   "rss_bytes": 52_428_800, "cpu_percent": 3.5},
        "window": {"id": "w-20260113", "started_at": "2026-01-13T09:00:00Z",
                   "ends_at": "2026-01-16T09:00:00Z", "duration_s": 259200,
                   "elapsed_s": 3600, "time_scale": 1, "phase": "running"},
        "verdict": "YELLOW",
        "checks": {
            "health": {"last_run": "2026-01-13T09:59:30Z", "next_run": "2026-01-13T10:00:30Z",
                       "duration_ms": 12.5, "ok": True, "findings": 1},
            "position": {"last_run": "2026-01-13T09:50:00Z",
                         "next_run": "2026-01-13T10:00:00Z", "duration_ms": 240.0,
                         "ok": False, "findings": 0, "failures": 2},
        },
        "alerts": {"open": [alert, {**alert, "fingerprint": "f2", "subject": "x.claimed"},
                            {**alert, "code": "host.cpu_high", "severity": "MEDIUM",
                             "subject": "host", "fingerprint": "f3"}],
                   "counts": {"CRITICAL": 0, "HIGH": 2, "MEDIUM": 1, "INFO": 0}},
        "metrics": {
            "jobs": {"pending": 3, "claimed": 1, "done": 120, "failed": 2,
                     "latency_ms": {"p50": 120.0, "p95": 480.0, "p99": 900.0, "count": 120},
                     "latency_samples_ms": [10, 200, 600, 1500]},
            "journal": {"events": 1000, "bytes": 123456},
            "processes": {"worker": {"rss_bytes": 104_857_600, "cpu_percent": 12.0,
                                     "running": True}},
            "host": {"cpu_percent": 22.0, "memory_percent": 50.0, "disk_percent": 70.0},
            "locks": {"timeout_rate": 0.002},
        },
    }
