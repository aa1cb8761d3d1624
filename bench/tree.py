"""A healthy, empty observed tree in the seed layout, for benchmarks that run the daemon."""

from __future__ import annotations

from pathlib import Path

from daemon.sim import layout


def seed_tree(base: Path) -> Path:
    """`base/root` as `daemon.sim.layout.seed_tree` makes it (the tests' fixture too)."""
    return layout.seed_tree(base / "root")
