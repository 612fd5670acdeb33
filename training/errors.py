"""The one exception a user can act on: `python -m training.prepare` prints it without a traceback."""


class PrepareError(Exception):
    """Bad input or options: the message says what is wrong and, where it can, what to change."""
