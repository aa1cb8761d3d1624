"""daemon/echolog.py: the one-shot check's stderr logger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from daemon import echolog


@pytest.fixture(autouse=True)
def _level() -> Iterator[None]:
    before = echolog._LEVEL[0]
    yield
    echolog._LEVEL[0] = before


def test_warning_is_echoed_with_bound_context(capsys: pytest.CaptureFixture[str]) -> None:
    """A warning prints `burnin warning: <event> key=value`, bound context first."""
    echolog.configure(None, "info")
    echolog.get_logger(rule="host").bind(run=2).warning("slow", took_s=3)
    assert capsys.readouterr().err == "burnin warning: slow rule=host run=2 took_s=3\n"


def test_info_is_not_echoed(capsys: pytest.CaptureFixture[str]) -> None:
    """Below warning nothing is printed, whatever the configured level."""
    echolog.configure(None, "debug")
    echolog.get_logger().info("started")
    assert capsys.readouterr().err == ""


def test_secret_values_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    """A secret-looking key has its value replaced by stars."""
    echolog.configure(None, "info")
    echolog.get_logger().error("send", smtp_password="hunter2", channel="mail")
    err = capsys.readouterr().err
    assert "hunter2" not in err and "smtp_password=********" in err


def test_level_error_hides_warnings(capsys: pytest.CaptureFixture[str]) -> None:
    """With level error, a warning is dropped and an error still shows."""
    echolog.configure(None, "error")
    log = echolog.get_logger()
    log.warning("dropped")
    log.exception("kept")
    assert capsys.readouterr().err == "burnin error: kept \n"
