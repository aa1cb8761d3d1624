"""Print the README's finding-code table from daemon/catalog.py (the single source of truth)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.catalog import CATALOG


def table() -> str:
    rows = ["| code | severity | kind | check | runbook |", "|---|---|---|---|---|"]
    for info in CATALOG.values():
        rows.append(f"| `{info.code}` | {info.severity.name} | {info.kind.value} | "
                    f"{info.check} | {info.runbook} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table())
