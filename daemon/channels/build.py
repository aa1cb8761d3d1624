"""The channels a config enables: the alert log always, email and webhooks when configured."""

from __future__ import annotations

import httpx

from daemon.channels.alertlog import AlertLog
from daemon.channels.base import Channel
from daemon.channels.email import Email
from daemon.channels.webhook import Webhook
from daemon.clock import Clock
from daemon.config import Config


def build(cfg: Config, clock: Clock, client: httpx.AsyncClient) -> list[Channel]:
    """Channels with unique names (`alertlog`, `email`, `webhook:<label>`)."""
    channels: list[Channel] = [AlertLog(cfg.log_dir / "alerts.jsonl")]
    if cfg.alerts.email is not None:
        channels.append(Email(cfg.alerts.email, clock))
    names = {c.name for c in channels}
    for i, hook_cfg in enumerate(cfg.alerts.webhook):
        hook = Webhook(hook_cfg, clock, client)
        if hook.name in names:
            hook.name = f"{hook.name}#{i}"
        names.add(hook.name)
        channels.append(hook)
    return channels


def http_client() -> httpx.AsyncClient:
    """No redirects followed (a 3xx is a permanent error), no proxies from the environment."""
    return httpx.AsyncClient(follow_redirects=False, trust_env=False,
                             limits=httpx.Limits(max_connections=20))
