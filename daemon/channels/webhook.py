"""Webhooks via httpx: 2xx accepted, 5xx/timeout retryable (honouring Retry-After), 410 gone,
other 4xx and redirects permanent. Signed per Standard Webhooks when a secret is set."""

from __future__ import annotations

import math
from email.utils import parsedate_to_datetime

import anyio
import httpx
import orjson

from daemon.channels import formats, sign
from daemon.channels.base import EndpointGoneError, Message
from daemon.clock import Clock
from daemon.config import WebhookCfg
from daemon.errors import PermanentDeliveryError, RetryableDeliveryError
from daemon.model import Severity


class Webhook:
    always = False

    def __init__(self, cfg: WebhookCfg, clock: Clock, client: httpx.AsyncClient) -> None:
        self.cfg = cfg
        self.name = f"webhook:{cfg.label}"
        self.min_severity = Severity.parse(cfg.min_severity)
        self.clock = clock
        self.client = client

    def url(self) -> str:
        if self.cfg.format == "alertmanager" and not self.cfg.url.rstrip("/").endswith("/alerts"):
            return self.cfg.url.rstrip("/") + "/api/v2/alerts"
        return self.cfg.url

    async def send(self, msg: Message) -> None:
        now = self.clock.time()
        body = orjson.dumps(formats.FORMATS[self.cfg.format](msg, now), default=str)
        headers = {"content-type": "application/json", "user-agent": "burnin"}
        headers |= sign.headers(self.cfg.secret, msg.id, int(now), body)
        try:
            with anyio.fail_after(self.cfg.timeout):
                resp = await self.client.post(self.url(), content=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise RetryableDeliveryError(f"{self.name}: timed out") from exc
        except httpx.HTTPError as exc:
            raise RetryableDeliveryError(f"{self.name}: {type(exc).__name__}") from exc
        classify(self.name, resp.status_code, resp.headers.get("retry-after"), now)

    async def aclose(self) -> None:
        return None


def classify(name: str, status: int, retry_after: str | None, now: float) -> None:
    """Raise the delivery error a response status means; return for 2xx."""
    if 200 <= status < 300:
        return
    if status == 410:
        raise EndpointGoneError(f"{name}: 410 Gone, endpoint disabled", status)
    if status in (408, 425, 429) or status >= 500:
        raise RetryableDeliveryError(f"{name}: HTTP {status}", parse_retry_after(retry_after, now))
    raise PermanentDeliveryError(f"{name}: HTTP {status}", status)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(text).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), 24 * 3600.0)
