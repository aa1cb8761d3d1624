"""Alert storms bounded (SPEC §5): beyond `alerts.max_subjects_per_code` subjects of one code in
one look, the rest become one aggregated finding per code ("… and N more").

100,000 pending job files used to become 100,000 alerts: as many alert states in memory and
in SQLite, a 188 MB alerts.jsonl and reports to match. `bound` is pure and sits where a
rule's findings enter the alert engine, so everything after it — decisions, outbox, channels,
status.json and reports — sees at most `limit` + 1 alerts per code and rule. A rule that can
produce a flood builds its findings in chunks through a `Bounder` (the same result in memory
proportional to the limit, not to the flood).

Which subjects stay individual: the most severe first, then by subject, so the same ones stay
individual from look to look (no fire/resolve churn). The aggregate has a fixed subject
(`AGGREGATE_SUBJECT`), so it is one alert whose count and sample change, at the worst
severity of what it stands for; it resolves when the code drops back under the limit.

Pure (it knows only `daemon.model`), it sits below both the checks and the alerts: the alert
engine bounds every rule's findings with it, and the jobs watcher builds its own with it.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable

from daemon.model import Finding, Kind, Severity

AGGREGATE_SUBJECT = "… more subjects"
SAMPLE = 10  # subjects named in the aggregate's evidence


def bound(findings: list[Finding], limit: int) -> list[Finding]:
    """`findings` with at most `limit` subjects per code plus one aggregate per code over it
    (an aggregate already made upstream passes through)."""
    sizes = Counter(f.code for f in findings if f.subject != AGGREGATE_SUBJECT)
    if all(n <= limit for n in sizes.values()):
        return findings
    bounder = Bounder(limit)
    bounder.add(findings)
    return bounder.result()


def _rank(f: Finding) -> tuple[int, str]:
    return (-f.severity, f.subject)


class Bounder:
    """`bound` fed in chunks: keeps per code the best `limit` + SAMPLE findings and counts."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.top: dict[str, list[Finding]] = {}
        self.counts: dict[str, Counter[Severity]] = defaultdict(Counter)
        self.kinds: dict[str, set[Kind]] = defaultdict(set)
        self.passed: list[Finding] = []

    def add(self, findings: Iterable[Finding]) -> None:
        by_code: dict[str, list[Finding]] = defaultdict(list)
        for f in findings:
            if f.subject == AGGREGATE_SUBJECT:
                self.passed.append(f)
                continue
            by_code[f.code].append(f)
            self.counts[f.code][f.severity] += 1
            self.kinds[f.code].add(f.kind)
        for code, group in by_code.items():
            self.top[code] = heapq.nsmallest(self.limit + SAMPLE,
                                             self.top.get(code, []) + group, key=_rank)

    def result(self) -> list[Finding]:
        out: list[Finding] = []
        for code, top in self.top.items():
            out += top[:self.limit]
            if sum(self.counts[code].values()) > self.limit:
                out.append(self._aggregate(code, top))
        return out + self.passed

    def _aggregate(self, code: str, top: list[Finding]) -> Finding:
        rest = self.counts[code] - Counter(f.severity for f in top[:self.limit])
        more = sum(rest.values())
        kind = Kind.CONDITION if Kind.CONDITION in self.kinds[code] else Kind.EVENT
        return Finding(
            code=code, severity=max(rest), subject=AGGREGATE_SUBJECT, kind=kind,
            message=(f"{top[self.limit].message} … and {more:,} more {code} subjects beyond "
                     f"the first {self.limit} (alerts.max_subjects_per_code)"),
            evidence={"more": more, "limit": self.limit,
                      "sample": [f.subject for f in top[self.limit:]],
                      "by_severity": {s.name: n for s, n in sorted(rest.items())}})
