"""`python -m training.compare`: the Compare candidates processing job of a num_topics sweep.

A stable entrypoint (the state machine and the docs name it); the code lives in training.evaluation.compare.
"""

import sys

from training.evaluation.compare import main

if __name__ == "__main__":
    sys.exit(main())
