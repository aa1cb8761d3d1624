"""Persist a Book and its reading position: one file, an orjson header line + the key table.

The file is replaced atomically (daemon.atomic), so a kill -9 leaves the previous state.
Decimals are written as their exact text; a state that does not load is discarded by the
caller (logged), and the journal is re-read from byte 0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson

from daemon.sources.journal_book import COUNTERS, Book
from daemon.sources.journal_scan import Position

VERSION = 2  # 2: a new key hash (journal_keys); a version-1 state is discarded, re-read


def dump(book: Book, pos: Position, extra: dict[str, Any]) -> bytes:
    """Serialize `book`, `pos` and `extra` (file identity, fingerprints, base)."""
    header = {
        "version": VERSION, "pos": [pos.offset, pos.lines, pos.crc], "counts": book.counts,
        "balances": [[acc, _num(v)] for acc, v in book.balances.items()],
        "last_seq": book.last_seq, "requested": list(book.requested),
        "decided": list(book.decided.items()),
        "history": book.history.dump(), "extra": extra,
    }
    return orjson.dumps(header) + b"\n" + book.keys.to_bytes()


def load(data: bytes, book: Book) -> tuple[Position, dict[str, Any]]:
    """Fill an empty `book` from `dump` output; raises ValueError when it does not fit."""
    head, sep, keys = data.partition(b"\n")
    try:
        h = orjson.loads(head)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"journal state: bad header: {exc}") from None
    if not sep or not isinstance(h, dict) or h.get("version") != VERSION:
        raise ValueError("journal state: unknown format")
    try:
        _fill(book, h, keys)
        offset, lines, crc = h["pos"]
        return Position(int(offset), int(lines), int(crc)), dict(h["extra"])
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError(f"journal state: {exc!r}") from None


def _fill(book: Book, h: dict[str, Any], keys: bytes) -> None:
    counts = h["counts"]
    book.counts.update({name: int(counts[name]) for name in COUNTERS})
    book.balances = {_key(acc): _parse(v) for acc, v in h["balances"]}
    book.last_seq = h["last_seq"]
    book.requested = {_key(r) for r in h["requested"]}
    book.decided = {_key(r): int(line) for r, line in h["decided"]}
    book.history.load(h["history"], book.counts["events"])
    from daemon.sources.journal_keys import KeyTable

    book.keys = KeyTable.from_bytes(keys)


def _num(value: Any) -> Any:
    return value if isinstance(value, int) else str(value)


def _parse(value: Any) -> Any:
    return value if isinstance(value, int) else Decimal(value)


def _key(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
