"""`logs/alerts.jsonl`: one alert record per notification, always on (SPEC §4, §6).

Each line is appended with O_APPEND and fsynced before the outbox row is removed, so a
kill -9 can at worst repeat a message (same `notification_id`), never lose one. Safe for
`tail -F` and logrotate (the file is reopened for every message). A message's lines are
written whole or not at all (`append_whole`): a short write never leaves a torn line.
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import orjson

from daemon.atomic import append_whole
from daemon.channels.base import Message
from daemon.errors import RetryableDeliveryError
from daemon.model import Severity


class AlertLog:
    name = "alertlog"
    min_severity = Severity.INFO
    always = True

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, msg: Message) -> None:
        data = b"".join(orjson.dumps(line, default=str) + b"\n" for line in lines(msg))
        try:
            await anyio.to_thread.run_sync(self._append, data)
        except OSError as exc:
            raise RetryableDeliveryError(f"alert log: {exc.strerror}") from exc

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            append_whole(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    async def aclose(self) -> None:
        return None


def lines(msg: Message) -> list[dict]:
    if msg.type == "verdict":
        return [{"schema": "burnin.verdict/1", "notification_id": msg.id,
                 "code": "window.verdict", **msg.verdict().to_dict()}]
    return [{**r, "notification_id": msg.id} for r in msg.records]
