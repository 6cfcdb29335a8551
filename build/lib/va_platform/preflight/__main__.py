"""``python -m va_platform.preflight``: the offline preflight (see ``cli.py``)."""

import sys

from .cli import main

sys.exit(main())
