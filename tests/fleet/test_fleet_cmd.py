"""`burnin fleet`: the pure table, and the command against a real HTTP server on loopback."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from daemon.fleet import (
    FleetError,
    Row,
    build,
    exit_code,
    fleet_verdict,
    parse_answer,
    queries,
    selector,
    text,
)

NOW = 10_000.0


def lab(host: str, **extra: str) -> dict[str, str]:
    return {"system": "pay", "host": host, "instance": f"{host}:9464", "job": "burnin", **extra}


def results(hosts: dict[str, tuple[float, float]], **more: Any) -> dict[str, Any]:
    """hosts: name -> (verdict code, seconds since last status update)."""
    return {"seen": [(lab(h), NOW - age) for h, (_, age) in hosts.items()],
            "verdict": [(lab(h), code) for h, (code, _) in hosts.items()], **more}


@pytest.mark.parametrize(("hosts", "completed", "expected"), [
    ({"a": (0, 5), "b": (0, 5)}, [], "GREEN"),
    ({"a": (0, 5), "b": (1, 5)}, [], "YELLOW"),
    ({"a": (0, 5), "b": (2, 5), "c": (1, 5)}, [], "RED"),
    ({"a": (0, 5), "b": (0, 900)}, [], "YELLOW"),        # b stopped reporting
    ({"a": (0, 5), "b": (0, 900)}, ["b"], "GREEN"),      # b completed its window and exited
    ({"a": (0, 5), "b": (2, 900)}, [], "RED"),           # a silent RED host still counts
    ({"a": (0, 5), "b": (7, 5)}, [], "YELLOW"),          # an unknown code proves nothing
    ({}, [], "UNKNOWN"),
])
def test_fleet_verdict_worst_host_wins(hosts: dict[str, tuple[float, float]],
                                       completed: list[str], expected: str) -> None:
    """The fleet verdict is the worst host's; stale or unknown hosts make it at least YELLOW."""
    res = results(hosts, completed=[(lab(h, phase="completed"), 1.0) for h in completed])
    fleet = build(res, NOW, stale_after_s=300)
    assert fleet.verdict == expected
    assert exit_code(fleet.verdict) == {"GREEN": 0, "YELLOW": 1, "RED": 2, "UNKNOWN": 3}[expected]


def test_rows_carry_window_coverage_alerts_and_age() -> None:
    """Each host row joins the answers of every query; the worst host comes first."""
    res = results({"a": (0, 3), "b": (2, 30)},
                  progress=[(lab("a"), 0.5), (lab("b"), 0.25)],
                  coverage=[(lab("a"), 1.0), (lab("b"), 0.9)],
                  alerts=[(lab("b", severity="CRITICAL"), 1), (lab("b", severity="HIGH"), 2),
                          (lab("b", severity="bogus"), 9)])
    fleet = build(res, NOW, 300)
    b, a = fleet.rows
    assert (b.host, b.verdict, b.progress, b.coverage, b.age_s) == ("b", "RED", 0.25, 0.9, 30)
    assert b.alerts == {"CRITICAL": 1, "HIGH": 2, "MEDIUM": 0, "INFO": 0}
    assert (a.host, a.verdict, a.stale) == ("a", "GREEN", False)
    assert "RED: b" in fleet.summary
    out = text(fleet).splitlines()
    assert out[0].startswith("FLEET RED - 2 host(s): 1 RED, 0 YELLOW, 1 GREEN; RED: b")
    assert out[2].split()[:6] == ["pay", "b", "RED", "25.0%", "90.0%", "1/2/0/0"]


def test_host_falls_back_to_instance_and_labels_are_made_safe() -> None:
    """A burnin without a host label is keyed by its instance; control characters are escaped."""
    res = {"verdict": [({"instance": "x:1", "system": "s\x1b[2J"}, 0.0)]}
    fleet = build(res, NOW, 300)
    assert fleet.rows[0].host == "x:1"
    assert fleet.rows[0].stale  # never reported a status time
    assert "\x1b" not in text(fleet)


def test_selector_quotes_the_system() -> None:
    """A system name cannot break out of the PromQL selector."""
    assert selector(None) == ""
    assert selector('a"}or vector(1)#') == '{system="a\\"}or vector(1)#"}'
    q = queries("pay")
    assert q["completed"] == ('last_over_time(burnin_window_phase'
                              '{system="pay",phase="completed"}[1h])')
    assert q["verdict"] == 'last_over_time(burnin_verdict_code{system="pay"}[1h])'


@pytest.mark.parametrize(("status", "body"), [
    (200, b"<html>"), (400, b'{"status":"error","error":"parse error"}'),
    (200, b'{"status":"success","data":{"resultType":"matrix","result":[]}}'), (200, b"[1]"),
])
def test_bad_answers_are_a_clear_error(status: int, body: bytes) -> None:
    """Anything but an instant-vector success is a FleetError, never a crash."""
    with pytest.raises(FleetError):
        parse_answer(status, body)


def test_odd_samples_are_skipped() -> None:
    body = json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {"host": "a"}, "value": [12.5, "2"]}, {"metric": {}, "value": ["x"]},
        {"value": [1, "1"]}]}}).encode()
    assert parse_answer(200, body) == ([({"host": "a"}, 2.0)], 12.5)


def test_fleet_verdict_of_rows_directly() -> None:
    assert fleet_verdict([Row("s", "a", verdict="GREEN")]) == "GREEN"
    assert fleet_verdict([Row("s", "a", verdict="GREEN", stale=True)]) == "YELLOW"


# -- the command, against a real HTTP server speaking the Prometheus query API --------------

ANSWERS = {
    "burnin_status_updated_timestamp_seconds": [("a", 990.0), ("b", 995.0)],
    "burnin_verdict_code": [("a", 0.0), ("b", 2.0)],
    "burnin_window_progress_ratio": [("a", 0.5), ("b", 0.5)],
}


class _Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query).get("query", [""])[0]
        if url.path != "/api/v1/query":
            self.send_error(404)
            return
        result = [{"metric": {"system": "pay", "host": h, "instance": f"{h}:1"},
                   "value": [1000.0, str(v)]}
                  for name, rows in ANSWERS.items() if name in query for h, v in rows]
        body = json.dumps({"status": "success",
                           "data": {"resultType": "vector", "result": result}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def burnin(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "daemon", *args], capture_output=True,
                          text=True, timeout=60)


def test_command_prints_the_table_and_exits_with_the_fleet_verdict(api: str) -> None:
    """`burnin fleet` asks the API and exits 2 for a fleet with a RED host."""
    done = burnin("fleet", "--prometheus", api)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "FLEET RED - 2 host(s): 1 RED, 0 YELLOW, 1 GREEN; RED: b"
    assert lines[2].split()[:4] == ["pay", "b", "RED", "50.0%"]
    assert lines[2].endswith("5s ago")
    doc = json.loads(burnin("fleet", "--prometheus", api, "--format", "json").stdout)
    assert doc["schema"] == "burnin.fleet/1" and doc["verdict"] == "RED"
    assert [(h["host"], h["verdict"], h["last_seen_age_s"]) for h in doc["hosts"]] == [
        ("b", "RED", 5.0), ("a", "GREEN", 10.0)]


def test_command_exits_3_when_prometheus_cannot_be_asked(api: str) -> None:
    """No listener, or an HTTP server that is not Prometheus: UNKNOWN, exit 3."""
    for url in ("http://127.0.0.1:9", api + "/not-prometheus"):
        done = burnin("fleet", "--prometheus", url, "--timeout", "5s")
        assert done.returncode == 3, done.stdout + done.stderr
        assert done.stdout.startswith("FLEET UNKNOWN - ")
    doc = json.loads(burnin("fleet", "--prometheus", "http://127.0.0.1:9", "--format",
                            "json").stdout)
    assert doc["verdict"] == "UNKNOWN" and doc["error"]


def test_bad_duration_is_a_usage_error(api: str) -> None:
    assert burnin("fleet", "--prometheus", api, "--stale-after", "soon").returncode == 64
