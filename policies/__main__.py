"""The va-guard policy pack, as the Pulumi engine runs it: builds the PolicyPack and serves it.

The engine runs this file with ``policies/`` on sys.path (``python -m pulumi.policy <engine>
policies``); the rules live in the ``va_guard`` package beside it. Never import this file: the
PolicyPack constructor starts a gRPC server and blocks.
"""

from pulumi_policy import PolicyPack
from va_guard.pack import pack_arguments

PolicyPack(**pack_arguments())
