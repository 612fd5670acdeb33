from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from tests.harness import Harness
from tests.pipeline.local_deployment import endpoint_user, serve_dataset
from training.preparation import prepare

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "sample-news.jsonl"
ENDPOINT = "ntm-topics"
BUCKET = "client-test-data"


class Served:
    def __init__(self, harness: Harness, topics_uri: str, texts: dict) -> None:
        self.harness, self.topics_uri, self.texts = harness, topics_uri, texts
        self.session = endpoint_user(harness, ENDPOINT, BUCKET)


@pytest.fixture(scope="module")
def served():
    with Harness() as harness, tempfile.TemporaryDirectory() as scratch:
        dataset = Path(scratch) / "dataset"
        assert prepare.main(["--input", str(SAMPLE), "--output", str(dataset), "--workers", "1", "--min-df", "2",
                             "--train-shards", "2"]) == 0
        topics_uri = serve_dataset(harness, dataset, BUCKET, ENDPOINT)
        texts = {json.loads(line)["id"]: json.loads(line)["text"] for line in SAMPLE.read_text().splitlines()}
        yield Served(harness, topics_uri, texts)
