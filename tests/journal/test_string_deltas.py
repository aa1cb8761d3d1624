"""String decimal deltas (`"delta": "10.50"`, SPEC §2): summed exactly on every replay path."""

from __future__ import annotations

import decimal
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daemon.sources.journal_book import EXACT, Book
from daemon.sources.journal_parse import INVALID, Fields, Parser, decimal_text
from tests.journal.conftest import Tree, codes, event, run_pass

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("text", "want"), [
    ("10.50", Decimal("10.50")), ("-3", Decimal(-3)), ("+2.5", Decimal("2.5")),
    ("0.000000000000000000001", Decimal("1e-21")), ("1e3", Decimal("1e3")),
    ("-2.5E-3", Decimal("-0.0025")), (".5", Decimal("0.5")), ("007", Decimal(7)),
    ("NaN", INVALID), ("Infinity", INVALID), ("-inf", INVALID), ("", INVALID),
    (" 5", INVALID), ("5 ", INVALID), ("1_000", INVALID), ("1,5", INVALID), ("0x10", INVALID),
    ("\u0661", INVALID), ("five", INVALID), ("1.2.3", INVALID), ("-", INVALID), ("e5", INVALID),
])
def test_string_is_a_finite_decimal_or_invalid(text: str, want: Any) -> None:
    """Only a plain ASCII decimal (sign, digits, fraction, exponent) is a delta."""
    got = decimal_text(text)
    assert got is want if want is INVALID else (got == want and str(got) == str(want))


def book() -> Book:
    fields = Fields("agent_id", "delta", "idempotency_key", "correlation_id", "event_type", "",
                    "request_id")
    return Book(Parser(fields), "j", max_line=4096, request_type="approval.requested",
                decision_types=["approval.approved", "approval.rejected"])


def line(i: int, account: str, delta: Any) -> bytes:
    return json.dumps({"agent_id": account, "delta": delta, "idempotency_key": f"k{i}",
                       "correlation_id": "c"}).encode()


def expected(items: list[tuple[str, Any]]) -> tuple[dict[str, str], int]:
    """Balances (as text: value and exponent) and the invalid count, one Decimal at a time."""
    out: dict[str, Any] = {}
    invalid = 0
    with decimal.localcontext(EXACT):
        for account, delta in items:
            d = decimal_text(delta) if isinstance(delta, str) else Decimal(json.dumps(delta))
            if d is INVALID:
                invalid += 1
            else:
                out[account] = out.get(account, 0) + d
    return {a: str(v) for a, v in out.items()}, invalid


plain = st.decimals(min_value=-10**9, max_value=10**9, places=3, allow_nan=False)
deltas = st.one_of(
    st.integers(-10**15, 10**15),
    plain.map(str),  # "12.345", "-0.100"
    st.integers(-10**15, 10**15).map(str),
    st.sampled_from(["10.50", "-0", "0.00", "1e3", "-2.5E-3", "007", "+4", ".5", "NaN",
                     "Infinity", "", " 1", "1,2", "1_0", "12345678901234567890.5"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["a", "b"]), deltas), min_size=1, max_size=40),
       st.integers(1, 4))
def test_string_and_number_deltas_agree_on_every_path(items: list[tuple[str, Any]],
                                                      batches: int) -> None:
    """The body path (any batching), the line path and the one-line slow path give the
    balances of adding each delta as a Decimal, and count each bad string once."""
    lines = [line(i, a, d) for i, (a, d) in enumerate(items)]
    want, invalid = expected(items)
    body, each, slow = book(), book(), book()
    step = -(-len(lines) // batches)
    for start in range(0, len(lines), step):
        body.feed_body(b"\n".join(lines[start:start + step]), start + 1, 0)
    for i, raw in enumerate(lines):
        each.feed([raw], i + 1, 0)
        slow.feed_slow(raw, i + 1, 0)
    for b in (body, each, slow):
        assert {a: str(v) for a, v in b.balances.items()} == want
        assert b.counts["invalid_fields"] == invalid and b.counts["events"] == len(items)


async def test_negative_balance_of_string_deltas_is_seen(tree: Tree) -> None:
    """A ledger written with string deltas: the overdraft is found, nothing is invalid."""
    tree.append(event(0, delta="10.50"), event(1, delta="-12.25"))
    out = await run_pass(tree.env().sources.get("journal"), tree.clock.time())
    assert codes(out.findings) == ["ledger.negative_balance"]
    assert out.findings[0].evidence["balance"] == "-1.75"


async def test_matching_snapshot_of_string_deltas_is_no_drift(tree: Tree) -> None:
    """A snapshot that agrees with the string deltas reports no drift."""
    tree.append(*(event(n, account=f"a{n % 3}", delta=f"{n}.25") for n in range(30)))
    tree.snapshot({"balances": {"a0": "137.50", "a1": "147.50", "a2": "157.50"}})
    out = await run_pass(tree.env().sources.get("journal"), tree.clock.time())
    assert out.findings == [] and out.metrics["invalid_fields"] == 0


async def test_bad_string_delta_is_invalid_field(tree: Tree) -> None:
    """A string that is not a finite decimal is journal.invalid_field, not applied."""
    tree.append(event(0, delta="5"), event(1, delta="NaN"), event(2, delta="ten"))
    out = await run_pass(tree.env().sources.get("journal"), tree.clock.time())
    assert codes(out.findings) == ["journal.invalid_field", "journal.invalid_field"]
    assert out.metrics["invalid_fields"] == 2


def _mixed(n: int) -> list[dict[str, Any]]:
    forms = [lambda k: f"{k}.{k % 100:02d}", lambda k: k, lambda k: f"-{k % 7}.5",
             lambda k: round(k / 8, 3), lambda k: "1e2", lambda k: "oops" if k % 7 == 0 else "1"]
    return [event(k, account=f"acc{k % 13}", delta=forms[k % len(forms)](k)) for k in range(n)]


async def test_incremental_full_and_oneshot_replays_agree(tree: Tree) -> None:
    """Position passes over appended pieces, the hourly full replay and a one-shot replay of
    the same file (large enough for the batched paths) give the same books."""
    events = _mixed(30_000)
    env = tree.env()
    src = env.sources.get("journal")
    for start in range(0, len(events), 7_000):
        tree.append(*events[start:start + 7_000])
        await run_pass(src, tree.clock.time())
    incremental = (dict(src.book.balances), dict(src.book.counts))
    assert not [f for f in (await run_pass(src, tree.clock.time(), "integrity")).findings
                if f.code in ("journal.replay_mismatch", "journal.rewritten")]
    full = (dict(src.book.balances), dict(src.book.counts))
    one = tree.env(oneshot=True).sources.get("journal")
    await run_pass(one, tree.clock.time(), "integrity")
    oneshot = (dict(one.book.balances), dict(one.book.counts))
    want, invalid = expected([(e["agent_id"], e["delta"]) for e in events])
    for balances, counts in (incremental, full, oneshot):
        assert {a: str(v) for a, v in balances.items()} == want
        assert counts["invalid_fields"] == invalid > 0
    assert incremental == full == oneshot
