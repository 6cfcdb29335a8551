"""Run by path in a child process: the plan of a program checked out elsewhere (``--diff REF``).

The program must import *its own* components and stack code, not this process's: those modules
are imported once per interpreter, so the ref's plan is made in a fresh one. This file loads the
current ``preflight`` package by path first (the ref may predate it), then puts the checkout
first on ``sys.path`` and prints ``{urn: {input path: value}}`` as JSON on stdout.

Usage: python preflight/ref_plan.py <checkout> <program path relative to it> <stack>
"""

import importlib.util
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load_current_preflight() -> None:
    spec = importlib.util.spec_from_file_location(
        "preflight", HERE / "__init__.py", submodule_search_locations=[str(HERE)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["preflight"] = module
    spec.loader.exec_module(module)


def main() -> int:
    checkout, program, stack = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE.parent]
    _load_current_preflight()
    sys.path.insert(0, str(checkout))
    os.chdir(checkout)
    from preflight.review import plan_inputs

    print(json.dumps(plan_inputs(checkout / program, stack, checkout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
