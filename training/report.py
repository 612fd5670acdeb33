"""`python -m training.report`: the Report topics processing job.

A stable entrypoint (the state machine and the docs name it); the code lives in training.reporting.report.
"""

import sys

from training.reporting.report import main

if __name__ == "__main__":
    sys.exit(main())
