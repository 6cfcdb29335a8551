"""Another team's function in the platform's network: VPC, subnets, security group and alarm
topic are read from the platform stack (a StackReference), never copied as literals. It reads
the team's own Stripe key, a secret that exists already under the team's name for it
(billing/stripe, not a VA name), encrypted with the team's KMS key."""

import pulumi
import pulumi_aws as aws

from va_platform import standard
from va_platform.components import (
    ExistingSecret,
    FunctionSpec,
    LambdaNetworking,
    VaContext,
    VaLambda,
    VaLambdaArgs,
    ZipCode,
)
from va_platform.packaging import build_zip

config = pulumi.Config()
env = pulumi.get_stack()
# Every role the library creates carries the environment's workload boundary, which an
# administrator creates once per account (the platform's docs/operations.md); va-guard refuses a
# role Lambda or the Scheduler assumes without it.
boundary = aws.get_caller_identity_output().account_id.apply(
    lambda account: standard.boundary_arn(env, account)
)
ctx = VaContext(environment=env, owner=config.require("owner"), permissions_boundary=boundary)
platform = pulumi.StackReference(config.require("networkStack"))
subnets = platform.get_output("privateSubnetIds")

networking = LambdaNetworking.from_ids(
    vpc_id=platform.get_output("vpcId"),
    subnet_ids=[subnets[0], subnets[1]],
    security_group_ids=[platform.get_output("lambdaSecurityGroupId")],
    region=aws.get_region_output().region,
    account_id=aws.get_caller_identity_output().account_id,
)
# The function gets the secret's ARN in STRIPE_SECRET (and calls GetSecretValue with it), its
# role GetSecretValue on that secret only and kms:Decrypt on its key through Secrets Manager only.
# A secret of another stack: ExistingSecret(env=..., arn=ref.get_output("stripeSecretArn")).
# Outside va/<env>/*, the workload boundary lets the role read it only if the secret is tagged
# Environment=<env> and Owner=<owner> (this config's), and its key Environment=<env>.
stripe = ExistingSecret(
    env="STRIPE_SECRET",
    name=config.require("stripeSecretName"),
    kms_key_arn=config.require("secretsKeyArn"),
)
spec = FunctionSpec(
    purpose="billing", code=ZipCode(path="handler"), memory=512, existing_secrets=[stripe]
)
function = VaLambda(
    "billing",
    VaLambdaArgs(
        context=ctx,
        spec=spec,
        networking=networking,
        alarm_topic_arn=platform.get_output("alarmTopicArn"),
        package=build_zip("handler", runtime=spec.runtime),
    ),
)
pulumi.export("functionName", function.function.name)
