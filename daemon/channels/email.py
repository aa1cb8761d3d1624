"""Email via aiosmtplib. `tls = "starttls"` *requires* STARTTLS (aiosmtplib's default would
fall back to clear text), `"implicit"` is TLS from the first byte, `"none"` is clear text.
Certificates are validated (system store, or `ca_file`); the whole send runs under one
deadline (`timeout`), so a server that never greets or drips bytes cannot hang delivery."""

from __future__ import annotations

import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
import anyio

from daemon.channels import render
from daemon.channels.base import Message
from daemon.clock import Clock
from daemon.config import EmailCfg
from daemon.errors import PermanentDeliveryError, RetryableDeliveryError
from daemon.model import Severity


class Email:
    always = False

    def __init__(self, cfg: EmailCfg, clock: Clock) -> None:
        self.cfg = cfg
        self.name = "email"
        self.min_severity = Severity.parse(cfg.min_severity)
        self.clock = clock

    def build(self, msg: Message) -> EmailMessage:
        em = EmailMessage()
        em["Subject"] = render.subject(msg)
        em["From"] = self.cfg.from_
        em["To"] = ", ".join(self.cfg.to)
        em["Date"] = formatdate(self.clock.time(), usegmt=True)
        em["Message-ID"] = f"<{msg.id}@burnin.{_domain(self.cfg.from_)}>"
        em["X-Burnin-Notification"] = msg.id
        em.set_content(render.body(msg))
        return em

    async def send(self, msg: Message) -> None:
        em = self.build(msg)
        try:
            with anyio.fail_after(self.cfg.timeout):
                await aiosmtplib.send(em, **self._options())
        except TimeoutError as exc:
            raise RetryableDeliveryError("email: timed out") from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _response_error(exc) from exc
        except (aiosmtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise RetryableDeliveryError(f"email: {type(exc).__name__}: {_safe(exc)}") from exc

    def _options(self) -> dict:
        c = self.cfg
        ctx = ssl.create_default_context(cafile=c.ca_file or None)
        opts = {"hostname": c.host, "port": c.port, "timeout": c.timeout, "tls_context": ctx,
                "use_tls": c.tls == "implicit", "start_tls": c.tls == "starttls",
                "validate_certs": True}
        if c.username:
            opts |= {"username": c.username, "password": c.password or ""}
        return opts

    async def aclose(self) -> None:
        return None


def _response_error(exc: aiosmtplib.SMTPResponseException) -> Exception:
    """5xx rejects of sender/recipient/data are permanent; auth failures and 4xx retry."""
    text = f"email: SMTP {exc.code} {_safe(exc.message)}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError) or exc.code < 500:
        return RetryableDeliveryError(text)
    return PermanentDeliveryError(text, exc.code)


def _safe(exc: BaseException | str) -> str:
    return str(exc).replace("\r", " ").replace("\n", " ")[:200]


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or socket.gethostname() or "localhost"
