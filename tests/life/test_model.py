"""The model-based lifecycle test (issue 12 item 5): random histories of the real supervisor
parts checked against the pure reference model (tests/life/model.py), plus a few histories of
the real `burnin run` process under real SIGHUP, SIGTERM and kill -9.

A fixed set of seeds runs here; `bench/bench_lifecycle.py` runs thousands. Every seed that
ever found a bug is in BUG_SEEDS with what it found.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import time
from pathlib import Path

import anyio
import pytest

from tests.life.driver import run_history
from tests.life.model import Model
from tests.life.proc import Burnin, wait_for, write_config
from tests.life.recorder import Recorder

# seed -> what it found before the fix (the suite keeps them)
BUG_SEEDS = {  # (reproduced by bench_lifecycle's mutant of the pre-fix engine)
    6: "daemon.delivery_failing stayed open: a restarted worker forgot its channel failed",
    10: "same, across a reload that changed [alerts] while the channel was down",
    17: "same, after a kill -9",
}
SEEDS = sorted(BUG_SEEDS) + list(range(100, 112))


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_history_agrees_with_the_model(seed: int, tmp_path: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # the CLI prints silence ids
        verdict = anyio.run(run_history, seed, tmp_path, 30)
    assert verdict.violations == [], " ".join(verdict.ops)


def test_model_table() -> None:
    """The reference model itself: fire, escalate, repeat, ack, resolve, flapping."""
    m, s = Model(), "c"
    m.restart()
    m.look({s}, {s}, [], 0.0)
    m.tick(0.0)
    m.tick(3600.0)  # HIGH for an hour: CRITICAL
    m.tick(5400.0)  # CRITICAL repeats every 30 min
    assert m.ack(s, None, 5500.0)
    m.tick(5500.0)
    m.tick(9000.0)  # acked: quiet
    m.look(set(), {s}, [], 9100.0)
    assert [(n.reason, n.severity) for n in m.notices] == [
        ("first", "HIGH"), ("escalated", "CRITICAL"), ("repeat", "CRITICAL"),
        ("resolved", "CRITICAL")]
    m.notices.clear()
    for i in range(6):  # 6 fires within an hour: one `flapping`, then quiet
        m.look({s}, {s}, [], 10000.0 + i * 100)
        m.look(set(), {s}, [], 10050.0 + i * 100)
    assert [n.reason for n in m.notices] == ["first", "resolved", "first", "resolved",
                                             "first", "resolved", "first", "resolved",
                                             "flapping"]
    m.tick(10550.0 + 3600.0)
    assert m.notices[-1].reason == "resolved"


# -- the real process ------------------------------------------------------------------------

OUT = "data/webrelay_out"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 4])  # both failed before the fix (spurious resolve/re-fire)
def test_process_history_keeps_its_alerts(seed: int, seed_tree: Path, tmp_path: Path) -> None:
    """Claims appear and go while the real daemon is reloaded, stopped, killed and started:
    per claim the webhook sees first -> (escalated|repeat)* -> resolved, with a resolve only
    after the claim went, a new `first` only after it came back, and no event twice."""
    rng = random.Random(seed)
    work = tmp_path / "work"
    work.mkdir()
    with Recorder() as hook:
        b = Burnin(write_config(tmp_path / "burnin.toml", seed_tree, hook.url, 3600.0), work)
        truth: dict[str, list[str]] = {s: [] for s in ("p1", "p2")}  # appear/disappear
        b.start()
        try:
            for _ in range(8):
                _process_op(b, rng, seed_tree, truth)
            time.sleep(1.0)
        finally:
            b.close()
        _check_process_history(hook, truth)


def _process_op(b: Burnin, rng: random.Random, root: Path, truth: dict[str, list[str]]) -> None:
    op = rng.choice(("appear", "disappear", "sighup", "sigterm", "kill", "wait"))
    subject = rng.choice(sorted(truth))
    path = root / OUT / f"{subject}.job.json.claimed"
    if op == "appear" and not path.exists():
        path.write_text("")
        t = time.time() - 60
        os.utime(path, (t, t))
        truth[subject].append("appear")
    elif op == "disappear" and path.exists():
        path.unlink()
        truth[subject].append("disappear")
    elif op == "sighup":
        b.reload()
    elif op == "sigterm":
        assert b.stop() == 0
        b.start()
    elif op == "kill":
        b.kill()
        b.start()
    else:
        time.sleep(0.7)
    wait_for(lambda: (b.status() or {}).get("seq", 0) > 0)
    time.sleep(0.3)


def _check_process_history(hook: Recorder, truth: dict[str, list[str]]) -> None:
    for subject, changes in truth.items():
        reasons = [a.get("reason") for a in hook.alerts("jobs.stale_claim")
                   if a["subject"].endswith(f"{subject}.job.json.claimed")]
        firing = False
        for reason in reasons:
            if reason == "first":
                assert not firing, (subject, reasons)
                firing = True
            elif reason == "resolved":
                assert firing, (subject, reasons)
                firing = False
            else:
                assert firing and reason in ("escalated", "repeat"), (subject, reasons)
        assert reasons.count("first") <= changes.count("appear"), (subject, reasons, changes)
        assert reasons.count("resolved") <= changes.count("disappear"), (subject, reasons,
                                                                          changes)


