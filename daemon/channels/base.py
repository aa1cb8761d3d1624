"""What every channel implements, and the message it delivers.

A channel's `send` returns on acceptance and raises `RetryableDeliveryError` (5xx, timeout,
refused: try again later), `PermanentDeliveryError` (4xx, bad address: kept for inspection) or
`EndpointGoneError` (410: the endpoint is disabled). Error texts never contain secrets or URLs
(a Slack webhook URL is itself a secret); they name the channel's label.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from daemon.channels.verdict import VerdictMessage
from daemon.errors import PermanentDeliveryError
from daemon.model import Severity


class EndpointGoneError(PermanentDeliveryError):
    """The receiver answered 410 Gone: stop sending to it."""


@dataclass(frozen=True, slots=True)
class Message:
    """One notification: a group of alert records of one code, or the window's verdict."""

    id: str
    type: str  # alerts | verdict
    system: str
    created: float
    records: list[dict[str, Any]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, msg_id: str, payload: dict[str, Any]) -> Message:
        return cls(id=msg_id, type=payload["type"], system=payload.get("system", ""),
                   created=payload.get("created", 0.0), records=payload.get("records", []),
                   summary=payload.get("summary", {}))

    def verdict(self) -> VerdictMessage:
        """The typed verdict of a `verdict` message (raises `MalformedVerdictError`)."""
        return VerdictMessage.from_dict(self.summary)

    def payload(self) -> dict[str, Any]:
        return {"type": self.type, "system": self.system, "created": self.created,
                "records": self.records, "summary": self.summary}


class Channel(Protocol):
    name: str
    min_severity: Severity
    always: bool  # receives every record (the alert log), silenced and INFO included

    async def send(self, msg: Message) -> None: ...

    async def aclose(self) -> None: ...


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def one_line(text: object, limit: int = 200) -> str:
    """Text from the observed tree made safe for a header or a single line (no CR/LF)."""
    flat = _CONTROL.sub(" ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
