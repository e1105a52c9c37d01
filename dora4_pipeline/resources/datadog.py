"""Datadog's API through datadog-api-client. Without an API key, publishing is a dry run.

Secrets arrive through `dg.EnvVar`, so Dagster stores the variable's name, never its
value; `redact` scrubs them from any text that could reach a log, metadata or the ledger.
The client's own retry handles 429 (waiting for `X-RateLimit-Reset`) and 5xx.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import dagster as dg
from datadog_api_client import ApiClient, Configuration

DEFAULT_SITE = "datadoghq.com"


class DatadogResource(dg.ConfigurableResource):
    api_key: str | None = None
    app_key: str | None = None
    site: str = DEFAULT_SITE
    url: str | None = None  # DORA4_DATADOG_URL: a proxy or a test double
    max_retries: int = 6  # 429 waits for X-RateLimit-Reset; 5xx backs off 0, 4, 8, 16 s...

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> DatadogResource:
        """Names, not values: each secret that is set becomes an `EnvVar` of it."""

        def env_var(name: str) -> dg.EnvVar | None:
            return dg.EnvVar(name) if env.get(name) else None

        return cls(
            api_key=env_var("DD_API_KEY"),
            app_key=env_var("DD_APP_KEY"),
            site=env.get("DD_SITE") or DEFAULT_SITE,
            url=env.get("DORA4_DATADOG_URL") or None,
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
        )
        return ApiClient(configuration)

    def redact(self, text: str) -> str:
        for secret in (self.api_key, self.app_key):
            if secret:
                text = text.replace(secret, "***")
        return text
