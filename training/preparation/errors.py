"""The preparation's input error: `python -m training.prepare` prints it without a traceback."""

from training.common.errors import JobInputError


class PrepareError(JobInputError):
    """Bad input or options: the message says what is wrong and, where it can, what to change."""
