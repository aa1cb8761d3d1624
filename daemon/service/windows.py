"""Windows service support, import-safe everywhere (nothing here touches Windows APIs).

burnin runs under WinSW 2.x (`packaging/windows/burnin-service.xml`), a small wrapper that
starts `burnin run` as a console child and, on stop, sends it Ctrl+C. pywin32's
ServiceFramework was not used: its service host (pythonservice.exe) loads the interpreter
outside the virtual environment and its DLLs, a known source of broken installs.

On Windows the daemon gets Ctrl+C as SIGINT and Ctrl+Break as SIGBREAK, routed by
`daemon.service.signals.install` with `signal.signal` + `call_soon_threadsafe`; config reload
(no SIGHUP there) is `runtime/reload.request`, see `signals.request_reload`.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

IS_WINDOWS = sys.platform == "win32"
WINSW_VERSION = "2.12.0"
STOP_SIGNALS = ("SIGINT", "SIGBREAK")  # what Ctrl+C and Ctrl+Break become in Python
_UNITS = {"ms": 0.001, "sec": 1, "secs": 1, "min": 60, "mins": 60, "hour": 3600,
          "hours": 3600, "day": 86400, "days": 86400}


class WinswError(ValueError):
    """A WinSW definition that is not well-formed or lacks what burnin needs."""


@dataclass(frozen=True)
class WinswDefinition:
    """What burnin relies on in a WinSW service definition."""

    id: str
    executable: str
    arguments: str
    stop_timeout_s: float
    stop_parent_first: bool
    on_failure: list[str] = field(default_factory=list)


def parse_winsw_duration(text: str) -> float:
    """A WinSW duration (`5 sec`, `10sec`, `1 hour`, `500 ms`) in seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", text.lower())
    if match is None or (match.group(2) or "ms") not in _UNITS:
        raise WinswError(f"not a WinSW duration: {text!r}")
    unit = match.group(2) or "ms"  # a bare number is milliseconds
    return float(match.group(1)) * _UNITS[unit]


def parse_winsw(xml_text: str) -> WinswDefinition:
    """Read a WinSW 2.x XML definition; WinswError if malformed or incomplete."""
    try:
        root = ET.fromstring(xml_text)
    except ET.ParseError as exc:
        raise WinswError(f"not well-formed XML: {exc}") from exc
    if root.tag != "service":
        raise WinswError(f"root element is <{root.tag}>, expected <service>")

    def text(tag: str, default: str | None = None) -> str:
        value = root.findtext(tag)
        if value is None and default is None:
            raise WinswError(f"<{tag}> is missing")
        return (value if value is not None else default or "").strip()

    return WinswDefinition(
        id=text("id"),
        executable=text("executable"),
        arguments=text("arguments", ""),
        stop_timeout_s=parse_winsw_duration(text("stoptimeout", "15 sec")),
        stop_parent_first=text("stopparentprocessfirst", "false").lower() == "true",
        on_failure=[e.get("action", "") for e in root.findall("onfailure")],
    )
