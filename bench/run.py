"""Run every benchmark (or only assemble) and write bench/RESULTS.md from bench/results/*.md.

    python bench/run.py              # run all bench_*.py, then assemble
    python bench/run.py --quick      # smaller inputs
    python bench/run.py --assemble   # only rebuild RESULTS.md from the stored sections
    python bench/run.py --only journal --only jobs   # some areas, then assemble
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDER = ("journal", "jobs", "alerts", "health", "service")


def run_all(quick: bool, only: list[str] | None = None) -> int:
    failed = 0
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem.removeprefix("bench_") not in only:
            continue
        cmd = [sys.executable, str(script), *(["--quick"] if quick else [])]
        print("$", " ".join(cmd), flush=True)
        failed += subprocess.call(cmd, cwd=HERE.parent) != 0
    return failed


def assemble() -> Path:
    sections = sorted((HERE / "results").glob("*.md"),
                      key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else 99, p.stem))
    head = ("# Benchmark results\n\nEach section was written by its benchmark "
            "(`bench/bench_<area>.py`), with the machine, date, command and the baseline "
            "measured in the same run. Rebuild with `python bench/run.py`.\n")
    body = "\n\n".join(p.read_text().strip() for p in sections)
    out = HERE / "RESULTS.md"
    out.write_text(head + "\n" + body + "\n")
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--assemble", action="store_true")
    parser.add_argument("--only", action="append", metavar="AREA",
                        help="run only bench_<AREA>.py (repeatable); the others keep their "
                             "stored sections")
    args = parser.parse_args()
    failed = 0 if args.assemble else run_all(args.quick, args.only)
    print(f"wrote {assemble()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
