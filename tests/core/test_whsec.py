"""daemon/whsec.py: the key of a Standard Webhooks secret."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from daemon.channels import sign
from daemon.config import load_config
from daemon.errors import ConfigError
from daemon.whsec import secret_key


def test_prefix_and_padding_are_optional() -> None:
    """`whsec_` and the base64 padding may be left out: same key."""
    key = b"0123456789"
    text = base64.b64encode(key).decode()
    assert {secret_key(s) for s in (text, "whsec_" + text, text.rstrip("="))} == {key}
    assert sign.secret_key is secret_key


def test_the_config_refuses_a_secret_that_is_not_base64(tmp_path: Path) -> None:
    """A webhook secret no receiver could verify is a config error naming the webhook key."""
    cfg = tmp_path / "burnin.toml"
    cfg.write_text("[[alerts.webhook]]\nurl = 'http://127.0.0.1:9/h'\nsecret_env = 'HOOK'\n")
    with pytest.raises(ConfigError, match=r"alerts.webhook\[0\].*not base64"):
        load_config(cfg, env={"HOOK": "not base64!"})
