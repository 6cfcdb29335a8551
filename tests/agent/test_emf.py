"""The cost metric's lines: CloudWatch embedded metric format, exactly what the cost alarm reads."""

from __future__ import annotations

import json

import pytest

from faalf import emf
from va_platform.components.agent.profile import AgentProfile


def test_cost_line_is_the_metric_the_cost_alarm_reads():
    alarm = next(a for a in AgentProfile(purpose="agent").alarms() if a.type_ == "cost-alarm")
    line = json.loads(emf.cost_line("va-dev-agent-lambda", "req-1", 0.25, now_ms=1))

    assert line["_aws"]["CloudWatchMetrics"] == [{
        "Namespace": alarm.namespace, "Dimensions": [[alarm.dimension]],
        "Metrics": [{"Name": alarm.metric, "Unit": "None"}]}]  # fmt: skip
    assert (line[alarm.dimension], line[alarm.metric]) == ("va-dev-agent-lambda", [0.25])


def test_cost_is_written_as_one_whole_line(capsys):
    emf.emit_cost("va-dev-agent-lambda", "req-1", 0.25)

    out = capsys.readouterr().out
    assert out.endswith("\n")
    assert json.loads(out)["function_request_id"] == "req-1"


@pytest.mark.parametrize("usd", [0.0, -1.0, float("nan"), float("inf")])
def test_only_a_positive_finite_cost_is_emitted(capsys, usd):
    emf.emit_cost("va-dev-agent-lambda", "req-1", usd)

    assert capsys.readouterr().out == ""
