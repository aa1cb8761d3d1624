"""The README stays true to the code."""

from __future__ import annotations

from pathlib import Path

from daemon.catalog import markdown_table

REPO = Path(__file__).parents[2]


def test_readme_code_table_matches_catalog() -> None:
    """The finding table between the codes markers is generated from the catalog."""
    text = (REPO / "README.md").read_text()
    start = text.index("<!-- codes:begin -->\n") + len("<!-- codes:begin -->\n")
    end = text.index("<!-- codes:end -->")
    assert text[start:end].strip() == markdown_table()


def test_readme_quick_start_has_the_test_command_ci_runs() -> None:
    """.ci/run calls the README's test command."""
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci/run").read_text()
    assert ".venv/bin/python -m pytest" in readme and ".venv/bin/python -m pytest" in ci
