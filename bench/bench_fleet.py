"""`burnin fleet` on a simulated fleet: a real Prometheus scraping N burnin exposition
endpoints (one small HTTP server on loopback serves all of them, one path per host), against
a 3-host system in the same Prometheus as the same-run baseline.

    python bench/bench_fleet.py                # fleets of 200 and 1000 hosts
    python bench/bench_fleet.py --quick        # 50 hosts
    python bench/bench_fleet.py --hosts 500

Measures the fleet query as the operator runs it (`burnin fleet --format json`, a fresh
process: start-up, six instant queries, the table) and in process (`ask` + `build`), and
Prometheus's own query time for the heaviest expression. Writes bench/results/fleet.md and
reassembles bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from daemon.fleet import ask, build, queries  # noqa: E402
from daemon.service.metrics import render  # noqa: E402

SCRAPE_S = 10


def status(system: str, host: str, i: int, now: float) -> dict[str, Any]:
    verdict = "RED" if i % 50 == 7 else "YELLOW" if i % 9 == 4 else "GREEN"
    iso = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
    return {
        "schema": "burnin.status/1", "seq": 1, "updated_at": iso, "version": "0.1.0",
        "system": system, "host": host, "verdict": verdict,
        "daemon": {"started_at": iso, "uptime_s": 100.0, "rss_bytes": 50e6, "cpu_percent": 1.0},
        "window": {"id": "w1", "started_at": iso, "ends_at": iso, "duration_s": 259200,
                   "elapsed_s": 3600.0 * (1 + i % 30), "time_scale": 1, "phase": "running",
                   "coverage": 1.0},
        "checks": {c: {"last_run": iso, "next_run": iso, "duration_ms": 5.0, "ok": True,
                       "findings": 0, "failures": 0}
                   for c in ("health", "position", "integrity", "jobs")},
        "alerts": {"open": [], "counts": {"CRITICAL": int(verdict == "RED"),
                                          "HIGH": int(verdict == "YELLOW"),
                                          "MEDIUM": 0, "INFO": 0}},
        "metrics": {"jobs": {"pending": 1, "claimed": 0, "done": 100, "failed": 0,
                             "latency_ms": {"p50": 10.0, "p95": 50.0, "p99": 90.0,
                                            "count": 100}},
                    "journal": {"events": 1000, "bytes": 100000},
                    "host": {"cpu_percent": 20.0, "memory_percent": 40.0, "disk_percent": 50.0}},
    }


def serve(bodies: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def prometheus(work: Path, address: str, paths: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("prometheus")
    if binary is None:
        raise SystemExit("prometheus not installed (Debian package `prometheus`)")
    groups = [{"targets": [address], "labels": {"__metrics_path__": p, "path": p}} for p in paths]
    (work / "targets.json").write_text(json.dumps(groups))
    (work / "prometheus.yml").write_text(
        f"global: {{scrape_interval: {SCRAPE_S}s}}\nscrape_configs:\n  - job_name: burnin\n"
        f"    file_sd_configs: [{{files: [{json.dumps(str(work / 'targets.json'))}]}}]\n")
    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, f"--config.file={work / 'prometheus.yml'}",
                             f"--storage.tsdb.path={work / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}"


def wait_scraped(url: str, expected: int, timeout_s: float = 120.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        try:
            r = httpx.get(url + "/api/v1/query", params={"query": "count(burnin_verdict_code)"})
            result = r.json()["data"]["result"]
            if result and int(float(result[0]["value"][1])) >= expected:
                return time.monotonic() - start
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise SystemExit(f"Prometheus did not scrape {expected} targets in {timeout_s:g}s")


def cli_ms(url: str, system: str) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "daemon", "fleet", "--prometheus", url,
                           "--system", system, "--format", "json"], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)
    ms = (time.perf_counter() - t0) * 1000
    return ms, done.returncode, len(json.loads(done.stdout)["hosts"])


def inproc_ms(url: str, system: str) -> float:
    t0 = time.perf_counter()
    results, now = ask(url, queries(system))
    build(results, now, 300.0)
    return (time.perf_counter() - t0) * 1000


def promql_ms(url: str, system: str) -> float:
    """Prometheus's own evaluation time for the heaviest query (its stats, not the wire)."""
    expr = queries(system)["alerts"]
    doc = httpx.get(url + "/api/v1/query", params={"query": expr, "stats": "all"}).json()
    return 1000 * float(doc["data"].get("stats", {}).get("timings", {}).get("evalTotalTime", 0))


def measure(url: str, systems: list[str], rounds: int) -> dict[str, dict[str, Any]]:
    """Interleaved rounds (each system once per round, after one warm-up) and medians."""
    for system in systems:
        cli_ms(url, system)
    raw: dict[str, dict[str, list[float]]] = {s: {"cli": [], "inproc": [], "promql": []}
                                              for s in systems}
    rows: dict[str, tuple[int, int]] = {}
    for _ in range(rounds):
        for system in systems:
            ms, code, n = cli_ms(url, system)
            raw[system]["cli"].append(ms)
            rows[system] = (code, n)
            for _ in range(4):
                raw[system]["inproc"].append(inproc_ms(url, system))
                raw[system]["promql"].append(promql_ms(url, system))
    return {s: {**{k: statistics.median(v) for k, v in raw[s].items()}, "code": rows[s][0],
                "rows": rows[s][1]} for s in systems}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--hosts", type=int, nargs="+", help="fleet sizes (default 200 1000)")
    args = parser.parse_args()
    sizes = [3, *(args.hosts or ([50] if args.quick else [200, 1000]))]
    now = time.time() + 3600  # fresh for the whole run: no host turns stale mid-bench
    bodies: dict[str, bytes] = {}
    for n in sizes:
        bodies |= {f"/s{n}/{i}": render(status(f"fleet{n}", f"host-{i:04d}", i, now))
                   for i in range(n)}
    series = sum(1 for line in bodies["/s3/0"].decode().splitlines()
                 if line and not line.startswith("#"))
    server = serve(bodies)
    address = f"127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        proc, url = prometheus(Path(tmp), address, sorted(bodies))
        try:
            ready_s = wait_scraped(url, sum(sizes))
            results = measure(url, [f"fleet{n}" for n in sizes], 1 if args.quick else 5)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            server.shutdown()
    write_results(sizes, series, ready_s, results, args)
    return 0


def write_results(sizes: list[int], series: int, ready_s: float,
                  r: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    flags = (" --quick" if args.quick else
             " --hosts " + " ".join(map(str, args.hosts)) if args.hosts else "")
    version = subprocess.run(["prometheus", "--version"], capture_output=True,
                             text=True).stdout.split("\n")[0]
    base = r["fleet3"]
    lines = [
        "## fleet — `burnin fleet` on a simulated fleet (issue 17)", "",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores (shared: other helpers "
        f"were loading it), Python {platform.python_version()}, {version}",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- command: `python bench/bench_fleet.py{flags}`",
        f"- input: one Prometheus scraping {sum(sizes)} burnin exposition endpoints every "
        f"{SCRAPE_S} s (one loopback HTTP server, one path per host; {series} series per "
        f"host), as systems of {', '.join(map(str, sizes))} hosts; the 3-host system is the "
        "same-run baseline. Medians of 5 interleaved rounds after a warm-up "
        "(in-process and PromQL figures: 20 each).",
        f"- all targets scraped {ready_s:.1f} s after Prometheus started", "",
        "| hosts | `burnin fleet --format json`, fresh process, ms | in process (6 queries + "
        "table), ms | × baseline | Prometheus eval, heaviest query, ms | rows | exit |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in sizes:
        x = r[f"fleet{n}"]
        lines.append(f"| {n} | {x['cli']:.0f} | {x['inproc']:.1f} | "
                     f"{x['inproc'] / base['inproc']:.2f} | {x['promql']:.2f} | {x['rows']} | "
                     f"{x['code']} |")
    lines += ["", "The fresh-process figure is dominated by Python start-up; the in-process "
              "one is six HTTP round trips to Prometheus plus the table. Exit 2: the "
              "simulated fleets hold RED hosts, as intended."]
    text = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "results" / "fleet.md"
    out.write_text(text)
    print(text)
    subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--assemble"], check=False)


if __name__ == "__main__":
    raise SystemExit(main())
