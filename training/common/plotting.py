"""matplotlib, when the image has it: the pictures are optional, so its absence is an ImportError to handle."""

from __future__ import annotations

from typing import Any


def load_pyplot() -> Any:
    """matplotlib's pyplot, drawing off-screen; ImportError when matplotlib is missing."""
    import matplotlib

    matplotlib.use("Agg")  # no display in a processing container
    import matplotlib.pyplot as pyplot

    return pyplot
