"""A compact set of idempotency keys: 64-bit hashes in one open-addressing table.

Python's `set` costs ~60-100 bytes per key; this table costs 8 bytes per slot at a load of at
most 2/3, i.e. 12-24 bytes per key. A hash match is only a *suspect*: the caller re-checks the
exact key text against the journal (see `journal_scan.find_first`) before reporting it.
The hash is stable across processes (crc32 + adler32 of the UTF-8 key), so the table persists.
"""

from __future__ import annotations

import zlib
from array import array

_MIN_SLOTS = 1 << 10


def key_hash(key: object) -> int:
    """A stable non-zero 64-bit hash of a key (str, or int written as `#<digits>`)."""
    data = key.encode("utf-8", "surrogatepass") if isinstance(key, str) else f"#{key}".encode()
    return ((zlib.crc32(data) << 32) | zlib.adler32(data)) or 1


class KeyTable:
    """Open addressing with linear probing over `array('Q')`; 0 marks an empty slot."""

    __slots__ = ("_mask", "_slots", "count")

    def __init__(self, slots: int = _MIN_SLOTS) -> None:
        size = _MIN_SLOTS
        while size < slots:
            size <<= 1
        self._slots = array("Q", bytes(8 * size))
        self._mask = size - 1
        self.count = 0

    def add(self, h: int) -> bool:
        """Insert hash `h`; False when it was already present (a duplicate suspect)."""
        t, mask = self._slots, self._mask
        i = h & mask
        while True:
            v = t[i]
            if v == 0:
                t[i] = h
                self.count += 1
                if self.count * 3 > 2 * (mask + 1):
                    self._grow()
                return True
            if v == h:
                return False
            i = (i + 1) & mask

    def __contains__(self, h: int) -> bool:
        t, mask = self._slots, self._mask
        i = h & mask
        while True:
            v = t[i]
            if v == 0:
                return False
            if v == h:
                return True
            i = (i + 1) & mask

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("Q", bytes(16 * len(old)))
        self._mask = 2 * len(old) - 1
        self.count = 0
        for h in old:
            if h:
                self.add(h)

    @property
    def nbytes(self) -> int:
        return len(self._slots) * 8

    def to_bytes(self) -> bytes:
        return self._slots.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyTable:
        """Rebuild from `to_bytes` output; raises ValueError when the size is not a power of 2."""
        size = len(data) // 8
        if size < _MIN_SLOTS or size & (size - 1) or len(data) % 8:
            raise ValueError("key table: bad size")
        table = cls.__new__(cls)
        table._slots = array("Q")
        table._slots.frombytes(data)
        table._mask = size - 1
        table.count = sum(1 for h in table._slots if h)
        return table

    def copy(self) -> KeyTable:
        return KeyTable.from_bytes(self.to_bytes())
