"""Each topic's top words, from the run's report (`report/topics.json`), local or on S3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_topic_words(location: str, s3: Any = None) -> list[list[str]]:
    """Top words per topic, in topic order."""
    if location.startswith("s3://"):
        bucket, _, key = location[len("s3://"):].partition("/")
        document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    else:
        document = json.loads(Path(location).read_text(encoding="utf-8"))
    topics = sorted(document["topics"], key=lambda topic: topic["topic"])
    return [[entry["word"] for entry in topic["words"]] for topic in topics]
