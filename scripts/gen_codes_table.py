"""Print the README's finding-code table from daemon/catalog.py (the single source of truth)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from daemon.catalog import markdown_table

if __name__ == "__main__":
    print(markdown_table())
