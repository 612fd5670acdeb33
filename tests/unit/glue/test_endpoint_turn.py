"""Whose turn on the endpoint: start times compared as instants, unknown never counts as newer."""

import pytest
from ntm_glue.endpoint_turn import IN_PROGRESS, is_newer


@pytest.mark.parametrize("deployed, ours, newer", [
    ("2026-12-01T10:00:00.000Z", "2026-12-01T09:00:00.000Z", True),
    ("2026-12-01T10:00:00.000Z", "2026-12-01T10:00:00.000Z", False),
    ("2026-12-01T10:00:00+01:00", "2026-12-01T09:30:00Z", False),  # 09:00 UTC deployed, ours later
    (None, "2026-12-01T09:00:00Z", False),  # a config made before the tag existed
    ("not a time", "2026-12-01T09:00:00Z", False),
])
def test_a_newer_run_is_one_that_started_later(deployed, ours, newer):
    assert is_newer(deployed, ours) is newer


def test_every_status_sagemaker_refuses_an_update_in_counts_as_busy():
    assert set(IN_PROGRESS) == {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"}
