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


def test_units_build_one_env_for_all_rules(tmp_path: Path) -> None:
    """Units.build: one Env (config, clock, shared sources) under every rule of every check."""
    from daemon.checks.registry import Units
    from daemon.clock import FakeClock

    cfg = load_config(None, root=str(tmp_path))
    units = Units.build(cfg, FakeClock(), None, state_dir=tmp_path / "state", window_id="w-1")
    try:
        rules = units.rules("health") + units.rules("jobs")
        assert rules and {id(r.env) for r in rules} == {id(units.env)}
        assert units.env.sources is units.hub and units.env.window_id == "w-1"
        assert not units.env.oneshot and units.env.state_dir == tmp_path / "state"
        assert [r.name for r in units.rules("health")] == [c.name for c in rules_for("health")]
    finally:
        units.close()


def test_units_refuse_an_unknown_disabled_rule(tmp_path: Path) -> None:
    """The factory checks `checks.disabled` against the registry, whoever loaded the config."""
    from daemon.checks.registry import Units
    from daemon.clock import FakeClock

    path = tmp_path / "burnin.toml"
    path.write_text("[checks]\ndisabled = ['hots']\n")
    with pytest.raises(ConfigError, match="unknown rule 'hots'"):
        Units.build(load_config(path, root=str(tmp_path)), FakeClock(), None, oneshot=True)
