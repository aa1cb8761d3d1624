"""Benchmark of the service area: metrics exposition, status view frame, loopback scrape.

Baseline (same run): parsing the same status.json with orjson, the least any consumer of the
file pays. Targets: a metrics render under 50 ms and a status frame under 200 ms with 1000
open alerts (status.json is rewritten after every check; `watch` refreshes every 2 s), and a
loopback scrape under 50 ms.

    python bench/bench_service.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import orjson  # noqa: E402
from rich.console import Console  # noqa: E402

from daemon.config import MetricsCfg  # noqa: E402
from daemon.service import metrics, statusview  # noqa: E402
from tests.service.sample_status import NOW, sample_status  # noqa: E402

TARGETS_MS = {"metrics.render": 50.0, "statusview.render": 200.0, "scrape": 50.0}


def big_status(alerts: int, processes: int) -> dict[str, Any]:
    status = sample_status()
    base = status["alerts"]["open"][0]
    codes = ["jobs.stale_claim", "host.cpu_high", "ledger.drift", "process.down", "logs.error_rate"]
    status["alerts"]["open"] = [
        {**base, "code": codes[i % 5], "severity": ["HIGH", "MEDIUM", "CRITICAL"][i % 3],
         "subject": f"data/webrelay_out/job-{i}.claimed", "fingerprint": f"f{i}"}
        for i in range(alerts)]
    status["metrics"]["processes"] = {f"worker-{i}": {"rss_bytes": 1e8 + i, "cpu_percent": 1.0,
                                                      "running": True} for i in range(processes)}
    status["metrics"]["jobs"]["latency_samples_ms"] = [float(i % 1500) for i in range(5000)]
    return status


def timed(fn: Any, repeat: int) -> float:
    """Median milliseconds of `repeat` calls."""
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(runs)


async def scrape_ms(status: dict[str, Any], repeat: int) -> float:
    exporter = metrics.MetricsExporter(MetricsCfg(listen="127.0.0.1:0"))
    await exporter.start()
    exporter.update(status)
    runs = []
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(repeat):
                t0 = time.perf_counter()
                (await client.get(f"http://127.0.0.1:{exporter.port}/metrics")).raise_for_status()
                runs.append((time.perf_counter() - t0) * 1000)
    finally:
        await exporter.aclose()
    return statistics.median(runs)


def frame(status: dict[str, Any]) -> None:
    console = Console(file=io.StringIO(), width=160, color_system=None)
    console.print(statusview.render(status, now=NOW))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    alerts, procs, repeat = (100, 5, 10) if args.quick else (1000, 50, 30)
    status = big_status(alerts, procs)
    raw = orjson.dumps(status)
    results = {
        "baseline orjson.loads": timed(lambda: orjson.loads(raw), repeat),
        "metrics.render": timed(lambda: metrics.render(status), repeat),
        "statusview.render": timed(lambda: frame(status), repeat),
        "scrape": asyncio.run(scrape_ms(status, repeat)),
    }
    write_results(results, alerts, procs, len(raw), args.quick)
    return 0 if all(results[k] <= v for k, v in TARGETS_MS.items()) else 1


def write_results(results: dict[str, float], alerts: int, procs: int, size: int,
                  quick: bool) -> None:
    base = results["baseline orjson.loads"]
    lines = [
        "## service", "",
        f"- machine: {platform.node()}, {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- command: `python bench/bench_service.py{' --quick' if quick else ''}`",
        f"- input: status.json of {size} bytes, {alerts} open alerts, {procs} processes, "
        "5000 latency samples", "",
        "| measure (median) | ms | × baseline | target ms | met |",
        "|---|---:|---:|---:|---|",
    ]
    for name, ms in results.items():
        target = TARGETS_MS.get(name)
        met = "-" if target is None else ("yes" if ms <= target else "NO")
        lines.append(f"| {name} | {ms:.2f} | {ms / base:.1f} | {target or '-'} | {met} |")
    text = "\n".join(lines) + "\n"
    out = ROOT / "bench" / "results" / "service.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)


if __name__ == "__main__":
    raise SystemExit(main())
