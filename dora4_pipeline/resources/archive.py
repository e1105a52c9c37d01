"""The archive Firehose writes: an S3 prefix, or a local folder with the same layout.

Both answer the same two questions: which objects were delivered on a day, and where can
DuckDB read them (local files in place; S3 objects downloaded to a work folder in
parallel, one batch at a time, so disk use stays bounded).
"""

from __future__ import annotations

import http
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import botocore.exceptions
import dagster as dg

from dora4_pipeline.errors import ConfigError, ServiceError
from dora4_pipeline.events.firehose import day_prefix
from dora4_pipeline.resources.network import AwsNetwork
from dora4_pipeline.settings import DEFAULT_ARCHIVE

DOWNLOAD_THREADS = 8


@dataclass(frozen=True)
class ArchiveObject:
    key: str  # relative to the archive prefix: YYYY/MM/DD/HH/<name>
    etag: str  # changes when the object is re-uploaded (local: size and mtime)
    size: int


class Archive(Protocol):
    def check(self) -> None: ...
    def list_day(self, day: date) -> list[ArchiveObject]: ...
    def local_paths(self, objects: Sequence[ArchiveObject], workdir: Path) -> list[Path]: ...


class ArchiveResource(dg.ConfigurableResource):
    """DORA4_ARCHIVE_URI: `s3://bucket/prefix/` or a folder."""

    uri: str = DEFAULT_ARCHIVE
    network: AwsNetwork = AwsNetwork()

    def open(self) -> Archive:
        archive = (
            S3Archive(self.uri, self.network)
            if self.uri.startswith("s3://")
            else LocalArchive(self.uri)
        )
        archive.check()
        return archive


class LocalArchive:
    def __init__(self, folder: str) -> None:
        self.root = Path(folder)

    def check(self) -> None:
        if not self.root.exists():
            raise ConfigError(
                f"DORA4_ARCHIVE_URI: folder '{self.root}' does not exist; "
                "point it at an archive, or run `dora4 generate` to make the demo one"
            )
        if not self.root.is_dir():
            raise ConfigError(f"DORA4_ARCHIVE_URI: '{self.root}' is a file, not a folder")
        if not os.access(self.root, os.R_OK | os.X_OK):
            raise ConfigError(f"DORA4_ARCHIVE_URI: folder '{self.root}' is not readable")

    def list_day(self, day: date) -> list[ArchiveObject]:
        folder = self.root / day_prefix(day)
        objects = []
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                stat = path.stat()
                key = path.relative_to(self.root).as_posix()
                objects.append(
                    ArchiveObject(key, f"{stat.st_size}-{stat.st_mtime_ns}", stat.st_size)
                )
        return objects

    def local_paths(self, objects: Sequence[ArchiveObject], workdir: Path) -> list[Path]:
        return [self.root / obj.key for obj in objects]


class S3Archive:
    def __init__(self, uri: str, network: AwsNetwork | None = None) -> None:
        parsed = urlparse(uri)
        self.bucket = parsed.netloc
        self.prefix = parsed.path.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        if not self.bucket:
            raise ConfigError(
                f"DORA4_ARCHIVE_URI: '{uri}' has no bucket; write s3://bucket/prefix/"
            )
        self.client = (network or AwsNetwork()).client("s3")

    def check(self) -> None:
        where = f"s3://{self.bucket}/{self.prefix}"
        try:
            with explained(where, self.client):
                self.client.head_bucket(Bucket=self.bucket)
        except ConfigError as error:
            if "does not exist" not in str(error):
                raise
            # HEAD has no body: ask again with a GET, whose answer says whether S3 spoke.
            with explained(where, self.client):
                self.client.list_objects_v2(Bucket=self.bucket, MaxKeys=1)
            raise

    def list_day(self, day: date) -> list[ArchiveObject]:
        objects = []
        with explained(f"s3://{self.bucket}/{self.prefix}", self.client):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix + day_prefix(day)
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = item["Key"][len(self.prefix) :]
                    objects.append(ArchiveObject(key, item["ETag"].strip('"'), item["Size"]))
        return objects

    def local_paths(self, objects: Sequence[ArchiveObject], workdir: Path) -> list[Path]:
        def download(indexed: tuple[int, ArchiveObject]) -> Path:
            index, obj = indexed
            target = workdir / f"{index:06d}-{Path(obj.key).name}"
            with explained(f"s3://{self.bucket}/{self.prefix}{obj.key}", self.client):
                self.client.download_file(self.bucket, self.prefix + obj.key, str(target))
            return target

        with ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
            return list(pool.map(download, enumerate(objects)))


class explained:
    """Turns boto3's failures into one sentence naming the endpoint, what failed and what
    to do: ConfigError (exit 2) for what the operator must fix, ServiceError (exit 1) for an
    outage that botocore's retries did not ride out."""

    def __init__(self, where: str, client=None) -> None:
        self.where = where
        self.endpoint = client.meta.endpoint_url if client is not None else "S3"

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, traceback) -> None:
        if error is None:
            return
        if isinstance(error, botocore.exceptions.NoCredentialsError):
            raise ConfigError(
                f"no AWS credentials to read {self.where}: set AWS_PROFILE, or "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ) from None
        if isinstance(error, botocore.exceptions.EndpointConnectionError):
            raise ConfigError(
                f"cannot reach S3 at {self.endpoint} for {self.where}: "
                "check AWS_ENDPOINT_URL and the network"
            ) from None
        if isinstance(error, _DROPPED):
            raise ServiceError(
                f"S3 at {self.endpoint} failed for {self.where}: {_short(error)} on every "
                f"attempt; {_AGAIN}"
            ) from None
        if isinstance(error, botocore.exceptions.ClientError):
            raise _client_error(error, self.where, self.endpoint) from None


# Resets, timeouts and cut-off bodies: what an outage looks like below HTTP.
_DROPPED = (
    botocore.exceptions.ConnectionError,
    botocore.exceptions.HTTPClientError,
    botocore.exceptions.ResponseStreamingError,
    botocore.exceptions.IncompleteReadError,
)
_AGAIN = (
    "S3 or the network is failing; run again later "
    "(DORA4_AWS_MAX_ATTEMPTS sets how many attempts each request gets)"
)


def _client_error(
    error: botocore.exceptions.ClientError, where: str, endpoint: str
) -> ConfigError | ServiceError:
    code = str(error.response.get("Error", {}).get("Code", ""))
    meta = error.response.get("ResponseMetadata", {})
    status = meta.get("HTTPStatusCode")
    if code == "NoSuchBucket" or (code == "404" and error.operation_name == "HeadBucket"):
        return ConfigError(f"DORA4_ARCHIVE_URI: bucket of {where} does not exist at {endpoint}")
    if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return ConfigError(
            f"access to {where} was denied by {endpoint} ({code}): check the AWS credentials"
        )
    if status is not None and status >= 500 or code in ("SlowDown", "Throttling"):
        attempts = meta.get("MaxAttemptsReached") and meta.get("RetryAttempts", 0) + 1
        tries = f"after {attempts} attempts" if attempts else "after its retries"
        what = code if code and not code.isdigit() else _phrase(status)  # HEAD has no body
        return ServiceError(
            f"S3 at {endpoint} failed for {where} {tries}: HTTP {status} {what}; {_AGAIN}"
        )
    headers = meta.get("HTTPHeaders", {})
    if code.isdigit() and error.operation_name.startswith("Head"):  # no body to tell by
        return ConfigError(
            f"S3 at {endpoint} answered HTTP {status} {_phrase(status)} for {where} "
            f"({error.operation_name})"
        )
    if code.isdigit():
        # S3 names its errors (NoSuchBucket, AccessDenied) in the body of a GET; botocore
        # falls back to the bare status when the body is not S3's: something else answered.
        found = ", ".join(
            f"{name} {headers[name]}" for name in ("server", "content-type") if name in headers
        )
        return ConfigError(
            f"AWS_ENDPOINT_URL: {endpoint} is not S3: it answered {error.operation_name} for "
            f"{where} with HTTP {status}{f' ({found})' if found else ''} and no S3 error code; "
            "point AWS_ENDPOINT_URL at S3 (or unset it)"
        )
    return ConfigError(f"S3 at {endpoint} refused {where}: {status} {code}")


def _phrase(status: int | None) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "error"


def _short(error: Exception) -> str:
    """What went wrong below HTTP, without the (long) URL botocore repeats."""
    if isinstance(error, botocore.exceptions.ReadTimeoutError):
        return "no answer within DORA4_HTTP_READ_TIMEOUT"
    if isinstance(error, botocore.exceptions.ConnectTimeoutError):
        return "no connection within DORA4_HTTP_CONNECT_TIMEOUT"
    if isinstance(error, botocore.exceptions.ConnectionClosedError):
        return "the connection was closed before an answer"
    return type(error).__name__
