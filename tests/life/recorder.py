"""A real webhook receiver on 127.0.0.1 (http.server in a thread) that records every burnin
notification and can be taken "down" (answers 503) and brought back."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Recorder:
    def __init__(self) -> None:
        self.docs: list[dict[str, Any]] = []
        self.down = False
        self.hold: threading.Event | None = None  # set: answer only once it is set
        self.lock = threading.Lock()
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if rec.down:
                    self.send_response(503)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                with rec.lock:
                    rec.docs.append(json.loads(body))
                hold = rec.hold
                if hold is not None:
                    hold.wait(10.0)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Recorder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self) -> list[dict[str, Any]]:
        with self.lock:
            return list(self.docs)

    def alerts(self, code: str | None = None) -> list[dict[str, Any]]:
        """Every alert record received, in arrival order (optionally of one code)."""
        with self.lock:
            docs = list(self.docs)
        out = [a for d in docs if d.get("type") == "alerts" for a in d["alerts"]]
        return [a for a in out if code is None or a["code"] == code]

    def notices(self, code: str) -> list[tuple[str, str]]:
        """(reason, severity) of each record of `code`."""
        return [(a.get("reason", ""), a["severity"]) for a in self.alerts(code)]
