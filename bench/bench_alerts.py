"""Alert delivery benchmark: detection -> delivery latency to a local webhook and SMTP server.

Detection is the moment `AlertEngine.observe` is called with a new CRITICAL finding; delivery
is the moment the receiving server has the request (webhook) or the DATA (SMTP). The path
measured is the real one: pure decision, SQLite commit (WAL, synchronous=FULL), worker wake-up,
channel send. Baseline, measured in the same run: the bare channel send (httpx POST, aiosmtplib
STARTTLS send) to the same servers, without the engine. Also: 1,000 findings at once.

    python bench/bench_alerts.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402

from daemon.alerts.engine import AlertEngine  # noqa: E402
from daemon.channels.base import Message  # noqa: E402
from daemon.channels.email import Email  # noqa: E402
from daemon.clock import SystemClock  # noqa: E402
from daemon.config import load_config  # noqa: E402
from daemon.model import finding  # noqa: E402
from tests.channels.servers import HookServer  # noqa: E402
from tests.channels.smtp import Certs, smtp_server  # noqa: E402

DATA = ROOT / "bench" / "data" / "alerts"
RESULTS = ROOT / "bench" / "results" / "alerts.md"
TARGET_MS = {"webhook": 200.0, "email": 500.0}


class NullLog:
    def __getattr__(self, name):
        return lambda *args, **kw: None


def config(run: str, alerts: dict, env: dict | None = None):
    base = DATA / run
    shutil.rmtree(base, ignore_errors=True)
    return load_config(None, env=env or {}, overrides={
        "daemon": {"runtime_dir": str(base / "runtime"), "log_dir": str(base / "logs")},
        "system": {"name": "bench"}, "alerts": alerts})


def stats(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"n": len(ms), "median": statistics.median(ms), "p95": p95, "max": ordered[-1]}


async def wait_for(cond, timeout_s: float = 30.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not cond():
            await asyncio.sleep(0.001)


async def engine_latency(cfg, n: int, arrivals) -> list[float]:
    """Latency (ms) of `n` new CRITICAL findings, one at a time, through the engine."""
    clock = SystemClock()
    eng = AlertEngine(cfg, clock, NullLog(), window_id="bench", host="bench")
    await eng.start()
    out = []
    try:
        for i in range(n):
            t0 = time.perf_counter()
            await eng.observe("bench", [finding("process.down", f"p{i}", "down")], clock.time())
            await wait_for(lambda i=i: len(arrivals()) > i)
            out.append((arrivals()[i] - t0) * 1000)
    finally:
        await eng.aclose()
    return out


async def bench_webhook(n: int) -> dict:
    async with HookServer() as srv:
        cfg = config("webhook", {"webhook": [{"url": srv.url, "name": "bench"}]})
        engine = await engine_latency(cfg, n, lambda: [r.at for r in srv.requests])
    async with HookServer() as srv, httpx.AsyncClient() as client:
        base = []
        for _ in range(n):
            t0 = time.perf_counter()
            await client.post(srv.url, content=b'{"alerts": []}')
            base.append((srv.requests[-1].at - t0) * 1000)
    return {"engine": stats(engine), "baseline": stats(base)}


async def bench_email(n: int) -> dict:
    certs = Certs(DATA)
    with smtp_server(certs, auth=False) as (port, sink):
        email = {"host": "127.0.0.1", "port": port, "to": ["ops@example.com"],
                 "ca_file": str(certs.ca_file)}
        engine = await engine_latency(config("email", {"email": email}), n,
                                      lambda: sink.arrivals)
        chan = Email(config("email-base", {"email": email}).alerts.email, SystemClock())
        base = []
        for i in range(n):
            start = len(sink.arrivals)
            t0 = time.perf_counter()
            await chan.send(Message(f"m{i}", "alerts", "bench", 0.0, [_record(i)]))
            await wait_for(lambda s=start: len(sink.arrivals) > s)
            base.append((sink.arrivals[-1] - t0) * 1000)
    return {"engine": stats(engine), "baseline": stats(base)}


def _record(i: int) -> dict:
    return {"fingerprint": str(i), "status": "firing", "code": "process.down",
            "severity": "CRITICAL", "subject": f"p{i}", "message": "down", "runbook": "",
            "first_seen": "", "last_seen": "", "evidence": {}}


async def bench_flood(n: int) -> dict:
    """`n` findings in one observe: messages per channel, time to deliver, memory growth."""
    proc = psutil.Process()
    async with HookServer() as srv:
        cfg = config("flood", {"webhook": [{"url": srv.url, "name": "bench"}]})
        clock = SystemClock()
        eng = AlertEngine(cfg, clock, NullLog(), window_id="bench", host="bench")
        await eng.start()
        rss0 = proc.memory_info().rss
        t0 = time.perf_counter()
        await eng.observe("bench", [finding("jobs.stale_claim", f"j{i}", "stale")
                                    for i in range(n)], clock.time())
        await wait_for(lambda: srv.requests and eng.pending() == 0, 120.0)
        took = (time.perf_counter() - t0) * 1000
        rss = (proc.memory_info().rss - rss0) / 2**20
        await eng.aclose()
    return {"findings": n, "webhook_requests": len(srv.requests), "ms": took, "rss_mb": rss}


def report(cmd: str, web: dict, mail: dict, flood: dict) -> str:
    lines = [
        "## alerts", "",
        f"- machine: {platform.node()} ({platform.machine()}, {psutil.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()})",
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- command: `{cmd}`", "",
        "Detection -> delivery latency (ms): `observe()` of a new CRITICAL until the local "
        "server holds the request/DATA. Baseline: the bare channel send to the same server.",
        "", "| path | n | median | p95 | max | target p95 | met |", "|---|---|---|---|---|---|---|",
    ]
    for name, res in (("webhook", web), ("email", mail)):
        for kind in ("engine", "baseline"):
            s = res[kind]
            target = f"<= {TARGET_MS[name]:.0f}" if kind == "engine" else "-"
            met = ("yes" if s["p95"] <= TARGET_MS[name] else "NO") if kind == "engine" else "-"
            lines.append(f"| {name} {kind} | {s['n']} | {s['median']:.1f} | {s['p95']:.1f} | "
                         f"{s['max']:.1f} | {target} | {met} |")
    lines += ["", f"Flood: {flood['findings']} findings in one run -> "
              f"{flood['webhook_requests']} webhook request(s), all delivered in "
              f"{flood['ms']:.0f} ms, RSS +{flood['rss_mb']:.1f} MiB.", ""]
    return "\n".join(lines)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sample sizes")
    args = ap.parse_args()
    n = 30 if args.quick else 300
    DATA.mkdir(parents=True, exist_ok=True)
    web = await bench_webhook(n)
    mail = await bench_email(n // 3)
    flood = await bench_flood(1000)
    cmd = "python bench/bench_alerts.py" + (" --quick" if args.quick else "")
    text = report(cmd, web, mail, flood)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    asyncio.run(main())
