"""VaSecret: a Secrets Manager secret named ``va/<env>/<name>`` (the VA standard's secret naming).

Without a value (the default, and what this repository's program does) the secret is created
empty and whoever holds the value puts it out of band (``aws secretsmanager put-secret-value``):
no preview sees it, and rotation by another tool never fights Pulumi. A value given (a Pulumi
secret, e.g. from ``Config.get_secret``) becomes a SecretVersion, encrypted in the state and never
printed; but a value in stack config is decrypted by every preview of the stack and handed to the
program, a pull request's included. Functions receive the ARN only and read the value at runtime.
"""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from va_platform import standard
from va_platform.components.base import VaComponent
from va_platform.components.context import VaContext, purpose_of


@dataclass(frozen=True)
class VaSecretArgs:
    """Which VA secret, its value if the stack holds it, and its key."""

    # Environment and owner (names and tags).
    context: VaContext
    # The <name> of va/<env>/<name>: lowercase letters and digits joined by '-', at most 64
    # characters (e.g. openai-api-key).
    leaf: str
    # The Purpose tag; None: the owner's (VaContext.own_purpose), never the platform stack's
    # (core).
    purpose: str | None = None
    # None: created empty, the value put out of band (aws secretsmanager put-secret-value), as
    # the platform's stack does; else the value, a Pulumi secret (a SecretVersion). From stack
    # config, every preview of the stack decrypts it, a pull request's included.
    value: pulumi.Output[str] | None = None
    # Days a deleted secret can be restored: 0 (none) or 7-30.
    recovery_window_days: int = 30
    # The stack's key (VaKey); None: the account's aws/secretsmanager key. Readers need
    # kms:Decrypt on it (VaLambda grants it to the functions that read secrets).
    kms_key_id: pulumi.Input[str] | None = None

    def __post_init__(self) -> None:
        self.context.secret_name(self.leaf)
        if self.purpose is None:
            object.__setattr__(self, "purpose", self.context.own_purpose("VaSecretArgs"))
        try:
            standard.validate_purpose(purpose_of(self))
        except ValueError as exc:
            raise ValueError(f"VaSecretArgs.purpose: {exc}") from None
        if not (self.recovery_window_days == 0 or 7 <= self.recovery_window_days <= 30):
            raise ValueError(
                f"recovery_window_days {self.recovery_window_days}: 0 (no recovery) or 7-30"
            )


class VaSecret(VaComponent):
    """The secret, and its current version when the stack config holds a value."""

    MODULE = "secret"

    def __init__(
        self, name: str, args: VaSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(name, args.context, opts=opts)
        self.secret_name = args.context.secret_name(args.leaf)
        self.secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name=self.secret_name,
            description=f"VA {args.context.environment} secret {args.leaf}",
            recovery_window_in_days=args.recovery_window_days,
            kms_key_id=args.kms_key_id,
            tags=args.context.tags(purpose_of(args), self.secret_name),
            opts=self.child_opts(),
        )
        self.version: aws.secretsmanager.SecretVersion | None = None
        if args.value is not None:
            self.version = aws.secretsmanager.SecretVersion(
                f"{name}-version",
                secret_id=self.secret.id,
                secret_string=pulumi.Output.secret(args.value),  # type: ignore[arg-type]
                opts=self.child_opts(),
            )
        self.arn: pulumi.Output[str] = self.secret.arn
        self.leaf = args.leaf
        self.register_outputs({"arn": self.arn, "name": self.secret_name})
