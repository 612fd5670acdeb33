"""`python -m training.scale_out count|encode|assemble`: one corpus prepared on several processing instances.

A stable entrypoint (the state machine and the docs name it); the code lives in training.preparation.scale_out.
"""

import sys

from training.preparation.scale_out import main

if __name__ == "__main__":
    sys.exit(main())
