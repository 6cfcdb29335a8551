"""The VA stack: network, alarm topic, secrets, core table, content bucket, the VA Lambdas and
the FAALF agents (one image, one function and role per agent profile).

Order matters for "nothing half-created": the whole config is validated, then every zip is
built, and only then is the first resource registered. Any problem before that point stops the
program with one message and an empty plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi

from stack.config import ConfigError, StackConfig, load_stack_config
from va_platform.components import (
    IMAGE_FILES,
    AgentFunctionArgs,
    AgentImageSettings,
    AgentProfile,
    ArtifactStore,
    BucketTarget,
    BucketTrigger,
    Expiry,
    FunctionSpec,
    LambdaNetworking,
    VaAgentImage,
    VaAgentImageArgs,
    VaAlarmTopic,
    VaAlarmTopicArgs,
    VaBucket,
    VaBucketArgs,
    VaBucketNotifications,
    VaBucketNotificationsArgs,
    VaContext,
    VaGithubOidcRole,
    VaGithubOidcRoleArgs,
    VaKey,
    VaKeyArgs,
    VaLambda,
    VaLambdaArgs,
    VaLayer,
    VaLayerArgs,
    VaNetwork,
    VaNetworkArgs,
    VaRetentionGuard,
    VaRetentionGuardArgs,
    VaSecret,
    VaSecretArgs,
    VaTable,
    VaTableArgs,
    VaWorkloadBoundary,
    VaWorkloadBoundaryArgs,
    ZipArtifact,
    ZipCode,
    agent_lambda,
    context_hash,
    declared_statements,
)
from va_platform.packaging import (
    PackagingError,
    build_zip,
    code_revision,
    content_revision,
    last_change,
    revision,
)

PROJECT_ROOT = Path(__file__).resolve().parent
AGENT_IMAGE_DIR = PROJECT_ROOT / "agent_image"


def read_config(cfg: pulumi.Config) -> StackConfig:
    """The stack config, checked as a whole. Which keys hold secure values comes from the SDK's
    bookkeeping of their names (the engine's ConfigSecretKeys), never from a value: any one in
    the namespace stops the program (stack.config.SecureConfigError)."""
    prefix = f"{cfg.name}:"
    keys = set(pulumi.runtime.get_config_env()) | set(pulumi.runtime.config.CONFIG.get())
    present = frozenset(k.removeprefix(prefix) for k in keys if k.startswith(prefix))
    secure = {k for k in keys if pulumi.runtime.is_config_secret(k)}
    secure |= set(pulumi.runtime.config.get_config_secret_keys_env())
    secret = frozenset(k.removeprefix(prefix) for k in secure if k.startswith(prefix))
    try:
        aws_config = pulumi.Config("aws")
        return load_stack_config(
            cfg.get,
            aws_config.get("region"),
            present,
            secret,
            allowed_account_ids=[str(a) for a in aws_config.get_object("allowedAccountIds") or []],
        )
    except ConfigError as exc:
        raise pulumi.RunError(str(exc)) from None


def source_dir(path: str, key: str) -> Path:
    resolved = (PROJECT_ROOT / path).resolve()
    if not resolved.is_relative_to(PROJECT_ROOT):
        raise pulumi.RunError(f"{key} = {path!r}: must be a directory inside the project")
    return resolved


def build_packages(config: StackConfig) -> tuple[dict[str, ZipArtifact], dict[str, ZipArtifact]]:
    try:
        functions = {
            fn.purpose: build_zip(
                source_dir(fn.code.path, f"functions[{fn.purpose}].code.path"),
                runtime=fn.runtime,
                architecture=fn.architecture,
            )
            for fn in config.functions
            if isinstance(fn.code, ZipCode)
        }
        layers = {
            layer.purpose: build_zip(
                source_dir(layer.path, f"layers[{layer.purpose}].path"),
                runtime=layer.runtimes[0],
                architecture=layer.architectures[0],
                prefix="python",
            )
            for layer in config.layers
        }
    except PackagingError as exc:
        raise pulumi.RunError(f"packaging failed: {exc}") from None
    return functions, layers


def _artifact_store(
    bucket: VaBucket, fn: FunctionSpec, package: ZipArtifact | None
) -> ArtifactStore | None:
    """Named after the last commit that changed the function's code (and the builder's version)."""
    if package is None or not isinstance(fn.code, ZipCode):
        return None
    return ArtifactStore(
        bucket=bucket.bucket.id,
        revision=code_revision(source_dir(fn.code.path, "code.path"), package),
    )


def bucket_notifications(
    ctx: VaContext,
    buckets: dict[str, VaBucket],
    specs: tuple[FunctionSpec, ...],
    functions: dict[str, VaLambda],
) -> None:
    """One notification per bucket (S3 keeps one), gathering every function's bucket triggers on
    it; created after the functions and the permissions that let S3 invoke them."""
    for purpose, bucket in buckets.items():
        targets = [
            BucketTarget(
                function=fn.purpose,
                function_arn=functions[fn.purpose].invoke_arn,
                trigger=trigger,
                permission=functions[fn.purpose].bucket_permissions[purpose],
            )
            for fn in specs
            for trigger in fn.triggers
            if isinstance(trigger, BucketTrigger) and trigger.bucket == purpose
        ]
        if targets:
            VaBucketNotifications(
                f"{purpose}-bucket-notifications",
                VaBucketNotificationsArgs(context=ctx, bucket=bucket, targets=targets),
            )


def agent_image_tag(settings: AgentImageSettings) -> str:
    """The last commit that changed what the Dockerfile copies, plus the build variant."""
    commit, dirty = last_change(PROJECT_ROOT, [f"agent_image/{p}" for p in IMAGE_FILES])
    return "-".join([revision(commit, dirty, context_hash(AGENT_IMAGE_DIR)), *settings.variant])


@dataclass(frozen=True)
class Shared:
    """What every function of the stack builds on: its context, network, alarm topic, secrets,
    key, data, artifacts bucket and layers."""

    config: StackConfig
    ctx: VaContext
    account: pulumi.Output[str]
    network: VaNetwork
    networking: LambdaNetworking
    alarms: VaAlarmTopic
    key: VaKey | None
    secrets: dict[str, VaSecret]
    table: VaTable
    bucket: VaBucket
    artifacts: VaBucket
    layers: dict[str, VaLayer]

    def lambda_args(self, spec: FunctionSpec, **specific: Any) -> VaLambdaArgs:
        """What every function of the stack shares: network, alarm topic, its secrets, logs
        and the stack's key."""
        return VaLambdaArgs(
            context=self.ctx,
            spec=spec,
            networking=self.networking,
            alarm_topic_arn=self.alarms.arn,
            secret_arns={ref.name: self.secrets[ref.name].arn for ref in spec.secrets},
            log_retention_days=self.config.log_retention_days,
            kms_key_arn=self.key.arn if self.key else None,
            **specific,
        )


def workload_context(config: StackConfig) -> VaContext:
    """First, the administrator-owned ceiling of every role below (the deploy role may create a
    role only with it attached); the context every other component is made in names it."""
    boundary = VaWorkloadBoundary(
        "workload-boundary",
        VaWorkloadBoundaryArgs(
            context=VaContext(environment=config.environment, owner=config.owner),
            region=config.region,
            account_id=config.account_id,
            declared=declared_statements(
                config.functions, config.agents, config.region, config.account_id
            ),
        ),
    )
    return VaContext(
        environment=config.environment, owner=config.owner, permissions_boundary=boundary.arn
    )


def retention_guard(ctx: VaContext, config: StackConfig) -> None:
    """Administrator-owned: no log group of the stack keeps its logs shorter than the shortest
    retention the config declares, whoever shortened it (the deploy role sets retention, and
    no condition key bounds the value)."""
    declared = [fn.log_retention_days for fn in config.functions if fn.log_retention_days]
    VaRetentionGuard(
        "log-retention",
        VaRetentionGuardArgs(
            context=ctx,
            region=config.region,
            account_id=config.account_id,
            retention_days=min([config.log_retention_days, *declared]),
        ),
    )


def stack_secrets(ctx: VaContext, config: StackConfig, key: VaKey | None) -> dict[str, VaSecret]:
    """The declared secrets, each created empty: the program never reads or writes a value
    (every preview decrypts the stack's secure config, a pull request's included). An
    administrator puts each value out of band (docs/operations.md)."""
    secrets = {
        leaf: VaSecret(
            f"secret-{leaf}",
            VaSecretArgs(
                context=ctx,
                leaf=leaf,
                purpose="core",
                kms_key_id=key.arn if key else None,
            ),
        )
        for leaf in config.secrets
    }
    for secret in secrets.values():
        pulumi.log.info(
            f"secret {secret.secret_name}: its value is put out of band, by whoever holds it: "
            f"aws secretsmanager put-secret-value --secret-id {secret.secret_name} "
            "(docs/operations.md)",
            resource=secret,
        )
    return secrets


def shared_resources(
    ctx: VaContext,
    config: StackConfig,
    layer_packages: dict[str, ZipArtifact],
) -> Shared:
    """Network, alarm topic, stack key, secrets, core table, content and artifacts buckets,
    layers."""
    # The account the stack declares (aws:allowedAccountIds makes the provider refuse any other).
    account = pulumi.Output.from_input(config.account_id)
    network = VaNetwork(
        "network",
        VaNetworkArgs(
            context=ctx,
            region=config.region,
            vpc_cidr=config.vpc_cidr,
            availability_zones=config.availability_zones,
            nat_gateway=config.nat_enabled,
            vpc_endpoints=config.vpc_endpoints,
            purpose="core",
        ),
    )
    alarms = VaAlarmTopic(
        "alarms", VaAlarmTopicArgs(context=ctx, alarm_email=config.alarm_email, purpose="alarms")
    )
    key = (
        VaKey(
            "lambda-key",
            VaKeyArgs(context=ctx, region=config.region, account_id=account, purpose="lambda"),
        )
        if config.encryption_key
        else None
    )
    secrets = stack_secrets(ctx, config, key)
    table = VaTable("core-table", VaTableArgs(context=ctx, purpose="core"))
    bucket = VaBucket("content-bucket", VaBucketArgs(context=ctx, purpose="content"))
    # The VA standard: packages go through an S3 staging bucket, named after a commit.
    artifacts = VaBucket(
        "artifacts-bucket", VaBucketArgs(context=ctx, purpose="artifacts", expiry=Expiry())
    )
    layers = {
        spec.purpose: VaLayer(
            f"layer-{spec.purpose}",
            VaLayerArgs(
                context=ctx,
                spec=spec,
                package=layer_packages[spec.purpose],
                artifacts=ArtifactStore(
                    bucket=artifacts.bucket.id,
                    revision=content_revision(layer_packages[spec.purpose].sha256_hex),
                ),
            ),
        )
        for spec in config.layers
    }
    return Shared(
        config=config,
        ctx=ctx,
        account=account,
        network=network,
        networking=network.lambda_networking(),
        alarms=alarms,
        key=key,
        secrets=secrets,
        table=table,
        bucket=bucket,
        artifacts=artifacts,
        layers=layers,
    )


def stack_functions(
    shared: Shared, function_packages: dict[str, ZipArtifact]
) -> dict[str, VaLambda]:
    """The stack's functions (the stack's reserved concurrency unless one sets its own), on
    the core table and the content bucket, whose triggers may name the content bucket."""
    config, bucket = shared.config, shared.bucket
    functions: dict[str, VaLambda] = {}
    for fn in config.functions:
        reserved = fn.reserved_concurrency
        spec = fn.model_copy(
            update={
                "reserved_concurrency": config.reserved_concurrency
                if reserved is None
                else reserved,
            }
        )
        package = function_packages.get(fn.purpose)
        functions[fn.purpose] = VaLambda(
            f"fn-{fn.purpose}",
            shared.lambda_args(
                spec,
                package=package,
                artifacts=_artifact_store(shared.artifacts, fn, package),
                layer_arns=[shared.layers[name].arn for name in fn.layers],
                table=shared.table.ref(),
                bucket=bucket.ref(),
                bucket_arns={bucket.purpose: bucket.arn},
            ),
        )
    bucket_notifications(shared.ctx, {bucket.purpose: bucket}, config.functions, functions)
    return functions


def agent(shared: Shared, profile: AgentProfile, image: VaAgentImage) -> VaLambda:
    """One FAALF agent: its function on the stack's image, and its agent role (profiles with
    statements) that only the function's role may assume."""
    config = shared.config
    function, _ = agent_lambda(
        f"agent-{profile.purpose}",
        profile,
        AgentFunctionArgs(
            context=shared.ctx,
            image_uri=image.image_uri,
            networking=shared.networking,
            alarm_topic_arn=shared.alarms.arn,
            region=config.region,
            account_id=shared.account,
            architecture=config.agent_image.architecture,
            secret_arns={name: secret.arn for name, secret in shared.secrets.items()},
            log_retention_days=config.log_retention_days,
            kms_key_arn=shared.key.arn if shared.key else None,
        ),
    )
    return function


def stack_agents(shared: Shared) -> None:
    """The FAALF agents: one image, one function and role per agent profile."""
    config = shared.config
    if not config.agents:
        return
    image = VaAgentImage(
        "agent-image",
        VaAgentImageArgs(
            context=shared.ctx,
            directory=AGENT_IMAGE_DIR,
            tag=agent_image_tag(config.agent_image),
            settings=config.agent_image,
        ),
    )
    agents = {profile.purpose: agent(shared, profile, image) for profile in config.agents}
    pulumi.export("agentImageUri", image.image_uri)
    pulumi.export("agentFunctionNames", {p: f.function.name for p, f in agents.items()})


def github_roles(shared: Shared) -> None:
    """The CI identities of the stack's repository (preview and deploy), when it names one."""
    config = shared.config
    if not config.github_repository:
        return
    github = VaGithubOidcRole(
        "github",
        VaGithubOidcRoleArgs(
            context=shared.ctx,
            repository=config.github_repository,
            region=config.region,
            account_id=shared.account,
        ),
    )
    pulumi.export("githubPreviewRoleArn", github.preview_role_arn)
    pulumi.export("githubDeployRoleArn", github.deploy_role_arn)


def export_outputs(shared: Shared, functions: dict[str, VaLambda]) -> None:
    pulumi.export("functionNames", {p: f.function.name for p, f in functions.items()})
    pulumi.export("functionArns", {p: f.arn for p, f in functions.items()})
    pulumi.export("roleArns", {p: f.role_arn for p, f in functions.items()})
    pulumi.export("alarmTopicArn", shared.alarms.arn)
    pulumi.export("vpcId", shared.network.vpc.id)
    pulumi.export("privateSubnetIds", shared.network.private_subnet_ids)
    pulumi.export("secretArns", {leaf: s.arn for leaf, s in shared.secrets.items()})
    pulumi.export("coreTableName", shared.table.table_name)
    pulumi.export("contentBucketName", shared.bucket.bucket_name)
    pulumi.export("artifactsBucketName", shared.artifacts.bucket_name)


def main() -> None:
    """Config, packages, then the resources in dependency order, then the outputs."""
    config = read_config(pulumi.Config())
    function_packages, layer_packages = build_packages(config)
    ctx = workload_context(config)
    retention_guard(ctx, config)
    shared = shared_resources(ctx, config, layer_packages)
    functions = stack_functions(shared, function_packages)
    stack_agents(shared)
    github_roles(shared)
    export_outputs(shared, functions)


main()
