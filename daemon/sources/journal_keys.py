"""A compact set of idempotency keys: 64-bit hashes in sorted numpy arrays (8 bytes per key).

Python's `set` costs 60-100 bytes per key, a history checker's classic memory blow-up. Here a
batch of hashes is checked against a few sorted levels with `searchsorted` and then added as a
new level; levels of similar size are merged (a small log-structured merge), so both the
cost per key and the memory stay flat. A Bloom filter (2 to 4 bytes per key) in front of the
levels lets most new keys skip the binary searches. A hash match is only a *suspect*: the
caller re-checks the exact key text in the journal before reporting it. The hash of the key's
raw JSON text (its length, then each 8-byte little-endian word, mixed by multiply-xorshift
steps; numpy over a whole batch) is stable across processes and machines, so the store
persists.
"""

from __future__ import annotations

import numpy as np

_EMPTY = np.zeros(0, dtype=np.uint64)
_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))  # odd: spread the bits
_U3, _U7, _U1 = np.uint64(3), np.uint64(7), np.uint64(1)
BITS_PER_KEY = 16  # below this many filter bits per key, the filter is rebuilt larger


_SEED, _M1, _M2 = (np.uint64(x) for x in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9,
                                             0x94D049BB133111EB))
_S27, _S30, _S31, _S32 = (np.uint64(x) for x in (27, 30, 31, 32))
WIDE = 256  # keys longer than this are hashed one at a time (by the same function)


def key_hash(raw: bytes) -> int:
    """The stable non-zero 64-bit hash of a key's raw JSON text."""
    return int(hash_many([raw])[0])


def hash_many(raws: list[bytes]) -> np.ndarray:
    """`key_hash` of many keys, a few numpy passes over the whole batch."""
    lens = np.fromiter(map(len, raws), dtype=np.int64, count=len(raws))
    if not len(raws) or lens.max() <= WIDE:
        return _hash_rows(b"".join(raws), lens)
    out = np.empty(len(raws), dtype=np.uint64)
    short = np.flatnonzero(lens <= WIDE)
    out[short] = _hash_rows(b"".join([raws[i] for i in short.tolist()]), lens[short])
    for i in np.flatnonzero(lens > WIDE).tolist():
        out[i] = _hash_rows(bytes(raws[i]), lens[i:i + 1])[0]
    return out


def hash_lines(joined: bytes, n: int) -> np.ndarray:
    """`hash_many` of `n` keys joined by '\\n' (a key's raw JSON text holds no raw newline).
    Keys of one length (the usual case) are hashed straight from `joined`, as a matrix."""
    size = joined.find(b"\n") if n > 1 else len(joined)
    if 0 < size <= WIDE and n * (size + 1) - 1 == len(joined) and (
            n == 1 or bool((np.frombuffer(joined, np.uint8)[size::size + 1] == 10).all())):
        rows = np.frombuffer(joined + b"\n", np.uint8).reshape(n, size + 1)
        mat = np.zeros((n, 8 * -(-size // 8)), dtype=np.uint8)
        mat[:, :size] = rows[:, :size]
        return _mix(mat, np.full(n, size, dtype=np.int64))
    return hash_many(joined.split(b"\n"))


def _hash_rows(joined: bytes, lens: np.ndarray) -> np.ndarray:
    """The hash of each key of `joined` (keys of lengths `lens`, back to back)."""
    width = 8 * int(-(-lens.max() // 8)) if len(lens) else 8
    return _mix(_matrix(joined, lens, width), lens)


def _mix(mat: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """The hashes of the keys in the rows of a zero-padded byte matrix (lengths `lens`)."""
    width = mat.shape[1]
    words = mat.view("<u8")
    nwords = (lens + 7) // 8
    least = int(nwords.min()) if len(lens) else 0
    h = lens.astype(np.uint64) * _SEED
    for j in range(width // 8):
        mixed = (h ^ words[:, j]) * _M1
        mixed ^= mixed >> _S32
        h = mixed if j < least else np.where(j < nwords, mixed, h)
    h ^= h >> _S30
    h *= _M1
    h ^= h >> _S27
    h *= _M2
    h ^= h >> _S31
    h[h == 0] = 1
    return h


def _matrix(joined: bytes, lens: np.ndarray, width: int) -> np.ndarray:
    """Keys as the rows of a (keys, width) byte matrix, zero-padded."""
    flat = np.frombuffer(joined, dtype=np.uint8)
    mat = np.zeros((len(lens), width), dtype=np.uint8)
    if len(lens) and lens.min() == lens.max():
        mat[:, :lens[0]] = flat.reshape(len(lens), int(lens[0]))
        return mat
    starts = np.cumsum(lens) - lens
    at = np.repeat(np.arange(len(lens)) * width - starts, lens) + np.arange(len(flat))
    mat.ravel()[at] = flat
    return mat


class Filter:
    """A Bloom filter of uint64 hashes (two bits each): `maybe` is False for most new ones."""

    __slots__ = ("bits", "log2")

    def __init__(self, log2: int = 16) -> None:
        self.log2 = log2
        self.bits = np.zeros(1 << (log2 - 3), dtype=np.uint8)

    def _at(self, hashes: np.ndarray) -> list[np.ndarray]:
        shift = np.uint64(64 - self.log2)
        return [(hashes * mix) >> shift for mix in _MIX]

    def maybe(self, hashes: np.ndarray) -> np.ndarray:
        out = np.ones(len(hashes), dtype=bool)
        for at in self._at(hashes):
            out &= ((self.bits[at >> _U3] >> (at & _U7)) & _U1).astype(bool)
        return out

    def add(self, hashes: np.ndarray) -> None:
        for at in self._at(hashes):
            np.bitwise_or.at(self.bits, at >> _U3, np.left_shift(1, at & _U7).astype(np.uint8))


class KeyTable:
    """Sorted levels of unique uint64 hashes (and a filter in front of them)."""

    __slots__ = ("_filter_of", "count", "levels")

    def __init__(self) -> None:
        self.levels: list[np.ndarray] = []
        self.count = 0
        self._filter_of: Filter | None = Filter()  # None: rebuilt on next use

    @property
    def filter(self) -> Filter:
        """The Bloom filter over every level (rebuilt here when it fell behind)."""
        if self._filter_of is None:
            bloom = Filter(max(16, (self.count * BITS_PER_KEY).bit_length() + 1))
            for level in self.levels:
                bloom.add(level)
            self._filter_of = bloom
        return self._filter_of

    def filter_bytes(self) -> int:
        """Memory of the filter (as built, or as it will be)."""
        if self._filter_of is not None:
            return int(self._filter_of.bits.nbytes)
        return 1 << (max(16, (self.count * BITS_PER_KEY).bit_length() + 1) - 3)

    def add_many(self, hashes: list[int] | np.ndarray) -> list[int]:
        """Add a batch; returns the indexes (in `hashes`) of values already seen before them."""
        arr = np.asarray(hashes, dtype=np.uint64)
        ranked = np.sort(arr)
        if not (ranked[1:] == ranked[:-1]).any() and not self._any_known(arr):
            if len(ranked):
                self._push(ranked)  # the common case: all new
            return []
        return self._add_with_duplicates(arr)

    def meets(self, ranked: np.ndarray) -> bool:
        """Whether any of these sorted unique hashes (a merged half's level) is already in the
        table: each level and the query are merged by one stable sort (two sorted runs) and
        checked for a repeat."""
        for level in self.levels:
            both = np.sort(np.concatenate((level, ranked)), kind="stable")
            if bool((both[1:] == both[:-1]).any()):
                return True
        return False

    def push_unique(self, ranked: np.ndarray) -> None:
        """Add sorted hashes that are unique and not in the table (a merged table's level);
        kept as a level of its own, the filter rebuilt when next needed."""
        if len(ranked):
            self.levels.insert(0, ranked)  # a big level goes below the smaller ones
            self.count += len(ranked)
            self._filter_of = None

    def _any_known(self, arr: np.ndarray) -> bool:
        if not self.levels:
            return False
        if self._filter_of is None and len(arr) * 16 >= self.count:
            return bool(self._known(np.sort(arr)).any())  # cheaper than building the filter
        return bool(self._known(np.sort(arr[self.filter.maybe(arr)])).any())

    def _add_with_duplicates(self, arr: np.ndarray) -> list[int]:
        order = np.argsort(arr, kind="stable")
        ranked = arr[order]  # sorted queries make searchsorted cache-friendly
        seen = np.zeros(len(arr), dtype=bool)
        if self.levels:
            probe = np.flatnonzero(self.filter.maybe(ranked))
            seen[probe] = self._known(ranked[probe])
        seen[1:] |= ranked[1:] == ranked[:-1]
        dup = np.zeros(len(arr), dtype=bool)
        dup[order] = seen
        fresh = ranked[~seen]
        if len(fresh):
            self._push(fresh)
        return np.flatnonzero(dup).tolist()

    def _known(self, ranked: np.ndarray) -> np.ndarray:
        seen = np.zeros(len(ranked), dtype=bool)
        for level in self.levels if len(ranked) else ():
            at = np.minimum(np.searchsorted(level, ranked), len(level) - 1)
            seen |= level[at] == ranked
        return seen

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
        self._filter(fresh)
        while len(self.levels) > 1 and len(self.levels[-2]) <= 2 * len(self.levels[-1]):
            top = self.levels.pop()
            self.levels[-1] = np.sort(np.concatenate((self.levels[-1], top)), kind="stable")

    def _filter(self, fresh: np.ndarray) -> None:
        bloom = self._filter_of
        if bloom is not None and self.count * BITS_PER_KEY <= 1 << bloom.log2:
            bloom.add(fresh)
        else:
            self._filter_of = None  # rebuilt (larger) when next needed

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
            table._filter(arr)
        return table

    def copy(self) -> KeyTable:
        return KeyTable.from_bytes(self.to_bytes())
