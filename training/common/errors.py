"""The one error family a job prints without a traceback: the message says what to change."""


class JobInputError(Exception):
    """Bad input or options, which the user can fix."""
