"""Prometheus exposition of status.json, checked by the real promtool, and the exporter."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from daemon.config import MetricsCfg
from daemon.errors import ConfigError
from daemon.service.metrics import MetricsExporter, parse_listen, render
from tests.conftest import require_binary
from tests.service.sample_status import sample_status


def _samples(body: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _promtool(body: bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run([require_binary("promtool"), "check", "metrics"],
                          input=body.decode(), capture_output=True, text=True, timeout=30)


def test_promtool_accepts_a_full_status() -> None:
    """promtool check metrics accepts the exposition of a full status document."""
    result = _promtool(render(sample_status()))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("status", [None, {}, {"checks": "x", "alerts": {"open": [1, None]},
                                               "metrics": {"jobs": [], "host": {"9 x%": 1}}}])
def test_promtool_accepts_partial_or_garbled_status(status: Any) -> None:
    """Missing, empty or ill-typed status documents still render valid exposition."""
    result = _promtool(render(status))
    assert result.returncode == 0, result.stdout + result.stderr


def test_findings_are_counted_by_code_and_severity() -> None:
    """Open alerts are counted per code and severity."""
    s = _samples(render(sample_status()))
    assert s[("burnin_findings_open", (("code", "jobs.stale_claim"), ("severity", "HIGH")))] == 2
    assert s[("burnin_alerts_open", (("severity", "MEDIUM"),))] == 1


def test_check_durations_and_failures_are_exposed() -> None:
    """Each check exposes its duration in seconds, success and failure counter."""
    s = _samples(render(sample_status()))
    assert s[("burnin_check_duration_seconds", (("check", "health"),))] == 0.0125
    assert s[("burnin_check_success", (("check", "position"),))] == 0
    assert s[("burnin_check_failures_total", (("check", "position"),))] == 2


def test_window_and_verdict_are_exposed() -> None:
    """Window elapsed time and the verdict (state set and code) are exposed."""
    s = _samples(render(sample_status()))
    assert s[("burnin_window_elapsed_seconds", ())] == 3600
    assert s[("burnin_verdict", (("verdict", "YELLOW"),))] == 1
    assert s[("burnin_verdict", (("verdict", "GREEN"),))] == 0
    assert s[("burnin_verdict_code", ())] == 1


def test_queue_latency_journal_and_processes_are_exposed() -> None:
    """Queue depth, latency quantiles and histogram, journal and process figures appear."""
    s = _samples(render(sample_status()))
    assert s[("burnin_jobs", (("state", "pending"),))] == 3
    assert s[("burnin_job_latency_seconds", (("quantile", "0.95"),))] == 0.48
    assert s[("burnin_job_latency_window_seconds_bucket", (("le", "0.5"),))] == 2
    assert s[("burnin_journal_bytes", ())] == 123456
    assert s[("burnin_process_resident_memory_bytes", (("process", "worker"),))] == 104_857_600
    assert s[("burnin_process_cpu_ratio", (("process", "worker"),))] == 0.12
    assert s[("burnin_daemon_resident_memory_bytes", ())] == 52_428_800


def test_unknown_metric_groups_are_exposed_generically() -> None:
    """Figures under other metrics groups show up as burnin_metric{group,key}."""
    s = _samples(render(sample_status()))
    assert s[("burnin_metric", (("group", "locks"), ("key", "timeout_rate")))] == 0.002


def test_missing_status_says_unavailable() -> None:
    """render(None) exposes only burnin_status_available 0."""
    assert _samples(render(None)) == {("burnin_status_available", ()): 0}


@pytest.mark.parametrize(
    ("text", "allow_remote", "expected"),
    [("127.0.0.1:9464", False, ("127.0.0.1", 9464)), ("[::1]:9", False, ("::1", 9)),
     ("localhost:0", False, ("localhost", 0)), ("0.0.0.0:9464", True, ("0.0.0.0", 9464))],
)
def test_listen_addresses_parse(text: str, allow_remote: bool, expected: tuple) -> None:
    """Loopback listen addresses parse; others only with allow_remote."""
    assert parse_listen(text, allow_remote=allow_remote) == expected


@pytest.mark.parametrize("text", ["0.0.0.0:9464", "9464", "host:99999", "10.1.2.3:80", ""])
def test_bad_or_remote_listen_is_a_config_error(text: str) -> None:
    """A malformed or non-loopback listen address is a ConfigError naming metrics.listen."""
    with pytest.raises(ConfigError, match=r"metrics\.listen"):
        parse_listen(text)


def test_textfile_must_end_in_prom(tmp_path: Path) -> None:
    """A textfile not ending in .prom is refused (node_exporter would ignore it)."""
    with pytest.raises(ConfigError, match=r"metrics\.textfile"):
        MetricsExporter(MetricsCfg(textfile=str(tmp_path / "burnin.txt")))


def test_textfile_is_written_and_valid(tmp_path: Path) -> None:
    """update() writes the exposition to the textfile, which promtool accepts."""
    target = tmp_path / "textfile" / "burnin.prom"
    MetricsExporter(MetricsCfg(textfile=str(target))).update(sample_status())
    assert _promtool(target.read_bytes()).returncode == 0
    assert not [p for p in target.parent.iterdir() if p.name != "burnin.prom"]


def test_unwritable_textfile_is_counted_not_raised(tmp_path: Path) -> None:
    """A textfile that cannot be written is counted and logged; update() does not raise."""
    blocker = tmp_path / "file"
    blocker.write_text("")
    exporter = MetricsExporter(MetricsCfg(textfile=str(blocker / "burnin.prom")))
    exporter.update(sample_status())
    assert exporter.textfile_errors == 1 and exporter.last_error


@pytest.mark.anyio
async def test_listener_serves_latest_status() -> None:
    """The loopback listener serves the last update on /metrics with the 0.0.4 content type."""
    exporter = MetricsExporter(MetricsCfg(listen="127.0.0.1:0"))
    await exporter.start()
    try:
        exporter.update(sample_status())
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"http://127.0.0.1:{exporter.port}/metrics")
    finally:
        await exporter.aclose()
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert b"burnin_verdict_code 1.0" in resp.content


@pytest.mark.anyio
@pytest.mark.parametrize(("method", "path", "code"),
                         [("GET", "/nope", 404), ("POST", "/metrics", 405), ("HEAD", "/", 200)])
async def test_listener_answers_other_requests(method: str, path: str, code: int) -> None:
    """Unknown paths get 404, other methods 405, HEAD works."""
    exporter = MetricsExporter(MetricsCfg(listen="127.0.0.1:0"))
    await exporter.start()
    try:
        async with httpx.AsyncClient() as client:
            resp = await client.request(method, f"http://127.0.0.1:{exporter.port}{path}")
    finally:
        await exporter.aclose()
    assert resp.status_code == code


@pytest.mark.anyio
async def test_listener_survives_a_garbage_client() -> None:
    """A client sending garbage and hanging up does not stop the listener."""
    import asyncio

    exporter = MetricsExporter(MetricsCfg(listen="127.0.0.1:0"))
    await exporter.start()
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", exporter.port)
        writer.write(b"\x00\xffgarbage")
        writer.close()
        await writer.wait_closed()
        async with httpx.AsyncClient() as client:
            resp = await client.get(f"http://127.0.0.1:{exporter.port}/metrics")
    finally:
        await exporter.aclose()
    assert resp.status_code == 200
