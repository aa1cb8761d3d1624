"""Windows support: import-safe on Linux, and the shipped WinSW definition."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from daemon.service import windows
from daemon.service.windows import WinswError, parse_winsw, parse_winsw_duration

XML = Path(__file__).resolve().parents[2] / "packaging" / "windows" / "burnin-service.xml"


def test_module_imports_without_windows_modules() -> None:
    """daemon.service.windows imports in a fresh interpreter without Windows-only modules."""
    code = ("import sys, daemon.service.windows as w; "
            "print(sorted({'winreg', '_winapi', 'msvcrt', 'win32api'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=XML.parents[2], check=True).stdout
    assert out.strip() == "[]" and windows.WINSW_VERSION.startswith("2.")


def test_shipped_definition_runs_burnin_run() -> None:
    """The WinSW definition starts `burnin run` from the service's virtual environment."""
    d = parse_winsw(XML.read_text(encoding="utf-8"))
    assert d.id == "burnin" and d.executable.endswith(r"\venv\Scripts\burnin.exe")
    assert d.arguments.split()[0] == "run" and "--config" in d.arguments


def test_shipped_definition_stops_with_a_margin() -> None:
    """WinSW waits well past burnin's own stop budget (hard exit at 4.5 s, SPEC 5 s) before it
    kills the process, and Ctrl+C reaches the python child first."""
    from daemon.cli import HARD_STOP_S

    d = parse_winsw(XML.read_text(encoding="utf-8"))
    assert d.stop_timeout_s >= 2 * 5 and d.stop_timeout_s >= HARD_STOP_S + 5
    assert d.stop_parent_first is False


def test_shipped_definition_runs_in_service_mode() -> None:
    """The service runs `burnin run --service`: a verdict is exit 0, never a WinSW failure."""
    args = parse_winsw(XML.read_text(encoding="utf-8")).arguments.split()
    assert args[:2] == ["run", "--service"]


def test_shipped_definition_restarts_a_bounded_number_of_times() -> None:
    """Failures restart the service at most twice, then leave it stopped."""
    assert parse_winsw(XML.read_text(encoding="utf-8")).on_failure == ["restart", "restart",
                                                                        "none"]


@pytest.mark.parametrize(("text", "seconds"), [("5 sec", 5), ("10sec", 10), ("1 hour", 3600),
                                               ("500", 0.5), ("2 mins", 120)])
def test_winsw_durations_parse(text: str, seconds: float) -> None:
    """WinSW durations parse with their units (a bare number is milliseconds)."""
    assert parse_winsw_duration(text) == seconds


@pytest.mark.parametrize("xml", ["<service><id>x</id>", "<config/>",
                                 "<service><id>x</id></service>",
                                 "<service><id>x</id><executable>a</executable>"
                                 "<stoptimeout>soon</stoptimeout></service>"])
def test_bad_definitions_are_refused(xml: str) -> None:
    """Malformed XML, a wrong root, a missing executable or a bad duration is a WinswError."""
    with pytest.raises(WinswError):
        parse_winsw(xml)
