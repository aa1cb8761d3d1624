"""A replay book built as the journal source builds it (the SPEC §2 field names)."""

from __future__ import annotations

import json
from typing import Any

from daemon.sources.journal_book import Book
from daemon.sources.journal_parse import Fields, Parser


def book() -> Book:
    parser = Parser(Fields("agent_id", "delta", "idempotency_key", "correlation_id",
                           "event_type", "", "request_id"))
    return Book(parser, "j.jsonl", max_line=1 << 20, request_type="approval.requested",
                decision_types=["approval.approved", "approval.rejected"])


def line(n: int, account: str = "a", delta: Any = 1, **extra: Any) -> bytes:
    return json.dumps({"agent_id": account, "delta": delta, "idempotency_key": f"k{n}",
                       "correlation_id": f"c{n}", **extra}).encode() + b"\n"
