"""What survives burnin's own lifecycle, with the real daemon, real signals and a real webhook
receiver: a reload (SIGHUP), a stop and start (SIGTERM), a kill -9 and start must not resolve,
re-fire, re-send or forget anything (SPEC §5, last paragraphs)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.life.proc import Burnin, wait_for, write_config
from tests.life.recorder import Recorder

OUT = "data/webrelay_out"
IN = "data/webrelay_in"
SCALE = 3600.0  # 1 nominal hour = 1 real second: a HIGH alert escalates after 1 s unacked


@pytest.fixture
def hook() -> Iterator[Recorder]:
    with Recorder() as rec:
        yield rec


@pytest.fixture
def scale() -> float:
    return SCALE


@pytest.fixture
def burnin(seed_tree: Path, tmp_path: Path, hook: Recorder, scale: float) -> Iterator[Burnin]:
    work = tmp_path / "work"
    work.mkdir()
    cfg = write_config(tmp_path / "burnin.toml", seed_tree, hook.url, scale)
    b = Burnin(cfg, work)
    yield b
    b.close()


def old_file(path: Path, age_s: float, text: str = "") -> Path:
    path.write_text(text)
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def alert_log(b: Burnin, code: str) -> list[str]:
    path = b.work / "logs/alerts.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [line for line in lines if f'"{code}"' in line]


def bounce(b: Burnin, how: str) -> None:
    if how == "reload":
        b.reload()
    elif how == "restart":
        assert b.stop() == 0
        b.start()
    else:
        b.kill()
        b.start()


@pytest.mark.slow
@pytest.mark.parametrize("how", ["reload", "restart", "kill"])
def test_acked_alert_stays_acked_and_firing(burnin: Burnin, hook: Recorder, seed_tree: Path,
                                            how: str) -> None:
    """An acked stale claim: no resolve, no re-fire, no escalation after the bounce."""
    old_file(seed_tree / OUT / "j1.job.json.claimed", 60.0)
    burnin.start()
    wait_for(lambda: hook.notices("jobs.stale_claim"), what="stale claim notified")
    fp = hook.alerts("jobs.stale_claim")[0]["fingerprint"]
    burnin.cli("ack", fp, "--reason", "known")
    wait_for(lambda: (a := burnin.open_alert("jobs.stale_claim")) and a["acked"], what="acked")
    before = hook.notices("jobs.stale_claim")  # (on a slow host it may have escalated first)
    logged = alert_log(burnin, "jobs.stale_claim")
    severity = burnin.open_alert("jobs.stale_claim")["severity"]  # type: ignore[index]
    bounce(burnin, how)
    time.sleep(2.5)  # 2.5 nominal hours: an unacked alert would have escalated and repeated
    assert hook.notices("jobs.stale_claim") == before
    assert alert_log(burnin, "jobs.stale_claim") == logged  # no channel heard anything
    assert "ACKED" in burnin.cli("status")
    assert before[0] == ("first", "HIGH")
    alert = burnin.open_alert("jobs.stale_claim")
    assert alert is not None and alert["acked"] and alert["severity"] == severity


@pytest.mark.slow
@pytest.mark.parametrize("scale", [36000.0])  # events are kept 24 nominal h = 2.4 s here
@pytest.mark.parametrize("how", ["reload", "restart", "kill"])
def test_event_is_notified_once(burnin: Burnin, hook: Recorder, seed_tree: Path,
                                how: str) -> None:
    """A duplicate processing event is sent once and counted once in the window, whatever
    happens after, even once the engine's short-term memory of it has aged out."""
    old_file(seed_tree / IN / "j2.result.json", 120.0, '{"job_id": "j2"}')
    burnin.start()
    (seed_tree / OUT / "j2.job.json").write_text('{"job_id": "j2"}')  # requeued after result
    wait_for(lambda: hook.notices("jobs.duplicate_processing"), what="duplicate notified")
    time.sleep(3.0)
    bounce(burnin, how)
    time.sleep(1.5)
    assert len(hook.alerts("jobs.duplicate_processing")) == 1


@pytest.mark.slow
def test_delivery_failing_resolves_after_reload(burnin: Burnin, hook: Recorder,
                                                seed_tree: Path) -> None:
    """A channel down: daemon.delivery_failing fires; reload; the channel comes back and
    every message goes out: the alert resolves."""
    hook.down = True
    old_file(seed_tree / OUT / "j3.job.json.claimed", 60.0)
    burnin.start()
    wait_for(lambda: burnin.open_alert("daemon.delivery_failing"), what="delivery failing")
    reloads = burnin.log_events().count("config_reloaded")

    def back_up() -> None:  # the channel comes back while the reload takes place
        wait_for(lambda: burnin.log_events().count("config_reloaded") > reloads, timeout=10)
        hook.down = False

    burnin.reload(then=back_up)
    wait_for(lambda: hook.notices("jobs.stale_claim"), what="backlog delivered")
    wait_for(lambda: burnin.open_alert("daemon.delivery_failing") is None, timeout=10,
             what="delivery_failing resolved")
    assert hook.notices("daemon.delivery_failing")[-1][0] == "resolved"


@pytest.mark.slow
def test_reload_keeps_the_rules_and_their_samples(seed_tree: Path, tmp_path: Path,
                                                  hook: Recorder) -> None:
    """An unchanged reload keeps the rules with their sources and samples: the first health
    run after it still has a CPU figure (a rebuilt rule would start its samples afresh and
    could judge nothing, nor see the job folders)."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        pidfile = tmp_path / "w.pid"
        pidfile.write_text(str(sleeper.pid))
        work = tmp_path / "work"
        work.mkdir()
        cfg = write_config(tmp_path / "burnin.toml", seed_tree, hook.url, SCALE,
                           f"[[process]]\nname = 'w'\npidfile = '{pidfile}'\n"
                           "[thresholds]\ncpu_samples = 2\n")
        cfg.write_text(cfg.read_text().replace("health = '60s'", "health = '1800s'"))
        b = Burnin(cfg, work).start()
        try:
            wait_for(lambda: cpu(b) is not None, what="a CPU figure")
            b.reload()
            runs = health_runs(b)
            wait_for(lambda: health_runs(b) > runs, what="health ran after the reload")
            assert cpu(b) is not None
            assert NO_JOBS not in b.log_events()[-40:]
        finally:
            b.close()
    finally:
        sleeper.kill()
        sleeper.wait()


def health_runs(b: Burnin) -> int:
    return int((b.status() or {}).get("checks", {}).get("health", {}).get("runs", 0))


def cpu(b: Burnin) -> float | None:
    procs = (b.status() or {}).get("metrics", {}).get("processes", {})
    return procs.get("w", {}).get("cpu_percent")


NO_JOBS = "process.idle_cpu skipped: no jobs source with pending_count and claimed_count"
