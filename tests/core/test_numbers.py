"""The one parser of numbers from loose data (status.json, stored states, reports), as tables."""

from __future__ import annotations

import math

import pytest

from daemon.numbers import finite, number, number_at, required

INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(
    ("value", "want"),
    [(3, 3.0), (2.5, 2.5), (0, 0.0), (-1, -1.0), (INF, INF), (NAN, None), (True, None),
     (False, None), ("3", None), (None, None), ([1], None), ({"a": 1}, None)],
)
def test_number(value, want):
    """A real number becomes a float; bools, text, containers and NaN are None."""
    assert number(value) == want


@pytest.mark.parametrize(("value", "want"), [(3, 3.0), (INF, None), (-INF, None), (NAN, None),
                                             (True, None), ("1", None)])
def test_finite(value, want):
    """As number(), and an infinity is None too."""
    assert finite(value) == want


@pytest.mark.parametrize(
    ("doc", "keys", "want"),
    [({"a": {"b": 2}}, ("a", "b"), 2.0), ({"a": {"b": "2"}}, ("a", "b"), None),
     ({"a": 2}, ("a", "b"), None), ({"a": {}}, ("a", "b"), None), (None, ("a",), None),
     ([1, 2], ("a",), None), ({"a": INF}, ("a",), None), (5, (), 5.0)],
)
def test_number_at(doc, keys, want):
    """A nested figure, None wherever a step is missing or not a mapping."""
    assert number_at(doc, *keys) == want


def test_required_accepts_numbers():
    """A stored figure comes back as a float."""
    assert required(7) == 7.0 and math.isinf(required(INF))


@pytest.mark.parametrize("bad", [True, "7", None, NAN, [7]])
def test_required_refuses_everything_else(bad):
    """A bad stored figure raises ValueError (a persisted state is never guessed)."""
    with pytest.raises(ValueError, match="not a number"):
        required(bad)
