"""An agent profile: one purpose, one function, one role with only that purpose's permissions.

FAALF's guardrails, as stack config: model allow-list with a cheap default, a cost ceiling
per request and an alarm on spend, a recursion limit, and the auth mode (an Anthropic API key
through the handler's proxy, or Amazon Bedrock through the function's own role, with no secret).
A profile turns into a plain ``FunctionSpec`` plus IAM statements and alarms, so the agent is a
VaLambda like any other and passes the same policies.
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, ClassVar, Literal

import pulumi
from pydantic import AfterValidator, Field, field_validator, model_validator

from va_platform import standard
from va_platform.components.lambda_function.alarms import AlarmDef
from va_platform.components.lambda_function.iam import IamStatement
from va_platform.components.lambda_function.spec import (
    FunctionSpec,
    ImageCode,
    SecretRef,
    StatementSpec,
    VaModel,
)

# The VA secret (va/<env>/anthropic-api-key) an api-key agent profile reads.
ANTHROPIC_KEY_SECRET = "anthropic-api-key"
AGENT_METRICS_NAMESPACE = "VA/FAALF"
MIN_AGENT_MEMORY_MB = 2048
MIN_AGENT_STORAGE_MB = 2048
BEDROCK_ACTIONS = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
COST_ALARM_PERIOD_S = 3600
# What a prompt-injected agent must never hold, whatever a profile says: the agent role's
# credentials are in the agent's hands (FAALF's threat model).
HANDLER_ONLY_ACTIONS = (
    ("secretsmanager:*", "secrets, the API key among them"),
    ("lambda:invoke*", "invoking functions, which would bypass the recursion and budget limits"),
    ("sts:*", "taking other roles"),
    ("iam:*", "changing or passing roles"),
    ("ec2:*networkinterface*", "managing network interfaces"),
    ("bedrock:invoke*", "calling models around the proxy's allow-list and budget"),
    # The cost alarm sums AgentCostUSD; a negative value, sent as a metric or as an embedded-
    # metric line in any log group, would hide what the agent spent.
    ("cloudwatch:putmetricdata", "writing metrics, which could lower the cost alarm's sum"),
    ("logs:putlogevents", "writing log lines, whose embedded metrics could lower the cost alarm"),
)


class ProfileStatement(StatementSpec):
    """One Allow statement for what the agent itself may do; never what only the handler may."""

    WHERE: ClassVar[str] = "agent profile"

    def extra_problems(self) -> list[str]:
        return [
            f"statement {self.sid}: the agent itself may not {action} ({why}); the handler "
            "does that with the function role, where the agent cannot reach it"
            for action in self.actions
            for pattern, why in HANDLER_ONLY_ACTIONS
            if fnmatch.fnmatchcase(action.lower(), pattern)
        ]


class AgentProfile(VaModel):
    """One FAALF function. Defaults: API-key mode, Haiku, $1 per request, depth 2, 300 s."""

    purpose: Annotated[str, AfterValidator(standard.validate_purpose)] = Field(
        description="Names the agent's function, roles and alarms (va-<env>-<purpose>-lambda)."
    )
    auth_mode: Literal["api-key", "bedrock"] = Field(
        default="api-key",
        description="api-key: the Anthropic API with the anthropic-api-key secret (declare it "
        "in secrets). bedrock: Amazon Bedrock, no secret.",
    )
    models: tuple[str, ...] = Field(
        default=("claude-haiku-4-5",), description="The models a request may ask for."
    )
    default_model: str | None = Field(
        default=None, description="One of models; unset means the first."
    )
    max_budget_usd: float = Field(
        default=1.0, gt=0, le=100, description="Spend ceiling of one request, in USD."
    )
    max_turns: int = Field(default=20, ge=1, le=500, description="Agent turns per request.")
    max_depth: int = Field(
        default=2, ge=0, le=10, description="How deep agents may start child agents; 0: none."
    )
    reserved_concurrency: int = Field(
        default=5, ge=1, le=1000, description="Runs at once: caps spend and fan-out."
    )
    memory: int = Field(
        default=MIN_AGENT_MEMORY_MB, ge=MIN_AGENT_MEMORY_MB, le=10240, description="MB."
    )
    timeout: int = Field(
        default=300, ge=60, le=standard.TIMEOUT_S_RANGE[1], description="Seconds per request."
    )
    ephemeral_storage: int = Field(
        default=4096, ge=MIN_AGENT_STORAGE_MB, le=10240, description="MB of /tmp (workspace)."
    )
    cost_alarm_usd_per_hour: float = Field(
        default=10.0, gt=0, description="The cost alarm fires above this spend in an hour."
    )
    statements: tuple[ProfileStatement, ...] = Field(
        default=(),
        description="What the agent itself may do in AWS: held by its own agent role, never "
        "by the function role. None: the agent gets no AWS credentials.",
    )

    @field_validator("models")
    @classmethod
    def _models(cls, models: tuple[str, ...]) -> tuple[str, ...]:
        if not models or any(not m or "," in m for m in models):
            raise ValueError("list one or more model ids (no commas inside an id)")
        return models

    @model_validator(mode="after")
    def _default_in_models(self) -> AgentProfile:
        if self.default_model is not None and self.default_model not in self.models:
            raise ValueError(
                f"defaultModel {self.default_model!r} is not in models ({', '.join(self.models)})"
            )
        return self

    @property
    def model(self) -> str:
        return self.default_model or self.models[0]

    @property
    def needs_api_key(self) -> bool:
        return self.auth_mode == "api-key"

    def env(self) -> dict[str, str]:
        """The FAALF_* variables the handler reads (agent_image/faalf/settings.py)."""
        env = {
            "FAALF_AUTH_MODE": self.auth_mode,
            "FAALF_ALLOWED_MODELS": ",".join(self.models),
            "FAALF_DEFAULT_MODEL": self.model,
            "FAALF_MAX_TURNS": str(self.max_turns),
            "FAALF_MAX_BUDGET_USD": f"{self.max_budget_usd:g}",
            "FAALF_MAX_DEPTH": str(self.max_depth),
        }
        return env

    def function_spec(self, architecture: Literal["x86_64", "arm64"] = "x86_64") -> FunctionSpec:
        """The VaLambda spec; the image URI is given to VaLambda by the VaAgentImage."""
        secrets = (
            (SecretRef(name=ANTHROPIC_KEY_SECRET, env="FAALF_API_KEY_SECRET"),)
            if self.needs_api_key
            else ()
        )
        return FunctionSpec(
            purpose=self.purpose,
            code=ImageCode(),
            architecture=architecture,
            memory=self.memory,
            timeout=self.timeout,
            ephemeral_storage=self.ephemeral_storage,
            reserved_concurrency=self.reserved_concurrency,
            secrets=secrets,
            env=self.env(),
            max_retries=0,  # an agent run costs money: a failed async event goes to the DLQ
        )

    def alarms(self) -> list[AlarmDef]:
        return [
            AlarmDef(
                "cost-alarm", AGENT_METRICS_NAMESPACE, "AgentCostUSD", "Sum",
                self.cost_alarm_usd_per_hour, "service",
                f"Agent spend passed ${self.cost_alarm_usd_per_hour:g} in an hour",
                period=COST_ALARM_PERIOD_S,
            ),
            AlarmDef(
                "recursion-alarm", "AWS/Lambda", "RecursiveInvocationsDropped", "Sum", 1,
                "FunctionName", "Lambda stopped a recursive loop of this agent",
            ),
        ]  # fmt: skip


def bedrock_model_arns(region: str, account: str, model: str) -> list[str]:
    """The ARNs ``bedrock:InvokeModel*`` needs for one model id.

    A cross-region inference profile id (``eu.anthropic...``) is invoked through the profile in
    our region and routed to the foundation model in any EU region, so both are needed.
    """
    if model.split(".", 1)[0] in ("eu", "us", "apac", "global"):
        base = model.split(".", 1)[1]
        return [
            f"arn:aws:bedrock:{region}:{account}:inference-profile/{model}",
            f"arn:aws:bedrock:*::foundation-model/{base}",
        ]
    return [f"arn:aws:bedrock:{region}::foundation-model/{model}"]


def lambda_function_arn(region: str, account: str, name: str) -> str:
    """Known before the function exists, so its own role may invoke it (child agents)."""
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


class AgentImageSettings(VaModel):
    """How the agent image is built and kept (stack config key ``agentImage``)."""

    platform: Literal["linux/amd64", "linux/arm64"] = Field(
        default="linux/amd64", description="The image's platform; agents run on its arch."
    )
    keep_images: int = Field(
        default=10, ge=1, le=1000, description="Images ECR keeps (older ones expire)."
    )
    extra_requirements: str | None = Field(
        default=None,
        pattern=r"^requirements-[a-z0-9-]+\.txt$",
        description="A requirements-<name>.txt of agent_image/ baked into a variant image.",
    )

    @property
    def architecture(self) -> Literal["x86_64", "arm64"]:
        return "arm64" if self.platform == "linux/arm64" else "x86_64"

    @property
    def variant(self) -> tuple[str, ...]:
        """What the image tag adds to the commit when the build is not the default one: the
        same commit built for arm64 or with extra requirements is another image, and ECR tags
        are immutable."""
        parts = ["arm64"] if self.architecture == "arm64" else []
        if self.extra_requirements:
            parts.append(self.extra_requirements.removeprefix("requirements-").removesuffix(".txt"))
        return tuple(parts)


def agent_handler_statements(
    profile: AgentProfile,
    function_name: str,
    region: str,
    account: pulumi.Output[str],
    agent_role_arn: pulumi.Output[str] | None,
) -> list[IamStatement]:
    """The handler's own needs: Bedrock on its models only, invoking itself (children, through
    the handler), and assuming the agent role. The profile's statements are the agent role's."""
    statements = []
    if agent_role_arn is not None:
        statements.append(IamStatement("AssumeAgentRole", ("sts:AssumeRole",), [agent_role_arn]))
    if profile.auth_mode == "bedrock":
        count = sum(len(bedrock_model_arns(region, "0", m)) for m in profile.models)
        arns = account.apply(
            lambda a: [arn for m in profile.models for arn in bedrock_model_arns(region, a, m)]
        )
        statements.append(
            IamStatement(
                "InvokeAllowedModels",
                ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"),
                [arns[i] for i in range(count)],
            )
        )
    if profile.max_depth > 0:
        own_arn = account.apply(lambda a: lambda_function_arn(region, a, function_name))
        statements.append(IamStatement("InvokeChildAgents", ("lambda:InvokeFunction",), [own_arn]))
    return statements
