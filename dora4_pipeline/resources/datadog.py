"""Datadog's API through datadog-api-client. Without an API key, publishing is a dry run.

Secrets arrive through `dg.EnvVar`, so Dagster stores the variable's name, never its
value; `redact` scrubs them from any text that could reach a log, metadata or the ledger.
The client's own retry handles 429 (waiting for `X-RateLimit-Reset`), 5xx and timeouts;
every request has a connect and a read timeout, so an endpoint that never answers fails
the payload (recorded as failed, sent by the rerun) instead of hanging the run.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import dagster as dg
from datadog_api_client import ApiClient, Configuration

from dora4_pipeline.resources.network import (
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_READ_TIMEOUT_SECONDS,
)
from dora4_pipeline.settings import http_timeouts, parse_url

DEFAULT_SITE = "datadoghq.com"


class DatadogResource(dg.ConfigurableResource):
    api_key: str | None = None
    app_key: str | None = None
    site: str = DEFAULT_SITE
    url: str | None = None  # DORA4_DATADOG_URL: a proxy or a test double
    max_retries: int = 6  # 429 waits for X-RateLimit-Reset; 5xx backs off 0, 4, 8, 16 s...
    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> DatadogResource:
        """Names, not values: each secret that is set becomes an `EnvVar` of it."""

        def env_var(name: str) -> dg.EnvVar | None:
            return dg.EnvVar(name) if env.get(name) else None

        return cls(
            api_key=env_var("DD_API_KEY"),
            app_key=env_var("DD_APP_KEY"),
            site=env.get("DD_SITE") or DEFAULT_SITE,
            url=parse_url(env.get("DORA4_DATADOG_URL"), "DORA4_DATADOG_URL"),
            **http_timeouts(env),
        )

    @property
    def dry_run(self) -> bool:
        return not self.api_key

    @property
    def base_url(self) -> str:
        return (self.url or f"https://api.{self.site}").rstrip("/")

    @property
    def destination(self) -> str:
        """Where points go, safe to show: scheme and host only."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")

    def api_client(self) -> ApiClient:
        configuration = Configuration(
            host=self.base_url,
            api_key={
                "apiKeyAuth": self.api_key or "",
                **({"appKeyAuth": self.app_key} if self.app_key else {}),
            },
            enable_retry=True,
            max_retries=self.max_retries,
            request_timeout=(self.connect_timeout_seconds, self.read_timeout_seconds),
        )
        return ApiClient(configuration)

    def failure_reason(self, error: Exception, limit: int = 500) -> str:
        """Why a request failed, safe for logs and the ledger: status, reason and Datadog's
        answer (never the request's headers), keys removed; 401/403 names the keys."""
        lines = [
            line for line in str(error).splitlines() if not line.startswith("HTTP response headers")
        ]
        reason = " ".join(" ".join(lines).split())[:limit] or type(error).__name__
        if getattr(error, "status", None) in (401, 403):
            reason += (
                f" (Datadog at {self.destination} refused the keys: check DD_API_KEY, "
                "DD_APP_KEY and DD_SITE)"
            )
        return self.redact(reason)

    def redact(self, text: str) -> str:
        for secret in (self.api_key, self.app_key):
            if secret:
                text = text.replace(secret, "***")
        return text
