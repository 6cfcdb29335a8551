"""The whole suite runs as `pulumi` runs this repository's program: from the project directory
(the library's preflight defaults to the working directory's program, as `pulumi` does), with
the repository's va-guard pack (the library does not ship it: it is published on its own)."""

import os

from tests.paths import PACK_DIR, PROJECT_ROOT

os.chdir(PROJECT_ROOT)
os.environ["VA_GUARD_PACK"] = str(PACK_DIR)
