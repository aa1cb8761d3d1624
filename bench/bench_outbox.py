"""A full runtime disk (issue 18 item 2): does alerting outlive its disk?

The real `burnin run` (subprocess) with runtime/ on a 2 MiB tmpfs (root only) and logs/ on
another disk, a real webhook receiver on 127.0.0.1. Once status.json exists the tmpfs is
filled to the last byte by `dd` and the observed state file is corrupted (a CRITICAL); the
disk stays full until the window ends (40 h at time scale 3600: 40 s real). Counted: alert
records the receiver got while the disk was full, whether `daemon.runtime_unwritable` and
the verdict reached it, `alerts.commit_failed` log lines, the exit code.

    python bench/bench_outbox.py                 # burnin only
    python bench/bench_outbox.py --baseline REV  # also git revision REV, same machine, same run

Writes bench/results/outbox.md and reassembles bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path
from typing import ClassVar

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from bench.run import assemble  # noqa: E402
from bench.tree import seed_tree  # noqa: E402

RESULTS = REPO / "bench" / "results" / "outbox.md"
WINDOW, SCALE = "40h", 3600


class Recorder(http.server.BaseHTTPRequestHandler):
    docs: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        Recorder.docs.append(json.loads(body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass



def run_daemon(repo: Path, work: Path, url: str) -> dict:
    root, runtime, logs = seed_tree(work), work / "runtime", work / "logs"
    runtime.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(runtime)], check=True)
    try:
        cfg = work / "burnin.toml"
        cfg.write_text(f"[checks]\ndisabled = ['host']\n[window]\nend_drain = '10s'\n"
                       f"[daemon]\nruntime_dir = '{runtime}'\nlog_dir = '{logs}'\n"
                       f"[[alerts.webhook]]\nurl = '{url}'\nname = 'h'\n")
        proc = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", "--config", str(cfg), "--root", str(root),
             "--window", WINDOW, "--time-scale", str(SCALE)], cwd=work,
            env={**os.environ, "PYTHONPATH": str(repo)}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (runtime / "status.json").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        before = len(Recorder.docs)
        subprocess.run(["dd", "if=/dev/zero", f"of={runtime / 'filler'}", "bs=4k"],
                       capture_output=True)
        (root / "runtime/system_state.json").write_text('{"state": "RUNN')
        try:
            code = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = proc.wait()
        docs = Recorder.docs[before:]
        lines = (logs / "burnin.jsonl").read_text().splitlines() \
            if (logs / "burnin.jsonl").exists() else []
        alerts = [a for d in docs for a in d.get("alerts", [])]
        return {
            "exit": code,
            "alert_records": len(alerts),
            "codes": sorted({a["code"] for a in alerts}),
            "unwritable": any(a["code"] == "daemon.runtime_unwritable" for a in alerts),
            "verdict": next((d["verdict"] for d in docs if d.get("type") == "verdict"), None),
            "commit_failed": sum('"alerts.commit_failed"' in ln for ln in lines),
            "final_report": any(runtime.glob("reports/*/final.json")),
        }
    finally:
        subprocess.run(["umount", "-l", str(runtime)], capture_output=True)


def export(rev: str, into: Path) -> Path:
    data = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True,
                          capture_output=True).stdout
    into.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def row(name: str, r: dict) -> str:
    return (f"| {name} | {r['alert_records']} | {'yes' if r['unwritable'] else 'no'} "
            f"| {r['verdict'] or 'none'} | {r['exit']} | {r['commit_failed']} "
            f"| {'yes' if r['final_report'] else 'no'} |")


def report(args: argparse.Namespace, results: dict[str, dict], load: float) -> str:
    head = ("| run | alert records received while full | `daemon.runtime_unwritable` "
            "delivered | verdict delivered | exit | `alerts.commit_failed` lines "
            "| final report written |\n|---|---|---|---|---|---|---|")
    return "\n".join([
        "## outbox — a full runtime disk (issue 18 item 2)", "",
        f"- machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}",
        f"- date: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        "- command: `python bench/bench_outbox.py" +
        (f" --baseline {args.baseline}`" if args.baseline else "`"),
        f"- load: other helpers were using the machine (1-min load average {load:.1f} at the "
        "start)",
        f"- scenario: runtime/ on a 2 MiB tmpfs filled by `dd` right after start, then a "
        f"corrupt state file (CRITICAL); window {WINDOW} at time scale {SCALE} ends on the "
        "full disk; a webhook receiver on 127.0.0.1; logs/ on another disk", "",
        head, *(row(name, r) for name, r in results.items()), "",
        "Expected: the CRITICAL and `daemon.runtime_unwritable` delivered, the RED verdict "
        "delivered, exit 2 (RED), one `alerts.commit_failed` line; the final report cannot be "
        "written on the full disk (logged as `window.write_failed`). The alert records are "
        "the first notices and their repeats (at time scale 3600 a repeat is due every few "
        "real seconds), for `state.corrupt` and for `daemon.runtime_unwritable` (the "
        "runtime folder and the alert database). Exit 70 is the crash code.", ""])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--baseline", help="git revision measured the same way in the same run")
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    if os.geteuid() != 0:
        print("bench_outbox: needs root (tmpfs mount); skipped")
        return 0
    load = os.getloadavg()[0]
    base = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    results: dict[str, dict] = {}
    try:
        if args.baseline:
            repo = export(args.baseline, base / "baseline")
            results[f"baseline {args.baseline}"] = run_daemon(repo, base / "w-base", url)
            print("baseline", results[f"baseline {args.baseline}"], flush=True)
        results["burnin"] = run_daemon(REPO, base / "w", url)
        print("burnin", results["burnin"], flush=True)
    finally:
        server.shutdown()
        shutil.rmtree(base, ignore_errors=True)
    RESULTS.write_text(report(args, results, load))
    assemble()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
