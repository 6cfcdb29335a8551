"""A resource's ARN in AWS's own format, from the IAM catalogue (``va_platform.catalogue``'s data).

AWS's Service Authorization Reference lists, per service, the ARN format of every resource type
(``arn:${Partition}:ecs:${Region}:${Account}:service/${ClusterName}/${ServiceName}``). A Pulumi
type token names the service (its module, or the services of ``MODULE_SERVICES``) and the
resource type (its class name); the format whose variable names the type (``ServiceName`` for
``aws:ecs/service:Service``) is the type's, and its other variables come from the resource's
inputs (``ClusterName`` from ``cluster``), the run's account and region. So any aws type the
catalogue knows gets its real format, without a hand table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# The catalogue's data file (``va_platform.catalogue``), read by path: ``--diff`` loads this
# package under a private name, where the library's other modules are the ref's.
CATALOGUE_FILE = Path(__file__).resolve().parents[1] / "iam_catalogue.json"

# Pulumi modules whose resources live in IAM services of other names.
MODULE_SERVICES: dict[str, tuple[str, ...]] = {
    "apigatewayv2": ("apigateway",),
    "cloudwatch": ("cloudwatch", "logs", "events"),
    "cognito": ("cognito-idp", "cognito-identity"),
    "lb": ("elasticloadbalancing",),
    "alb": ("elasticloadbalancing",),
    "elb": ("elasticloadbalancing",),
    "sfn": ("states",),
    "efs": ("elasticfilesystem",),
    "msk": ("kafka",),
    "opensearch": ("es",),
    "elasticsearch": ("es",),
    "cfg": ("config",),
    "appautoscaling": ("application-autoscaling",),
    "vpc": ("ec2",),
    "ebs": ("ec2",),
    "docdb": ("rds",),
    "neptune": ("rds",),
    "kinesis": ("kinesis", "firehose"),
    "ses": ("ses",),
    "servicediscovery": ("servicediscovery",),
}
_VARIABLE_RE = re.compile(r"\$\{([^}]*)\}")
_WORDS_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+")
# Types whose class name is not the stem of their ARN variable (``AlarmName`` for a
# MetricAlarm): the variable's stem.
TYPE_STEMS: dict[str, str] = {
    "aws:cloudwatch/metricAlarm:MetricAlarm": "Alarm",
    "aws:cloudwatch/compositeAlarm:CompositeAlarm": "Alarm",
    "aws:cloudwatch/eventRule:EventRule": "Rule",
    "aws:rds/cluster:Cluster": "DbClusterInstance",
    "aws:ecs/taskDefinition:TaskDefinition": "TaskDefinitionFamily",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "DeliveryStream",
    "aws:ssm/parameter:Parameter": "Parameter",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "SecurityGroupRule",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "SecurityGroupRule",
}
# Suffixes of a variable that say what kind of value it holds, not what it names.
_KIND_SUFFIXES = (
    ("Name", "Without", "Leading", "Slash"),
    ("Name", "With", "Path"),
    ("Name",),
    ("Id",),
    ("Identifier",),
    ("Arn",),
)
_NUMBERED = ("Version", "Number", "Revision")
# Values AWS leaves out of an ARN: a rule on the default event bus is ``rule/<name>``.
_LEFT_OUT = {"EventBusName": "default"}


@cache
def _service_formats() -> dict[str, tuple[str, ...]]:
    """Each service's ARN formats, read from the catalogue's data file (the catalogue module
    itself indexes actions; the pack ships it verbatim, so the preflight reads the data)."""
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return {prefix: tuple(s["arns"]) for prefix, s in data["services"].items()}


def _words(name: str) -> list[str]:
    return _WORDS_RE.findall(name)


def _stem(variable: str) -> tuple[list[str], str]:
    """``RoleNameWithPath`` -> (["Role"], "name"); ``RestApiId`` -> (["Rest", "Api"], "id")."""
    words = _words(variable)
    for suffix in _KIND_SUFFIXES:
        if tuple(words[-len(suffix) :]) == suffix and len(words) > len(suffix):
            kind = "slashless" if suffix[1:2] == ("Without",) else suffix[0].lower()
            return words[: -len(suffix)], kind
    return words, ""


def _camel(words: list[str]) -> str:
    return words[0].lower() + "".join(words[1:]) if words else ""


@dataclass(frozen=True)
class _Format:
    text: str
    variables: tuple[str, ...]
    own: str  # the variable naming the resource itself
    stem: tuple[str, ...]  # the type's words, lowercase
    exact: bool  # the own variable's stem is the type's name (not only ends with it)
    named: bool  # the format's literal text names the type (``security-group/``)
    trailing: bool  # literal text after the own variable (a sub-resource's format)


@cache
def _formats(type_: str) -> tuple[_Format, ...]:
    """The catalogue's formats that can be this type's, best first."""
    package, module_path, name = [*type_.split(":"), "", ""][:3]
    if package != "aws" or not name:
        return ()
    module = module_path.split("/")[0]
    services = MODULE_SERVICES.get(module, (module,))
    type_words = [w.lower() for w in _words(TYPE_STEMS.get(type_, name))]
    found: list[_Format] = []
    for service in services:
        for text in _service_formats().get(service, ()):
            fields = text.split(":", 5)
            if len(fields) != 6 or fields[2] != service:
                continue  # another service's type, listed for a condition key
            variables = tuple(_VARIABLE_RE.findall(text))
            for variable in variables:
                stem = [w.lower() for w in _stem(variable)[0]]
                if stem[-len(type_words) :] != type_words:
                    continue
                after = text.split("${" + variable + "}", 1)[1]
                literal = _VARIABLE_RE.sub(" ", fields[5])
                tokens = {t.replace("-", "").replace("_", "").lower()
                          for t in re.split(r"[/: ]", literal)}  # fmt: skip
                found.append(_Format(text, variables, variable, tuple(type_words),
                                     stem == type_words, "".join(type_words) in tokens,
                                     trailing=bool(after)))  # fmt: skip
    return tuple(found)


def _from_input(value: Any) -> str | None:
    """An input naming another resource, as the ARN needs it: its name or id (the last part of
    an ARN). A document (JSON, text with spaces) names nothing."""
    if not isinstance(value, str) or not value or any(c in value for c in '{}[] \n\t"'):
        return None
    if value.startswith("arn:"):
        return re.split(r"[/:]", value)[-1]
    return value


def _resolve(
    variable: str, fmt: _Format, inputs: Mapping[str, Any], name: str, rid: str
) -> tuple[str | None, bool]:
    """(the variable's value, whether it came from the resource's inputs)."""
    if variable == "Partition":
        return "aws", False
    words, kind = _stem(variable)
    exact = _from_input(inputs.get(_camel(_words(variable))))
    if exact is not None and _LEFT_OUT.get(variable) == exact:
        return None, False
    if exact is not None:
        return exact, True
    if variable == fmt.own or tuple(w.lower() for w in words) == fmt.stem:
        # The resource itself: its physical name or id (an input named like the type, such as
        # an IAM policy's ``policy`` document, is not its name).
        if words and words[-1] in _NUMBERED:
            return "1", False
        if kind == "slashless":
            return name.lstrip("/"), False
        return (rid if kind in ("id", "identifier") else name), False
    for start in range(len(words)):
        value = _from_input(inputs.get(_camel(words[start:])))
        if value is not None:
            return value, True
    if words and words[-1] in _NUMBERED:
        return "1", False
    return None, False


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _VARIABLE_RE.sub(lambda m: values[m.group(1)], text)


def arn_of(
    type_: str, inputs: Mapping[str, Any], name: str, rid: str, region: str, account: str
) -> str | None:
    """The ARN AWS gives a resource of ``type_`` named ``name`` with id ``rid``, or None when
    the catalogue has no format for the type (or one of its parts is not known)."""
    best: tuple[tuple[bool, bool, bool, int, int, int], str] | None = None
    for fmt in _formats(type_):
        values: dict[str, str] = {"Region": region, "Account": account}
        from_inputs = 0
        for variable in fmt.variables:
            if variable in values:
                continue
            value, given = _resolve(variable, fmt, inputs, name, rid)
            if value is None:
                break
            values[variable] = value
            from_inputs += given
        else:
            # A format of the resource itself over a sub-resource's; the type's own variable
            # over one that only ends with it; a format that names the type; then the one the
            # inputs say most of.
            score = (not fmt.trailing, fmt.exact, fmt.named, from_inputs, -len(fmt.variables),
                     -len(fmt.own))  # fmt: skip
            arn = _fill(fmt.text, values)
            if best is None or score > best[0]:
                best = (score, arn)
    return best[1] if best else None
