"""`python -m training.similar index|neighbours`: the similarity stage's processing jobs.

A stable entrypoint (the state machine and the docs name it); the code lives in training.similarity.job.
"""

import sys

from training.similarity.job import main

if __name__ == "__main__":
    sys.exit(main())
