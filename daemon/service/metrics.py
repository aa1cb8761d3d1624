"""Prometheus exposition of status.json (SPEC §6), for a scrape listener and node_exporter.

`render(status)` is pure: a status document in, text exposition format 0.0.4 out, built with
a private `CollectorRegistry` per call (no global state). Missing or ill-typed fields are
skipped, never fatal; `render(None)` says only `burnin_status_available 0`.

Job latency: status.json carries percentiles, so `burnin_job_latency_seconds` is a *summary*
(quantile 0.5/0.95/0.99 + count). When `metrics.jobs.latency_samples_ms` (the raw samples
behind the percentiles, over the last hour) is present, `burnin_job_latency_window_seconds`
adds a histogram of them; it describes a sliding hour, so read it with the bucket values
directly, not with `rate()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from daemon.atomic import write_bytes
from daemon.clock import parse_timestamp
from daemon.config import MetricsCfg
from daemon.errors import ConfigError
from daemon.numbers import number as _num

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "INFO")
VERDICTS = ("GREEN", "YELLOW", "RED")
PHASES = ("running", "completed", "stopped")
LATENCY_BUCKETS_S = (0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def render(status: Mapping[str, Any] | None) -> bytes:
    """Prometheus text exposition of one status.json document."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StatusCollector(status if isinstance(status, Mapping) else None))
    return generate_latest(registry)


class _StatusCollector(Collector):
    def __init__(self, status: Mapping[str, Any] | None) -> None:
        self.status = status

    def collect(self) -> Iterator[Metric]:
        available = "1 if a status.json document was read"
        if self.status is None:
            yield _gauge("burnin_status_available", available, 0)
            return
        ident = identity(self.status)
        yield _labelled_by(_gauge("burnin_status_available", available, 1), ident)
        for part in (_daemon, _window, _verdict, _checks, _alerts, _jobs, _journal,
                     _processes, _host, _other):
            for family in part(self.status):
                yield _labelled_by(family, ident)


def identity(s: Mapping[str, Any]) -> dict[str, str]:
    """The fleet labels of every series: status.json's `system` and `host`, where set."""
    return {k: s[k] for k in ("system", "host") if isinstance(s.get(k), str) and s[k]}


def _labelled_by(family: Metric, ident: Mapping[str, str]) -> Metric:
    if ident:  # a series' own label of the same name wins (burnin_build_info's `system`)
        family.samples = [x._replace(labels={**ident, **x.labels}) for x in family.samples]
    return family


def _daemon(s: Mapping[str, Any]) -> Iterator[Metric]:
    info = GaugeMetricFamily("burnin_build_info", "burnin version and system", labels=[
        "version", "system"])
    info.add_metric([str(s.get("version", "")), str(s.get("system", ""))], 1)
    yield info
    yield from _opt("burnin_status_updated_timestamp_seconds",
                    "when status.json was last written", parse_timestamp(s.get("updated_at")))
    yield from _opt("burnin_status_sequence", "status.json write sequence number", s.get("seq"))
    d = _map(s.get("daemon"))
    yield from _opt("burnin_daemon_start_time_seconds", "daemon start, epoch seconds",
                    parse_timestamp(d.get("started_at")))
    yield from _opt("burnin_daemon_uptime_seconds", "daemon uptime", d.get("uptime_s"))
    yield from _opt("burnin_daemon_resident_memory_bytes", "daemon RSS", d.get("rss_bytes"))
    yield from _opt("burnin_daemon_cpu_ratio", "daemon CPU (1.0 = one core)",
                    _ratio(d.get("cpu_percent")))


def _window(s: Mapping[str, Any]) -> Iterator[Metric]:
    w = _map(s.get("window"))
    info = GaugeMetricFamily("burnin_window_info", "the current burn-in window", labels=["id"])
    info.add_metric([str(w.get("id", ""))], 1)
    yield info
    yield from _opt("burnin_window_start_time_seconds", "window start",
                    parse_timestamp(w.get("started_at")))
    yield from _opt("burnin_window_end_time_seconds", "window end",
                    parse_timestamp(w.get("ends_at")))
    yield from _opt("burnin_window_duration_seconds", "window length (nominal seconds)",
                    w.get("duration_s"))
    yield from _opt("burnin_window_elapsed_seconds", "window time elapsed (nominal seconds)",
                    w.get("elapsed_s"))
    yield from _opt("burnin_window_time_scale", "window time scale", w.get("time_scale"))
    yield from _opt("burnin_window_progress_ratio", "window elapsed / duration (0..1)",
                    _progress(w.get("elapsed_s"), w.get("duration_s")))
    yield from _opt("burnin_window_coverage_ratio", "share of the window elapsed so far that "
                    "the daemon observed (0..1)", w.get("coverage"))
    yield _state_set("burnin_window_phase", "window phase (1 = current)", "phase",
                     PHASES, w.get("phase"))


def _verdict(s: Mapping[str, Any]) -> Iterator[Metric]:
    verdict = s.get("verdict")
    yield _state_set("burnin_verdict", "current verdict (1 = current)", "verdict", VERDICTS,
                     verdict)
    if verdict in VERDICTS:
        yield _gauge("burnin_verdict_code", "verdict as exit code: 0 GREEN, 1 YELLOW, 2 RED",
                     VERDICTS.index(verdict))


def _checks(s: Mapping[str, Any]) -> Iterator[Metric]:
    checks = {k: _map(v) for k, v in _map(s.get("checks")).items()}
    rows = [
        ("burnin_check_duration_seconds", "duration of the last run",
         lambda c: _scaled(c.get("duration_ms"), 1e-3)),
        ("burnin_check_success", "1 if the last run completed, 0 if it failed or overran",
         lambda c: _bool(c.get("ok"))),
        ("burnin_check_last_run_timestamp_seconds", "when the check last ran",
         lambda c: parse_timestamp(c.get("last_run"))),
        ("burnin_check_next_run_timestamp_seconds", "when the check runs next",
         lambda c: parse_timestamp(c.get("next_run"))),
        ("burnin_check_findings", "findings returned by the last run",
         lambda c: _count(c.get("findings"))),
    ]
    for name, help_text, get in rows:
        yield from _labelled(name, help_text, ["check"],
                             {(k,): get(c) for k, c in checks.items()})
    yield from _labelled("burnin_check_failures", "runs that failed or overran since start",
                         ["check"], {(k,): c.get("failures") for k, c in checks.items()},
                         counter=True)


def _alerts(s: Mapping[str, Any]) -> Iterator[Metric]:
    alerts = _map(s.get("alerts"))
    counts = _map(alerts.get("counts"))
    yield from _labelled("burnin_alerts_open", "open alerts by severity", ["severity"],
                         {(sev,): counts.get(sev, 0) for sev in SEVERITIES})
    by_code: dict[tuple[str, ...], float] = {}
    for alert in _list(alerts.get("open")):
        a = _map(alert)
        key = (str(a.get("code", "unknown")), str(a.get("severity", "unknown")))
        by_code[key] = by_code.get(key, 0) + 1
    yield from _labelled("burnin_findings_open", "open alerts by finding code and severity",
                         ["code", "severity"], by_code, always=True)


def _jobs(s: Mapping[str, Any]) -> Iterator[Metric]:
    jobs = _map(_map(s.get("metrics")).get("jobs"))
    yield from _labelled("burnin_jobs", "job files by state (queue depth)", ["state"],
                         {(k,): jobs.get(k) for k in ("pending", "claimed", "done", "failed")})
    yield from _latency_summary(_map(jobs.get("latency_ms")))
    samples = [v for v in _list(jobs.get("latency_samples_ms")) if _num(v) is not None]
    if samples:
        yield _histogram([float(v) / 1000 for v in samples])


def _latency_summary(lat: Mapping[str, Any]) -> Iterator[Metric]:
    quantiles = {q: _scaled(lat.get(k), 1e-3) for q, k in (("0.5", "p50"), ("0.95", "p95"),
                                                            ("0.99", "p99"))}
    count = _num(lat.get("count"))
    if count is None and all(v is None for v in quantiles.values()):
        return
    m = Metric("burnin_job_latency_seconds", "job to result latency over the last hour",
               "summary")
    for q, v in quantiles.items():
        if v is not None:
            m.add_sample("burnin_job_latency_seconds", {"quantile": q}, v)
    m.add_sample("burnin_job_latency_seconds_count", {}, count or 0)
    total_s = _scaled(lat.get("sum"), 1e-3)
    if total_s is not None:
        m.add_sample("burnin_job_latency_seconds_sum", {}, total_s)
    yield m


def _histogram(values_s: list[float]) -> Metric:
    buckets = [(_le(b), sum(1 for v in values_s if v <= b)) for b in LATENCY_BUCKETS_S]
    buckets.append(("+Inf", len(values_s)))
    return HistogramMetricFamily(
        "burnin_job_latency_window_seconds", "job latencies of the last hour, by bucket",
        buckets=buckets, sum_value=sum(values_s))


def _journal(s: Mapping[str, Any]) -> Iterator[Metric]:
    j = _map(_map(s.get("metrics")).get("journal"))
    yield from _opt("burnin_journal_events", "events in the journal", j.get("events"))
    yield from _opt("burnin_journal_bytes", "bytes of the journal verified", j.get("bytes"))


def _processes(s: Mapping[str, Any]) -> Iterator[Metric]:
    procs = {(str(k),): _map(v) for k, v in _map(_map(s.get("metrics")).get("processes")).items()}
    yield from _labelled("burnin_process_resident_memory_bytes", "RSS of a watched process",
                         ["process"], {k: p.get("rss_bytes") for k, p in procs.items()})
    yield from _labelled("burnin_process_cpu_ratio", "CPU of a watched process (1.0 = a core)",
                         ["process"], {k: _ratio(p.get("cpu_percent")) for k, p in procs.items()})
    yield from _labelled("burnin_process_up", "1 if a watched process is running",
                         ["process"], {k: _bool(p.get("running")) for k, p in procs.items()})


HOST = {"cpu_percent": "burnin_host_cpu_ratio", "memory_percent": "burnin_host_memory_ratio",
        "disk_percent": "burnin_host_disk_ratio"}


def _host(s: Mapping[str, Any]) -> Iterator[Metric]:
    host = _map(_map(s.get("metrics")).get("host"))
    for key, name in HOST.items():
        yield from _opt(name, f"host {key.removesuffix('_percent')} use (1.0 = full)",
                        _ratio(host.get(key)))


HANDLED = {"jobs": (), "journal": (), "processes": (), "host": tuple(HOST)}


def _other(s: Mapping[str, Any]) -> Iterator[Metric]:
    """Every other numeric figure under `metrics.<group>.<key>`, so new figures show up."""
    values: dict[tuple[str, ...], Any] = {}
    for group, figures in _map(s.get("metrics")).items():
        if group in HANDLED and not HANDLED[group]:
            continue  # handled whole
        for key, value in _map(figures).items():
            if key not in HANDLED.get(group, ()):
                values[(str(group), str(key))] = value
    yield from _labelled("burnin_metric", "other status.json metrics, by group and key",
                         ["group", "key"], values)


# --- small builders ---------------------------------------------------------------------


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=value)


def _opt(name: str, help_text: str, value: Any) -> Iterator[Metric]:
    v = _num(value)
    if v is not None:
        yield _gauge(name, help_text, v)


def _labelled(name: str, help_text: str, labels: list[str],
              values: Mapping[tuple[str, ...], Any], *, counter: bool = False,
              always: bool = False) -> Iterator[Metric]:
    kind = CounterMetricFamily if counter else GaugeMetricFamily
    family = kind(name, help_text, labels=labels)
    for key, value in sorted(values.items()):
        v = _num(value)
        if v is not None:
            family.add_metric(list(key), v)
    if family.samples or always:
        yield family


def _state_set(name: str, help_text: str, label: str, states: tuple[str, ...],
               current: Any) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=[label])
    for state in states:
        family.add_metric([state], 1 if current == state else 0)
    return family


def _scaled(value: Any, factor: float) -> float | None:
    v = _num(value)
    return None if v is None else v * factor


def _ratio(value: Any) -> float | None:
    return _scaled(value, 0.01)


def _progress(elapsed: Any, duration: Any) -> float | None:
    e, d = _num(elapsed), _num(duration)
    return None if e is None or d is None or d <= 0 else min(max(e / d, 0.0), 1.0)


def _bool(value: Any) -> float | None:
    return float(value) if isinstance(value, bool) else None


def _count(value: Any) -> float | None:
    if isinstance(value, list):
        return float(len(value))
    return _num(value)


def _le(bound: float) -> str:
    return repr(float(bound)) if not math.isinf(bound) else "+Inf"


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# --- the exporter: loopback HTTP listener and/or node_exporter textfile ------------------


TEXTFILE_MODE = 0o644  # node_exporter usually runs as another user; nothing secret in here


def parse_listen(text: str, *, allow_remote: bool = False,
                 source: str = "<config>") -> tuple[str, int]:
    """`host:port` (IPv6 in brackets) of `[metrics] listen`; loopback unless allow_remote."""
    match = re.fullmatch(r"\[([0-9a-fA-F:.]+)\]:(\d{1,5})|([^:\[\]\s]+):(\d{1,5})", text.strip())
    if match is None:
        raise ConfigError(source, "metrics.listen", f"expected host:port, got {text!r}")
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if port > 65535:
        raise ConfigError(source, "metrics.listen", f"port out of range: {port}")
    if not allow_remote and not _is_loopback(host):
        raise ConfigError(source, "metrics.listen", f"{host} is not a loopback address; set "
                          "metrics.allow_remote = true to expose metrics beyond this host")
    return host, port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MetricsExporter:
    """Serves the last rendered status on `listen` and writes it to `textfile` atomically."""

    def __init__(self, cfg: MetricsCfg, *, log: Any = None, source: str = "<config>") -> None:
        """Validates `cfg` (a ConfigError names `metrics.listen` or `metrics.textfile`)."""
        self.address = (parse_listen(cfg.listen, allow_remote=cfg.allow_remote, source=source)
                        if cfg.listen else None)
        if cfg.textfile and not cfg.textfile.endswith(".prom"):
            raise ConfigError(source, "metrics.textfile",
                              "node_exporter only reads files ending in .prom")
        self.textfile = Path(cfg.textfile) if cfg.textfile else None
        self.log = log if log is not None else structlog.get_logger("burnin.metrics")
        self.body = render(None)
        self.textfile_errors = 0
        self.last_error: str | None = None
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int | None:
        """The bound port (useful with port 0), None before start or without a listener."""
        if self._server is None or not self._server.sockets:
            return None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        if self.address is None or self._server is not None:
            return
        host, port = self.address
        self._server = await asyncio.start_server(self._handle, host, port)
        self.log.info("metrics.listening", host=host, port=self.port)

    def update(self, status: Mapping[str, Any] | None) -> None:
        """Render `status` for the next scrape and rewrite the textfile (errors are counted)."""
        self.body = render(status)
        if self.textfile is None:
            return
        try:
            write_bytes(self.textfile, self.body, mode=TEXTFILE_MODE)
        except OSError as exc:
            self.textfile_errors += 1
            self.last_error = f"{self.textfile}: {exc.strerror or exc}"
            self.log.warning("metrics.textfile_failed", path=str(self.textfile),
                             error=self.last_error)

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), REQUEST_TIMEOUT_S)
            writer.write(respond(head, self.body))
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ConnectionError):
            pass  # a client that hangs or goes away gets nothing; the next scrape retries
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


REQUEST_TIMEOUT_S = 5.0


def respond(head: bytes, body: bytes) -> bytes:
    """The HTTP/1.1 response to one request head: GET/HEAD /metrics, else 404/405."""
    parts = head.split(b"\r\n", 1)[0].split()
    method, target = (parts[0], parts[1]) if len(parts) >= 2 else (b"", b"")
    path = target.split(b"?", 1)[0]
    if method not in (b"GET", b"HEAD"):
        return _response(b"405 Method Not Allowed", b"GET or HEAD only\n", "text/plain", method)
    if path == b"/metrics":
        return _response(b"200 OK", body, CONTENT_TYPE, method)
    if path == b"/":
        page = b'<html><body><a href="/metrics">burnin metrics</a></body></html>\n'
        return _response(b"200 OK", page, "text/html", method)
    return _response(b"404 Not Found", b"not found\n", "text/plain", method)


def _response(status: bytes, body: bytes, ctype: str, method: bytes) -> bytes:
    head = (b"HTTP/1.1 " + status + b"\r\nContent-Type: " + ctype.encode() +
            b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n")
    return head if method == b"HEAD" else head + body
