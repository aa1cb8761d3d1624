"""The runbook table of every finding code, as Markdown, for the README (SPEC §3)."""

from __future__ import annotations

from daemon.catalog import CATALOG


def markdown_table() -> str:
    """`| code | tier | kind | runbook |` rows for every code in the catalog."""
    rows = ["| code | tier | kind | runbook |", "|---|---|---|---|"]
    for info in CATALOG.values():
        text = info.runbook.replace("|", "\\|")
        rows.append(f"| `{info.code}` | {info.severity.name} | {info.kind.value} | {text} |")
    return "\n".join(rows) + "\n"
