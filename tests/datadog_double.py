"""A small HTTP server standing in for Datadog's API on 127.0.0.1.

It checks the API key header (and the application key where Datadog needs one), decodes
compressed bodies, records every request, answers what the test scripted (429 with
rate-limit headers, 500, ...), and keeps dashboards in memory. Nothing in it is mocked
inside the program under test: the program talks to it over real HTTP.
"""

from __future__ import annotations

import gzip
import json
import threading
import uuid
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw_size: int
    body: object
    status: int


@dataclass
class DatadogDouble:
    api_key: str
    app_key: str | None = None
    requests: list[Recorded] = field(default_factory=list)
    dashboards: dict[str, dict] = field(default_factory=dict)
    _scripted: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    _always: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _hang: threading.Event = field(default_factory=threading.Event)
    _release: threading.Event = field(default_factory=threading.Event)

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None):
        """The next `times` metric or DORA submissions answer `status` (then success)."""
        self._scripted.extend([(status, headers or {})] * times)

    def fail_always(self, status: int | None) -> None:
        self._always = status

    def hang(self, hanging: bool = True) -> None:
        """Metric and DORA submissions are read, recorded (status 0) and never answered:
        the connection stays open until `hang(False)` or `stop()`."""
        if hanging:
            self._release.clear()
            self._hang.set()
        else:
            self._hang.clear()
            self._release.set()

    def accepted_series(self) -> list[dict]:
        """Every series Datadog accepted, in order of arrival."""
        return [
            series
            for r in self.requests
            if r.path == "/api/v2/series" and r.status == 202
            for series in r.body["series"]
        ]

    def submissions(self) -> list[Recorded]:
        return [r for r in self.requests if r.path == "/api/v2/series"]

    # -- serving -----------------------------------------------------------------------
    def start(self) -> str:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                double._handle(self)

            def do_POST(self):
                double._handle(self)

            def do_PUT(self):
                double._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        host, port = self._server.server_address
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        body = json.loads(_decode(raw, handler.headers.get("Content-Encoding"))) if raw else None
        path = handler.path.split("?")[0]
        if self._hang.is_set() and path in ("/api/v2/series", "/api/v2/dora/deployment"):
            with self._lock:
                self.requests.append(
                    Recorded(handler.command, path, dict(handler.headers), len(raw), body, 0)
                )
            self._release.wait(timeout=120)
            handler.close_connection = True
            return
        status, headers, answer = self._answer(handler, path, body)
        with self._lock:
            self.requests.append(
                Recorded(handler.command, path, dict(handler.headers), len(raw), body, status)
            )
        data = json.dumps(answer).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(self, handler, path: str, body) -> tuple[int, dict[str, str], object]:
        if handler.headers.get("DD-API-KEY") != self.api_key:
            return 403, {}, {"errors": ["Forbidden"]}
        if path == "/api/v2/series" and handler.command == "POST":
            if scripted := self._next_scripted():
                return scripted[0], scripted[1], {"errors": [f"scripted {scripted[0]}"]}
            if self._always:
                return self._always, {}, {"errors": [f"always {self._always}"]}
            return 202, {}, {"errors": []}
        if path == "/api/v2/dora/deployment" and handler.command == "POST":
            if scripted := self._next_scripted():
                return scripted[0], scripted[1], {"errors": [f"scripted {scripted[0]}"]}
            identity = body["data"]["attributes"]["id"]
            return 200, {}, {"data": {"id": identity, "type": "dora_deployment"}}
        if path.startswith("/api/v1/dashboard"):
            if handler.headers.get("DD-APPLICATION-KEY") != self.app_key:
                return 403, {}, {"errors": ["Forbidden: application key"]}
            return self._dashboards(handler.command, path, body)
        return 404, {}, {"errors": [f"no route {handler.command} {path}"]}

    def _next_scripted(self) -> tuple[int, dict[str, str]] | None:
        with self._lock:
            return self._scripted.pop(0) if self._scripted else None

    def _dashboards(self, method: str, path: str, body) -> tuple[int, dict[str, str], object]:
        dashboard_id = path.removeprefix("/api/v1/dashboard").strip("/")
        if method == "GET" and not dashboard_id:
            summaries = [{"id": i, "title": d["title"]} for i, d in self.dashboards.items()]
            return 200, {}, {"dashboards": summaries}
        if method == "POST" and not dashboard_id:
            dashboard_id = uuid.uuid4().hex[:3] + "-" + uuid.uuid4().hex[:3] + "-abc"
        elif dashboard_id not in self.dashboards:
            return 404, {}, {"errors": ["Dashboard not found"]}
        if method == "GET":
            return 200, {}, self.dashboards[dashboard_id]
        self.dashboards[dashboard_id] = {**body, "id": dashboard_id}
        return 200, {}, self.dashboards[dashboard_id]


def _decode(raw: bytes, encoding: str | None) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(raw)
    if encoding == "deflate":
        return zlib.decompress(raw)
    if encoding is None or encoding == "identity":
        return raw
    raise ValueError(f"unsupported Content-Encoding {encoding}")
