"""A stand-in for `burnin run` in the demo tests: writes status.json, then exits with a code.

Usage: standin_daemon.py PIDFILE EXIT_CODE SECONDS (SECONDS < 0: run until killed).
"""

import json
import os
import sys
import time
from pathlib import Path

pidfile, code, seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
pidfile.write_text(str(os.getpid()))
status = Path("runtime/status.json")
began = time.monotonic()
while seconds < 0 or time.monotonic() - began < seconds:
    elapsed = time.monotonic() - began
    doc = {"schema": "burnin.status/1", "verdict": "RED",
           "window": {"id": "w-standin", "elapsed_s": elapsed * 864, "duration_s": 72 * 3600,
                      "phase": "running"},
           "checks": {"health": {"last_run": "now", "ok": True, "findings": 0}},
           "alerts": {"open": [{"code": "state.corrupt", "severity": "CRITICAL",
                                "subject": "runtime/system_state.json"}],
                      "counts": {"CRITICAL": 1, "HIGH": 0, "MEDIUM": 0, "INFO": 0}}}
    tmp = status.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc))
    os.replace(tmp, status)
    time.sleep(0.1)
sys.exit(code)
