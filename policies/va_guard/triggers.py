"""What starts a Lambda, judged (part of va-lambda): nothing anonymous, nothing lost.

- A function URL with ``authorizationType: NONE`` is an open door to the function: anyone on the
  internet may invoke it (and run up its bill). The VA standard takes signed calls only.
- A schedule without a dead-letter queue drops an event it could not deliver, silently.
- Provisioned concurrency belongs on an alias: on a version number it is left behind at the next
  release (the new version runs cold) and keeps billing for the old one.
- An HTTP API route without an authorizer is reachable by anyone who knows the URL; some routes
  are public by design, so this one is an advisory.
- A permission for API Gateway without ``sourceArn``, or with one whose account or API id is a
  wildcard (``arn:aws:execute-api:*:*:*``), lets every API in the account (with
  ``sourceAccount``) invoke the function, whatever its routes' authorization: API Gateway always
  names the calling API, so the permission can always name it (``<api>/<stage>/<method>/<path>``).
  One whose ``sourceArn`` is unknown in a preview is reported "unchecked", not passed in silence.
- A quick-create HTTP API (``target`` on the API) in front of a function: API Gateway creates
  its route with no authorization, and none can be added to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from . import catalogue
from .framework import Finding, Resource, unchecked, violation, warning
from .props import UNKNOWN, get, shown

FUNCTION_URL_TYPE = "aws:lambda/functionUrl:FunctionUrl"
SCHEDULE_TYPE = "aws:scheduler/schedule:Schedule"
PROVISIONED_TYPE = "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig"
ROUTE_TYPE = "aws:apigatewayv2/route:Route"
PERMISSION_TYPE = "aws:lambda/permission:Permission"
HTTP_API_TYPE = "aws:apigatewayv2/api:Api"
API_GATEWAY = "apigateway.amazonaws.com"
TYPES = frozenset(
    [FUNCTION_URL_TYPE, SCHEDULE_TYPE, PROVISIONED_TYPE, ROUTE_TYPE, PERMISSION_TYPE, HTTP_API_TYPE]
)
VERSION_RE = re.compile(r"^(\d+|\$LATEST)$")
# What an execute-api ARN must name to name one API: the account, and the API's id (the first
# segment of the resource part) without wildcards.
ACCOUNT_RE = re.compile(r"^\d{12}$")
API_ID_RE = re.compile(r"^[A-Za-z0-9]+$")
# API Gateway's API ids are exactly ten characters: a wildcard after all ten of them
# (``<api id>*/*``, a common way to write "any stage and route") still names that API only.
WHOLE_ID_THEN_WILDCARD_RE = re.compile(r"^[A-Za-z0-9]{10}[*?]")


def _function_url(r: Resource) -> Iterator[Finding]:
    auth = r.get("authorizationType")
    if auth is UNKNOWN:
        yield unchecked("the function URL's authorization (authorizationType)")
    elif auth != "AWS_IAM":
        yield violation(
            f"function URL with authorizationType={shown(auth)} lets anyone on the internet "
            "invoke the function; set authorizationType=AWS_IAM and sign calls (VA standard: "
            "no anonymous entry points)"
        )


def _schedule(r: Resource) -> Iterator[Finding]:
    dlq = get(r.get("target"), "deadLetterConfig", "arn")
    if dlq is UNKNOWN:
        return  # an ARN still to be created is a DLQ all the same
    if not dlq:
        yield violation(
            "the schedule has no dead-letter queue: an invocation it cannot deliver is dropped "
            "without a trace; set target.deadLetterConfig.arn to an SQS queue"
        )


def _provisioned(r: Resource) -> Iterator[Finding]:
    qualifier = r.get("qualifier")
    if qualifier is UNKNOWN:
        yield unchecked("what provisioned concurrency is attached to (qualifier)")
    elif not isinstance(qualifier, str) or VERSION_RE.match(qualifier):
        yield violation(
            f"provisioned concurrency on qualifier={shown(qualifier)}, a version: the next release "
            "runs cold while this one keeps billing; attach it to an alias (e.g. live)"
        )


def _route(r: Resource) -> Iterator[Finding]:
    auth = r.get("authorizationType")
    if auth is UNKNOWN:
        yield unchecked("the route's authorization (authorizationType)")
    elif auth in (None, "", "NONE"):
        yield warning(
            f"route {shown(r.get('routeKey'))} has no authorizer: anyone with the URL may call it; "
            "set authorizationType (AWS_IAM, JWT or CUSTOM) unless it is public by design"
        )


def _api_permission(r: Resource) -> Iterator[Finding]:
    if r.get("principal") != API_GATEWAY:
        return  # unknown principals and other services: va-data's permission rule
    source = r.get("sourceArn")
    if source is UNKNOWN:
        # Built from an API still to be created: most often that API's execution ARN, but a
        # wildcard account or API id would let every API in; checked again at `pulumi up`.
        yield unchecked("which API may invoke the function (sourceArn)")
        return
    if not _names_one_api(source):
        yield violation(
            f"the permission lets API Gateway invoke the function for sourceArn={shown(source)}: "
            "every API of the account could call it, whatever its routes' authorization; set "
            "sourceArn to <api execution ARN>/<stage>/<method>/<path> of the routes that may"
        )


def _names_one_api(source: object) -> bool:
    """An execute-api ARN of one account and one API id: ``arn:aws:execute-api:*:*:*`` or
    ``<account>:*/*/POST/x`` is an ARN too, and lets every API of the account in; ``<api id>*/*``
    names one API (ids are ten characters), a wildcard inside the id does not."""
    fields = catalogue.arn_fields(source) if isinstance(source, str) else None
    if fields is None or fields[2] != "execute-api":
        return False
    api = fields[5].split("/")[0]
    one_api = API_ID_RE.match(api) or WHOLE_ID_THEN_WILDCARD_RE.match(api)
    return bool(ACCOUNT_RE.match(fields[4]) and one_api)


def _http_api(r: Resource) -> Iterator[Finding]:
    """Quick create: ``target`` (and ``routeKey``) on the API make API Gateway create a default
    route and integration itself, with no authorization, and none can be set on them."""
    target = r.get("target")
    if target is None or target == "":
        return
    if target is UNKNOWN:
        yield unchecked("what the quick-create API's route calls (target)")
        return
    fields = catalogue.arn_fields(target) if isinstance(target, str) else None
    if fields is not None and fields[2] == "lambda":
        yield violation(
            f"the API is a quick-create (target={shown(target)}): API Gateway made its route to "
            "the function itself, with no authorization, and none can be set on it: anyone "
            "with the URL invokes the function; drop target and declare the route "
            "(aws.apigatewayv2.Route with authorizationType JWT, AWS_IAM or CUSTOM) and its "
            "integration"
        )


CHECKS = {
    FUNCTION_URL_TYPE: _function_url,
    SCHEDULE_TYPE: _schedule,
    PROVISIONED_TYPE: _provisioned,
    ROUTE_TYPE: _route,
    PERMISSION_TYPE: _api_permission,
    HTTP_API_TYPE: _http_api,
}


def check(r: Resource) -> Iterator[Finding]:
    yield from CHECKS[r.type](r)
