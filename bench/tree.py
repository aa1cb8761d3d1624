"""A healthy, empty observed tree in the seed layout, for benchmarks that run the daemon."""

from __future__ import annotations

from pathlib import Path


def seed_tree(base: Path) -> Path:
    """`base/root` with the default folders, an empty journal, a RUNNING state and one
    transition that agrees with it."""
    root = base / "root"
    for sub in ("data/webrelay_out", "data/webrelay_in", "data/failed_reports",
                "storage/events", "runtime", "logs"):
        (root / sub).mkdir(parents=True)
    (root / "storage/events/credits.jsonl").write_text("")
    (root / "runtime/system_state.json").write_text('{"state": "RUNNING"}\n')
    (root / "logs/state_transitions.jsonl").write_text(
        '{"transition_id": "t1", "from_state": "STARTING", "to_state": "RUNNING"}\n')
    return root
