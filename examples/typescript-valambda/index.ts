// A VA Lambda from TypeScript: the same components, names, tags and IAM statements as a Python
// program gets from va_platform.components, built by the va-platform component provider.
// `pulumi package add` generates the `@pulumi/va` SDK this imports (see README.md).
import * as path from "path";

import * as pulumi from "@pulumi/pulumi";
import * as va from "@pulumi/va";

const context = {
    environment: "dev" as const, // an enum: dev, test or prod
    owner: "reports-team",
    // The environment's workload boundary (administrator-owned): on every role.
    permissionsBoundary: "arn:aws:iam::123456789012:policy/va-dev-workload-boundary",
};

const network = new va.network.VaNetwork("network", {
    context,
    region: "eu-central-1",
    vpcCidr: "10.30.0.0/16",
    availabilityZones: ["eu-central-1a", "eu-central-1b"],
    purpose: "reports",
});
const alarms = new va.alarms.VaAlarmTopic("alarms", {
    context,
    alarmEmail: "reports@example.com",
    purpose: "reports",
});
const table = new va.data.VaTable("table", { context, purpose: "reports" });
const secret = new va.secret.VaSecret("secret-openai", { context, leaf: "openai-api-key" });

// The subnets one by one: the role may create ENIs in exactly these (two zones above).
const subnetIds = [0, 1].map((i) => network.privateSubnetIds.apply((ids) => ids[i]));

const fn = new va.lambda.VaLambda("fn-reports", {
    context,
    spec: {
        purpose: "reports",
        code: { path: "src/reports" },
        runtime: "python3.12", // an enum of the runtimes the VA standard knows
        memory: 512,
        secrets: [{ name: "openai-api-key" }],
        tableActions: ["dynamodb:PutItem"],
        triggers: [{ kind: "schedule", expression: "rate(1 hour)" }],
    },
    // The handler's directory, zipped by the provider as build_zip does (its requirements.txt
    // installed). Absolute, to be safe: the engine runs the provider in the program's
    // directory (read in Pulumi's source, not run), where a relative path would work too.
    package: new pulumi.asset.FileArchive(path.resolve(__dirname, "src/reports")),
    networking: {
        vpcId: network.vpcId,
        subnetIds,
        securityGroupIds: [network.lambdaSecurityGroupId],
        region: "eu-central-1",
        accountId: "123456789012",
    },
    alarmTopicArn: alarms.arn,
    secretArns: { "openai-api-key": secret.arn },
    table: { arn: table.arn, name: table.tableName },
});

export const functionName = fn.functionName;
export const roleArn = fn.roleArn;
