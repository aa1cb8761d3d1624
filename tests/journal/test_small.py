"""Small journals without numpy: the same books, and a `burnin check` that imports little."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from daemon.sources import journal_book, journal_small
from daemon.sources.journal_keys import KeyTable, hash_many
from daemon.sources.journal_parse import Fields, Parser
from daemon.sources.journal_small import SmallKeys, key_hash
from tests.journal.conftest import drained, event, line

REPO = Path(__file__).parents[2]


def test_pure_hash_is_the_numpy_hash() -> None:
    """Every length (0 to 300 bytes) hashes the same with and without numpy."""
    keys = [os.urandom(n) for n in range(0, 301, 7)] + [b"", b'"k1"', b"x" * 300]
    assert [key_hash(k) for k in keys] == hash_many(keys).tolist()


def book() -> journal_book.Book:
    fields = Fields("agent_id", "delta", "idempotency_key", "correlation_id", "event_type", "",
                    "request_id")
    return journal_book.Book(Parser(fields), "j", max_line=4096,
                             request_type="approval.requested",
                             decision_types=["approval.approved", "approval.rejected"])


def lines() -> list[bytes]:
    out = [line(event(i, account=f"a{i % 5}", delta=f"{i}.{i % 10}0")).rstrip()
           for i in range(300)]
    out[100] = line(event(7)).rstrip()  # a duplicate key
    out[150] = b"{not json"
    out[200] = line(event(900, delta="NaN?")).rstrip()
    out[250] = line(event(901, event_type="approval.approved", request_id="R")).rstrip()
    return out


def replay(monkeypatch: pytest.MonkeyPatch, small: bool) -> dict[str, Any]:
    monkeypatch.setattr(journal_book, "_small", lambda: small)
    b = book()
    body = lines()
    b.feed_body(b"\n".join(body[:120]), 1, 0)
    b.feed_body(b"\n".join(body[120:]), 121, 5000)
    return {"balances": [(a, str(v)) for a, v in b.balances.items()], "counts": b.counts,
            "findings": [(f.code, f.evidence) for f in drained(b)], "suspects": b.suspects,
            "keys": b.keys.to_bytes(), "table": type(b.keys).__name__}


def test_small_path_gives_the_numpy_books(monkeypatch: pytest.MonkeyPatch) -> None:
    """Line-by-line Decimal sums and a set of hashes: same balances, findings, suspects and
    key table bytes (a saved state is interchangeable)."""
    small, big = replay(monkeypatch, True), replay(monkeypatch, False)
    assert (small["table"], big["table"]) == ("SmallKeys", "KeyTable")
    for key in ("balances", "counts", "findings", "suspects", "keys"):
        assert small[key] == big[key], key
    assert small["suspects"] and small["counts"]["corrupt_lines"] == 1


def test_small_key_set_grows_into_a_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SMALL_KEYS keys the set becomes a KeyTable that still finds old keys."""
    monkeypatch.setattr(journal_book, "_small", lambda: True)
    monkeypatch.setattr(journal_book, "SMALL_KEYS", 10)
    b = book()
    b.feed_body(b"\n".join(line(event(i)).rstrip() for i in range(20)), 1, 0)
    assert isinstance(b.keys, KeyTable) and b.key_count == 20
    b.feed_body(line(event(3)).rstrip(), 21, 9999)
    assert [s[1] for s in b.suspects] == [21]
    table = SmallKeys()
    table.add_many([5, 3, 9])
    assert table.upgrade().to_bytes() == KeyTable.from_bytes(table.to_bytes()).to_bytes()


def test_oneshot_check_of_a_small_tree_imports_little(seed_tree: Path) -> None:
    """`burnin check` of a small healthy tree loads no numpy, structlog, rich, httpx,
    aiosmtplib, prometheus_client, APScheduler or watchfiles, and still replays the journal."""
    journal = seed_tree / "storage/events/credits.jsonl"
    journal.write_bytes(b"".join(line(event(i, delta=f"{i}.50")) for i in range(2000)))
    assert journal.stat().st_size < journal_small.SMALL_READ
    probe = (
        "import sys, io, contextlib\n"
        "from daemon.cli import main\n"  # the program's own exit would end this probe
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    main(['check', '--root', {str(seed_tree)!r}, '--format', 'json'])\n"
        "heavy = ('numpy', 'structlog', 'rich', 'httpx', 'aiosmtplib', 'prometheus_client',\n"
        "         'apscheduler', 'watchfiles')\n"
        "print(out.getvalue())\n"
        "print([m for m in heavy if m in sys.modules])\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=env, timeout=60, cwd=seed_tree.parent, check=True)
    doc, loaded = proc.stdout.rsplit("\n", 2)[0], proc.stdout.rsplit("\n", 2)[1]
    assert loaded == "[]", proc.stderr
    metrics = json.loads(doc)["metrics"]["journal"]
    assert metrics["events"] == 2000 and metrics["duplicate_keys"] == 0
