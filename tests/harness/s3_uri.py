"""S3 locations as SageMaker requests spell them, and copying them to and from a local folder."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from botocore.client import BaseClient

# CDK renders S3Location.from_bucket as a virtual-host-less HTTPS URL; SageMaker accepts both forms.
_HTTPS = re.compile(r"^https://s3[.-][a-z0-9-]+\.amazonaws\.com(?:\.cn)?/(?P<bucket>[^/]+)/?(?P<key>.*)$")
_S3 = re.compile(r"^s3://(?P<bucket>[^/]+)/?(?P<key>.*)$")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @classmethod
    def parse(cls, uri: str) -> S3Location:
        match = _S3.match(uri) or _HTTPS.match(uri)
        if not match:
            raise ValueError(f"not an S3 URI: {uri!r}")
        return cls(match["bucket"], match["key"])

    def join(self, *parts: str) -> S3Location:
        key = "/".join([self.key.rstrip("/"), *(part.strip("/") for part in parts)]).lstrip("/")
        return S3Location(self.bucket, key)

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def list_keys(s3: BaseClient, prefix: S3Location) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=prefix.bucket, Prefix=prefix.key):
        keys.extend(item["Key"] for item in page.get("Contents", []))
    return keys


def relative_key(prefix: S3Location, key: str) -> str:
    """`key` below `prefix`; an exact object key gives its base name, as SageMaker's S3Prefix input does."""
    return key[len(prefix.key):].lstrip("/") or key.rsplit("/", 1)[-1]


def download_keys(s3: BaseClient, prefix: S3Location, keys: list[str], folder: Path) -> list[Path]:
    """Copies the given objects under `prefix` into `folder`, keeping the path after the prefix."""
    written = []
    for key in keys:
        target = folder / relative_key(prefix, key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(s3.get_object(Bucket=prefix.bucket, Key=key)["Body"].read())
        written.append(target)
    return written


def upload_folder(s3: BaseClient, folder: Path, prefix: S3Location) -> list[str]:
    uploaded = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        target = prefix.join(path.relative_to(folder).as_posix())
        s3.put_object(Bucket=target.bucket, Key=target.key, Body=path.read_bytes())
        uploaded.append(target.uri)
    return uploaded
