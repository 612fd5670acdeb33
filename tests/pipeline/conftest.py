from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import Harness
from tests.infra.synth import Synthesized
from tests.pipeline.local_deployment import LocalStack, deploy

SAMPLE_CORPUS = Path(__file__).resolve().parents[2] / "samples" / "sample-news.jsonl"


@pytest.fixture
def stack(synthesized: Synthesized) -> Iterator[LocalStack]:
    with Harness(job_polls=1, endpoint_polls=2, timeout_seconds=300) as harness:
        yield deploy(harness, synthesized)
