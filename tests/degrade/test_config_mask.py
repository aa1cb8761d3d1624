"""Issue 18 item 10: `burnin config` prints no token from a URL; the docs name the schemas the
alert log really writes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from daemon.channels.alertlog import lines
from daemon.channels.base import Message
from daemon.masking import MASK, mask_url
from tests.degrade.conftest import REPO


@pytest.mark.parametrize(("url", "shown"), [
    ("https://hooks.slack.com/services/T000/B000/XXXXtoken", f"https://hooks.slack.com/{MASK}"),
    ("https://hc-ping.com/5f2c-uuid?key=abc#frag", f"https://hc-ping.com/{MASK}"),
    ("http://user:pw@127.0.0.1:9093", f"http://127.0.0.1:9093/{MASK}"),
    ("http://127.0.0.1:9093/", "http://127.0.0.1:9093/"),
    ("http://[::1]:8080/api/v2/alerts", f"http://[::1]:8080/{MASK}"),
    ("not a url", MASK),
    ("http://host:notaport/x", MASK),
])
def test_mask_url_keeps_only_scheme_and_host(url: str, shown: str) -> None:
    """Path, query, fragment and credentials are masked; scheme, host and port stay."""
    assert mask_url(url) == shown


def test_burnin_config_prints_no_url_token(tmp_path: Path) -> None:
    """The real `burnin config` command: webhook and dead-man tokens never reach stdout."""
    cfg = tmp_path / "burnin.toml"
    cfg.write_text(f"[system]\nroot = '{tmp_path}'\n"
                   "[[alerts.webhook]]\nurl = 'https://hooks.slack.com/services/T0/B0/SLACKTOK'\n"
                   "format = 'slack'\n"
                   "[alerts.deadman]\nurl = 'https://hc-ping.com/DEADMANTOK?k=QUERYTOK'\n")
    result = subprocess.run([sys.executable, "-m", "daemon", "config", "--config", str(cfg)],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    assert not re.search("SLACKTOK|DEADMANTOK|QUERYTOK|services", result.stdout)
    assert "https://hooks.slack.com/" in result.stdout and "https://hc-ping.com/" in result.stdout


def test_docs_name_the_schemas_the_alert_log_writes() -> None:
    """docs/alerts.md names the schema of each kind of line in logs/alerts.jsonl."""
    alert = Message(id="n1", type="alerts", system="s", created=0.0,
                    records=[{"schema": "burnin.alert/1", "code": "x"}])
    written = {lines(alert)[0]["schema"]}
    source = (REPO / "daemon/channels/alertlog.py").read_text()
    written |= set(re.findall(r'"schema": "(burnin\.[a-z]+/\d+)"', source))
    docs = (REPO / "docs/alerts.md").read_text()
    channel = docs[docs.index("`logs/alerts.jsonl` — always on"):][:600]
    assert written == {"burnin.alert/1", "burnin.verdict/1"}
    assert all(f"`{schema}`" in channel for schema in written), channel
