"""How long the pipeline waits on a service, and how often it asks AWS again: one home.

Every HTTP call has a connect and a read timeout, so a service that accepts the
connection and never answers ends the call instead of the run (issue 12). AWS calls
(S3, the Tagging API) use botocore's `standard` retry mode, which retries throttling
(503 SlowDown), 5xx answers and dropped connections with exponential backoff and jitter,
with a budget larger than botocore's default 3 attempts, so a throttled or flaky bucket
is ridden out. `adaptive` adds client-side rate limiting on top.
"""

from __future__ import annotations

import boto3
import botocore.config
import dagster as dg

DEFAULT_CONNECT_TIMEOUT_SECONDS = 10.0
DEFAULT_READ_TIMEOUT_SECONDS = 60.0
DEFAULT_AWS_MAX_ATTEMPTS = 10  # the first request included; botocore's default is 3
DEFAULT_AWS_RETRY_MODE = "standard"
AWS_RETRY_MODES = ("standard", "adaptive")


class AwsNetwork(dg.Config):
    """DORA4_HTTP_CONNECT_TIMEOUT, DORA4_HTTP_READ_TIMEOUT, DORA4_AWS_MAX_ATTEMPTS,
    DORA4_AWS_RETRY_MODE (settings.py reads them)."""

    connect_timeout_seconds: float = DEFAULT_CONNECT_TIMEOUT_SECONDS
    read_timeout_seconds: float = DEFAULT_READ_TIMEOUT_SECONDS
    max_attempts: int = DEFAULT_AWS_MAX_ATTEMPTS
    retry_mode: str = DEFAULT_AWS_RETRY_MODE

    def client(
        self, service: str, region: str | None = None, session: boto3.session.Session | None = None
    ):
        """A boto3 client with these limits; credentials and endpoint as the env says now (or
        as `session`, a role assumed in another account, says)."""
        config = botocore.config.Config(
            connect_timeout=self.connect_timeout_seconds,
            read_timeout=self.read_timeout_seconds,
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
        )
        session = session or boto3.session.Session()
        return session.client(service, region_name=region, config=config)
