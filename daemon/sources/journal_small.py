"""The journal's key hashes and key set without numpy, for small journals (pure).

A `burnin check` of a small journal should not pay numpy's import (more than the rest of the
check). A pass that reads less than `SMALL_READ` bytes while numpy is not loaded replays line
by line with Decimal sums; up to `SMALL_KEYS` keys, a Book keeps its idempotency-key hashes in
a Python set, hashed here one at a time with exactly `journal_keys.hash_many`'s function (so a
state saved by one is read by the other); past that, or once numpy is loaded anyway, the set
becomes a `journal_keys.KeyTable`.
"""

from __future__ import annotations

import os
from array import array
from typing import Any

SMALL_READ = 2 << 20  # a pass reading more than this loads numpy first (the batched paths)
SMALL_KEYS = 50_000  # beyond this many keys, the sorted numpy table is smaller and faster
_M64 = (1 << 64) - 1
_SEED, _M1, _M2 = 0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB


def load_numpy() -> None:
    """Import numpy for the batched paths, with one OpenBLAS thread unless the environment
    asks for more: burnin does no linear algebra, and OpenBLAS starting a thread per core at
    import costs ~0.05 s of CPU (and ~0.015 s of wall) for nothing."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import numpy  # noqa: F401


def key_hash(raw: bytes) -> int:
    """`journal_keys.key_hash` in pure Python: length, then each 8-byte little-endian word."""
    n = len(raw)
    h = (n * _SEED) & _M64
    padded = bytes(raw) + b"\0" * (-n % 8)
    for i in range(0, len(padded), 8):
        mixed = ((h ^ int.from_bytes(padded[i:i + 8], "little")) * _M1) & _M64
        h = mixed ^ (mixed >> 32)
    h ^= h >> 30
    h = (h * _M1) & _M64
    h ^= h >> 27
    h = (h * _M2) & _M64
    h ^= h >> 31
    return h or 1


def hash_list(raws: list[bytes]) -> list[int]:
    return [key_hash(raw) for raw in raws]


class SmallKeys:
    """A set of key hashes with KeyTable's interface (`add_many`, `count`, `to_bytes`)."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: set[int] = set()

    @property
    def count(self) -> int:
        return len(self.seen)

    @property
    def nbytes(self) -> int:
        return 8 * len(self.seen)

    def filter_bytes(self) -> int:
        return 0

    def add_many(self, hashes: Any) -> list[int]:
        """Add a batch; the indexes (in `hashes`) of values already seen before them."""
        seen, dups = self.seen, []
        values = hashes.tolist() if hasattr(hashes, "tolist") else hashes
        for i, h in enumerate(values):
            if h in seen:
                dups.append(i)
            else:
                seen.add(h)
        return dups

    def to_bytes(self) -> bytes:
        return array("Q", sorted(self.seen)).tobytes()

    def upgrade(self) -> Any:
        """The same keys as a numpy KeyTable."""
        from daemon.sources.journal_keys import KeyTable

        return KeyTable.from_bytes(self.to_bytes())
