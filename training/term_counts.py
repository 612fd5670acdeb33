"""`python -m training.term_counts`: per-shard term counts and their merge, for preparing one corpus on several instances.

A stable entrypoint (the state machine and the docs name it); the code lives in training.preparation.term_counts.
"""

import sys

from training.preparation.term_counts import main

if __name__ == "__main__":
    sys.exit(main())
