"""A compact set of idempotency keys: 64-bit hashes in sorted numpy arrays (8 bytes per key).

Python's `set` costs 60-100 bytes per key, a history checker's classic memory blow-up. Here a
batch of hashes is checked against a few sorted levels with `searchsorted` and then added as a
new level; levels of similar size are merged (a small log-structured merge), so both the
cost per key and the memory stay flat. A hash match is only a *suspect*: the caller re-checks
the exact key text in the journal before reporting it. The hash (adler32 << 32 | crc32 of the
key's raw JSON text) is stable across processes, so the store persists.
"""

from __future__ import annotations

import zlib

import numpy as np

_EMPTY = np.zeros(0, dtype=np.uint64)


def key_hash(raw: bytes) -> int:
    """The stable non-zero 64-bit hash of a key's raw JSON text."""
    return ((zlib.adler32(raw) << 32) | zlib.crc32(raw)) or 1


def hash_many(raws: list[bytes]) -> np.ndarray:
    """`key_hash` of many keys, computed by C loops."""
    high = np.fromiter(map(zlib.adler32, raws), dtype=np.uint64, count=len(raws))
    low = np.fromiter(map(zlib.crc32, raws), dtype=np.uint64, count=len(raws))
    out = (high << np.uint64(32)) | low
    out[out == 0] = 1
    return out


class KeyTable:
    """Sorted levels of unique uint64 hashes."""

    __slots__ = ("count", "levels")

    def __init__(self) -> None:
        self.levels: list[np.ndarray] = []
        self.count = 0

    def add_many(self, hashes: list[int] | np.ndarray) -> list[int]:
        """Add a batch; returns the indexes (in `hashes`) of values already seen before them."""
        arr = np.asarray(hashes, dtype=np.uint64)
        order = np.argsort(arr, kind="stable")
        ranked = arr[order]  # sorted queries make searchsorted cache-friendly
        seen = np.zeros(len(arr), dtype=bool)
        for level in self.levels:
            at = np.minimum(np.searchsorted(level, ranked), len(level) - 1)
            seen |= level[at] == ranked
        seen[1:] |= ranked[1:] == ranked[:-1]
        dup = np.zeros(len(arr), dtype=bool)
        dup[order] = seen
        fresh = ranked[~seen]
        if len(fresh):
            self._push(fresh)
        return np.flatnonzero(dup).tolist()

    def __contains__(self, h: int) -> bool:
        probe = np.array([h], dtype=np.uint64)
        for level in self.levels:
            at = min(int(np.searchsorted(level, probe)[0]), len(level) - 1)
            if level[at] == probe[0]:
                return True
        return False

    def _push(self, fresh: np.ndarray) -> None:
        self.levels.append(fresh)
        self.count += len(fresh)
        while len(self.levels) > 1 and len(self.levels[-2]) <= 2 * len(self.levels[-1]):
            top = self.levels.pop()
            self.levels[-1] = np.sort(np.concatenate((self.levels[-1], top)), kind="stable")

    @property
    def nbytes(self) -> int:
        return sum(level.nbytes for level in self.levels)

    def to_bytes(self) -> bytes:
        merged = np.sort(np.concatenate(self.levels)) if self.levels else _EMPTY
        return merged.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyTable:
        """Rebuild from `to_bytes` output; raises ValueError when it is not sorted unique hashes."""
        if len(data) % 8:
            raise ValueError("key table: size is not a multiple of 8")
        arr = np.frombuffer(data, dtype=np.uint64).copy()
        if len(arr) > 1 and not bool(np.all(arr[1:] > arr[:-1])):
            raise ValueError("key table: not sorted unique hashes")
        table = cls()
        if len(arr):
            table.levels, table.count = [arr], len(arr)
        return table

    def copy(self) -> KeyTable:
        return KeyTable.from_bytes(self.to_bytes())
