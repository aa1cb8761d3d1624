"""What the journal readers observe, as typed values (judged by checks/journal_decide.py).

The readers (the Book's fold, the scan, JournalFile, the snapshot reader) say what they saw —
a line that is not a JSON object, a key seen twice, a file that shrank, a snapshot balance —
with the facts behind it. Codes, severities, messages and evidence are decided in
`daemon/checks/journal_decide.py`, a pure, table-tested module.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal

from msgspec import Struct, field

from daemon.sources.ledger_snapshot import Snapshot

# -- one line (found by the Book while folding; reported once, when first seen) -------------


class CorruptLine(Struct, frozen=True):
    """A complete line that is not a JSON object (`reason`: why; `text`: its first bytes)."""

    line: int
    offset: int
    reason: str
    text: str


class OversizedLine(Struct, frozen=True):
    """A line of `size` bytes, longer than the reader's `limit`: skipped."""

    line: int
    offset: int
    size: int
    limit: int


InvalidWhat = Literal["key", "account", "delta", "sequence"]


class InvalidField(Struct, frozen=True):
    """An event whose `what` field has the wrong type (`account`: for a bad delta)."""

    line: int
    offset: int
    what: InvalidWhat
    account: Any = None


class NonFiniteDelta(Struct, frozen=True):
    """A NaN/Infinity delta for `account`; not applied."""

    line: int
    offset: int
    account: Any


class SequenceGap(Struct, frozen=True):
    """`sequence` is not `previous` + 1."""

    line: int
    offset: int
    sequence: int
    previous: int


class OrphanDecision(Struct, frozen=True):
    """A final decision for a request never opened by a request event."""

    line: int
    offset: int
    request_id: Any


class ApprovalRace(Struct, frozen=True):
    """A second final decision for one request (the first at `first_line`)."""

    line: int
    offset: int
    request_id: Any
    first_line: int


class DuplicateKey(Struct, frozen=True):
    """An idempotency key (its raw JSON text) seen again; `first`: (line, offset) or None."""

    line: int
    offset: int
    key: bytes
    first: tuple[int, int] | None


LineFact = (CorruptLine | OversizedLine | InvalidField | NonFiniteDelta | SequenceGap
            | OrphanDecision | ApprovalRace | DuplicateKey)

# -- the file and the snapshot -------------------------------------------------------------


class Unavailable(Struct, frozen=True):
    """A file that cannot be read (`error`: the system's reason)."""

    path: str
    error: str

    @classmethod
    def of(cls, path: str, exc: OSError) -> Unavailable:
        return cls(path, exc.strerror or exc.__class__.__name__)


class Rewritten(Struct, frozen=True):
    """Append-only broken: the file `shrank` (to `size`), verified bytes `changed`, or it was
    `replaced`; `offset`/`line`: how far it had been verified (line: None when not known)."""

    how: Literal["shrank", "changed", "replaced"]
    offset: int
    line: int | None = None
    size: int = 0


class Tail(Struct, frozen=True):
    """An unterminated last line of `size` bytes at `offset`, unchanged for `age_s`."""

    offset: int
    size: int
    age_s: float


class SnapshotAbsent(Struct, frozen=True):
    """The snapshot file does not exist (a finding only when configured explicitly)."""

    path: str
    error: str


class SnapshotCorrupt(Struct, frozen=True):
    path: str
    reason: str


class SnapshotRead(Struct, frozen=True):
    """A parsed snapshot; `replay`: the replay's balances (text keys) at its event count, or
    None when out of reach; `new_non_finite`: its non-finite accounts not reported before."""

    path: str
    snapshot: Snapshot
    replay: Mapping[str, Decimal] | None
    new_non_finite: tuple[str, ...] = ()


SnapshotObs = Unavailable | SnapshotAbsent | SnapshotCorrupt | SnapshotRead


class BookDiff(Struct, frozen=True):
    """Where the incremental books and a full replay up to byte `offset` differ: counters
    (name -> [incremental, replay]), accounts (sorted, with both balances), key counts."""

    offset: int
    counters: dict[str, list[int]]
    accounts: list[tuple[str, Any, Any]]
    keys: tuple[int, int]

    @property
    def differs(self) -> bool:
        return bool(self.counters or self.accounts) or self.keys[0] != self.keys[1]


# -- one pass ----------------------------------------------------------------------------------


class Observed(Struct):
    """What one pass of the journal source saw, in the order it is reported."""

    metrics: dict[str, Any] = field(default_factory=dict)
    unavailable: Unavailable | None = None
    rewritten: Rewritten | None = None
    lines: list[LineFact] = field(default_factory=list)
    negative: list[tuple[Any, Any]] = field(default_factory=list)  # (account, balance < 0)
    missing_correlation: int = 0
    tail: Tail | None = None
    snapshot: SnapshotObs | None = None
    mismatch: BookDiff | None = None
