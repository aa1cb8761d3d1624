"""Numbers read from loose data (status.json, a stored state, a report): one parser for all.

JSON gives `int`, `float` (NaN and infinities from Python writers), `bool` (an `int` to Python,
never a figure here) or anything else. Every reader of such data asks the same question, so it
is answered here once, pure and table-tested (tests/core/test_numbers.py):

- `number(v)`: a float, or None for a bool, a non-number or NaN (infinities pass);
- `finite(v)`: as `number`, and None for an infinity too (a chart or a mean needs finite);
- `number_at(doc, *keys)`: `finite(doc[k1][k2]...)`, None where a step is not a mapping;
- `required(v)`: as `number`, but a bad value raises ValueError (a persisted state that must
  not be guessed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping


def number(value: object) -> float | None:
    """`value` as a float when it is a real number (not a bool, not NaN), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


def finite(value: object) -> float | None:
    """`value` as a finite float, else None (bools, text, NaN and infinities)."""
    found = number(value)
    return found if found is not None and math.isfinite(found) else None


def number_at(doc: object, *keys: str) -> float | None:
    """`doc[k1][k2]...` as a finite float, or None when a step is missing or not a number."""
    for key in keys:
        if not isinstance(doc, Mapping):
            return None
        doc = doc.get(key)
    return finite(doc)


def required(value: object) -> float:
    """`value` as a float; anything but a real number raises ValueError."""
    found = number(value)
    if found is None:
        raise ValueError(f"not a number: {value!r}")
    return found
