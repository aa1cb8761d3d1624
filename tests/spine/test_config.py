"""Config: defaults, strict validation, exact error messages, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from daemon.checks.registry import check_disabled
from daemon.config import effective, load_config, to_toml
from daemon.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "burnin.toml"
    path.write_text(text)
    return path


def test_defaults_equal_the_seed_layout() -> None:
    """With no file, the paths of SPEC §2 apply."""
    cfg = load_config(None, root=".")
    assert cfg.jobs.claims == "data/webrelay_out/*.claimed"
    assert cfg.journal.path == "storage/events/credits.jsonl"
    assert cfg.state.file == "runtime/system_state.json"
    assert cfg.schedule.health == 60 and cfg.schedule.integrity == 3600
    assert cfg.window.duration == 72 * 3600


def test_unknown_key_names_file_and_key(tmp_path: Path) -> None:
    """A typo is refused with the file, the key path and 'unknown key'."""
    path = write(tmp_path, "[jobs]\nstale_claim_aftr = '5m'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"config error: {path}: jobs.stale_claim_aftr: unknown key"


def test_bad_duration_is_explained(tmp_path: Path) -> None:
    """A duration that does not parse names its key and the accepted forms."""
    path = write(tmp_path, "[window]\nduration = '72 hours'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"config error: {path}: window.duration: bad duration "
                              "'72 hours' (use e.g. 90s, 5m, 1h, 3d)")


def test_missing_secret_variable_is_refused(tmp_path: Path) -> None:
    """A password_env naming an unset variable is a config error, not a runtime surprise."""
    path = write(tmp_path, "[alerts.email]\nhost='localhost'\nto=['ops@example.com']\n"
                           "password_env='BURNIN_TEST_UNSET'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={})
    assert str(err.value) == (f"config error: {path}: alerts.email.password_env: "
                              "environment variable BURNIN_TEST_UNSET is not set")


def test_secret_is_masked_in_effective_config(tmp_path: Path) -> None:
    """The effective config shows where a secret comes from, never its value."""
    path = write(tmp_path, "[[alerts.webhook]]\nurl='http://127.0.0.1:9/x'\n"
                           "secret_env='HOOK_SECRET'\n")
    cfg = load_config(path, env={"HOOK_SECRET": "s3cr3tValue0"})
    assert cfg.alerts.webhook[0].secret == "s3cr3tValue0"
    assert "s3cr3tValue0" not in to_toml(effective(cfg))


def test_relative_root_resolves_against_the_config_file(tmp_path: Path) -> None:
    """system.root written in a config is relative to that file's folder."""
    path = write(tmp_path, "[system]\nroot = 'tree'\n")
    assert load_config(path).root == (tmp_path / "tree").resolve()


def test_root_option_overrides_config(tmp_path: Path) -> None:
    """--root wins over system.root."""
    path = write(tmp_path, "[system]\nroot = 'tree'\n")
    assert load_config(path, root=str(tmp_path / "other")).root == tmp_path / "other"


def test_bad_toml_is_refused(tmp_path: Path) -> None:
    """Broken TOML names the file and says so."""
    path = write(tmp_path, "[window\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_unknown_rule_in_disabled_is_refused(tmp_path: Path) -> None:
    """checks.disabled must name registered rules: the rule registry refuses the config."""
    path = write(tmp_path, "[checks]\ndisabled = ['nosuchrule']\n")
    with pytest.raises(ConfigError, match=r"checks.disabled\[0\]: unknown rule 'nosuchrule'"):
        check_disabled(load_config(path))


def test_process_needs_exactly_one_matcher(tmp_path: Path) -> None:
    """A [[process]] with neither pidfile nor cmdline is refused."""
    path = write(tmp_path, "[[process]]\nname = 'worker'\n")
    with pytest.raises(ConfigError, match=r"process\.0: give exactly one of pidfile or cmdline"):
        load_config(path)


def test_example_config_is_valid_and_complete() -> None:
    """config/burnin.example.toml loads and documents every top-level table."""
    example = Path(__file__).parents[2] / "config" / "burnin.example.toml"
    cfg = load_config(example, env={"BURNIN_SMTP_PASSWORD": "x", "BURNIN_WEBHOOK_SECRET": "eQ=="})
    text = example.read_text()
    for table in ("system", "window", "schedule", "jobs", "journal", "ledger", "state", "logs",
                  "heartbeat", "thresholds", "daemon", "alerts", "metrics", "checks"):
        assert f"[{table}" in text
    assert cfg.window.duration == 72 * 3600


def test_job_glob_with_wildcard_folder_is_refused(tmp_path: Path) -> None:
    """The folder part of a jobs glob must be literal: refused at load, not at run time."""
    path = write(tmp_path, "[jobs]\nclaims = 'data/*/x.claimed'\n")
    with pytest.raises(ConfigError, match=r"jobs\.claims: the folder part must be a literal"):
        load_config(path)


def test_reload_refuses_changes_that_need_a_restart(tmp_path: Path) -> None:
    """SIGHUP may change rules and thresholds, not the window or burnin's folders."""
    from daemon.app import _reloadable

    old = load_config(write(tmp_path, "[window]\nduration = '72h'\n"))
    _reloadable(old, load_config(write(tmp_path, "[window]\nduration = '72h'\n"
                                                 "[jobs]\npending_after = '20m'\n")))
    with pytest.raises(ConfigError, match="window: changed; this table takes effect only"):
        _reloadable(old, load_config(write(tmp_path, "[window]\nduration = '24h'\n")))
