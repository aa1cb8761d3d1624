"""A fleet burn-in on loopback, end to end, with real binaries: three `burnin run` daemons on
three trees (node-b with a scripted fault), a real Prometheus scraping their `[metrics]
listen` endpoints and evaluating the shipped rules, and a two-peer Alertmanager cluster that
receives every burnin's alerts (one webhook per peer, as the README recommends) and notifies a
webhook receiver. The fleet verdict is RED naming node-b; each alert is notified once through
the cluster, and still once after the peer that was sending is killed mid-run; a burnin that
stops reporting shows as stale."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.fleet.peers import REPO, Alertmanager, Receiver, stack, wait_for

pytestmark = pytest.mark.slow

HOSTS = ["node-a", "node-b", "node-c"]
QUIET_S = 15.0  # > the peers' 10 s cluster.peer-timeout: a duplicate would show by then


def fleet(prom_url: str, fmt: str = "json", *extra: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "daemon", "fleet", "--prometheus", prom_url,
                           "--format", fmt, *extra], capture_output=True, text=True,
                          timeout=60, cwd=REPO)
    return done.returncode, done.stdout


def red_fleet(prom_url: str) -> dict[str, Any] | None:
    code, out = fleet(prom_url)
    doc = json.loads(out)
    hosts = {h["host"]: h for h in doc["hosts"]}
    if code == 2 and len(hosts) == 3 and hosts["node-b"]["verdict"] == "RED":
        return doc
    return None


def notified(receiver: Receiver, alertname: str, **labels: str) -> list[int]:
    return [n for key, n in receiver.firing().items()
            if dict(key).get("alertname") == alertname
            and all(dict(key).get(k) == v for k, v in labels.items())]


def stale_hosts(prom_url: str) -> list[str]:
    code, out = fleet(prom_url, "json", "--stale-after", "15s")
    return [h["host"] for h in json.loads(out)["hosts"] if h["stale"]] if code == 2 else []


def sender(ams: list[Alertmanager]) -> Alertmanager:
    """The peer at position 0 (lowest name): it notifies at once, the other waits for it."""
    names = {am.status()["cluster"]["name"]: am for am in ams}
    return names[min(names)]


def test_fleet_verdict_and_one_notification_per_alert_through_the_cluster(
        tmp_path: Path) -> None:
    with stack(tmp_path, HOSTS) as s:
        burnins, prom, receiver, ams = s["burnins"], s["prom"], s["receiver"], s["ams"]
        by_host = {b.host: b for b in burnins}
        for b in burnins:
            wait_for(b.status, what=f"{b.host} status.json")
        by_host["node-b"].tear_state()

        # Prometheus sees the fleet: RED, named node-b; the healthy hosts are not RED.
        doc = wait_for(lambda: red_fleet(prom.url), timeout=60, what="fleet RED in Prometheus")
        rows = {h["host"]: h for h in doc["hosts"]}
        assert doc["verdict"] == "RED" and doc["hosts"][0]["host"] == "node-b"
        assert rows["node-b"]["alerts_open"]["CRITICAL"] >= 1
        assert {rows[h]["verdict"] for h in ("node-a", "node-c")} <= {"GREEN", "YELLOW"}
        assert all(0 < rows[h]["window_progress"] < 1 for h in HOSTS)
        assert all(rows[h]["system"] == "fleet-e2e" and not rows[h]["stale"] for h in HOSTS)
        code, text = fleet(prom.url, "text")
        assert code == 2
        assert text.splitlines()[0].startswith("FLEET RED - 3 host(s): 1 RED")
        assert text.splitlines()[0].endswith("RED: node-b")
        assert text.splitlines()[2].split()[:3] == ["fleet-e2e", "node-b", "RED"]

        # burnin's alert reached both peers and was notified once; so was the shipped rule's.
        wait_for(lambda: notified(receiver, "state.corrupt", instance="node-b"), timeout=60,
                 what="state.corrupt of node-b notified")
        for am in ams:
            wait_for(lambda am=am: any(a["labels"].get("instance") == "node-b"
                                       for a in am.alerts()), what=f"alert on peer {am.url}")
        wait_for(lambda: notified(receiver, "BurninHostRed", host="node-b"), timeout=60,
                 what="BurninHostRed of node-b notified")
        # Both peers settle first (the waiting peer's turn comes after the 10 s peer timeout):
        # a kill inside that turn may let the survivor send again before the sender's
        # notification log reached it, which Alertmanager allows (at-least-once).
        time.sleep(QUIET_S)
        assert notified(receiver, "BurninHostRed", host="node-b") == [1], receiver.trace()

        # Kill the peer that was sending, mid-run; a new fault is still notified, once.
        sender(ams).kill()
        by_host["node-c"].tear_state()
        wait_for(lambda: notified(receiver, "state.corrupt", instance="node-c"), timeout=60,
                 what="state.corrupt of node-c notified by the surviving peer")
        quiet_from = time.monotonic()

        # A burnin that stops reporting is marked stale (status is rewritten every <= 5 s).
        by_host["node-a"].stop()
        stale = wait_for(lambda: stale_hosts(prom.url), timeout=60, what="node-a stale")
        assert stale == ["node-a"]
        time.sleep(max(0.0, QUIET_S - (time.monotonic() - quiet_from)))
        counts = receiver.firing()
        trace = receiver.trace()

    assert counts, trace
    assert notified(receiver, "state.corrupt", instance="node-b") == [1], trace
    assert notified(receiver, "state.corrupt", instance="node-c") == [1], trace
    assert notified(receiver, "BurninHostRed", host="node-b") == [1], trace
    duplicates = {dict(k)["alertname"]: n for k, n in counts.items() if n != 1}
    assert duplicates == {}, trace
