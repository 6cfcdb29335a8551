"""The va-guard policy pack, as the Pulumi engine runs it: builds the PolicyPack and serves it.

The engine runs this file with ``policies/`` on sys.path (``python -m pulumi.policy <engine>
policies``); the rules live in the ``va_guard`` package beside it. Never import this file: the
PolicyPack constructor starts a gRPC server and blocks.

The workarounds that rely on pulumi-policy's internals (``va_guard/sdk_compat.py``) are
installed before the server starts; if the installed SDK is not the reviewed one, the pack says
so on stderr (stdout carries the port) and runs on the SDK's public behaviour, at its speed.
"""

import sys

from pulumi_policy import PolicyPack
from va_guard import sdk_compat
from va_guard.pack import pack_arguments

refused = sdk_compat.install()
if refused is not None:
    print(f"va-guard: SDK workarounds off ({refused}); same answers, slower", file=sys.stderr)
blind = sdk_compat.install_engine_facts()
if blind is not None:
    print(f"va-guard: the analysed stack stays unnamed ({blind})", file=sys.stderr)

PolicyPack(**pack_arguments())
