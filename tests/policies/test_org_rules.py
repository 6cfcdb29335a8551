"""Rules for what the organisation's programs really hold (issue 21 §4): each a mandatory rule
whose message names the fix, and a value the rule needs that is unknown in preview is an
"unchecked" advisory, never silence. Bad and good twins, per rule."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime.rpc import UNKNOWN
from pulumi_policy.deserialize import deserialize_properties
from pulumi_policy.proxy import unknown_checking_proxy

from policies.va_guard import compute, data, lambda_rules, network, sdk_compat, secrets, stack
from tests.paths import PROJECT_ROOT
from tests.policies.support import resource, run
from va_platform.preflight.analyzer import PolicyPackProcess, Subject
from va_platform.preflight.engine import Report, preflight
from va_platform.preflight.runner import run_program

EKS = "aws:eks/cluster:Cluster"
KINESIS = "aws:kinesis/stream:Stream"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
FN = "aws:lambda/function:Function"
PARAMETER = "aws:ssm/parameter:Parameter"
INSTANCE = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
HTTP_API = "aws:apigatewayv2/api:Api"
PERMISSION = "aws:lambda/permission:Permission"
METHOD = "aws:apigateway/method:Method"
INTEGRATION = "aws:apigateway/integration:Integration"
FUNCTION_ARN = "arn:aws:lambda:eu-central-1:123456789012:function:orders"
INVOKE_URI = (
    f"arn:aws:apigateway:eu-central-1:lambda:path/2015-03-31/functions/{FUNCTION_ARN}/invocations"
)


def engine(props: dict) -> object:
    """Props as a policy gets them from the engine (the unknown sentinel decoded by the SDK)."""
    return unknown_checking_proxy(deserialize_properties(props))


def levels(family, type_, props, **kw) -> tuple[list[str], list[str]]:
    return run(family, type_, engine(props), **kw)


# --- EKS: the cluster API open to the internet (va-network) ------------------------------------


def eks(vpc: dict) -> dict:
    return {"name": "c", "vpcConfig": {"subnetIds": ["subnet-1"], **vpc}}


@pytest.mark.parametrize(
    "vpc",
    [
        pytest.param({}, id="defaults"),
        pytest.param({"endpointPublicAccess": True}, id="public-no-cidrs"),
        pytest.param({"publicAccessCidrs": ["0.0.0.0/0"]}, id="open-cidr"),
        pytest.param({"publicAccessCidrs": ["10.0.0.0/8", "::/0"]}, id="open-ipv6"),
    ],
)
def test_eks_cluster_api_open_to_the_internet_is_a_violation_naming_the_fix(vpc):
    (message,) = levels(network.FAMILY, EKS, eks(vpc))[0]
    assert "Kubernetes API" in message
    assert "endpointPublicAccess=false" in message
    assert "publicAccessCidrs" in message


@pytest.mark.parametrize(
    "vpc",
    [
        pytest.param({"endpointPublicAccess": False, "endpointPrivateAccess": True}, id="private"),
        pytest.param({"publicAccessCidrs": ["203.0.113.0/24"]}, id="office-cidr"),
    ],
)
def test_eks_cluster_api_private_or_narrowed_passes(vpc):
    assert levels(network.FAMILY, EKS, eks(vpc)) == ([], [])


def test_eks_cluster_api_cidrs_unknown_are_unchecked():
    found, notices = levels(network.FAMILY, EKS, eks({"publicAccessCidrs": UNKNOWN}))
    assert found == []
    assert notices[0].startswith("unchecked: could not check who may reach the cluster's API")


# --- Kinesis: unencrypted stream (va-data) -------------------------------------------------------


@pytest.mark.parametrize("props", [{}, {"encryptionType": "NONE"}], ids=["default", "none"])
def test_unencrypted_kinesis_stream_is_a_violation_naming_the_fix(props):
    (message,) = levels(data.FAMILY, KINESIS, {"name": "s", **props})[0]
    assert "not encrypted" in message
    assert "encryptionType=KMS" in message


def test_kms_encrypted_kinesis_stream_passes():
    props = {"name": "s", "encryptionType": "KMS", "kmsKeyId": "alias/aws/kinesis"}
    assert levels(data.FAMILY, KINESIS, props) == ([], [])


def test_kinesis_encryption_unknown_is_unchecked():
    found, notices = levels(data.FAMILY, KINESIS, {"name": "s", "encryptionType": UNKNOWN})
    assert found == []
    assert notices[0].startswith("unchecked: could not check the stream's encryption")


# --- secrets in plain ECS task-definition environment (va-secrets) -----------------------------


def task(*environment: dict, **container: object) -> dict:
    definition = [{"name": "web", "image": "nginx", "environment": list(environment), **container}]
    return {"family": "web", "containerDefinitions": json.dumps(definition)}


@pytest.mark.parametrize(
    ("variable", "said"),
    [
        pytest.param({"name": "DB_PASSWORD", "value": "hunter2hunter2"}, "named like a credential",
                     id="password"),
        pytest.param({"name": "SECRET_KEY", "value": "django-insecure-abc"}, "named like a credential",
                     id="secret-key"),
        pytest.param({"name": "CONFIG", "value": "AKIAIOSFODNN7EXAMPLE"}, "looks like", id="aws-key"),
    ],
)  # fmt: skip
def test_secret_in_a_task_definitions_plain_environment_is_a_violation(variable, said):
    (message,) = levels(secrets.FAMILY, TASK, task(variable))[0]
    assert f"container web's environment variable {variable['name']}" in message
    assert said in message
    assert "secrets (valueFrom" in message
    assert variable["value"] not in message


def test_task_definition_referencing_its_secrets_passes():
    props = task(
        {"name": "DB_HOST", "value": "db.internal"},
        secrets=[{"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:x:1:secret:db"}],
    )
    assert levels(secrets.FAMILY, TASK, props) == ([], [])


def test_task_definition_unknown_in_preview_is_unchecked():
    found, notices = levels(
        secrets.FAMILY, TASK, {"family": "web", "containerDefinitions": UNKNOWN}
    )
    assert found == []
    assert notices[0].startswith("unchecked: could not check the containers' environment")


# --- a secret-marked value in plain configuration (va-secrets) --------------------------------


def test_secret_marked_value_in_a_lambda_environment_is_a_violation():
    props = {"runtime": "python3.13", "environment": {"variables": {"DB": "s3cr3t-value"}}}
    found, _ = run(secrets.FAMILY, FN, props, secrets={("environment", "variables", "DB")})
    (message,) = found
    assert message.startswith("environment.variables.DB holds a secret")
    assert "Secrets Manager" in message
    assert "s3cr3t-value" not in message


def test_secret_marked_lambda_environment_is_not_reported_twice_by_va_lambda():
    props = {"runtime": "python3.13", "environment": {"variables": {"DB_PASSWORD": "s3cr3t-value"}},
             "vpcConfig": {"subnetIds": ["s"], "securityGroupIds": ["g"]}}  # fmt: skip
    marked = {("environment", "variables", "DB_PASSWORD")}
    assert run(lambda_rules.FAMILY, FN, props, secrets=marked)[0] == []


def test_secret_marked_whole_environment_is_a_violation():
    props = {"environment": {"variables": {"A": "x"}}}
    (message,) = run(secrets.FAMILY, FN, props, secrets={("environment",)})[0]
    assert message.startswith("environment holds a secret")


def test_secret_marked_string_parameter_is_a_violation_and_securestring_passes():
    props = {"name": "/app/db", "type": "String", "value": "s3cr3t-value"}
    (message,) = run(secrets.FAMILY, PARAMETER, props, secrets={("value",)})[0]
    assert "type=SecureString" in message
    props["type"] = "SecureString"
    assert run(secrets.FAMILY, PARAMETER, props, secrets={("value",)}) == ([], [])


def test_secret_marked_tag_value_is_a_violation():
    (message,) = run(secrets.FAMILY, "aws:s3/bucket:Bucket", {"tags": {"Token": "x"}},
                     secrets={("tags", "Token")})[0]  # fmt: skip
    assert message.startswith("tags.Token holds a secret")


def test_secret_marked_value_where_secrets_belong_passes():
    props = {"secretId": "arn:x", "secretString": "s3cr3t-value"}
    assert run(secrets.FAMILY, SECRET_VERSION, props, secrets={("secretString",)}) == ([], [])


# --- a literal SecretVersion.secretString (va-stack: where the value came from) ----------------


@pytest.fixture
def configured(monkeypatch):
    """The engine sent the stack's config, one secret key among it (ConfigureStack)."""
    identity = sdk_compat.StackIdentity(
        "acme", "app", "dev", frozenset({"from-secret-config"}), True
    )
    monkeypatch.setattr(sdk_compat, "_stack", identity)


def secret_version(value, **kw):
    return resource(SECRET_VERSION, {"secretId": "arn:x", "secretString": value}, name="v", **kw)


def stack_findings(resources):
    return stack.FAMILY.evaluate_stack(resources, stack.FAMILY.config(None))


@pytest.mark.usefixtures("configured")
def test_literal_secret_string_is_a_violation_naming_the_fix():
    version = secret_version("hunter2")
    ((urn, message),) = stack_findings([version])[0]
    assert urn == version.urn
    assert message.startswith("secretString is neither a secret config value nor computed")
    assert "pulumi config set --secret" in message
    assert "hunter2" not in message


@pytest.mark.usefixtures("configured")
def test_secret_string_from_secret_config_passes():
    assert stack_findings([secret_version("from-secret-config")]) == ([], [])
    assert stack_findings([secret_version('{"password": "from-secret-config"}')]) == ([], [])


@pytest.mark.usefixtures("configured")
def test_secret_string_computed_from_another_resource_passes():
    generated = secret_version("x8#kLq!", dependencies={"secretString": ("urn:random",)})
    assert stack_findings([generated]) == ([], [])


def test_secret_string_without_the_stacks_config_is_unchecked(monkeypatch):
    monkeypatch.setattr(sdk_compat, "_stack", sdk_compat.StackIdentity("acme", "app", "dev"))
    violations, notices = stack_findings([secret_version("hunter2")])
    assert violations == []
    assert "could not check whether secretString is a literal: the engine sent no" in notices[0]


def test_secret_string_with_the_stacks_config_still_encrypted_is_unchecked(monkeypatch):
    identity = sdk_compat.StackIdentity("acme", "app", "dev", frozenset({"v1:AbC:dEf="}), True)
    monkeypatch.setattr(sdk_compat, "_stack", identity)
    violations, notices = stack_findings([secret_version("hunter2")])
    assert violations == []
    assert "(decrypted) stack config" in notices[0]


# --- API Gateway: nothing anonymous in front of a function --------------------------------------


def test_quick_create_http_api_in_front_of_a_function_is_a_violation():
    props = {"protocolType": "HTTP", "target": FUNCTION_ARN, "routeKey": "ANY /"}
    (message,) = levels(lambda_rules.FAMILY, HTTP_API, props)[0]
    assert "quick-create" in message
    assert "aws.apigatewayv2.Route" in message


def test_quick_create_http_api_with_an_unknown_target_is_unchecked():
    found, notices = levels(
        lambda_rules.FAMILY, HTTP_API, {"protocolType": "HTTP", "target": UNKNOWN}
    )
    assert found == []
    assert notices[0].startswith(
        "unchecked: could not check what the quick-create API's route calls"
    )


def test_http_api_without_target_passes():
    assert levels(lambda_rules.FAMILY, HTTP_API, {"protocolType": "HTTP"}) == ([], [])


def test_api_permission_with_an_unknown_source_arn_is_unchecked_not_silent():
    props = {"principal": "apigateway.amazonaws.com", "sourceArn": UNKNOWN, "function": "f"}
    found, notices = levels(lambda_rules.FAMILY, PERMISSION, props)
    assert found == []
    assert notices[0].startswith(
        "unchecked: could not check which API may invoke the function (sourceArn)"
    )


def rest_api(authorization: object, uri: object = INVOKE_URI, **method: object) -> list:
    m = resource(METHOD, {"restApi": "api1", "resourceId": "res1", "httpMethod": "POST",
                          "authorization": authorization, **method}, name="orders-post")  # fmt: skip
    i = resource(INTEGRATION, {"restApi": "api1", "resourceId": "res1", "httpMethod": "POST",
                               "type": "AWS_PROXY", "uri": uri}, name="orders-integration")  # fmt: skip
    return [m, i]


def test_rest_api_method_without_authorization_in_front_of_a_function_is_a_violation():
    resources = rest_api("NONE")
    ((urn, message),) = stack.FAMILY.evaluate_stack(resources, stack.FAMILY.config(None))[0]
    assert urn == resources[0].urn
    assert "POST" in message
    assert "authorization NONE" in message
    assert "AWS_IAM, CUSTOM" in message


def test_rest_api_method_with_authorization_passes():
    assert stack.FAMILY.evaluate_stack(rest_api("AWS_IAM"), stack.FAMILY.config(None)) == ([], [])


def test_rest_api_method_without_authorization_in_front_of_a_mock_passes():
    resources = rest_api("NONE", uri=None)
    resources[1] = resource(INTEGRATION, {"restApi": "api1", "resourceId": "res1",
                                          "httpMethod": "POST", "type": "MOCK"}, name="mock")  # fmt: skip
    assert stack.FAMILY.evaluate_stack(resources, stack.FAMILY.config(None)) == ([], [])


def test_rest_api_method_found_through_property_dependencies_in_preview():
    unknown_ids = {"restApi": UNKNOWN, "resourceId": UNKNOWN, "httpMethod": "POST"}
    m = resource(METHOD, engine({**unknown_ids, "authorization": "NONE"}), name="orders-post")
    i = resource(INTEGRATION, engine({**unknown_ids, "type": "AWS_PROXY", "uri": UNKNOWN}),
                 name="orders-integration", dependencies={"httpMethod": (m.urn,)})  # fmt: skip
    ((urn, message),) = stack.FAMILY.evaluate_stack([m, i], stack.FAMILY.config(None))[0]
    assert urn == m.urn
    assert "authorization NONE" in message


# --- EC2: unencrypted root volumes and IMDSv1 (va-compute) --------------------------------------

SAFE_INSTANCE = {"ami": "ami-1", "instanceType": "t3.micro",
                 "rootBlockDevice": {"encrypted": True},
                 "metadataOptions": {"httpTokens": "required"}}  # fmt: skip


def test_safe_instance_passes():
    assert levels(compute.FAMILY, INSTANCE, SAFE_INSTANCE) == ([], [])


@pytest.mark.parametrize(
    "root", [None, {}, {"encrypted": False}], ids=["no-root-block", "unset", "false"]
)
def test_instance_with_an_unencrypted_root_volume_is_a_violation(root):
    props = {**SAFE_INSTANCE, "rootBlockDevice": root}
    (message,) = levels(compute.FAMILY, INSTANCE, props)[0]
    assert "root volume" in message
    assert "rootBlockDevice.encrypted=true" in message


def test_instance_with_an_unencrypted_extra_volume_is_a_violation():
    props = {**SAFE_INSTANCE, "ebsBlockDevices": [{"deviceName": "/dev/sdf", "encrypted": False}]}
    (message,) = levels(compute.FAMILY, INSTANCE, props)[0]
    assert "/dev/sdf" in message


@pytest.mark.parametrize(
    "metadata", [None, {"httpTokens": "optional"}], ids=["default", "optional"]
)
def test_instance_allowing_imdsv1_is_a_violation(metadata):
    props = {**SAFE_INSTANCE, "metadataOptions": metadata}
    (message,) = levels(compute.FAMILY, INSTANCE, props)[0]
    assert "IMDSv1" in message
    assert "metadataOptions.httpTokens='required'" in message


def test_instance_with_the_metadata_service_off_passes():
    props = {**SAFE_INSTANCE, "metadataOptions": {"httpEndpoint": "disabled"}}
    assert levels(compute.FAMILY, INSTANCE, props) == ([], [])


def test_instance_metadata_options_unknown_are_unchecked():
    props = {**SAFE_INSTANCE, "metadataOptions": UNKNOWN}
    found, notices = levels(compute.FAMILY, INSTANCE, props)
    assert found == []
    assert notices[0].startswith("unchecked: could not check the instance metadata service")


def test_launch_template_allowing_imdsv1_or_unencrypted_volumes_is_a_violation():
    props = {"blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "false"}}]}
    found = levels(compute.FAMILY, LAUNCH_TEMPLATE, props)[0]
    assert len(found) == 2
    assert any("IMDSv1" in m for m in found)
    assert any("/dev/xvda" in m and "ebs.encrypted" in m for m in found)


def test_safe_launch_template_passes():
    props = {"metadataOptions": {"httpTokens": "required"},
             "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"encrypted": "true"}}]}  # fmt: skip
    assert levels(compute.FAMILY, LAUNCH_TEMPLATE, props) == ([], [])


# --- ElastiCache: a cache unencrypted at rest or in transit (va-data) ---------------------------

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
CACHE_CLUSTER = "aws:elasticache/cluster:Cluster"
SERVERLESS_CACHE = "aws:elasticache/serverlessCache:ServerlessCache"
ENCRYPTED_GROUP = {"description": "sessions", "engine": "redis", "nodeType": "cache.t3.small",
                   "atRestEncryptionEnabled": True, "transitEncryptionEnabled": True}  # fmt: skip


def test_encrypted_replication_group_passes():
    assert levels(data.FAMILY, REPLICATION_GROUP, ENCRYPTED_GROUP) == ([], [])
    required = {**ENCRYPTED_GROUP, "transitEncryptionMode": "required"}
    assert levels(data.FAMILY, REPLICATION_GROUP, required) == ([], [])


@pytest.mark.parametrize(
    ("unset", "said", "fix"),
    [
        ("atRestEncryptionEnabled", "not encrypted at rest", "atRestEncryptionEnabled=true"),
        ("transitEncryptionEnabled", "not encrypted in transit", "transitEncryptionEnabled=true"),
    ],
)
@pytest.mark.parametrize("value", [None, False], ids=["unset", "false"])
def test_replication_group_without_encryption_is_a_violation_naming_the_fix(
    unset, said, fix, value
):
    props = {**ENCRYPTED_GROUP, unset: value}
    (message,) = levels(data.FAMILY, REPLICATION_GROUP, props)[0]
    assert said in message
    assert fix in message


def test_replication_group_with_no_encryption_at_all_draws_both_violations():
    props = {"description": "sessions", "engine": "redis", "nodeType": "cache.t3.small"}
    found = levels(data.FAMILY, REPLICATION_GROUP, props)[0]
    assert len(found) == 2
    assert any("at rest" in m for m in found)
    assert any("in transit" in m for m in found)


def test_valkey_replication_group_is_encrypted_at_rest_by_default():
    """pulumi-aws 7: atRestEncryptionEnabled defaults to true for Valkey (false for Redis OSS)."""
    props = {**ENCRYPTED_GROUP, "engine": "valkey", "atRestEncryptionEnabled": None}
    assert levels(data.FAMILY, REPLICATION_GROUP, props) == ([], [])
    engine_unknown = {**props, "engine": UNKNOWN}
    found, notices = levels(data.FAMILY, REPLICATION_GROUP, engine_unknown)
    assert found == []
    assert notices[0].startswith("unchecked: could not check the cache's encryption at rest")


def test_replication_group_accepting_plaintext_clients_is_a_violation():
    props = {**ENCRYPTED_GROUP, "transitEncryptionMode": "preferred"}
    (message,) = levels(data.FAMILY, REPLICATION_GROUP, props)[0]
    assert "transitEncryptionMode='preferred'" in message
    assert "transitEncryptionMode='required'" in message


def test_replication_group_encryption_unknown_is_unchecked():
    props = {**ENCRYPTED_GROUP, "atRestEncryptionEnabled": UNKNOWN,
             "transitEncryptionEnabled": UNKNOWN}  # fmt: skip
    found, notices = levels(data.FAMILY, REPLICATION_GROUP, props)
    assert found == []
    assert [n.split(":")[0] for n in notices] == ["unchecked", "unchecked"]
    assert "(atRestEncryptionEnabled)" in notices[0]
    assert "(transitEncryptionEnabled)" in notices[1]


def test_secondary_replication_group_of_a_global_datastore_is_judged_at_its_primary():
    props = {"description": "eu copy", "globalReplicationGroupId": "ldgnf-global"}
    assert levels(data.FAMILY, REPLICATION_GROUP, props) == ([], [])
    assert levels(data.FAMILY, REPLICATION_GROUP, {"globalReplicationGroupId": UNKNOWN}) == ([], [])


@pytest.mark.parametrize("engine_name", ["redis", "valkey"])
def test_redis_or_valkey_cache_cluster_cannot_encrypt_and_is_a_violation_naming_the_fix(
    engine_name,
):
    props = {"engine": engine_name, "nodeType": "cache.t3.small", "numCacheNodes": 1}
    (message,) = levels(data.FAMILY, CACHE_CLUSTER, props)[0]
    assert "neither at rest nor in transit" in message
    assert "aws.elasticache.ReplicationGroup" in message
    assert "atRestEncryptionEnabled=true" in message
    assert "ServerlessCache" in message


def test_memcached_cache_cluster_without_transit_encryption_is_a_violation_naming_the_fix():
    props = {"engine": "memcached", "nodeType": "cache.t3.small", "numCacheNodes": 2}
    (message,) = levels(data.FAMILY, CACHE_CLUSTER, props)[0]
    assert "not encrypted in transit" in message
    assert "transitEncryptionEnabled=true" in message


def test_memcached_cache_cluster_with_transit_encryption_passes():
    props = {"engine": "memcached", "nodeType": "cache.t3.small", "numCacheNodes": 2,
             "transitEncryptionEnabled": True}  # fmt: skip
    assert levels(data.FAMILY, CACHE_CLUSTER, props) == ([], [])


def test_cache_cluster_in_a_replication_group_is_judged_by_its_group():
    assert levels(data.FAMILY, CACHE_CLUSTER, {"replicationGroupId": "sessions"}) == ([], [])
    assert levels(data.FAMILY, CACHE_CLUSTER, {"replicationGroupId": UNKNOWN}) == ([], [])


def test_cache_cluster_engine_unknown_is_unchecked():
    found, notices = levels(data.FAMILY, CACHE_CLUSTER, {"engine": UNKNOWN, "numCacheNodes": 1})
    assert found == []
    assert notices[0].startswith("unchecked: could not check the cache's encryption (engine)")


def test_serverless_cache_always_encrypted_passes():
    assert levels(data.FAMILY, SERVERLESS_CACHE, {"engine": "valkey", "name": "c"}) == ([], [])


# --- DocumentDB and Neptune: storage unencrypted by default (va-data) ----------------------------

GRAPH_AND_DOCUMENT_CLUSTERS = [
    pytest.param("aws:docdb/cluster:Cluster", "DocumentDB", "kmsKeyId", id="docdb"),
    pytest.param("aws:neptune/cluster:Cluster", "Neptune", "kmsKeyArn", id="neptune"),
]


@pytest.mark.parametrize(("type_", "service", "key"), GRAPH_AND_DOCUMENT_CLUSTERS)
@pytest.mark.parametrize("value", [None, False], ids=["unset", "false"])
def test_unencrypted_documentdb_or_neptune_cluster_is_a_violation_naming_the_fix(
    type_, service, key, value
):
    (message,) = levels(data.FAMILY, type_, {"storageEncrypted": value})[0]
    assert f"{service}'s default is false" in message
    assert "storageEncrypted=true" in message
    assert key in message


@pytest.mark.parametrize(("type_", "service", "key"), GRAPH_AND_DOCUMENT_CLUSTERS)
def test_encrypted_documentdb_or_neptune_cluster_passes(type_, service, key):
    assert levels(data.FAMILY, type_, {"storageEncrypted": True}) == ([], [])


@pytest.mark.parametrize(("type_", "service", "key"), GRAPH_AND_DOCUMENT_CLUSTERS)
def test_documentdb_or_neptune_storage_encryption_unknown_is_unchecked(type_, service, key):
    found, notices = levels(data.FAMILY, type_, {"storageEncrypted": UNKNOWN})
    assert found == []
    assert notices[0].startswith("unchecked: could not check storage encryption (storageEncrypted)")


# --- a database password written in the program (va-stack: where the value came from) ----------

RDS_INSTANCE = "aws:rds/instance:Instance"
DATABASES = [
    pytest.param(RDS_INSTANCE, "password", "manage_master_user_password=True", id="rds-instance"),
    pytest.param("aws:rds/cluster:Cluster", "masterPassword", "manage_master_user_password=True",
                 id="rds-cluster"),
    pytest.param("aws:docdb/cluster:Cluster", "masterPassword",
                 "manage_master_user_password=True", id="docdb"),
    pytest.param("aws:redshift/cluster:Cluster", "masterPassword", "manage_master_password=True",
                 id="redshift"),
    pytest.param("aws:redshiftserverless/namespace:Namespace", "adminUserPassword",
                 "manage_admin_password=True", id="redshift-serverless"),
    pytest.param(REPLICATION_GROUP, "authToken", "user_group_ids", id="elasticache-auth-token"),
    pytest.param("aws:dms/endpoint:Endpoint", "password", "secrets_manager_arn", id="dms"),
]  # fmt: skip


def database(type_, prop, value, **kw):
    return resource(type_, {"engine": "docdb", prop: value}, name="db", **kw)


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(("type_", "prop", "fix"), DATABASES)
def test_literal_database_password_is_a_violation_naming_the_fix(type_, prop, fix):
    db = database(type_, prop, "correct-horse-battery-stable")
    ((urn, message),) = stack_findings([db])[0]
    assert urn == db.urn
    assert message.startswith(f"{prop} is neither a secret config value nor computed")
    assert fix in message
    assert "pulumi config set --secret" in message
    assert "correct-horse" not in message


@pytest.mark.usefixtures("configured")
@pytest.mark.parametrize(("type_", "prop", "fix"), [p for p in DATABASES if p.id != "dms"])
def test_write_only_database_password_literal_is_a_violation(type_, prop, fix):
    db = database(type_, f"{prop}Wo", "correct-horse-battery-stable")
    ((_, message),) = stack_findings([db])[0]
    assert message.startswith(f"{prop}Wo is neither a secret config value")


@pytest.mark.usefixtures("configured")
def test_database_password_from_secret_config_passes():
    assert stack_findings([database(RDS_INSTANCE, "password", "from-secret-config")]) == ([], [])


def test_database_password_from_a_secret_config_object_passes(monkeypatch):
    """``config.require_secret_object("db")["password"]``: the password is part of the value."""
    value = json.dumps({"user": "app", "password": "s3cr3t-from-object"})
    identity = sdk_compat.StackIdentity("acme", "app", "dev", frozenset({value}), True)
    monkeypatch.setattr(sdk_compat, "_stack", identity)
    assert stack_findings([database(RDS_INSTANCE, "password", "s3cr3t-from-object")]) == ([], [])


@pytest.mark.usefixtures("configured")
def test_database_password_computed_from_another_resource_passes():
    generated = database(RDS_INSTANCE, "password", "x8#kLq!9zz",
                         dependencies={"password": ("urn:random",)})  # fmt: skip
    assert stack_findings([generated]) == ([], [])


@pytest.mark.usefixtures("configured")
def test_database_with_a_password_aws_manages_passes():
    managed = resource(RDS_INSTANCE, {"engine": "postgres", "manageMasterUserPassword": True})
    assert stack_findings([managed]) == ([], [])


@pytest.mark.usefixtures("configured")
def test_database_password_unknown_from_no_resource_is_unchecked():
    violations, notices = stack_findings(
        [resource(RDS_INSTANCE, engine({"engine": "postgres", "password": UNKNOWN}), name="db")]
    )
    assert violations == []
    assert "could not check whether password is a literal" in notices[0]


def test_database_password_without_the_stacks_config_is_unchecked(monkeypatch):
    monkeypatch.setattr(sdk_compat, "_stack", sdk_compat.StackIdentity("acme", "app", "dev"))
    violations, notices = stack_findings([database(RDS_INSTANCE, "password", "hunter2hunter2")])
    assert violations == []
    assert "could not check whether password is a literal: the engine sent no" in notices[0]


# --- a REST API (v1) defined by an OpenAPI body with open routes (va-stack) ---------------------

REST_API = "aws:apigateway/restApi:RestApi"


def openapi(operation: dict, **document: object) -> dict:
    return {"openapi": "3.0.1", "info": {"title": "orders", "version": "1"},
            "paths": {"/orders": {"post": {"responses": {}, **operation}}}, **document}  # fmt: skip


LAMBDA_OPERATION = {"x-amazon-apigateway-integration": {
    "type": "aws_proxy", "httpMethod": "POST", "uri": INVOKE_URI}}  # fmt: skip
AUTHORIZER = {"type": "apiKey", "name": "Authorization", "in": "header",
              "x-amazon-apigateway-authtype": "custom",
              "x-amazon-apigateway-authorizer": {"type": "token", "authorizerUri": INVOKE_URI}}  # fmt: skip
API_KEY = {"type": "apiKey", "name": "x-api-key", "in": "header"}


def body_findings(body: object) -> tuple[list, list]:
    api = resource(REST_API, engine({"name": "orders", "body": body}), name="api")
    return stack_findings([api])


SWAGGER_YAML = f"""
swagger: "2.0"
info:
  title: "marv"
paths:
  /test:
    post:
      responses: {{}}
      x-amazon-apigateway-integration:
        httpMethod: "POST"
        type: "AWS_PROXY"
        uri: {INVOKE_URI}
"""


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(json.dumps(openapi(LAMBDA_OPERATION)), id="openapi-json"),
        pytest.param(SWAGGER_YAML, id="swagger-yaml"),
        pytest.param(json.dumps(openapi({**LAMBDA_OPERATION, "security": [{"key": []}]},
                                        components={"securitySchemes": {"key": API_KEY}})),
                     id="api-key-only"),
        pytest.param(json.dumps(openapi({**LAMBDA_OPERATION, "security": []},
                                        security=[{"auth": []}],
                                        components={"securitySchemes": {"auth": AUTHORIZER}})),
                     id="operation-opts-out"),
        pytest.param(json.dumps(openapi({**LAMBDA_OPERATION,
                                         "x-amazon-apigateway-auth": {"type": "NONE"}})),
                     id="auth-none"),
    ],
)  # fmt: skip
def test_rest_api_body_with_an_open_route_to_a_function_is_a_violation_naming_the_fix(body):
    ((urn, message),) = body_findings(body)[0]
    assert urn.endswith("::api")
    assert "POST /" in message
    assert "no authorization" in message
    assert "orders" in message or "test" in message
    assert "x-amazon-apigateway-authorizer" in message
    assert "AWS_IAM" in message


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(openapi({**LAMBDA_OPERATION, "security": [{"auth": []}]},
                             components={"securitySchemes": {"auth": AUTHORIZER}}),
                     id="operation-authorizer"),
        pytest.param(openapi(LAMBDA_OPERATION, security=[{"auth": []}],
                             components={"securitySchemes": {"auth": AUTHORIZER}}),
                     id="top-level-authorizer"),
        pytest.param(openapi({**LAMBDA_OPERATION, "security": [{"auth": []}]},
                             swagger="2.0", securityDefinitions={"auth": AUTHORIZER}),
                     id="swagger-authorizer"),
        pytest.param(openapi({**LAMBDA_OPERATION, "x-amazon-apigateway-auth": {"type": "AWS_IAM"}}),
                     id="iam"),
        pytest.param(openapi({**LAMBDA_OPERATION, "security": [{"sigv4": []}]},
                             components={"securitySchemes": {"sigv4": {
                                 **API_KEY, "x-amazon-apigateway-authtype": "awsSigv4"}}}),
                     id="sigv4"),
        pytest.param(openapi({"x-amazon-apigateway-integration": {"type": "mock"}}), id="mock"),
    ],
)  # fmt: skip
def test_rest_api_body_whose_routes_to_functions_are_authorised_passes(body):
    assert body_findings(json.dumps(body)) == ([], [])
    assert body_findings(body) == ([], [])  # an object, as some programs pass it


def test_rest_api_body_unknown_in_preview_is_unchecked():
    violations, notices = body_findings(UNKNOWN)
    assert violations == []
    assert "could not check who may call the REST API's routes (body)" in notices[0]


def test_rest_api_body_object_holding_unknown_values_is_unchecked():
    body = openapi(LAMBDA_OPERATION, security=UNKNOWN)
    violations, notices = body_findings(body)
    assert violations == []
    assert "could not check who may call the REST API's routes (body)" in notices[0]


def test_rest_api_body_that_is_not_openapi_is_unchecked_not_a_crash():
    violations, notices = body_findings("{not: [json")
    assert violations == []
    assert "is neither JSON nor YAML" in notices[0]


def test_rest_api_without_body_passes():
    assert stack_findings([resource(REST_API, {"name": "orders"}, name="api")]) == ([], [])


# --- end to end: the engine's secret marks over gRPC, and a program through the preflight -------

SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


@pytest.mark.parametrize("env", [{}, {"VA_GUARD_SDK_COMPAT": "0"}], ids=["compat", "compat-off"])
def test_secret_the_engine_marks_in_a_lambda_environment_is_a_violation_over_grpc(env):
    props = {"runtime": "python3.13", "environment": {"variables": {
        "DB_HOST": "db", "DB": {**SIG, "value": "s3cr3t-value"}}}}  # fmt: skip
    fn = Subject(FN, "fn", f"urn:pulumi:dev::p::{FN}::fn", props)
    with PolicyPackProcess(env=env) as pack:
        found = [
            (d.policy, d.level, d.detail) for d in pack.analyze(fn) if d.policy == "va-secrets"
        ]
    assert [(p, lvl) for p, lvl, _ in found] == [("va-secrets", "mandatory")]
    assert found[0][2].startswith("environment.variables.DB holds a secret")
    assert "s3cr3t-value" not in found[0][2]


ORG_SHAPES = PROJECT_ROOT / "tests" / "fixtures" / "org_shapes"


@pytest.fixture(scope="module")
def shapes() -> dict[str, Report]:
    reports = {}
    with PolicyPackProcess() as pack:
        for mode in ("preview", "update"):
            run = run_program("dev", program=ORG_SHAPES, mode=mode)
            assert run.error is None, run.error
            reports[mode] = preflight(run, pack=pack)
    return reports


def said(report: Report, level: str, policy: str, name: str) -> list[str]:
    return [d.detail for d in report.diagnostics
            if (d.level, d.policy) == (level, policy) and d.urn.endswith(f"::{name}")]  # fmt: skip


@pytest.mark.parametrize("mode", ["preview", "update"])
@pytest.mark.parametrize(
    ("policy", "name", "expected"),
    [
        ("va-network", "cluster", "Kubernetes API is open to 0.0.0.0/0"),
        ("va-data", "events", "the stream is not encrypted"),
        ("va-secrets", "web", "environment variable POSTGRES_PASSWORD is named like a credential"),
        ("va-secrets", "web", "environment variable SECRET_KEY is named like a credential"),
        ("va-secrets", "handler", "environment.variables.DB_PASS holds a secret"),
        ("va-stack", "api-key-value", "secretString is neither a secret config value"),
        ("va-stack", "orders-post", "has authorization NONE and invokes"),
        ("va-compute", "bastion", "the root volume is not encrypted"),
        ("va-compute", "bastion", "answers IMDSv1"),
        ("va-data", "sessions", "encrypts neither at rest nor in transit"),
        ("va-data", "docs-db", "the cluster's storage is not encrypted"),
        ("va-stack", "docs-db", "masterPassword is neither a secret config value"),
    ],
)
def test_org_shapes_program_draws_each_rule_in_both_modes(shapes, mode, policy, name, expected):
    assert any(expected in m for m in said(shapes[mode], "mandatory", policy, name))


def test_org_shapes_quick_create_api_and_permission_are_unchecked_in_preview_and_judged_in_update(
    shapes,
):
    preview, update = shapes["preview"], shapes["update"]
    assert any("what the quick-create API's route calls" in m
               for m in said(preview, "advisory", "va-notices", "quick"))  # fmt: skip
    assert any("which API may invoke the function (sourceArn)" in m
               for m in said(preview, "advisory", "va-notices", "rest-invoke"))  # fmt: skip
    assert any("quick-create" in m for m in said(update, "mandatory", "va-lambda", "quick"))
    assert said(update, "mandatory", "va-lambda", "rest-invoke") == []  # names one API


def test_org_shapes_secret_config_value_is_never_shown(shapes):
    for report in shapes.values():
        assert all("offline-placeholder" not in d.message for d in report.diagnostics)


@pytest.mark.parametrize("mode", ["preview", "update"])
def test_org_shapes_database_password_from_secret_config_passes_in_both_modes(shapes, mode):
    assert said(shapes[mode], "mandatory", "va-stack", "orders-db") == []
    stack_notices = [d.message for d in shapes[mode].diagnostics if d.policy == "va-stack-notices"]
    assert all("::orders-db:" not in m for m in stack_notices)


def test_org_shapes_openapi_body_is_unchecked_in_preview_and_judged_in_update(shapes):
    preview, update = shapes["preview"], shapes["update"]
    assert any("::openapi: unchecked: could not check who may call the REST API's routes" in d.message
               for d in preview.diagnostics if d.policy == "va-stack-notices")  # fmt: skip
    assert said(preview, "mandatory", "va-stack", "openapi") == []
    (message,) = said(update, "mandatory", "va-stack", "openapi")
    assert "GET /orders has no authorization" in message
