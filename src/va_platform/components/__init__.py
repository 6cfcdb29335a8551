"""The VA components and their typed arguments: the library's public API.

Import from here (``from va_platform.components import VaLambda, VaLambdaArgs``); the modules
below are the implementation and may move. Every name a program needs is in ``__all__``, and
``docs/library.md`` (generated from this list) describes each one.
"""

from va_platform.components.agent import (
    ANTHROPIC_KEY_SECRET,
    AgentFunctionArgs,
    AgentImageSettings,
    AgentProfile,
    VaAgent,
    VaAgentArgs,
    VaAgentImage,
    VaAgentImageArgs,
    VaAgentRole,
    VaAgentRoleArgs,
    agent_lambda,
)
from va_platform.components.agent.image import IMAGE_FILES, context_hash
from va_platform.components.agent.profile import (
    ProfileStatement,
    agent_handler_statements,
    bedrock_model_arns,
    lambda_function_arn,
)
from va_platform.components.agent.role import agent_role_arn, agent_role_name
from va_platform.components.alarm_topic import EMAIL_RE, VaAlarmTopic, VaAlarmTopicArgs
from va_platform.components.artifacts import ArtifactStore, ZipArtifact
from va_platform.components.boundary import (
    VaWorkloadBoundary,
    VaWorkloadBoundaryArgs,
    declared_statements,
    workload_boundary,
)
from va_platform.components.bucket import (
    BucketTarget,
    Expiry,
    VaBucket,
    VaBucketArgs,
    VaBucketNotifications,
    VaBucketNotificationsArgs,
)
from va_platform.components.context import VaContext
from va_platform.components.errors import (
    VaError,
    VaInputError,
    VaUnknownInputError,
    VaValidationError,
    refuse_in_one_line,
)
from va_platform.components.github import VaGithubOidcRole, VaGithubOidcRoleArgs
from va_platform.components.github.deploy_policy import REPOSITORY_PATTERN
from va_platform.components.key import VaKey, VaKeyArgs
from va_platform.components.lambda_function import (
    ExistingSecret,
    FunctionSpec,
    IamStatement,
    ImageCode,
    LambdaNetworking,
    SecretRef,
    VaLambda,
    VaLambdaArgs,
    ZipCode,
)
from va_platform.components.lambda_function.alarms import AlarmDef
from va_platform.components.lambda_function.egress import EgressRule
from va_platform.components.lambda_function.spec import (
    Destinations,
    LogRetentionDays,
    RuntimeManagement,
    StatementSpec,
)
from va_platform.components.lambda_function.triggers import (
    TRIGGER_KINDS,
    BucketTrigger,
    EventsTrigger,
    HttpTrigger,
    JwtAuthorizer,
    QueueTrigger,
    ScheduleTrigger,
    TriggerKind,
    overlapping_bucket_triggers,
)
from va_platform.components.layer import LayerSpec, VaLayer, VaLayerArgs
from va_platform.components.model import ArnInput, InRange, NameInput, OneOf, VaModel
from va_platform.components.network import VaNetwork, VaNetworkArgs
from va_platform.components.refs import BucketRef, TableRef
from va_platform.components.retention_guard import VaRetentionGuard, VaRetentionGuardArgs
from va_platform.components.secret import VaSecret, VaSecretArgs
from va_platform.components.table import VaTable, VaTableArgs

__all__ = [
    "ANTHROPIC_KEY_SECRET",
    "EMAIL_RE",
    "IMAGE_FILES",
    "REPOSITORY_PATTERN",
    "TRIGGER_KINDS",
    "AgentFunctionArgs",
    "AgentImageSettings",
    "AgentProfile",
    "AlarmDef",
    "ArnInput",
    "ArtifactStore",
    "BucketRef",
    "BucketTarget",
    "BucketTrigger",
    "Destinations",
    "EgressRule",
    "EventsTrigger",
    "ExistingSecret",
    "Expiry",
    "FunctionSpec",
    "HttpTrigger",
    "IamStatement",
    "ImageCode",
    "InRange",
    "JwtAuthorizer",
    "LambdaNetworking",
    "LayerSpec",
    "LogRetentionDays",
    "NameInput",
    "OneOf",
    "ProfileStatement",
    "QueueTrigger",
    "RuntimeManagement",
    "ScheduleTrigger",
    "SecretRef",
    "StatementSpec",
    "TableRef",
    "TriggerKind",
    "VaAgent",
    "VaAgentArgs",
    "VaAgentImage",
    "VaAgentImageArgs",
    "VaAgentRole",
    "VaAgentRoleArgs",
    "VaAlarmTopic",
    "VaAlarmTopicArgs",
    "VaBucket",
    "VaBucketArgs",
    "VaBucketNotifications",
    "VaBucketNotificationsArgs",
    "VaContext",
    "VaError",
    "VaGithubOidcRole",
    "VaGithubOidcRoleArgs",
    "VaInputError",
    "VaKey",
    "VaKeyArgs",
    "VaLambda",
    "VaLambdaArgs",
    "VaLayer",
    "VaLayerArgs",
    "VaModel",
    "VaNetwork",
    "VaNetworkArgs",
    "VaRetentionGuard",
    "VaRetentionGuardArgs",
    "VaSecret",
    "VaSecretArgs",
    "VaTable",
    "VaTableArgs",
    "VaUnknownInputError",
    "VaValidationError",
    "VaWorkloadBoundary",
    "VaWorkloadBoundaryArgs",
    "ZipArtifact",
    "ZipCode",
    "agent_handler_statements",
    "agent_lambda",
    "agent_role_arn",
    "agent_role_name",
    "bedrock_model_arns",
    "context_hash",
    "declared_statements",
    "lambda_function_arn",
    "overlapping_bucket_triggers",
    "workload_boundary",
]

# Every args dataclass refuses in one line (a pulumi.RunError: no traceback), as the models do.
refuse_in_one_line(globals()[name] for name in __all__)
