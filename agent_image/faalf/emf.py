"""The cost metric: one CloudWatch embedded-metric line per cost the proxy learns, on stdout.

Lambda sends the runtime process's stdout and stderr to the function's log stream, and
CloudWatch turns each line that is an embedded-metric JSON object into a data point. The proxy
writes a line the moment it learns of a cost (a stream's ``message_start``, its last usage, the
end of a request), before the response goes on to the agent: an agent that then kills its
handler (it runs as the same user) cannot take back what is already in the pipe.

Nothing else writes these lines. The agent's processes have their output in files, hold no
descriptor of the handler's stdout, and cannot reopen it through ``/proc/<handler>/fd`` (the
handler is non-dumpable); the handler logs agent text only as JSON string values. So the
metric is never lowered, and only ever raised by real spend. Only a positive, finite cost is
written: the metric's sum over an hour is what the agents spent, as the cost alarm reads it.

The contract with the alarm (``components/agent/profile.py``): namespace ``VA/FAALF``, metric
``AgentCostUSD``, one dimension ``service`` = the function's name (not the Powertools service,
which the stack sets to the purpose).
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time

NAMESPACE = "VA/FAALF"
COST = "AgentCostUSD"
DIMENSION = "service"
_write = threading.Lock()  # one line at a time: the proxy's threads share stdout


def cost_line(service: str, request_id: str, usd: float, now_ms: int) -> str:
    """One embedded-metric object, as the single line CloudWatch parses."""
    metric = {
        "Namespace": NAMESPACE,
        "Dimensions": [[DIMENSION]],
        "Metrics": [{"Name": COST, "Unit": "None"}],
    }
    return json.dumps(
        {
            "_aws": {"Timestamp": now_ms, "CloudWatchMetrics": [metric]},
            DIMENSION: service,
            COST: [usd],
            "function_request_id": request_id,  # a log field, not a dimension: for audits
        },
        separators=(",", ":"),
    )


def emit_cost(service: str, request_id: str, usd: float) -> None:
    """Write ``usd`` as one whole line and flush it, so that it is in the pipe on return."""
    if not math.isfinite(usd) or usd <= 0:
        return
    line = cost_line(service, request_id, usd, round(time.time() * 1000)) + "\n"
    with _write:
        try:
            sys.stdout.write(line)
            sys.stdout.flush()
        except (OSError, ValueError):  # stdout closed: nowhere left to report to
            pass
