"""Run one model history by hand: python -m tests.life.run_one SEED [STEPS]."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import anyio

from tests.life.driver import run_history


def main() -> None:
    seed = int(sys.argv[1])
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    with tempfile.TemporaryDirectory() as tmp:
        v = anyio.run(run_history, seed, Path(tmp), steps)
    print("ops:", " ".join(v.ops))
    print("\n".join(v.violations) or "ok")


if __name__ == "__main__":
    main()
