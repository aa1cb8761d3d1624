"""The clock: time scale, durations, timestamps."""

from __future__ import annotations

import math

import pytest

from daemon.clock import FakeClock, SystemClock, iso, nominal, parse_timestamp, real
from daemon.durations import format_duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("5m", 300), ("1h", 3600), ("3d", 259200), ("1h30m", 5400), ("250ms", 0.25),
    (45, 45),
])
def test_durations_parse(text: object, seconds: float) -> None:
    """Durations carry their unit."""
    assert parse_duration(text) == seconds


def test_a_century_is_the_longest_duration() -> None:
    assert parse_duration("36500d") == 36500 * 86400


@pytest.mark.parametrize("text", ["", "5x", "m5", "-3s", "1h 2", True, math.inf, -math.inf,
                                  math.nan, 1e300, "9" * 400 + "d", "36501d"])
def test_bad_durations_raise(text: object) -> None:
    """Anything else is refused."""
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_round_trips() -> None:
    """format_duration writes what parse_duration reads."""
    for seconds in (90, 300, 3600, 259200, 5400, 0.25):
        assert parse_duration(format_duration(seconds)) == seconds


def test_time_scale_shrinks_configured_durations() -> None:
    """At scale 864, 72 h of window pass in 5 real minutes."""
    clock = SystemClock(864)
    assert real(clock, 72 * 3600) == pytest.approx(300)
    assert nominal(clock, 300) == pytest.approx(72 * 3600)


def test_timestamps_parse_iso_and_epoch() -> None:
    """ISO with Z, with an offset, naive (UTC) and epoch seconds all parse."""
    assert parse_timestamp("2026-01-13T10:00:00Z") == 1768298400.0
    assert parse_timestamp("2026-01-13T11:00:00+01:00") == 1768298400.0
    assert parse_timestamp("2026-01-13T10:00:00") == 1768298400.0
    assert parse_timestamp(1768298400) == 1768298400.0
    assert parse_timestamp("garbage") is None and parse_timestamp(None) is None
    assert iso(1768298400.0) == "2026-01-13T10:00:00.000Z"


@pytest.mark.anyio
async def test_fake_clock_wakes_sleepers_only_when_advanced() -> None:
    """A FakeClock sleeper wakes after advance(), never on its own."""
    import asyncio

    clock = FakeClock()
    task = asyncio.create_task(clock.sleep(10))
    await asyncio.sleep(0)
    clock.advance(5)
    await asyncio.sleep(0)
    assert not task.done()
    clock.advance(5)
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert task.done()
