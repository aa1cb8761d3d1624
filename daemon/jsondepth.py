"""The nesting depth of JSON text, so decoders are bounded before they recurse (pure).

A line nested deeper than `MAX_DEPTH` is refused as a whole (a corrupt journal line, an
unreadable job file) instead of letting a decoder recurse until `RecursionError` — whose depth
depends on the caller's stack, so the same line could pass on one path and fail on another.
`depth` is exact for valid JSON (brackets inside strings do not count); for text that is not
JSON it may over-count, which only matters for text that is refused anyway. The cheap bound
`openers` (the count of `{` and `[`) is checked first.
"""

from __future__ import annotations

import re
from itertools import accumulate

MAX_DEPTH = 256  # far below the interpreter's recursion limit (1000), far above real events

_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_STEP = {ord("{"): 1, ord("["): 1, ord("}"): -1, ord("]"): -1}
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")


def openers(data: bytes) -> int:
    """An upper bound of the depth: how many `{` and `[` the text holds."""
    return data.count(b"{") + data.count(b"[")


def depth(data: bytes) -> int:
    """The deepest nesting of arrays and objects in JSON text (0 for a scalar)."""
    if openers(data) == 0:
        return 0
    bare = _STRINGS.sub(b"", data).translate(None, _NOT_BRACKETS)
    return max(0, max(accumulate(map(_STEP.__getitem__, bare)), default=0))


def too_deep(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the text nests arrays/objects deeper than `limit`."""
    return openers(data) > limit and depth(data) > limit
