"""Health rule `state`: the state file is a JSON object, its state is known and agrees with
the last transition (SPEC §3 `state.*`). Parsing is pure (`judge_state`); reading is at the edge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from daemon.checks.base import Rule, Tick
from daemon.checks.registry import register
from daemon.model import Finding, finding
from daemon.sources.jsonl import last_complete_line, parse_object
from daemon.sources.regular import read_regular

STATE_READ_CAP = 16 << 20  # a state file is a small JSON object; never slurp a huge file


def judge_state(
    subject: str,
    raw: bytes,
    last_transition: dict[str, Any] | None,
    *,
    state_field: str,
    to_field: str,
    states: list[str],
) -> list[Finding]:
    """Findings about one state file's bytes and the last transition (pure)."""
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return [finding("state.corrupt", subject, f"state file is not valid JSON: {exc}",
                        {"size": len(raw), "error": str(exc)})]
    if not isinstance(doc, dict):
        return [finding("state.corrupt", subject,
                        f"state file holds a JSON {type(doc).__name__}, not an object",
                        {"size": len(raw)})]
    state = doc.get(state_field)
    out: list[Finding] = []
    if states and state not in states:
        out.append(finding("state.unknown", subject, f"state {state!r} is not a known state",
                           {"state": state, "known": states}))
    expected = (last_transition or {}).get(to_field)
    if last_transition is not None and expected != state:
        out.append(finding("state.mismatch", subject,
                           f"state is {state!r} but the last transition went to {expected!r}",
                           {"state": state, "last_to_state": expected,
                            "transition": last_transition}))
    return out


@register
class StateRule(Rule):
    name = "state"
    check = "health"

    async def run(self, tick: Tick) -> list[Finding]:
        # Reads happen in a worker thread: a hung file system stalls the rule, not the loop
        # (a FIFO or device is refused outright by read_regular / last_complete_line).
        out, state = await self.env.offload(self._look)
        if any(f.code == "state.mismatch" for f in out):
            # The writer appends the transition, then replaces the state file: a look that
            # falls between the two writes is not a mismatch. Look again after the settle delay.
            await self.env.clock.sleep(self.env.cfg.state.settle)
            out, state = await self.env.offload(self._look)
        tick.metric("state", {"state": state})
        return out

    def _look(self) -> tuple[list[Finding], Any]:
        cfg = self.env.cfg
        out: list[Finding] = []
        raw = _read(cfg.observed(cfg.state.file), cfg.state.file, out)
        last = _last_transition(cfg.observed(cfg.state.transitions), cfg.state.transitions, out)
        if raw is None:
            return out, None
        out += judge_state(cfg.state.file, raw, last, state_field=cfg.state.state_field,
                           to_field=cfg.state.to_field, states=cfg.state.states)
        return out, _state_value(raw, cfg.state.state_field)


def _read(path: Path, subject: str, out: list[Finding]) -> bytes | None:
    try:
        return read_regular(path, STATE_READ_CAP)
    except FileNotFoundError:
        out.append(finding("source.unavailable", subject, "state file is missing",
                           {"path": subject}))
    except OSError as exc:
        out.append(finding("source.unavailable", subject, f"state file unreadable: {exc.strerror}",
                           {"path": subject, "errno": exc.errno, "reason": exc.strerror}))
    return None


def _last_transition(path: Path, subject: str, out: list[Finding]) -> dict[str, Any] | None:
    try:
        line = last_complete_line(path)
    except FileNotFoundError:
        return None  # no transitions yet: nothing to compare with
    except OSError as exc:
        out.append(finding("source.unavailable", subject,
                           f"transitions log unreadable: {exc.strerror}",
                           {"path": subject, "reason": exc.strerror}))
        return None
    return parse_object(line) if line is not None else None


def _state_value(raw: bytes, field: str) -> Any:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return doc.get(field) if isinstance(doc, dict) else None
