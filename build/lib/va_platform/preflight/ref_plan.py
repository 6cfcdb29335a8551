"""Run by path in a child process: the plan of a program checked out elsewhere (``--diff REF``).

The program must import *its own* code at that ref, the component library included, not this
process's: modules are imported once per interpreter, so the ref's plan is made in a fresh one.
This file loads the current preflight by path under a private name (so ``va_platform`` itself
stays unimported and the ref's copy of it, under ``src/``, is the one its program finds), then
puts the checkout first on ``sys.path`` and prints ``{urn: {input path: value}}`` as JSON.

Usage: python ref_plan.py <checkout> <program path relative to it> <stack>
"""

import importlib
import importlib.util
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ALIAS = "_va_preflight_current"


def _load_current_preflight() -> None:
    spec = importlib.util.spec_from_file_location(
        ALIAS, HERE / "__init__.py", submodule_search_locations=[str(HERE)]
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[ALIAS] = module
    spec.loader.exec_module(module)


def main() -> int:
    checkout, program, stack = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    _load_current_preflight()
    for entry in (checkout / "src", checkout):
        if entry.is_dir():
            sys.path.insert(0, str(entry))
    sys.path.insert(0, str((checkout / program).parent))
    os.chdir(checkout)
    plan_inputs = importlib.import_module(f"{ALIAS}.review").plan_inputs
    print(json.dumps(plan_inputs(checkout / program, stack, checkout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
