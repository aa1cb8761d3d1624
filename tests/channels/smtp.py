"""Real SMTP servers for email tests: aiosmtpd (STARTTLS/implicit TLS, auth) and raw bad ones."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import time
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "alice", "correct horse"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """Keeps every accepted message and whether it came over TLS."""

    def __init__(self) -> None:
        self.messages: list[tuple[bytes, bool]] = []
        self.arrivals: list[float] = []  # perf_counter at DATA, for latency benchmarks

    async def handle_DATA(self, server, session, envelope):
        self.arrivals.append(time.perf_counter())
        tls = server.transport.get_extra_info("ssl_object") is not None
        self.messages.append((envelope.content, tls))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, data):
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() \
        and data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


class Certs:
    def __init__(self, folder: Path) -> None:
        ca = trustme.CA()
        self.cert = ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = folder / "ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(ctx)
        return ctx


@contextlib.contextmanager
def smtp_server(certs: Certs | None, *, implicit: bool = False, starttls: bool = True,
                auth: bool = False):
    """An aiosmtpd server on loopback (its own thread); yields (port, sink)."""
    sink = Sink()
    port = free_port()
    kw: dict = {"authenticator": authenticator, "auth_required": auth}
    if certs is not None and implicit:
        kw["ssl_context"] = certs.server_context()
    elif certs is not None and starttls:
        kw["tls_context"] = certs.server_context()
    ctl = Controller(sink, hostname="127.0.0.1", port=port, server_hostname="localhost", **kw)
    ctl.start()
    try:
        yield port, sink
    finally:
        ctl.stop()


@contextlib.asynccontextmanager
async def raw_server(greeting: bytes | None, drip_s: float = 0.0):
    """A TCP server that never greets (None) or drips `greeting` one byte at a time."""
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            if greeting is None:
                await reader.read()
            for byte in greeting or b"":
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(drip_s)
            await reader.read()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
