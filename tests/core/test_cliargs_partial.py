"""`burnin COMMAND …` builds only that command's parser: the same arguments parse the same,
and anything else (no command, a global option first, a typo) gets the full parser."""

from __future__ import annotations

import pytest

from daemon.cliargs import command_of, parser


@pytest.mark.parametrize("argv", [
    ["check"], ["check", "--root", "/srv", "--only", "health,jobs", "--format", "json"],
    ["run", "--window", "24h", "--time-scale", "864", "--new-window"],
    ["status", "--format", "json"], ["report", "--format", "html", "-o", "r.html"],
    ["ack", "abc", "--for", "1h"], ["silence", "--list"], ["fleet", "--stale-after", "5m"],
    ["demo", "--faults", "none"], ["config", "--config", "x.toml"], ["reload"], ["watch"],
])
def test_one_command_parses_as_the_full_parser(argv: list[str]) -> None:
    assert command_of(argv) == argv[0]
    assert parser(command_of(argv)).parse_args(argv) == parser().parse_args(argv)


@pytest.mark.parametrize("argv", [[], ["--version"], ["-h"], ["chek"], ["--root", "x"]])
def test_anything_else_gets_every_command(argv: list[str]) -> None:
    assert command_of(argv) is None


def test_a_partial_parser_still_refuses_with_usage_exit_64(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        parser("check").parse_args(["check", "--only", "nope"])
    assert exc.value.code == 64 and "unknown check(s) nope" in capsys.readouterr().err
