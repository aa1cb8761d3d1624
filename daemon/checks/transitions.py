"""Integrity rule `transitions`: every line of the transitions log is a JSON object, ids are
unique and each transition starts where the previous one ended (SPEC §3 `transitions.*`).

`scan_transitions` is pure over an iterable of lines; the rule runs it in a worker thread over
the whole file each integrity pass and reports each defect once (events).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from daemon.checks.base import Rule, Tick
from daemon.checks.registry import register
from daemon.model import Finding, Kind, finding
from daemon.sources.jsonl import Line, iter_lines, parse_object

MAX_REPORTED = 10_000


def scan_transitions(
    subject: str, lines: Iterable[Line], *, id_field: str, from_field: str, to_field: str
) -> tuple[list[Finding], dict[str, Any]]:
    """Defects of one transitions log and its figures (pure over `lines`)."""
    out: list[Finding] = []
    seen: dict[bytes, int] = {}
    prev_to: Any = None
    count = 0
    for line in lines:
        if line.data is not None and not line.data.strip():
            continue
        doc = parse_object(line.data) if line.data is not None else None
        where = {"line": line.number, "offset": line.offset}
        if doc is None:
            out.append(finding("transitions.corrupt_line", f"{subject}:{line.number}",
                               f"line {line.number} is not a JSON object",
                               {**where, "preview": _preview(line.data)}))
            continue
        count += 1
        out += _check_id(subject, doc.get(id_field), seen, where)
        if count > 1 and doc.get(from_field) != prev_to:
            out.append(finding("transitions.discontinuity", f"{subject}:{line.number}",
                               f"transition starts from {doc.get(from_field)!r} but the previous "
                               f"one ended in {prev_to!r}",
                               {**where, "from_state": doc.get(from_field),
                                "previous_to_state": prev_to}))
        prev_to = doc.get(to_field)
    return out, {"transitions": count, "last_to_state": prev_to}


def _check_id(subject: str, tid: Any, seen: dict[bytes, int], where: dict[str, int]
              ) -> list[Finding]:
    if tid is None:
        return []
    key = hashlib.blake2b(repr(tid).encode(), digest_size=12).digest()
    if key in seen:
        return [finding("transitions.duplicate_id", f"{subject}#{tid}",
                        f"transition id {tid!r} appears again (first at line {seen[key]})",
                        {**where, "transition_id": tid, "first_line": seen[key]})]
    seen[key] = where["line"]
    return []


def _preview(data: bytes | None) -> str:
    if data is None:
        return "(oversized line)"
    return data[:120].decode("utf-8", "replace")


@register
class TransitionsRule(Rule):
    name = "transitions"
    check = "integrity"

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        self._reported: set[str] = set()

    async def run(self, tick: Tick) -> list[Finding]:
        cfg = self.env.cfg
        rel = cfg.state.transitions
        path = cfg.observed(rel)
        if not path.exists():
            return [finding("source.unavailable", rel, "transitions log is missing", {"path": rel})]
        found, figures = await self.env.offload(self._scan, path, rel)
        tick.metric("transitions", figures)
        return self._only_new_events(found)

    def _only_new_events(self, found: list[Finding]) -> list[Finding]:
        """Conditions every time; an event only the first time it is seen."""
        out = [f for f in found if f.kind is Kind.CONDITION or f.fingerprint not in self._reported]
        if len(self._reported) < MAX_REPORTED:
            self._reported.update(f.fingerprint for f in out if f.kind is Kind.EVENT)
        return out

    def _scan(self, path: Any, rel: str) -> tuple[list[Finding], dict[str, Any]]:
        st = self.env.cfg.state
        try:
            return scan_transitions(rel, iter_lines(path), id_field=st.transition_id_field,
                                    from_field=st.from_field, to_field=st.to_field)
        except OSError as exc:
            return [finding("source.unavailable", rel,
                            f"transitions log unreadable: {exc.strerror}",
                            {"path": rel, "reason": exc.strerror})], {}
