"""`python -m training.prepare`: the Prepare corpus processing job: raw documents to an NTM dataset.

A stable entrypoint (the state machine and the docs name it); the code lives in training.preparation.prepare.
"""

import sys

from training.preparation.prepare import main

if __name__ == "__main__":
    sys.exit(main())
