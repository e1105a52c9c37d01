"""An HTTP fault proxy for putting in front of moto's S3 server (AWS_ENDPOINT_URL).

Each request is forwarded to the real server over HTTP, unless the dice say otherwise:
S3's own throttling and error answers (503 SlowDown, 500 InternalError, as S3 writes them:
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html), a connection reset
before any answer, no answer at all (`hang`), or a delay before forwarding. The dice are
seeded, so a failing run can be repeated. Nothing in the program under test is patched:
it sees a flaky S3.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# The error bodies S3 sends (ErrorResponses.html): XML with Code, Message, RequestId.
_S3_ERRORS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "error": (500, "InternalError", "We encountered an internal error. Please try again."),
}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade"}


class FaultProxy:
    """`share` of requests fail, split evenly between SlowDown, InternalError and resets;
    `latency_share` more are delayed by `latency_seconds`. `share=1.0` is an outage."""

    def __init__(
        self,
        upstream: str,
        *,
        share: float,
        faults: tuple[str, ...] = ("slowdown", "error", "reset"),
        latency_share: float = 0.0,
        latency_seconds: float = 0.2,
        seed: int = 12,
        target: str | None = None,
    ) -> None:
        """`target`: only requests whose X-Amz-Target header starts with it are faulted
        (e.g. "ResourceGroupsTaggingAPI" for the Tagging API); None: every request."""
        parts = urlsplit(upstream)
        self.target = target
        self.upstream = (parts.hostname, parts.port)
        self.share = share
        self.faults = faults
        self.latency_share = latency_share
        self.latency_seconds = latency_seconds
        self.counts: Counter[str] = Counter()
        self._dice = random.Random(seed)
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def _roll(self) -> str:
        with self._lock:
            roll = self._dice.random()
            if roll < self.share:
                fate = self.faults[self._dice.randrange(len(self.faults))]
            elif roll < self.share + self.latency_share:
                fate = "latency"
            else:
                fate = "forwarded"
            self.counts[fate] += 1
            return fate

    def start(self) -> str:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy._handle(self)

            do_PUT = do_POST = do_HEAD = do_DELETE = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        host, port = self._server.server_address
        self.url = f"http://{host}:{port}"
        return self.url

    def stop(self) -> None:
        self._stopped.set()
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        aimed = self.target is None or (handler.headers.get("X-Amz-Target") or "").startswith(
            self.target
        )
        fate = self._roll() if aimed else "forwarded"
        if fate == "hang":  # accepts, reads, never answers (until stop)
            self._stopped.wait(timeout=60)
            handler.close_connection = True
            return
        if fate == "reset":
            # SO_LINGER 0: close() sends RST, as a dropped connection does.
            handler.connection.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
            handler.close_connection = True
            handler.connection.close()
            return
        if fate in _S3_ERRORS:
            status, code, message = _S3_ERRORS[fate]
            data = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{code}</Code><Message>{message}</Message>"
                "<RequestId>4442587FB7D0A2F9</RequestId></Error>"
            ).encode()
            handler.send_response(status)
            handler.send_header("Content-Type", "application/xml")
            handler.send_header("x-amz-request-id", "4442587FB7D0A2F9")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(data)
            return
        if fate == "latency":
            threading.Event().wait(self.latency_seconds)
        self._forward(handler, body)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        upstream = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in _HOP_BY_HOP}
            upstream.request(handler.command, handler.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            data = response.read()
        finally:
            upstream.close()
        handler.send_response(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in _HOP_BY_HOP | {"content-length", "server", "date"}:
                handler.send_header(name, value)
        length = response.getheader("Content-Length")
        if handler.command == "HEAD" and length is not None:
            handler.send_header("Content-Length", length)
        else:
            handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        if handler.command != "HEAD":
            handler.wfile.write(data)
