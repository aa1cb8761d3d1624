"""Drive the real supervisor parts (AlertEngine, RuleSet, Session with the real jobs rules,
SQLite, the alert log and a real webhook on 127.0.0.1) through a random history of
operations on a FakeClock, and check what each channel received against `model.Model`.

One step = one operation, then a look (`Session.run_check("jobs")`), then the engine's
tick, then the deliveries settle. The decision step of each message is the first step at
which it was seen (in the outbox or at a channel), so late deliveries (channel down) are
judged by when they were decided.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from daemon.alerts import cli as alerts_cli
from daemon.alerts import store
from daemon.alerts.engine import AlertEngine
from daemon.alerts.state import fingerprint
from daemon.clock import FakeClock, iso
from daemon.config import Config, load_config
from daemon.recorder import CheckRecorder
from daemon.session import RuleSet, Session
from tests.life.model import Model
from tests.life.recorder import Recorder

OUT, IN = "data/webrelay_out", "data/webrelay_in"
SUBJECTS = ("c1", "c2", "c3")
OPS = ("appear", "appear", "disappear", "disappear", "advance", "advance", "advance", "event",
       "ack", "silence", "reload_same", "reload_changed", "restart", "kill", "kill_mid",
       "down", "up", "flap")


class NullLog:
    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: None


def claim_path(subject: str) -> str:
    return f"{OUT}/{subject}.job.json.claimed"


@dataclass
class Harness:
    root: Path
    hook: Recorder
    clock: FakeClock
    cfgs: list[Config]
    cfg: Config
    engine: AlertEngine | None = None
    rules: RuleSet | None = None
    session: Session | None = None
    present: set[str] = field(default_factory=set)
    seen_at: dict[str, int] = field(default_factory=dict)  # msg id -> decision step
    log_lines: list[dict[str, Any]] = field(default_factory=list)
    jobs: int = 0
    queued: list[str] = field(default_factory=list)  # results whose job comes back next
    in_flight: set[str] = field(default_factory=set)  # msg ids a kill -9 landed on
    ops: list[str] = field(default_factory=list)

    async def start(self) -> None:
        self.engine = AlertEngine(self.cfg, self.clock, NullLog(), window_id="w1", host="h")
        await self.engine.start()
        await self._session()

    async def _session(self) -> None:
        assert self.engine is not None
        self.rules = RuleSet.carry(self.rules, self.cfg, self.clock, NullLog(), "w1")
        self.session = Session(self.cfg, self.clock, NullLog(), self.engine, self.rules,
                               CheckRecorder(lambda *a: None))
        self.session.cadences.add("jobs", 60.0)

    async def stop(self, clean: bool = True) -> None:
        assert self.engine is not None and self.rules is not None
        await self.engine.aclose()
        if clean:
            self.rules.close()
        else:  # kill -9: no rule state saved, no sources closed in order
            self.rules.hub.close()
        self.engine = self.rules = self.session = None

    # -- operations -------------------------------------------------------------------------

    async def op(self, name: str, rng: random.Random, model: Model) -> None:
        now = self.clock.time()
        subject = rng.choice(SUBJECTS)
        self.ops.append(name if name not in ("appear", "disappear", "ack", "silence", "flap")
                        else f"{name}:{subject}")
        if name == "appear":
            self._claim(subject, now)
        elif name == "disappear":
            (self.root / claim_path(subject)).unlink(missing_ok=True)
            self.present.discard(subject)
        elif name == "advance":
            await self._advance(rng.choice((300.0, 900.0, 1800.0, 3600.0)))
        elif name == "ack":
            until = rng.choice((None, 1800.0, 5400.0))
            if model.ack(claim_path(subject), None if until is None else now + until, now):
                assert alerts_cli.ack(self.cfg, self._fp(subject), until, "model", now) == 0
        elif name == "event":
            self.result()
        elif name == "flap":
            await self._flap(subject, model)
        elif name == "silence":
            model.silence(claim_path(subject), now, 5400.0)
            alerts_cli.silence_add(self.cfg, None, claim_path(subject), 5400.0, "model", now)
        else:
            await self._lifecycle(name, rng, model)

    async def _look(self, model: Model) -> None:
        """An extra look inside a step (the model sees the same look)."""
        assert self.session is not None
        await self.session.run_check("jobs")
        model.look({claim_path(s) for s in self.present}, {claim_path(s) for s in SUBJECTS},
                   [], self.clock.time())

    async def _toggle(self, subject: str, model: Model) -> None:
        if subject in self.present:
            (self.root / claim_path(subject)).unlink(missing_ok=True)
            self.present.discard(subject)
        else:
            self._claim(subject, self.clock.time())
        await self._look(model)

    async def _flap(self, subject: str, model: Model) -> None:
        """A claim that comes and goes six times in ten minutes: `flapping`."""
        for _ in range(12):
            await self._toggle(subject, model)
            await self._advance_exact(60.0)

    async def _advance_exact(self, seconds: float) -> None:
        self.clock.advance(seconds)
        await anyio.sleep(0)

    def _fp(self, subject: str) -> str:
        return fingerprint("jobs.stale_claim", claim_path(subject))

    def _claim(self, subject: str, now: float) -> None:
        path = self.root / claim_path(subject)
        if not path.exists():
            path.write_text(json.dumps({"claimed_at": iso(now - 3600.0)}))
            t = time.time() - 120
            os.utime(path, (t, t))
        self.present.add(subject)

    def result(self) -> None:
        """A job's result; the job is queued again at the next look (a CRITICAL event)."""
        self.jobs += 1
        job = f"d{self.jobs}"
        res = self.root / IN / f"{job}.result.json"
        res.write_text(json.dumps({"job_id": job}))
        t = time.time() - 120
        os.utime(res, (t, t))
        self.queued.append(job)

    def requeue(self, now: float) -> list[str]:
        """The queued jobs appear again in the pending folder: each one a duplicate."""
        jobs, self.queued = self.queued, []
        for job in jobs:
            (self.root / OUT / f"{job}.job.json").write_text(json.dumps({"created_at": iso(now)}))
        return jobs

    async def _advance(self, seconds: float) -> None:
        for _ in range(int(seconds // 300)):  # in slices: retries and back-offs fall due
            self.clock.advance(300.0)
            await anyio.sleep(0)

    async def _lifecycle(self, name: str, rng: random.Random, model: Model) -> None:
        if name == "down":
            self.hook.down = True
        elif name == "up":
            self.hook.down = False
        elif name == "reload_same":
            assert self.engine is not None
            await self.engine.configure(self.cfg)
            await self._session()
        elif name == "reload_changed":
            self.cfg = self.cfgs[1] if self.cfg is self.cfgs[0] else self.cfgs[0]
            assert self.engine is not None
            await self.engine.configure(self.cfg)
            await self._session()
        elif name in ("restart", "kill", "kill_mid"):
            if name == "kill_mid":
                await self._kill_mid_delivery(rng, model)
            else:
                await self.stop(clean=name == "restart")
            model.restart()
            await self.start()

    async def _kill_mid_delivery(self, rng: random.Random, model: Model) -> None:
        """A kill -9 while the webhook holds a delivery: the receiver got it, burnin never
        heard back; after the start it is sent again with the same id."""
        assert self.engine is not None
        if self.hook.down or self.engine.pending():
            await self.stop(clean=False)
            return
        self.hook.hold = threading.Event()
        arrived = len(self.hook.snapshot())
        await self._toggle(rng.choice(SUBJECTS), model)  # a notice is on its way
        for _ in range(200):
            if len(self.hook.snapshot()) > arrived:
                break
            await anyio.sleep(0.005)
        self.in_flight |= {d["id"] for d in self.hook.snapshot()[arrived:]}
        await self.stop(clean=False)
        self.hook.hold.set()
        self.hook.hold = None

    # -- one step ---------------------------------------------------------------------------

    async def look_and_tick(self, model: Model, step: int, events: list[str]) -> None:
        assert self.session is not None and self.engine is not None
        now = self.clock.time()
        await self.session.run_check("jobs")
        model.look({claim_path(s) for s in self.present},
                   {claim_path(s) for s in SUBJECTS}, events, now)
        await self.engine.tick(now)
        model.tick(now)
        await self.settle(step)
        for job in events:  # the job is picked up again: no pending_too_long later
            (self.root / OUT / f"{job}.job.json").unlink(missing_ok=True)

    async def settle(self, step: int) -> None:
        assert self.engine is not None
        if not self.hook.down:
            await self.engine.drain(3.0)
        else:
            for _ in range(20):
                await anyio.sleep(0.001)
        self._note(step)

    def _note(self, step: int) -> None:
        assert self.engine is not None and self.engine.outbox is not None
        for row in self.engine.outbox.rows():
            self.seen_at.setdefault(row["msg_id"], step)
        for doc in self.hook.snapshot():
            self.seen_at.setdefault(doc["id"], step)
        path = self.cfg.log_dir / "alerts.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        for line in lines[len(self.log_lines):]:
            rec = json.loads(line)
            self.log_lines.append(rec)
            self.seen_at.setdefault(rec["notification_id"], step)

    # -- what the channels received ---------------------------------------------------------

    def received(self, channel: str) -> tuple[list[tuple], list[str]]:
        """(step, code, subject, reason, severity) per record, and the messages received
        twice that no kill -9 landed on while they were on the wire."""
        if channel == "alertlog":
            recs = [(r["notification_id"], r) for r in self.log_lines]
        else:
            recs = [(d["id"], a) for d in self.hook.snapshot() for a in d["alerts"]]
        out, seen = [], Counter()
        for msg_id, r in recs:
            if r.get("code") not in ("jobs.stale_claim", "jobs.duplicate_processing"):
                continue
            key = (msg_id, r["fingerprint"], r.get("reason"))
            seen[key] += 1
            if seen[key] > 1:
                continue  # the same message delivered again (a kill mid-delivery)
            out.append((self.seen_at[msg_id], r["code"], r["subject"], r.get("reason", ""),
                        r["severity"]))
        return sorted(out), [repr(k) for k, n in seen.items()
                             if n > 1 and k[0] not in self.in_flight]


def make_configs(tmp: Path, hook_url: str) -> list[Config]:
    """The config, and a changed one (webhook timeout, job limits: new workers, new rules)."""
    def one(timeout: str, pending_after: str) -> Config:
        return load_config(None, overrides={
            "system": {"root": str(tmp / "root"), "name": "ledger"},
            "daemon": {"runtime_dir": str(tmp / "runtime"), "log_dir": str(tmp / "logs")},
            "window": {"time_scale": 1.0},
            "jobs": {"stale_claim_after": "300s", "pending_after": pending_after},
            "alerts": {"group_wait": "0s", "retry_base": "1s", "retry_max": "5s",
                       "webhook": [{"url": hook_url, "name": "hook", "min_severity": "INFO",
                                    "timeout": timeout}]},
        }, env={})
    return [one("10s", "900s"), one("9s", "1200s")]


def seed_tree(root: Path) -> None:
    for sub in (OUT, IN, "data/failed_reports", "storage/events", "runtime", "logs"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "storage/events/credits.jsonl").write_text("")
    (root / "runtime/system_state.json").write_text('{"state": "RUNNING"}\n')


@dataclass
class Verdict:
    seed: int
    ops: list[str]
    violations: list[str]


async def run_history(seed: int, tmp: Path, steps: int = 30) -> Verdict:
    """One random history; its violations (empty when the channels agree with the model)."""
    rng = random.Random(seed)
    seed_tree(tmp / "root")
    with Recorder() as hook:
        cfgs = make_configs(tmp, hook.url)
        clock = FakeClock(start=float(int(time.time())))
        h = Harness(tmp / "root", hook, clock, cfgs, cfgs[0])
        model = Model()
        await h.start()
        model.restart()
        try:
            for step in range(steps):
                model.step = step
                name = rng.choice(OPS)
                await h.op(name, rng, model)
                events = h.requeue(clock.time())
                await h.look_and_tick(model, step, events)
            model.step = steps
            hook.down = False
            h.ops.append("up+settle")
            await h.look_and_tick(model, steps, [])
            return Verdict(seed, h.ops, _compare(h, model))
        finally:
            if h.engine is not None:
                await h.stop()


def _compare(h: Harness, model: Model) -> list[str]:
    out = []
    for channel in ("alertlog", "webhook"):
        got, dups = h.received(channel)
        want = model.expected(channel)
        missing = sorted((Counter(want) - Counter(got)).elements())
        extra = sorted((Counter(got) - Counter(want)).elements())
        out += [f"{channel}: missing {m}" for m in missing]
        out += [f"{channel}: unexpected {e}" for e in extra]
        out += [f"{channel}: received twice without a kill mid-delivery {d}" for d in dups]
    assert h.engine is not None
    if any(a["code"] == "daemon.delivery_failing" for a in h.engine.open_alerts()):
        out.append("daemon.delivery_failing still open after the channel came back")
    return out


__all__ = ["Harness", "Verdict", "run_history", "store"]
