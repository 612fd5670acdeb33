import sys

from ntm_client.cli import main

sys.exit(main())
