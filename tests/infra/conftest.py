import pytest

from tests.infra.synth import Synthesized, synthesize


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The app with cdk.json's context, synthesized once per test session (cdk-nag included)."""
    return synthesize(tmp_path_factory.mktemp("cdk.out"))
