"""Negative self-tests: the infra checks must be able to fail.

Loads the real template and table, applies one in-memory mutation at a time (an extra action, a
removed condition, a widened resource, a missing route, ...), and requires the checks to report a
problem mentioning what was broken. Also requires the unmodified files to pass.

Usage: python tests/infra/selftest.py   (exit 1 on a mutation the checks do not catch)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn  # noqa: E402
import check_iam  # noqa: E402
import check_template  # noqa: E402


def statement(tpl: dict, role: str, sid: str) -> dict:
    for p in tpl["Resources"][role]["Properties"]["Policies"]:
        for s in p["PolicyDocument"]["Statement"]:
            if s.get("Sid") == sid:
                return s
    raise KeyError(f"{role} has no statement {sid}")


def fn(tpl: dict, lid: str) -> dict:
    return tpl["Resources"][lid]["Properties"]


def add_action(role, sid, action):
    def m(tpl, table):
        s = statement(tpl, role, sid)
        s["Action"] = cfn.as_list(s["Action"]) + [action]
    return m


def drop_condition(role, sid, op, key):
    def m(tpl, table):
        s = statement(tpl, role, sid)
        del s["Condition"][op][key]
        if not s["Condition"][op]:
            del s["Condition"][op]
    return m


def set_resource(role, sid, resource):
    def m(tpl, table):
        statement(tpl, role, sid)["Resource"] = resource
    return m


def set_condition(role, sid, op, key, value):
    def m(tpl, table):
        statement(tpl, role, sid).setdefault("Condition", {}).setdefault(op, {})[key] = value
    return m


def drop_table_action(crate, action):
    def m(tpl, table):
        del table["functions"][crate][action]
    return m


def add_table_action(crate, action):
    def m(tpl, table):
        table["functions"][crate][action] = "not called by the code"
    return m


def share_role(tpl, table):
    fn(tpl, "CheckHealthFunction")["Role"] = {"Fn::GetAtt": ["TeardownRole", "Arn"]}


def sam_policies(tpl, table):
    fn(tpl, "CheckHealthFunction")["Policies"] = ["AmazonEC2FullAccess"]


def managed_policy_on_function_role(tpl, table):
    tpl["Resources"]["CheckHealthRole"]["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]


def stray_policy(tpl, table):
    tpl["Resources"]["Extra"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "extra",
            "Roles": [{"Ref": "CheckHealthRole"}],
            "PolicyDocument": {"Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]},
        },
    }


def remove_function(lid):
    def m(tpl, table):
        del tpl["Resources"][lid]
    return m


def extra_table_function(tpl, table):
    table["functions"]["ghost"] = {"logs:PutLogEvents": "x"}


def drop_substitution(tpl, table):
    del fn(tpl, "DeployStateMachine")["DefinitionSubstitutions"]["CheckHealthFunctionArn"]


def substitution_not_a_function(tpl, table):
    fn(tpl, "DeployStateMachine")["DefinitionSubstitutions"]["CheckHealthFunctionArn"] = \
        "arn:aws:lambda:us-east-1:123456789012:function:typed-by-hand"


def slow_function(tpl, table):
    fn(tpl, "CheckHealthFunction")["Timeout"] = 60  # the Task's TimeoutSeconds is 60


def wrong_binary(tpl, table):
    tpl["Resources"]["CheckHealthFunction"]["Metadata"]["BuildProperties"]["Binary"] = "check_health"


def x86(tpl, table):
    fn(tpl, "ProvisionFunction")["Architectures"] = ["x86_64"]


def text_logs(tpl, table):
    fn(tpl, "ProvisionFunction")["LoggingConfig"]["LogFormat"] = "Text"


def no_env(tpl, table):
    del fn(tpl, "S3TriggerFunction")["Environment"]["Variables"]["AVIARY_DEPLOY_STATE_MACHINE_ARN"]


def no_iam_auth(tpl, table):
    del fn(tpl, "HttpApi")["Auth"]["DefaultAuthorizer"]


def route_without_auth(tpl, table):
    fn(tpl, "ApiFunction")["Events"]["GetEnvironment"]["Properties"]["Auth"] = {"Authorizer": "NONE"}


def missing_route(tpl, table):
    del fn(tpl, "ApiFunction")["Events"]["ChangeTraffic"]


def no_versioning(tpl, table):
    del fn(tpl, "ArtifactBucket")["VersioningConfiguration"]


def public_bucket(tpl, table):
    fn(tpl, "ArtifactBucket")["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"] = False


def no_tls_policy(tpl, table):
    del tpl["Resources"]["ArtifactBucketPolicy"]


def wrong_suffix(tpl, table):
    rules = fn(tpl, "ArtifactBucket")["NotificationConfiguration"]["LambdaConfigurations"][0]["Filter"]["S3Key"]["Rules"]
    rules[1]["Value"] = ".gz"


def no_ttl(tpl, table):
    del fn(tpl, "DeploymentTable")["TimeToLiveSpecification"]


def no_pitr(tpl, table):
    fn(tpl, "DeploymentTable")["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] = False


def wrong_gsi(tpl, table):
    fn(tpl, "DeploymentTable")["GlobalSecondaryIndexes"][1]["KeySchema"][0]["AttributeName"] = "kind"


def no_retention(tpl, table):
    del fn(tpl, "CleanupLogGroup")["RetentionInDays"]


def sm_invokes_more(tpl, table):
    statement(tpl, "TeardownStateMachineRole", "InvokeSteps")["Resource"].append({"Fn::GetAtt": ["ProvisionFunction", "Arn"]})


def instance_role_writes(tpl, table):
    statement(tpl, "MonitorInstanceRole", "MonitorDiscovery")["Action"].append("ec2:TerminateInstances")


def app_role_writes_secrets(tpl, table):
    statement(tpl, "InstanceRole", "ReadCanaryArtifacts")["Action"] = ["s3:GetObject", "s3:GetObjectVersion", "ssm:PutParameter"]


# (name, mutation, which check, substring the report must contain)
MUTATIONS = [
    ("extra action on a function role", add_action("CheckHealthRole", "Describe", "elasticloadbalancing:DescribeRules"), "iam", "which iam-actions.json does not list"),
    ("action removed from the table", drop_table_action("teardown", "ec2:TerminateInstances"), "iam", "grants ec2:TerminateInstances"),
    ("action listed but not granted", add_table_action("check-health", "ec2:DescribeInstances"), "iam", "which the role does not grant"),
    ("table names a function that is not a crate", extra_table_function, "iam", "ghost is not a crate"),
    ("ModifyListener granted", add_action("AddListenerRuleRole", "ModifyOwnRules", "elasticloadbalancing:ModifyListener"), "iam", "never modifies the user's listener"),
    ("wildcard action", add_action("CheckHealthRole", "Describe", "elasticloadbalancing:*"), "iam", "wildcard action"),
    ("ResourceTag condition removed from DeleteTargetGroup", drop_condition("TeardownRole", "DeleteOwnTargetGroups", "StringEquals", "aws:ResourceTag/aviary:managed-by"), "iam", "DeleteTargetGroup must require aws:ResourceTag"),
    ("ResourceTag condition removed from TerminateInstances", drop_condition("CleanupRole", "TerminateOwnInstances", "StringEquals", "aws:ResourceTag/aviary:managed-by"), "iam", "TerminateInstances must require"),
    ("ResourceTag condition removed from ModifyRule", drop_condition("ApiRole", "ChangeTrafficOnOwnRules", "StringEquals", "aws:ResourceTag/aviary:managed-by"), "iam", "ModifyRule must require"),
    ("ResourceTag condition removed from ingress", drop_condition("ProvisionRole", "IngressOnOwnSecurityGroups", "StringEquals", "aws:ResourceTag/aviary:managed-by"), "iam", "AuthorizeSecurityGroupIngress must require"),
    ("RequestTag condition removed from CreateRule", drop_condition("AddListenerRuleRole", "CreateTaggedRuleOnAllowedListeners", "StringEquals", "aws:RequestTag/aviary:managed-by"), "iam", "CreateRule must require aws:RequestTag"),
    ("RequestTag condition removed from CreateTargetGroup", drop_condition("RegisterTargetsRole", "CreateTaggedTargetGroup", "StringEquals", "aws:RequestTag/aviary:managed-by"), "iam", "CreateTargetGroup must require"),
    ("RequestTag condition removed from CreateSecurityGroup", drop_condition("ProvisionRole", "CreateTaggedSecurityGroup", "StringEquals", "aws:RequestTag/aviary:managed-by"), "iam", "CreateSecurityGroup on security groups must require"),
    ("AddTags without CreateAction", drop_condition("RegisterTargetsRole", "TagOnCreateOnly", "StringEquals", "elasticloadbalancing:CreateAction"), "iam", "AddTags only as part of"),
    ("CreateTags without CreateAction", drop_condition("ProvisionRole", "TagOnCreateOnly", "StringEquals", "ec2:CreateAction"), "iam", "CreateTags only as part of"),
    ("IMDSv2 condition removed", drop_condition("ProvisionRole", "RunInstancesImdsV2TaggedWithInstanceProfile", "StringEquals", "ec2:MetadataHttpTokens"), "iam", "ec2:MetadataHttpTokens = required"),
    ("IMDSv2 optional", set_condition("ProvisionRole", "RunInstancesImdsV2TaggedWithInstanceProfile", "StringEquals", "ec2:MetadataHttpTokens", "optional"), "iam", "ec2:MetadataHttpTokens = required"),
    ("RunInstances on any security group", drop_condition("ProvisionRole", "RunInstancesOwnSecurityGroups", "StringEquals", "aws:ResourceTag/aviary:managed-by"), "iam", "only use Aviary's security groups"),
    ("PassRole on any role", set_resource("ProvisionRole", "PassInstanceRoleToEc2", "*"), "iam", "iam:PassRole only for the instance role"),
    ("PassRole to any service", drop_condition("ProvisionRole", "PassInstanceRoleToEc2", "StringEquals", "iam:PassedToService"), "iam", "iam:PassedToService = ec2.amazonaws.com"),
    ("S3 widened to the whole bucket", set_resource("S3TriggerRole", "ReadCanaryArtifacts", {"Fn::Sub": "arn:${AWS::Partition}:s3:::${InstallationName}-artifacts-${AWS::AccountId}-${AWS::Region}/*"}), "iam", "only on the artifact bucket's canaries/*"),
    ("S3 on another bucket", set_resource("InstanceRole", "ReadCanaryArtifacts", "arn:aws:s3:::someone-elses-bucket/canaries/*"), "iam", "only on the artifact bucket's canaries/*"),
    ("DynamoDB on every table", set_resource("CheckHealthRole", "DeploymentTable", "*"), "iam", "only on the deployment table"),
    ("StartExecution on any state machine", set_resource("S3TriggerRole", "StartDeployWorkflow", "*"), "iam", "states:StartExecution"),
    ("logs on every log group", set_resource("ProvisionRole", "Logs", "*"), "iam", "only on the function's own log group"),
    ("two functions share a role", share_role, "iam", "one role per function"),
    ("SAM Policies on a function", sam_policies, "iam", "SAM Policies are not allowed"),
    ("managed policy on a function role", managed_policy_on_function_role, "iam", "no managed policies on a function role"),
    ("a separate policy attached to a role", stray_policy, "iam", "attaches to it"),
    ("state machine may invoke a function it does not use", sm_invokes_more, "iam", "lambda:InvokeFunction on"),
    ("instance role not read-only", instance_role_writes, "iam", "is not read-only"),
    ("app instances may write a secret", app_role_writes_secrets, "iam", "ssm:PutParameter only on"),
    ("monitor may write any parameter", set_resource("MonitorInstanceRole", "StoreGrafanaPassword", "*"), "iam", "ssm:PutParameter only on"),
    ("teardown may delete any parameter", set_resource("TeardownRole", "DeleteOwnSecrets", "*"), "iam", "only on the installation's secrets"),
    ("crate without a function", remove_function("AnalyzeFunction"), "template", "functions/analyze has no AWS::Serverless::Function"),
    ("function builds the wrong binary", wrong_binary, "template", "not a crate under functions/"),
    ("ASL placeholder not substituted", drop_substitution, "template", "${CheckHealthFunctionArn} in deploy.asl.json is not in DefinitionSubstitutions"),
    ("ASL task on a hand-typed ARN", substitution_not_a_function, "template", "typed by hand"),
    ("Lambda timeout not below the Task timeout", slow_function, "template", "TimeoutSeconds 60 must exceed CheckHealthFunction"),
    ("x86 function", x86, "template", "Architectures must be [arm64]"),
    ("text logs", text_logs, "template", "LogFormat must be JSON"),
    ("missing environment variable", no_env, "template", "AVIARY_DEPLOY_STATE_MACHINE_ARN is missing"),
    ("API without IAM authorisation", no_iam_auth, "template", "DefaultAuthorizer: AWS_IAM"),
    ("route without authorisation", route_without_auth, "template", "overrides IAM authorisation"),
    ("route missing", missing_route, "template", "('PATCH', '/deployments/{id}/traffic')"),
    ("bucket without versioning", no_versioning, "template", "versioning must be enabled"),
    ("bucket public", public_bucket, "template", "RestrictPublicBuckets must be true"),
    ("bucket without TLS-only policy", no_tls_policy, "template", "aws:SecureTransport"),
    ("notification on the wrong suffix", wrong_suffix, "template", "suffix .tar"),
    ("table without TTL", no_ttl, "template", "TTL on attribute ttl"),
    ("table without PITR", no_pitr, "template", "point-in-time recovery"),
    ("wrong GSI key", wrong_gsi, "template", "GSI byStatus"),
    ("log group without retention", no_retention, "template", "CleanupLogGroup: RetentionInDays is required"),
]


def run_checks(tpl, table, crates, asl_dir=cfn.STATEMACHINES_DIR):
    return {
        "iam": check_iam.check(tpl, table, crates),
        "template": check_template.check(tpl, crates, asl_dir),
    }


def main() -> int:
    base_tpl, base_table, crates = cfn.load_template(), cfn.load_table(), cfn.crate_dirs()
    failures = []
    clean = run_checks(cfn.clone(base_tpl), cfn.clone(base_table), crates)
    if clean["iam"] or clean["template"]:
        failures.append(f"the unmodified template does not pass: {clean}")
    for name, mutate, which, expect in MUTATIONS:
        tpl, table = cfn.clone(base_tpl), cfn.clone(base_table)
        mutate(tpl, table)
        found = run_checks(tpl, table, crates)[which]
        if not any(expect in p for p in found):
            failures.append(f"not caught: {name} (expected a {which} problem containing {expect!r}; got {found})")

    # A crate added under functions/ without a function and a table entry.
    found = run_checks(cfn.clone(base_tpl), cfn.clone(base_table), crates + ["new-step"])
    if not any("functions/new-step has no" in p for p in found["template"]) or not any("new-step has no entry" in p for p in found["iam"]):
        failures.append("not caught: a new crate without a function and table entry")

    # Code that calls an AWS operation nobody is granted, or one the checks do not know.
    table = cfn.clone(base_table)
    for row in table["functions"].values():
        row.pop("cloudwatch:GetMetricData", None)
    found = check_iam.check_code_coverage(table, {"GetMetricData": {"functions/analyze/src/lib.rs"}, "SetRulePriorities": {"x.rs"}})
    if not any("no function in iam-actions.json has cloudwatch:GetMetricData" in p for p in found):
        failures.append(f"not caught: code calls an operation no function is granted ({found})")
    if not any("AWS operation SetRulePriorities" in p for p in found):
        failures.append(f"not caught: code calls an operation the checks do not know ({found})")

    # An environment variable no code reads, and a stale "awaiting code" entry.
    found = check_template.check_env_read(cfn.clone(base_tpl), 'std::env::var("AVIARY_TABLE") "AVIARY_INSTALLATION"', {"AVIARY_INSTALLATION"})
    if not any("AVIARY_BUCKET is set but no Rust code reads it" in p for p in found):
        failures.append(f"not caught: an environment variable no code reads ({found})")
    if not any("AVIARY_MAX_TTL_MINUTES is set but no Rust code reads it" in p for p in found):
        failures.append(f"not caught: a variable set in Globals that no code reads ({found})")
    if not any("AVIARY_INSTALLATION is read by the code now" in p for p in found):
        failures.append(f"not caught: a stale AWAITING_CODE entry ({found})")

    # An ASL file that uses a placeholder nobody substitutes, and an ASL file nobody deploys.
    tmp = tempfile.mkdtemp()
    try:
        for f in os.listdir(cfn.STATEMACHINES_DIR):
            shutil.copy(os.path.join(cfn.STATEMACHINES_DIR, f), tmp)
        with open(os.path.join(tmp, "teardown.asl.json"), encoding="utf-8") as f:
            text = f.read().replace("${TeardownFunctionArn}", "${UnknownFunctionArn}", 1)
        with open(os.path.join(tmp, "teardown.asl.json"), "w", encoding="utf-8") as f:
            f.write(text)
        with open(os.path.join(tmp, "orphan.asl.json"), "w", encoding="utf-8") as f:
            f.write('{"StartAt": "X", "States": {"X": {"Type": "Succeed"}}}')
        found = run_checks(cfn.clone(base_tpl), cfn.clone(base_table), crates, tmp)["template"]
        if not any("${UnknownFunctionArn} in teardown.asl.json" in p for p in found):
            failures.append(f"not caught: an undefined ASL placeholder ({found})")
        if not any("orphan.asl.json is not deployed" in p for p in found):
            failures.append(f"not caught: an ASL file no state machine deploys ({found})")
    finally:
        shutil.rmtree(tmp)

    for f in failures:
        print(f"selftest: {f}")
    if not failures:
        print(f"selftest: {len(MUTATIONS) + 7} mutations, each caught")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
