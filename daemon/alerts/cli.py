"""`burnin ack` and `burnin silence`: they write to the alert database, which the running
daemon re-reads every tick. Durations given here are nominal (scaled by window.time_scale)."""

from __future__ import annotations

import uuid

from daemon.alerts import store
from daemon.alerts.state import Silence
from daemon.channels.base import one_line
from daemon.clock import iso
from daemon.config import Config
from daemon.window.store import window_scale


def _db(cfg: Config):
    return store.connect(cfg.runtime_dir / "alerts.sqlite3")


def _real(cfg: Config, nominal_s: float) -> float:
    """Nominal seconds at the running window's time scale (the window owns it)."""
    return nominal_s / window_scale(cfg.runtime_dir, cfg.window.time_scale)


def ack(cfg: Config, fingerprint: str, for_s: float | None, reason: str, now: float) -> int:
    """Acknowledge an open alert: its repeats stop until `for_s` passes or it resolves."""
    db = _db(cfg)
    try:
        data = store.load_alert(db, fingerprint)
        if data is None or data["status"] != "firing" or data["kind"] != "condition":
            print(f"unknown fingerprint {one_line(fingerprint, 80)} (no open alert)")
            return 1
        until = now + _real(cfg, for_s) if for_s is not None else None
        store.put_ack(db, fingerprint, until, reason, now)
        print(f"acknowledged {fingerprint} {data['code']} {one_line(data['subject'], 120)} "
              f"until {iso(until) if until else 'resolved'}")
        return 0
    finally:
        db.close()


def silence_add(cfg: Config, code: str | None, subject: str | None, for_s: float, reason: str,
                now: float) -> int:
    """Silence alerts matching `code` and/or `subject` for `for_s` (nominal); prints the id."""
    if not code and not subject:
        print("a silence needs --code and/or --subject")
        return 1
    sil = Silence("sil_" + uuid.uuid4().hex[:12], code or None, subject or None,
                  now + _real(cfg, for_s), reason, now)
    db = _db(cfg)
    try:
        store.add_silence(db, sil)
    finally:
        db.close()
    print(sil.id)
    return 0


def silence_list(cfg: Config, now: float) -> int:
    db = _db(cfg)
    try:
        active = [s for s in store.load_silences(db) if s.until > now]
    finally:
        db.close()
    for s in active:
        print(f"{s.id}  code={s.code or '*'}  subject={one_line(s.subject or '*', 120)}  "
              f"until={iso(s.until)}  reason={one_line(s.reason, 200)}")
    if not active:
        print("no active silences")
    return 0


def silence_remove(cfg: Config, silence_id: str) -> int:
    db = _db(cfg)
    try:
        gone = store.remove_silence(db, silence_id)
    finally:
        db.close()
    print(f"removed {silence_id}" if gone else f"no silence {one_line(silence_id, 80)}")
    return 0 if gone else 1
