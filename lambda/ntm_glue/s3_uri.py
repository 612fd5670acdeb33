"""s3:// URIs, split the one way every module needs."""

from __future__ import annotations


def split(uri: str) -> tuple[str, str]:
    """('bucket', 'key') of s3://bucket/key."""
    if not uri.startswith("s3://") or "/" not in uri[5:]:
        raise ValueError(f"not an s3://bucket/key URI: {uri!r}")
    bucket, key = uri[5:].split("/", 1)
    return bucket, key
