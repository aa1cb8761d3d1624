"""Standard Webhooks signatures checked by the reference library (`standardwebhooks`) on a
real receiver: every delivery verifies, whatever form the secret is written in; a secret that
is not base64 is a config error naming the file and key, never a silent raw-bytes key."""

from __future__ import annotations

import base64
import secrets

import pytest
from standardwebhooks import Webhook as Verifier

from daemon.clock import SystemClock
from daemon.config import load_config
from daemon.errors import ConfigError
from daemon.model import finding
from tests.alerts.support import running
from tests.channels.servers import HookServer, until
from tests.channels.verdicts import verdict_message

pytestmark = pytest.mark.anyio

KEY = secrets.token_bytes(24)
B64 = base64.b64encode(KEY).decode()


@pytest.mark.parametrize("written", ["whsec_" + B64, B64, B64.rstrip("=") + "", "whsec_" +
                                     base64.b64encode(KEY[:23]).decode().rstrip("=")])
async def test_reference_library_verifies_every_delivery(written, make_cfg, log):
    """40 alert messages and the verdict: the reference `verify` accepts 100 %."""
    async with HookServer() as srv:
        cfg = make_cfg({"webhook": [{"url": srv.url, "name": "h", "secret_env": "S",
                                     "min_severity": "INFO"}]}, env={"S": written})
        clock = SystemClock()
        async with running(cfg, clock, log) as eng:
            for i in range(40):
                f = finding("jobs.duplicate_processing", f"job-{i}", "processed twice")
                await eng.observe(f"r{i}", [f], clock.time())
            await eng.notify_verdict(verdict_message())
            await until(lambda: eng.pending() == 0, 30.0)
    verifier = Verifier(written)
    verified = [verifier.verify(r.body, r.headers) for r in srv.requests]
    assert len(verified) == len(srv.requests) >= 2
    assert verified[-1]["verdict"] == "RED"
    assert sum(len(doc["alerts"]) for doc in verified) == 40


@pytest.mark.parametrize(("secret", "problem"), [
    ("s3cr3t-value", "not base64"), ("whsec_not base64!", "not base64"),
    ("whsec_", "empty"), ("abcde", "not base64")])
def test_secret_not_base64_is_config_error(tmp_path, secret, problem):
    """file, key and problem are named; the secret itself is not echoed."""
    path = tmp_path / "burnin.toml"
    path.write_text("[[alerts.webhook]]\nurl = 'http://127.0.0.1:9/x'\nsecret_env = 'S'\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, env={"S": secret})
    text = str(err.value)
    assert text.startswith(f"config error: {path}: alerts.webhook[0].secret_env: ")
    assert problem in text and (secret.removeprefix("whsec_") or "\0") not in text


def test_secret_file_not_base64_names_the_file_key(tmp_path):
    """A `secret_file` holding a non-base64 secret: the error names `secret_file`."""
    (tmp_path / "hook.secret").write_text("my secret\n")
    path = tmp_path / "burnin.toml"
    path.write_text("[[alerts.webhook]]\nurl = 'http://127.0.0.1:9/x'\n"
                    "secret_file = 'hook.secret'\n")
    with pytest.raises(ConfigError, match=r"alerts\.webhook\[0\]\.secret_file: not base64"):
        load_config(path, env={})
