"""Print the finding-code table from daemon/catalog.py (the single source of truth); with
`--write`, replace it between the `codes:begin`/`codes:end` markers of README.md and
docs/contract.md."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from daemon.catalog import markdown_table  # noqa: E402

BEGIN, END = "<!-- codes:begin -->\n", "<!-- codes:end -->"
TARGETS = ("README.md", "docs/contract.md")


def fill(text: str, table: str) -> str:
    """`text` with the table between the markers replaced by `table`."""
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END, start)
    return text[:start] + table + "\n" + text[end:]


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        for name in TARGETS:
            path = REPO / name
            path.write_text(fill(path.read_text(encoding="utf-8"), markdown_table()),
                            encoding="utf-8")
            print(f"wrote {path}")
    else:
        print(markdown_table())
