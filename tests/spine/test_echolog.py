"""The one-shot check's logger (daemon/echolog.py): logsetup's stderr echo, without structlog."""

from __future__ import annotations

import pytest

from daemon import echolog


def test_warnings_echo_to_stderr_with_secrets_masked(capsys: pytest.CaptureFixture[str]) -> None:
    """Warnings and above print `burnin <level>: <event> k=v`; secret-looking values are
    masked; info and debug stay quiet, as with logsetup.configure(None, ...)."""
    echolog.configure(None, "info")
    log = echolog.get_logger(check="position").bind(rule="journal_position")
    log.info("quiet", n=1)
    log.warning("journal_state_discarded", error="bad", api_token="s3cr3t")
    log.error("boom")
    err = capsys.readouterr().err.splitlines()
    assert err == ["burnin warning: journal_state_discarded check=position rule=journal_position "
                   "error=bad api_token=********",
                   "burnin error: boom check=position rule=journal_position"]


def test_level_above_warning_silences_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    echolog.configure(None, "error")
    try:
        echolog.get_logger().warning("hidden")
        echolog.get_logger().critical("shown")
    finally:
        echolog.configure(None, "info")
    assert capsys.readouterr().err == "burnin critical: shown\n"
