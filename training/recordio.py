"""`python -m training.recordio`: `inspect` a RecordIO-protobuf file.

A stable entrypoint (the state machine and the docs name it); the code lives in training.formats.recordio.
"""

import sys

from training.formats.recordio import main

if __name__ == "__main__":
    sys.exit(main())
