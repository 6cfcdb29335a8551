"""The va-guard policy pack, as the Pulumi engine runs it: builds the PolicyPack and serves it.

The engine runs this file with ``policies/`` on sys.path (``python -m pulumi.policy <engine>
policies``); the rules live in the ``va_guard`` package beside it. Never import this file: the
PolicyPack constructor starts a gRPC server and blocks.

Decoding is shared across the pack's policies within a request before the server starts (see
``va_guard/shared_decoding.py``); if the installed SDK is not the reviewed one, the pack says
so on stderr (stdout carries the port) and runs at the SDK's own speed.
"""

import sys

from pulumi_policy import PolicyPack
from va_guard import shared_decoding
from va_guard.pack import pack_arguments

refused = shared_decoding.install()
if refused is not None:
    print(f"va-guard: decoding not shared across policies: {refused}", file=sys.stderr)

PolicyPack(**pack_arguments())
