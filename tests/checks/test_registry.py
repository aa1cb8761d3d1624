"""daemon/checks/registry.py: rules found by discovery; `checks.disabled` checked against them."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon import cli
from daemon.checks.registry import check_disabled, rule_names, rules_for
from daemon.config import load_config
from daemon.errors import ConfigError


def test_discovery_finds_rules_of_every_module() -> None:
    """Every rule module registers by being discovered, selfmon's `daemon_self` included."""
    assert {"host", "daemon_self"} <= set(rule_names())
    assert "daemon_self" in [cls.name for cls in rules_for("health")]


def test_disabled_rules_are_left_out() -> None:
    """A rule named in `disabled` is not among its check's rules."""
    assert "host" not in [cls.name for cls in rules_for("health", ["host"])]


def test_unknown_disabled_rule_names_file_and_key(tmp_path: Path) -> None:
    """An unknown rule name is a config error naming the file, the key and the known rules."""
    path = tmp_path / "burnin.toml"
    path.write_text("[checks]\ndisabled = ['host', 'hots']\n")
    with pytest.raises(ConfigError, match=rf"{path}: checks.disabled\[1\]: unknown rule 'hots'"):
        check_disabled(load_config(path))


def test_the_cli_refuses_an_unknown_disabled_rule(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`burnin config` on such a file exits 78 (bad config) with the key on stderr."""
    path = tmp_path / "burnin.toml"
    path.write_text("[checks]\ndisabled = ['hots']\n")
    assert cli.main(["config", "--config", str(path)]) == 78
    assert "checks.disabled[0]: unknown rule 'hots'" in capsys.readouterr().err
