"""The archive Firehose writes: an S3 prefix, or a local folder with the same layout.

Both answer the same two questions: which objects were delivered on a day, and where can
DuckDB read them (local files in place; S3 objects downloaded to a work folder in
parallel, one batch at a time, so disk use stays bounded).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

import boto3
import botocore.exceptions
import dagster as dg

from dora4_pipeline.errors import ConfigError
from dora4_pipeline.events.firehose import day_prefix
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

    def open(self) -> Archive:
        archive = S3Archive(self.uri) if self.uri.startswith("s3://") else LocalArchive(self.uri)
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
    def __init__(self, uri: str) -> None:
        parsed = urlparse(uri)
        self.bucket = parsed.netloc
        self.prefix = parsed.path.lstrip("/")
        if self.prefix and not self.prefix.endswith("/"):
            self.prefix += "/"
        if not self.bucket:
            raise ConfigError(
                f"DORA4_ARCHIVE_URI: '{uri}' has no bucket; write s3://bucket/prefix/"
            )
        self.client = boto3.session.Session().client("s3")  # credentials as the env says now

    def check(self) -> None:
        with explained(f"s3://{self.bucket}/{self.prefix}"):
            self.client.head_bucket(Bucket=self.bucket)

    def list_day(self, day: date) -> list[ArchiveObject]:
        objects = []
        with explained(f"s3://{self.bucket}/{self.prefix}"):
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
            with explained(f"s3://{self.bucket}/{self.prefix}{obj.key}"):
                self.client.download_file(self.bucket, self.prefix + obj.key, str(target))
            return target

        with ThreadPoolExecutor(DOWNLOAD_THREADS) as pool:
            return list(pool.map(download, enumerate(objects)))


class explained:
    """Turns boto3's failures into one sentence naming what to fix."""

    def __init__(self, where: str) -> None:
        self.where = where

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
                f"cannot reach S3 for {self.where}: check AWS_ENDPOINT_URL and the network"
            ) from None
        if isinstance(error, botocore.exceptions.ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket"):
                raise ConfigError(
                    f"DORA4_ARCHIVE_URI: bucket of {self.where} does not exist"
                ) from None
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise ConfigError(
                    f"access to {self.where} was denied ({code}): check the AWS credentials"
                ) from None
