"""daemon/crash.py: an uncaught exception exits 70, never a verdict code."""

from __future__ import annotations

import pytest

from daemon import logsetup
from daemon.crash import EX_SOFTWARE, crashed


def test_crash_without_log_is_one_stderr_line(capsys: pytest.CaptureFixture[str]) -> None:
    """With no log configured, the crash is one line on stderr and exit 70."""
    if logsetup.is_configured():
        pytest.skip("a log is configured in this process")
    assert crashed("run", ValueError("bad\nthing")) == EX_SOFTWARE == 70
    assert capsys.readouterr().err == "burnin run: crashed: ValueError: bad thing (exit 70)\n"
