"""Real loopback servers for channel tests: a small HTTP/1.1 webhook receiver."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    drip_s: float = 0.0  # > 0: send the body one byte at a time with this pause
    hold: asyncio.Event | None = None  # answer only once this is set


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.perf_counter)  # arrival, for latency benchmarks


class HookServer:
    """Records every request; answers with the scripted replies in order, then 200."""

    def __init__(self, *replies: Reply) -> None:
        self.replies = list(replies)
        self.requests: list[Request] = []
        self.arrived = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0
        self.writers: set[asyncio.StreamWriter] = set()
        self.handlers: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def __aenter__(self) -> HookServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.writers):
            writer.close()
        for task in list(self.handlers):
            task.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self.handlers.discard(task)
            self.writers.discard(writer)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, _, v in
                   (ln.partition(":") for ln in lines[1:] if ln)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Request(method, path, headers, body))
        self.arrived.set()
        reply = self.replies.pop(0) if self.replies else Reply()
        await self._reply(writer, reply)
        return True

    async def _reply(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        if reply.hold is not None:
            await reply.hold.wait()
        payload = b'{"ok": true}'
        head = f"HTTP/1.1 {reply.status} X\r\ncontent-length: {len(payload)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in reply.headers.items()) + "\r\n"
        writer.write(head.encode())
        if reply.drip_s:
            for byte in payload:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(reply.drip_s)
        else:
            writer.write(payload)
        await writer.drain()


async def until(cond, timeout_s: float = 10.0) -> None:
    """Wait (polling) until `cond()` is true; fail the test after `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while not cond():
            await asyncio.sleep(0.005)
