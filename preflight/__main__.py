"""``python -m preflight``: the command behind ``make plan`` (see ``preflight/cli.py``)."""

import sys

from preflight.cli import main

sys.exit(main())
