"""The components the provider serves: the real ones, taking the provider's inputs.

Each class here is a subclass of the component of the same name in ``va_platform.components``
and adds nothing but the conversion of its inputs (inputs.py) and the outputs it declares: the
resources, their names, tags and IAM statements are made by the real class, and the type token
is the real one (``va:<module>:<Name>``, from the class name and its ``MODULE``), so a
component built through the provider has the same URNs as in a Python program.
"""

from typing import TypeVar

import pulumi

from va_platform import components as va
from va_platform.components.base import VaComponent
from va_platform.provider import inputs

C = TypeVar("C", bound=type[VaComponent])


def _documented(cls: C) -> C:
    """The schema's description of a component is its class docstring: the real one's."""
    cls.__doc__ = next(c for c in cls.__mro__[1:] if c.__doc__).__doc__
    return cls


@_documented
class VaSecret(va.VaSecret):
    arn: pulumi.Output[str]
    secret_name: str

    def __init__(
        self, name: str, args: inputs.VaSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, inputs.secret_args(args), opts)


@_documented
class VaTable(va.VaTable):
    arn: pulumi.Output[str]
    table_name: str

    def __init__(
        self, name: str, args: inputs.VaTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, inputs.table_args(args), opts)


@_documented
class VaBucket(va.VaBucket):
    arn: pulumi.Output[str]
    bucket_name: str

    def __init__(
        self, name: str, args: inputs.VaBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, inputs.bucket_args(args), opts)


@_documented
class VaAlarmTopic(va.VaAlarmTopic):
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: inputs.VaAlarmTopicArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, inputs.alarm_topic_args(args), opts)


@_documented
class VaKey(va.VaKey):
    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: inputs.VaKeyArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, inputs.key_args(args), opts)


@_documented
class VaNetwork(va.VaNetwork):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: pulumi.Output[list[str]]
    lambda_security_group_id: pulumi.Output[str]

    def __init__(
        self, name: str, args: inputs.VaNetworkArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, inputs.network_args(args), opts)
        self.vpc_id = self.vpc.id
        self.lambda_security_group_id = self.lambda_security_group.id


@_documented
class VaLambda(va.VaLambda):
    function_name: str
    arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    invoke_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]
    dlq_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: inputs.VaLambdaArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, inputs.lambda_args(args), opts)
        self.log_group_name = self.log_group.name
        self.dlq_arn = self.dlq.arn


@_documented
class VaAgent(va.VaAgent):
    function_name: str
    arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    agent_role_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: inputs.VaAgentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, inputs.agent_args(args), opts)
        self.function_name = self.function.function_name
        if self.agent_role is not None:
            self.agent_role_arn = self.agent_role.arn


COMPONENTS: list[type[VaComponent]] = [
    VaSecret,
    VaTable,
    VaBucket,
    VaAlarmTopic,
    VaKey,
    VaNetwork,
    VaLambda,
    VaAgent,
]

# What each output is, for the schema (component -> Python attribute -> description).
OUTPUT_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "VaSecret": {
        "arn": "The secret's ARN: what a VaLambda's secretArns takes.",
        "secret_name": "va/<env>/<name>.",
    },
    "VaTable": {"arn": "The table's ARN.", "table_name": "va-<env>-<purpose>-dynamodb."},
    "VaBucket": {"arn": "The bucket's ARN.", "bucket_name": "va-<env>-<purpose>-bucket."},
    "VaAlarmTopic": {"arn": "The topic's ARN: what a VaLambda's alarmTopicArn takes."},
    "VaKey": {"arn": "The key's ARN: what a VaLambda's kmsKeyArn takes."},
    "VaNetwork": {
        "vpc_id": "The VPC's id.",
        "private_subnet_ids": "The private subnets' ids, one per zone.",
        "lambda_security_group_id": "The security group every function is attached to.",
    },
    "VaLambda": {
        "function_name": "va-<env>-<purpose>-lambda.",
        "arn": "The function's ARN.",
        "role_arn": "Its execution role's ARN.",
        "invoke_arn": "What triggers and callers invoke: the `live` alias when published.",
        "log_group_name": "/aws/lambda/<function name>.",
        "dlq_arn": "Its dead-letter queue's ARN.",
    },
    "VaAgent": {
        "function_name": "va-<env>-<purpose>-lambda.",
        "arn": "The agent function's ARN.",
        "role_arn": "Its execution role's ARN (the handler's, never the agent's).",
        "agent_role_arn": "The agent role's ARN (a profile with statements only).",
    },
}
