from collections.abc import Iterator

import pytest

from tests.harness import Harness
from tests.harness_selftest import toy


@pytest.fixture
def harness() -> Iterator[Harness]:
    """A harness holding the toy stack with its intended policies."""
    with Harness() as harness:
        toy.set_up(harness)
        yield harness
