"""s3:// support for the jobs: inputs are copied to a scratch folder, outputs uploaded from one.

boto3 is imported only when an s3:// path is used, so local runs need no AWS library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from training.common.errors import JobInputError


class StagingError(JobInputError):
    """An s3:// input that is missing or cannot be read."""


CONTENT_TYPES = {".html": "text/html", ".json": "application/json", ".csv": "text/csv", ".png": "image/png"}


def s3_client():
    import boto3  # only needed for s3:// paths

    return boto3.client("s3")


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def stage(uri: str, scratch: Path, wanted: Callable[[str], bool] = lambda _: True) -> Path:
    """A local path for `uri`: itself, or a scratch copy of the s3 object or of the wanted objects under the prefix."""
    if not uri.startswith("s3://"):
        return Path(uri)
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = split_s3(uri)
    client = s3_client()
    try:
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        if key in keys and not key.endswith("/"):
            target = scratch / Path(key).name
            client.download_file(bucket, key, str(target))
            return target
        prefix = key.rstrip("/") + "/" if key else ""
        chosen = [k for k in keys if k.startswith(prefix) and not k.endswith("/") and wanted(k[len(prefix):])]
        if not chosen:
            raise StagingError(f"nothing found at {uri}")
        for chosen_key in chosen:
            target = scratch / chosen_key[len(prefix):]
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, chosen_key, str(target))
    except (BotoCoreError, ClientError) as error:
        raise StagingError(f"cannot read {uri}: {error}") from error
    return scratch


def stage_with_siblings(uri: str, scratch: Path) -> Path:
    """A local path for the file at `uri`, with the files of its folder beside it (comparison.json's plot)."""
    if not uri.startswith("s3://"):
        return Path(uri)
    folder, name = uri.rsplit("/", 1)
    return stage(folder + "/", scratch) / name


def upload_folder(folder: Path, uri: str) -> None:
    bucket, key = split_s3(uri)
    prefix = key.rstrip("/") + "/" if key else ""
    client = s3_client()
    for path in sorted(folder.iterdir()):
        content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
        client.upload_file(str(path), bucket, prefix + path.name, ExtraArgs={"ContentType": content_type})
