from dataclasses import dataclass

import pytest

from stacks.config import PipelineConfig


@dataclass
class LambdaContext:
    """The attributes Powertools' logger reads from a real Lambda context."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def context() -> LambdaContext:
    return LambdaContext()


@pytest.fixture
def resolve_env(monkeypatch):
    config = PipelineConfig()
    values = {
        "RUN_DEFAULTS": config.run_defaults().serialize(),
        "NAME_PREFIX": "ntm",
        "DATA_BUCKET": "data-bucket",
        "ENDPOINT_NAME": "ntm-topics",
        "ENDPOINT_MAX_POLLS": "90",
        "ENDPOINT_POLL_SECONDS": "45",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values
