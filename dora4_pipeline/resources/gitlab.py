"""GitLab's REST API, for one question: the commits of a push that its hook left out.

A push hook lists only the newest 20 commits (`total_commits_count` has the real number),
and the oldest commits, with the longest lead times, are the ones left out. With GITLAB_URL
and GITLAB_TOKEN set, `compare_commits` asks GitLab for them:
`GET /api/v4/projects/:id/repository/compare?from=<before>&to=<after>&straight=true`
(GitLab's Repositories API: `straight=true` is `from..to`, the commits `after` brings that
`before` did not have; the answer is one document, not paginated: `commits` oldest first,
each with `id` and `committed_date`).

The token travels only in the `PRIVATE-TOKEN` header and arrives through `dg.EnvVar`, so
Dagster stores the variable's name, never its value; no error text carries it. Every
request has a connect and a read timeout; 429 and 5xx are retried with exponential backoff
(honouring `Retry-After`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from urllib.parse import quote, urlencode

import dagster as dg
import urllib3

_RETRIED = (429, 500, 502, 503, 504)


class GitLabRefused(Exception):
    """GitLab answered, and not with the commits (4xx: unknown project or commit, no access):
    asking again will not help."""


class GitLabUnavailable(Exception):
    """No answer worth keeping (timeouts, connection errors, 429/5xx after the retries):
    the next run asks again."""


class GitLabResource(dg.ConfigurableResource):
    url: str | None = None  # GITLAB_URL: https://gitlab.example.com (an /api/v4 suffix is fine)
    token: str | None = None  # GITLAB_TOKEN, as dg.EnvVar: read_api scope is enough
    connect_timeout_seconds: float = 5.0
    read_timeout_seconds: float = 30.0
    max_retries: int = 4
    backoff_seconds: float = 1.0  # waits 0, 1, 2, 4 s before the retries (Retry-After wins)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> GitLabResource:
        """The URL as given; the token as the name of its variable, only when it is set."""
        return cls(
            url=env.get("GITLAB_URL") or None,
            token=dg.EnvVar("GITLAB_TOKEN") if env.get("GITLAB_TOKEN") else None,
        )

    @property
    def configured(self) -> bool:
        return bool(self.url and self.token)

    @property
    def api_url(self) -> str:
        base = (self.url or "").rstrip("/")
        return base if base.endswith("/api/v4") else f"{base}/api/v4"

    def compare_commits(self, project_id: str, from_sha: str, to_sha: str) -> list[dict]:
        """The commits `to_sha` has and `from_sha` has not, oldest first."""
        query = urlencode({"from": from_sha, "to": to_sha, "straight": "true"})
        path = f"/projects/{quote(str(project_id), safe='')}/repository/compare?{query}"
        answer = self._get(path)
        commits = answer.get("commits") if isinstance(answer, dict) else None
        if not isinstance(commits, list):
            raise GitLabRefused("the compare answer has no `commits` list")
        return commits

    def _get(self, path: str):
        retries = urllib3.Retry(
            total=self.max_retries,
            status_forcelist=_RETRIED,
            allowed_methods={"GET"},
            backoff_factor=self.backoff_seconds / 2,  # urllib3 sleeps factor * 2**(n-1)
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        timeout = urllib3.Timeout(
            connect=self.connect_timeout_seconds, read=self.read_timeout_seconds
        )
        with urllib3.PoolManager(retries=retries, timeout=timeout) as pool:
            try:
                response = pool.request(
                    "GET",
                    self.api_url + path,
                    headers={"PRIVATE-TOKEN": self.token or "", "Accept": "application/json"},
                )
            except urllib3.exceptions.HTTPError as error:
                raise GitLabUnavailable(self._redact(f"{type(error).__name__}: {error}")) from None
        if response.status in _RETRIED:
            raise GitLabUnavailable(f"HTTP {response.status} after {self.max_retries} retries")
        if response.status != 200:
            raise GitLabRefused(f"HTTP {response.status}: {self._redact(_message(response.data))}")
        try:
            return json.loads(response.data)
        except ValueError:
            raise GitLabRefused("the answer is not JSON") from None

    def _redact(self, text: str) -> str:
        return text.replace(self.token, "***") if self.token else text


def _message(body: bytes) -> str:
    """GitLab's own `message` (e.g. `404 Commit Not Found`), else the body's start."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:200].decode(errors="replace")
    message = document.get("message") if isinstance(document, dict) else None
    return str(message if message is not None else document)[:200]
