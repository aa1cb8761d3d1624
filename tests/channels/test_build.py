"""daemon/channels/build.py: the channels a config enables."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from daemon.channels.build import build, http_client
from daemon.clock import FakeClock

pytestmark = pytest.mark.anyio


async def test_alert_log_alone_by_default(make_cfg: Callable[..., Any]) -> None:
    """With no email or webhook configured, only the alert log is built."""
    async with http_client() as client:
        assert [c.name for c in build(make_cfg(), FakeClock(), client)] == ["alertlog"]


async def test_same_named_webhooks_get_unique_names(make_cfg: Callable[..., Any]) -> None:
    """Two webhooks with one name are told apart by their position."""
    hooks = [{"url": "http://127.0.0.1:9/a", "name": "ops"},
             {"url": "http://127.0.0.1:9/b", "name": "ops"}]
    async with http_client() as client:
        names = [c.name for c in build(make_cfg({"webhook": hooks}), FakeClock(), client)]
    assert len(names) == len(set(names)) == 3 and names[0] == "alertlog"


async def test_http_client_follows_no_redirect() -> None:
    """The shared client never follows a redirect (a 3xx is a permanent error)."""
    async with http_client() as client:
        assert client.follow_redirects is False
