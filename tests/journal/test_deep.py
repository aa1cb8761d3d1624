"""Lines nested too deep (issue 18 item 4): one corrupt line, the journal keeps being judged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.jsondepth import MAX_DEPTH, depth, too_deep
from daemon.sources.journal_book import Book
from daemon.sources.journal_parse import DEEP, Corrupt, Fields, Parser, parse_object
from tests.journal.conftest import Tree, codes, drained, event, line, run_pass

pytestmark = pytest.mark.anyio
REPO = Path(__file__).parents[2]


def nested(levels: int, n: int = 0) -> bytes:
    """An event whose extra field nests `levels` deep in total (the object is level 1)."""
    inner = b"[" * (levels - 1) + b"]" * (levels - 1)
    return json.dumps(event(n)).encode()[:-1] + b', "x": ' + inner + b"}"


@pytest.mark.parametrize(("text", "want"), [
    (b"1", 0), (b"{}", 1), (b'{"a": [1, {"b": []}]}', 4), (b'"[[[["', 0),
    (b'{"a\\"[[": "}}{{"}', 1), (b'[{"k": "\\\\"}, [[]]]', 3),
])
def test_depth_ignores_brackets_in_strings(text: bytes, want: int) -> None:
    """Depth counts only the arrays and objects, not brackets inside (escaped) strings."""
    assert depth(text) == want


def test_depth_bound_is_exact() -> None:
    """A line at the bound is an event; one level more is a corrupt line (fast and slow path)."""
    assert not too_deep(nested(MAX_DEPTH)) and too_deep(nested(MAX_DEPTH + 1))
    parse_object(nested(MAX_DEPTH))
    with pytest.raises(Corrupt, match="nested deeper"):
        parse_object(nested(MAX_DEPTH + 1))


def book() -> Book:
    fields = Fields("agent_id", "delta", "idempotency_key", "correlation_id", "event_type", "",
                    "request_id")
    return Book(Parser(fields), "j", max_line=1 << 20, request_type="approval.requested",
                decision_types=["approval.approved", "approval.rejected"])


@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 995, 100_000])
def test_body_and_line_paths_agree_on_deep_lines(levels: int) -> None:
    """Around a too-deep line, both paths count the same events and report one corrupt line."""
    lines = [json.dumps(event(i)).encode() for i in range(300)]
    lines[150] = nested(levels, 150)
    lines.append(nested(MAX_DEPTH, 300))
    fast, slow = book(), book()
    fast.feed_body(b"\n".join(lines), 1, 0)
    slow.feed(lines, 1, 0)
    for b in (fast, slow):
        found = drained(b)
        assert [(f.code, f.evidence["line"], f.evidence["reason"]) for f in found] == [
            ("journal.corrupt_line", 151, DEEP)]
        assert b.counts["events"] == 300 and b.balances == {"a1": 300}


async def test_deep_line_in_a_real_file_is_one_finding(tree: Tree) -> None:
    """A 100,000-deep line, then a duplicate key and a corrupt line: each is reported, later
    appends are judged, nothing is called rewritten, and the full replay agrees."""
    tree.events(0, 5)
    tree.append(b'{"agent_id": "a1", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    tree.append(event(1), b"{broken\n")
    tree.events(5, 8)
    src = tree.env().sources.get("journal")
    first = await run_pass(src, tree.clock.time())
    assert codes(first.findings) == ["journal.corrupt_line", "journal.corrupt_line",
                                     "journal.duplicate_key"]
    assert first.metrics["events"] == 9 and first.metrics["corrupt_lines"] == 2
    tree.append(event(3), b"[" * 5000 + b"\n")
    tree.events(8, 10)
    second = await run_pass(src, tree.clock.time())
    assert codes(second.findings) == ["journal.corrupt_line", "journal.duplicate_key"]
    assert second.metrics["events"] == 12 and src.book.balances["a1"] == 12
    assert (await run_pass(src, tree.clock.time(), "integrity")).findings == []
    restarted = tree.env().sources.get("journal")  # the saved state continues
    src.save()
    tree.events(10, 11)
    assert (await run_pass(restarted, tree.clock.time())).findings == []


def test_oneshot_check_reports_the_deep_line(seed_tree: Path) -> None:
    """`burnin check` on a journal with a deep line: a finding, no traceback."""
    journal = seed_tree / "storage/events/credits.jsonl"
    journal.write_bytes(line(event(0)) + b"{" * 100_000 + b"\n" + line(event(1)) * 2)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "daemon", "check", "--root", str(seed_tree),
                           "--only", "position", "--format", "json"], capture_output=True,
                          text=True, env=env, timeout=60, cwd=seed_tree.parent)
    doc = json.loads(proc.stdout)
    found = sorted(f["code"] for f in doc["findings"])
    assert found == ["journal.corrupt_line", "journal.duplicate_key"], proc.stderr
    assert "Traceback" not in proc.stderr and proc.returncode == 2
