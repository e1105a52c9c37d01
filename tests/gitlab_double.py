"""A small HTTP server standing in for GitLab's REST API on 127.0.0.1 (one endpoint).

`GET /api/v4/projects/:id/repository/compare?from=&to=&straight=` answers GitLab's compare
document (`commit`, `commits` oldest first, `diffs`, `compare_timeout`, `compare_same_ref`,
`web_url`) from what the generator wrote (gitlab_api.json) or a test gave; unknown pushes
are GitLab's `404 Commit Not Found`; a wrong PRIVATE-TOKEN is `401 Unauthorized`. It records
every request and answers what a test scripted (429 with Retry-After, 503, a slow answer).
The program under test talks to it over real HTTP; nothing in it is mocked.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass
class GitLabDouble:
    token: str
    compares: dict[str, list[dict]] = field(default_factory=dict)  # "<id> <from> <to>"
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)
    _scripted: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    delay_seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, status: int, times: int = 1, headers: dict[str, str] | None = None):
        self._scripted.extend([(status, headers or {})] * times)

    def start(self) -> str:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                status, headers, body = double._answer(self.path, dict(self.headers))
                if double.delay_seconds:
                    time.sleep(double.delay_seconds)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def compare_requests(self) -> list[str]:
        return [path for path, _, _ in self.requests if "/repository/compare" in path]

    def _answer(self, raw_path: str, headers: dict[str, str]) -> tuple[int, dict, object]:
        with self._lock:
            status, extra, body = self._route(raw_path, headers)
            self.requests.append((raw_path, headers, status))
        return status, extra, body

    def _route(self, raw_path: str, headers: dict[str, str]):
        if headers.get("PRIVATE-TOKEN") != self.token:
            return 401, {}, {"message": "401 Unauthorized"}
        if self._scripted:
            status, extra = self._scripted.pop(0)
            return status, extra, {"message": f"{status} scripted"}
        parts = urlsplit(raw_path)
        segments = parts.path.split("/")
        if (
            segments[1:3] != ["api", "v4"]
            or segments[3] != "projects"
            or segments[5:]
            != [
                "repository",
                "compare",
            ]
        ):
            return 404, {}, {"message": "404 Not Found"}
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        commits = self.compares.get(f"{unquote(segments[4])} {query.get('from')} {query.get('to')}")
        if commits is None:
            return 404, {}, {"message": "404 Commit Not Found"}
        return (
            200,
            {},
            {
                "commit": commits[-1],
                "commits": commits,
                "diffs": [],
                "compare_timeout": False,
                "compare_same_ref": False,
                "web_url": f"https://gitlab.example.com/-/compare/{query['from']}...{query['to']}",
            },
        )
