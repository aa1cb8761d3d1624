"""The repository documents its own interface (issue 14 item 14): docs/contract.md with the
codes table from the catalog, no link outside the repository, help on every option and an
example per command that the parser accepts, README commands that work verbatim."""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.catalog import markdown_table
from daemon.cliargs import parser

REPO = Path(__file__).parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _between_markers(text: str) -> str:
    start = text.index("<!-- codes:begin -->\n") + len("<!-- codes:begin -->\n")
    return text[start:text.index("<!-- codes:end -->")].strip()


def test_contract_code_table_matches_catalog() -> None:
    """docs/contract.md lists every finding code exactly as the catalog has it."""
    assert _between_markers((REPO / "docs/contract.md").read_text()) == markdown_table()


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_links_stay_inside_the_repository(doc: Path) -> None:
    """Every relative link resolves to a file of the repository; none leaves it."""
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        path = (doc.parent / target).resolve()
        assert path.is_relative_to(REPO), f"{doc.name}: {target} leaves the repository"
        assert path.exists(), f"{doc.name}: {target} does not exist"


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", sorted(_subparsers()))
def test_every_option_has_help_and_every_command_exit_codes_and_example(name: str) -> None:
    """--help documents each option, the exit codes, and an example the parser accepts."""
    sub = _subparsers()[name]
    for action in sub._actions:
        assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)
    assert "exit codes:" in (sub.epilog or "")
    example = sub.epilog.split("example:\n", 1)[1].strip()
    argv = shlex.split(example)
    assert argv[:2] == ["burnin", name]
    parser().parse_args(argv[1:])


def test_readme_command_lines_parse() -> None:
    """Every `burnin ...` line of the README's usage block is accepted by the parser."""
    text = (REPO / "README.md").read_text()
    block = text.split("## Using it on your system", 1)[1].split("```bash\n", 1)[1]
    lines = [ln.split("#")[0].strip() for ln in block.split("```", 1)[0].splitlines()]
    commands = [shlex.split(ln) for ln in lines if ln.startswith("burnin ")]
    assert len(commands) >= 6
    for argv in commands:
        if "--help" not in argv:
            parser().parse_args(argv[1:])


def test_readme_config_command_works_verbatim_without_secrets() -> None:
    """`burnin config --config config/burnin.example.toml` from a checkout: exit 0 although
    the example names secret variables that are not set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BURNIN_")}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-m", "daemon", "config", "--config",
                           "config/burnin.example.toml"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "[alerts.email]" in done.stdout and "warning" in done.stderr


def test_contract_lists_every_command() -> None:
    """A row of the contract's command table for each command the parser knows."""
    text = (REPO / "docs/contract.md").read_text()
    missing = [n for n in _subparsers() if f"| `burnin {n}" not in text]
    assert missing == []
