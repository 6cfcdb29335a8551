"""The runtime loop of a Lambda execution environment, run as its own process by ``lambda_env``.

It does what the Lambda Python runtime does, and no more: import the handler (the cold start),
then forever fetch the next event from the Runtime API, call the handler, post its result. It
runs with the image's interpreter as a non-root user, so it imports only the standard library
and the handler itself.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import urllib.request
from typing import Any

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


class Context:
    """The attributes of the Lambda context object the handler and Powertools read."""

    def __init__(self, request_id: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self._deadline_ms = deadline_ms
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.memory_limit_in_mb = 2048
        self.invoked_function_arn = os.environ["FAALF_TEST_FUNCTION_ARN"]

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def post(path: str, payload: Any) -> None:
    request = urllib.request.Request(API + path, data=json.dumps(payload).encode(), method="POST")
    with urllib.request.urlopen(request) as response:
        response.read()


def main() -> None:
    import lambda_function  # the cold start

    while True:
        with urllib.request.urlopen(API + "/invocation/next") as response:
            event = json.loads(response.read())
            request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
            deadline_ms = int(response.headers["Lambda-Runtime-Deadline-Ms"])
        try:
            result = lambda_function.handler(event, Context(request_id, deadline_ms))
        except Exception as exc:  # noqa: BLE001 - reported to the service, as Lambda does
            traceback.print_exc(file=sys.stderr)
            post(f"/invocation/{request_id}/error", {"errorMessage": str(exc)})
            continue
        post(f"/invocation/{request_id}/response", result)


if __name__ == "__main__":
    main()
