"""Real peers for the fleet tests on loopback: Prometheus, an Alertmanager cluster, a webhook
receiver behind it, and burnin daemons on seed trees."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from daemon.sim.layout import seed_tree
from tests.conftest import require_binary

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(pred: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, OSError, ValueError, KeyError):
            value = pred()
            if value:
                return value
        time.sleep(0.1)
    raise AssertionError(f"{what} not met within {timeout:g}s")


def get_json(url: str) -> Any:
    return httpx.get(url, timeout=5).json()


# -- the webhook receiver behind the Alertmanagers ----------------------------------------


class Receiver:
    """Keeps every Alertmanager webhook notification (version 4 JSON) it is sent."""

    def __init__(self) -> None:
        self.notifications: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.notifications.append({**json.loads(body), "_at": time.time()})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def firing(self) -> dict[tuple[tuple[str, str], ...], int]:
        """How many times each alert (by its label set) was notified as firing."""
        counts: dict[tuple[tuple[str, str], ...], int] = {}
        with self.lock:
            for note in self.notifications:
                for alert in note.get("alerts", []):
                    if alert.get("status") == "firing":
                        key = tuple(sorted(alert["labels"].items()))
                        counts[key] = counts.get(key, 0) + 1
        return counts

    def trace(self) -> list[tuple[float, str, str, str]]:
        """(time, sending peer, alertname, instance) of every firing notification."""
        with self.lock:
            return [(n["_at"], n.get("externalURL", ""), a["labels"].get("alertname", ""),
                     a["labels"].get("instance", "")) for n in self.notifications
                    for a in n.get("alerts", []) if a.get("status") == "firing"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# -- Alertmanager cluster -------------------------------------------------------------------

AM_CONFIG = """route:
  receiver: hook
  group_by: ['...']
  group_wait: 1s
  group_interval: 1h
  repeat_interval: 24h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
        send_resolved: false
"""


class Alertmanager:
    def __init__(self, work: Path, name: str, receiver_url: str, peers: list[str],
                 cluster_port: int) -> None:
        binary = require_binary("prometheus-alertmanager")
        work.mkdir(parents=True, exist_ok=True)
        (work / "am.yml").write_text(AM_CONFIG.format(url=receiver_url))
        self.port, self.cluster = free_port(), f"127.0.0.1:{cluster_port}"
        self.url = f"http://127.0.0.1:{self.port}"
        args = [binary, f"--config.file={work / 'am.yml'}", f"--storage.path={work / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                f"--cluster.listen-address={self.cluster}",
                f"--cluster.advertise-address={self.cluster}",
                "--cluster.peer-timeout=10s", "--cluster.gossip-interval=100ms",
                "--cluster.pushpull-interval=2s", *[f"--cluster.peer={p}" for p in peers]]
        self.log = (work / f"{name}.log").open("w")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT)

    def status(self) -> dict[str, Any]:
        return dict(get_json(self.url + "/api/v2/status"))

    def alerts(self) -> list[dict[str, Any]]:
        return list(get_json(self.url + "/api/v2/alerts"))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.log.close()


def am_cluster(work: Path, receiver_url: str) -> list[Alertmanager]:
    """Two clustered Alertmanager peers, each knowing the other, ready and settled."""
    ports = [free_port(), free_port()]
    peers = [f"127.0.0.1:{p}" for p in ports]
    ams = [Alertmanager(work / f"am{i}", f"am{i}", receiver_url, [peers[1 - i]], ports[i])
           for i in range(2)]
    for am in ams:
        wait_for(lambda am=am: len(am.status()["cluster"]["peers"]) == 2
                 and am.status()["cluster"]["status"] == "ready",
                 what=f"alertmanager {am.url} in a ready two-peer cluster")
    return ams


# -- Prometheus -----------------------------------------------------------------------------

PROM_CONFIG = """global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [{rules}]
alerting:
  alertmanagers:
    - static_configs: [{{targets: [{ams}]}}]
scrape_configs:
  - job_name: burnin
    static_configs: [{{targets: [{targets}]}}]
"""


class Prometheus:
    def __init__(self, work: Path, targets: list[str], alertmanagers: list[str]) -> None:
        binary = require_binary("prometheus")
        work.mkdir(parents=True, exist_ok=True)
        rules = REPO / "config" / "prometheus" / "burnin.rules.yml"
        (work / "prometheus.yml").write_text(PROM_CONFIG.format(
            rules=json.dumps(str(rules)), ams=", ".join(json.dumps(a) for a in alertmanagers),
            targets=", ".join(json.dumps(t) for t in targets)))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = (work / "prometheus.log").open("w")
        self.proc = subprocess.Popen(
            [binary, f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: httpx.get(self.url + "/-/ready", timeout=2).status_code == 200,
                 what="prometheus ready")

    def query(self, expr: str) -> list[dict[str, Any]]:
        doc = httpx.get(self.url + "/api/v1/query", params={"query": expr}, timeout=5).json()
        return list(doc["data"]["result"])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


# -- burnin daemons -------------------------------------------------------------------------




BURNIN_CONFIG = """[system]
root = {root}
name = "fleet-e2e"
host = {host}

[window]
duration = "48h"
time_scale = 600

[checks]
disabled = ["host", "daemon_self"]

[metrics]
listen = {listen}
{webhooks}"""

WEBHOOK = """
[[alerts.webhook]]
url = {url}
format = "alertmanager"
min_severity = "CRITICAL"
"""


class Burnin:
    """One `burnin run` on its own tree and working folder, with its own host label."""

    def __init__(self, work: Path, host: str, alertmanagers: list[str]) -> None:
        self.host, self.work = host, work
        self.root = seed_tree(work / "tree")
        self.port = free_port()
        self.target = f"127.0.0.1:{self.port}"
        hooks = "".join(WEBHOOK.format(url=json.dumps(u)) for u in alertmanagers)
        (work / "burnin.toml").write_text(BURNIN_CONFIG.format(
            root=json.dumps(str(self.root)), host=json.dumps(host),
            listen=json.dumps(self.target), webhooks=hooks))
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.log = (work / "stdout.log").open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daemon", "run", "--config", str(work / "burnin.toml")],
            cwd=work, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def status(self) -> dict[str, Any]:
        return dict(json.loads((self.work / "runtime/status.json").read_text()))

    def tear_state(self) -> None:
        """The scripted fault: a torn state file (state.corrupt, CRITICAL)."""
        (self.root / "runtime/system_state.json").write_text('{"state": "RUNN')

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.log.close()


@contextlib.contextmanager
def stack(tmp: Path, hosts: list[str]) -> Iterator[dict[str, Any]]:
    """Receiver, two-peer Alertmanager cluster, burnin daemons, Prometheus; all stopped after."""
    parts: dict[str, Any] = {"receiver": Receiver(), "ams": [], "burnins": [], "prom": None}
    try:
        parts["ams"] = am_cluster(tmp / "am", parts["receiver"].url)
        urls = [am.url for am in parts["ams"]]
        parts["burnins"] = [Burnin(tmp / h, h, urls) for h in hosts]
        parts["prom"] = Prometheus(tmp / "prom", [b.target for b in parts["burnins"]],
                                   [u.removeprefix("http://") for u in urls])
        yield parts
    finally:
        for b in parts["burnins"]:
            b.stop()
        if parts["prom"] is not None:
            parts["prom"].kill()
        for am in parts["ams"]:
            am.kill()
        parts["receiver"].close()
