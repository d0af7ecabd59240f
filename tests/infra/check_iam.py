"""Least-privilege checks of the IAM in infra/template.yaml against infra/iam-actions.json (offline).

- exactly one role per function (its own AWS::IAM::Role, inline policies only, nothing else
  attached); the actions it grants equal the table's set for that function, no more, no less; the
  table's functions equal the crate directories under functions/;
- writes on load balancer rules and target groups, instances and security groups are tag-scoped
  (aws:RequestTag/aviary:managed-by on create, AddTags/CreateTags only as part of the create via
  elasticloadbalancing:CreateAction / ec2:CreateAction, aws:ResourceTag/aviary:managed-by on
  modify/delete/register/terminate/ingress);
- elasticloadbalancing:ModifyListener is granted to nobody; ec2:RunInstances on instances requires
  ec2:MetadataHttpTokens = required; iam:PassRole only for the instance roles and only to
  ec2.amazonaws.com; S3 only on the artifact bucket's canaries/*; DynamoDB only on the table and its
  indexes; Step Functions, Lambda, Logs and SSM on exactly the stack's resources; "*" only for
  actions that have no resource-level permissions;
- each instance role equals its table (instanceRole for baseline and canary, monitorInstanceRole) and is
  read-only but for the monitor writing its own Grafana password; each state machine's role may
  invoke exactly the functions its definition uses;
- every AWS operation the Rust code names (aws_err("Op") / StepError::aws("Op", ..) under shared/*/src
  and functions/*/src) is granted to at least one function in the table (a new SDK call without a
  grant fails here rather than with AccessDenied in an account).

Usage: python tests/infra/check_iam.py   (exit 1 and one line per problem on failure)
"""

from __future__ import annotations

import glob
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn  # noqa: E402
from check_template import functions_by_crate, task_states  # noqa: E402

MB = "aws:RequestTag/" + cfn.MANAGED_BY_KEY
RT = "aws:ResourceTag/" + cfn.MANAGED_BY_KEY
# The installation tag: every condition on Aviary's tag also names this stack, so one
# installation's roles can never write what another installation made.
INSTALLATION_KEY = "aviary:installation"
MB_INST = "aws:RequestTag/" + INSTALLATION_KEY
RT_INST = "aws:ResourceTag/" + INSTALLATION_KEY
THIS_STACK = ["${AWS::StackName}"]

# Writes on existing resources: tag-scoped with aws:ResourceTag, and the resource type they act on.
RESOURCE_TAG_ACTIONS = {
    "elasticloadbalancing:ModifyRule": ":listener-rule/app/",
    "elasticloadbalancing:DeleteRule": ":listener-rule/app/",
    "elasticloadbalancing:SetRulePriorities": ":listener-rule/app/",
    "elasticloadbalancing:DeleteTargetGroup": ":targetgroup/",
    "elasticloadbalancing:RegisterTargets": ":targetgroup/",
    "elasticloadbalancing:DeregisterTargets": ":targetgroup/",
    "elasticloadbalancing:ModifyTargetGroupAttributes": ":targetgroup/",
    "elasticloadbalancing:ModifyTargetGroup": ":targetgroup/",
    "ec2:TerminateInstances": ":instance/",
    "ec2:DeleteSecurityGroup": ":security-group/",
    "ec2:AuthorizeSecurityGroupIngress": ":security-group/",
    "ec2:RevokeSecurityGroupIngress": ":security-group/",
}
# Creates: aws:RequestTag/aviary:managed-by required (resource type they create).
REQUEST_TAG_ACTIONS = {
    "elasticloadbalancing:CreateRule": None,  # authorised against the listener (checked separately)
    "elasticloadbalancing:CreateTargetGroup": ":targetgroup/",
}
ELB_CREATE_ACTIONS = {"CreateRule", "CreateTargetGroup"}
EC2_CREATE_ACTIONS = {"RunInstances", "CreateSecurityGroup"}
NEVER = {"elasticloadbalancing:ModifyListener", "elasticloadbalancing:DeleteListener", "elasticloadbalancing:CreateListener"}
S3_OBJECT_ACTIONS = {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject"}
LOG_DELIVERY = {
    "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
}
# Actions without resource-level permissions: the only ones allowed on "*".
STAR_OK_PREFIXES = ("ec2:Describe", "elasticloadbalancing:Describe")
STAR_OK = {"cloudwatch:GetMetricData", "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics"} | LOG_DELIVERY
READ_ONLY_VERBS = ("Get", "Describe", "List")
# The installation's secrets (aviary_core::secrets): SSM parameters under this path only.
SECRETS_PATH = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/aviary/${AWS::StackName}/deployments"
# The one write an instance role may have: the monitor storing its own Grafana password.
INSTANCE_WRITES = {"ssm:PutParameter": SECRETS_PATH + "/*/grafana-admin-password"}


def star_ok(action: str) -> bool:
    return action in STAR_OK or action.startswith(STAR_OK_PREFIXES)


def trust_services(role: dict) -> set[str]:
    out = set()
    for s in cfn.statements_of(role.get("Properties", {}).get("AssumeRolePolicyDocument", {})):
        if s.effect == "Allow" and "sts:AssumeRole" in s.actions:
            out.update(cfn.as_list((s.raw.get("Principal") or {}).get("Service")))
    return out


def attached_elsewhere(tpl: dict, role_lid: str) -> list[str]:
    """Policy resources that attach to the role besides its inline Policies."""
    out = []
    for lid, r in tpl.get("Resources", {}).items():
        if r.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            if any(cfn.ref_target(x) == role_lid for x in cfn.as_list(r.get("Properties", {}).get("Roles"))):
                out.append(lid)
        if r.get("Type") == "AWS::IAM::RolePolicy" and cfn.ref_target(r.get("Properties", {}).get("RoleName")) == role_lid:
            out.append(lid)
    return out


class Context:
    """Names of the stack's resources the policies must point at."""

    def __init__(self, tpl: dict):
        self.tpl = tpl
        res = tpl.get("Resources", {})
        tables = list(cfn.resources_of_type(tpl, "AWS::DynamoDB::Table"))
        self.table = tables[0] if len(tables) == 1 else "<no table>"
        self.bucket = cfn.bucket_name_expr(tpl)
        self.functions = set(cfn.resources_of_type(tpl, "AWS::Serverless::Function"))
        self.state_machines = cfn.resources_of_type(tpl, "AWS::Serverless::StateMachine")
        profiles = cfn.resources_of_type(tpl, "AWS::IAM::InstanceProfile")
        # Each instance profile's one role; its table key is the role's logical id with a
        # lower-case first letter (InstanceRole -> instanceRole, MonitorInstanceRole -> monitorInstanceRole).
        self.instance_roles = [cfn.ref_target(r) for p in profiles.values() for r in cfn.as_list(p.get("Properties", {}).get("Roles"))]
        self.res = res

    def execution_arns(self) -> set[str]:
        out = set()
        for sm in self.state_machines.values():
            name = cfn.render(sm.get("Properties", {}).get("Name"))
            if name:
                out.add("arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:" + name + ":*")
        return out


def check_statement(ctx: Context, owner: str, s, own_log_group: str | None) -> list[str]:
    """Every rule that applies to one Allow statement of any role."""
    p = []
    where = f"{owner} statement {s.sid}"
    if "NotAction" in s.raw or "NotResource" in s.raw or "NotPrincipal" in s.raw:
        p.append(f"{where}: NotAction/NotResource are not allowed")
    if s.effect != "Allow":
        return p
    for a in s.actions:
        if "*" in a or a.split(":")[-1] == "":
            p.append(f"{where}: wildcard action {a}")
        if a in NEVER:
            p.append(f"{where}: grants {a}; Aviary never modifies the user's listener")
    res = s.resources
    if not res:
        p.append(f"{where}: no Resource")
    for a in s.actions:
        if "*" in res and not star_ok(a):
            p.append(f"{where}: {a} on \"*\" (it supports resource-level permissions: scope it)")
        if a in RESOURCE_TAG_ACTIONS:
            if s.cond("StringEquals", RT) != [cfn.MANAGED_BY_VALUE]:
                p.append(f"{where}: {a} must require {RT} = {cfn.MANAGED_BY_VALUE}")
            if s.cond("StringEquals", RT_INST) != THIS_STACK:
                p.append(f"{where}: {a} must require {RT_INST} = the stack's name")
            kind = RESOURCE_TAG_ACTIONS[a]
            if any(kind not in r for r in res):
                p.append(f"{where}: {a} must be scoped to {kind.strip(':/')} ARNs")
        if a in REQUEST_TAG_ACTIONS:
            if s.cond("StringEquals", MB) != [cfn.MANAGED_BY_VALUE]:
                p.append(f"{where}: {a} must require {MB} = {cfn.MANAGED_BY_VALUE}")
            if s.cond("StringEquals", MB_INST) != THIS_STACK:
                p.append(f"{where}: {a} must require {MB_INST} = the stack's name")
            kind = REQUEST_TAG_ACTIONS[a]
            if kind and any(kind not in r for r in res):
                p.append(f"{where}: {a} must be scoped to {kind.strip(':/')} ARNs")
        if a == "elasticloadbalancing:CreateRule":
            for r in res:
                if ":listener/app/" not in r and r != "${AllowedListenerArns}" and r != "${HasListeners}":
                    p.append(f"{where}: CreateRule must be scoped to (allowed) ALB listener ARNs, got {r}")
        if a == "elasticloadbalancing:AddTags":
            ca = s.cond("StringEquals", "elasticloadbalancing:CreateAction")
            if not ca or not set(ca) <= ELB_CREATE_ACTIONS:
                p.append(f"{where}: AddTags only as part of {sorted(ELB_CREATE_ACTIONS)} (elasticloadbalancing:CreateAction)")
            if s.cond("StringEquals", MB) != [cfn.MANAGED_BY_VALUE]:
                p.append(f"{where}: AddTags must require {MB} = {cfn.MANAGED_BY_VALUE}")
        if a == "ec2:CreateTags":
            ca = s.cond("StringEquals", "ec2:CreateAction")
            if not ca or not set(ca) <= EC2_CREATE_ACTIONS:
                p.append(f"{where}: CreateTags only as part of {sorted(EC2_CREATE_ACTIONS)} (ec2:CreateAction)")
            if s.cond("StringEquals", MB) != [cfn.MANAGED_BY_VALUE]:
                p.append(f"{where}: CreateTags must require {MB} = {cfn.MANAGED_BY_VALUE}")
        if a == "ec2:CreateSecurityGroup":
            for r in res:
                if r == "*" or ":security-group/" in r:
                    if s.cond("StringEquals", MB) != [cfn.MANAGED_BY_VALUE]:
                        p.append(f"{where}: CreateSecurityGroup on security groups must require {MB}")
                elif ":vpc/" not in r:
                    p.append(f"{where}: CreateSecurityGroup on unexpected resource {r}")
        if a == "ec2:RunInstances":
            for r in res:
                if r == "*" or ":instance/" in r:
                    if s.cond("StringEquals", "ec2:MetadataHttpTokens") != ["required"]:
                        p.append(f"{where}: RunInstances on instances must require ec2:MetadataHttpTokens = required (IMDSv2)")
                    if s.cond("StringEquals", MB) != [cfn.MANAGED_BY_VALUE]:
                        p.append(f"{where}: RunInstances on instances must require {MB}")
                if ":volume/" in r and s.cond("StringEquals", MB) != [cfn.MANAGED_BY_VALUE]:
                    p.append(f"{where}: RunInstances volumes must require {MB}")
                if ":security-group/" in r and s.cond("StringEquals", RT) != [cfn.MANAGED_BY_VALUE]:
                    p.append(f"{where}: RunInstances may only use Aviary's security groups ({RT})")
        if a == "iam:PassRole":
            allowed = {"${" + r + ".Arn}" for r in ctx.instance_roles}
            if not res or any(r not in allowed for r in res):
                p.append(f"{where}: iam:PassRole only for the instance roles, got {res}")
            if s.cond("StringEquals", "iam:PassedToService") != ["ec2.amazonaws.com"]:
                p.append(f"{where}: iam:PassRole must require iam:PassedToService = ec2.amazonaws.com")
        if a.startswith("iam:") and a != "iam:PassRole":
            p.append(f"{where}: {a}: no IAM action other than PassRole")
        if a.startswith("s3:"):
            objects = "arn:${AWS::Partition}:s3:::" + ctx.bucket + "/canaries/*"
            bucket = "arn:${AWS::Partition}:s3:::" + ctx.bucket
            if a in S3_OBJECT_ACTIONS:
                if any(r != objects for r in res):
                    p.append(f"{where}: {a} only on the artifact bucket's canaries/* ({objects}), got {res}")
            elif a == "s3:ListBucket":
                if any(r != bucket for r in res):
                    p.append(f"{where}: s3:ListBucket only on the artifact bucket, got {res}")
            else:
                p.append(f"{where}: S3 action {a} is not expected")
        if a.startswith("dynamodb:"):
            allowed = {"${" + ctx.table + ".Arn}"}
            if a == "dynamodb:Query":
                allowed.add("${" + ctx.table + ".Arn}/index/*")
            if any(r not in allowed for r in res):
                p.append(f"{where}: {a} only on the deployment table (and its indexes for Query), got {res}")
        if a == "states:StartExecution":
            allowed = {"${" + lid + "}" for lid in ctx.state_machines}
            if any(r not in allowed for r in res):
                p.append(f"{where}: states:StartExecution only on the stack's state machines, got {res}")
        if a == "states:DescribeExecution":
            if any(r not in ctx.execution_arns() for r in res):
                p.append(f"{where}: states:DescribeExecution only on executions of the stack's state machines, got {res}")
        if a.startswith("states:") and a not in ("states:StartExecution", "states:DescribeExecution"):
            p.append(f"{where}: unexpected Step Functions action {a}")
        if a == "lambda:InvokeFunction":
            for r in res:
                target = r[2:-5] if r.startswith("${") and r.endswith(".Arn}") else None
                if target not in ctx.functions:
                    p.append(f"{where}: lambda:InvokeFunction only on the stack's functions, got {r}")
        if a in ("logs:CreateLogStream", "logs:PutLogEvents"):
            if own_log_group is None or res != ["${" + own_log_group + ".Arn}"]:
                p.append(f"{where}: {a} only on the function's own log group, got {res}")
        if a.startswith("ssm:"):
            ami = "arn:${AWS::Partition}:ssm:${AWS::Region}:*:parameter${AmiSsmParameterPrefix}/"

            def own_secret(r: str) -> bool:
                return r == SECRETS_PATH or r.startswith(SECRETS_PATH + "/")

            if a == "ssm:GetParameter":
                if any(not (r.startswith(ami) or own_secret(r)) for r in res):
                    p.append(f"{where}: ssm:GetParameter only under the AMI parameter prefix or the installation's secrets, got {res}")
            elif a in ("ssm:GetParametersByPath", "ssm:DeleteParameter", "ssm:PutParameter"):
                if any(not own_secret(r) for r in res):
                    p.append(f"{where}: {a} only on the installation's secrets ({SECRETS_PATH}/...), got {res}")
            else:
                p.append(f"{where}: {a} is not an SSM action Aviary uses")
    return p


def check(tpl: dict, table: dict, crates: list[str]) -> list[str]:
    problems: list[str] = []
    ctx = Context(tpl)
    res = tpl.get("Resources", {})
    by_crate, p = functions_by_crate(tpl)
    problems += p
    fn_table = table.get("functions", {})

    # The table covers exactly the crates, with a reason for every action.
    for c in sorted(set(crates) - set(fn_table)):
        problems.append(f"iam-actions.json: crate {c} has no entry")
    for c in sorted(set(fn_table) - set(crates)):
        problems.append(f"iam-actions.json: {c} is not a crate under functions/")
    for c, actions in fn_table.items():
        for a, why in actions.items():
            if not isinstance(why, str) or not why.strip():
                problems.append(f"iam-actions.json: {c} {a} has no reason")

    glob = tpl.get("Globals", {}).get("Function", {})
    if "Role" in glob or "Policies" in glob:
        problems.append("Globals.Function must not set Role or Policies (one role per function)")

    role_owner: dict[str, str] = {}
    for crate, lid in sorted(by_crate.items()):
        fn = res[lid]
        props = fn.get("Properties", {})
        if props.get("Policies") is not None:
            problems.append(f"{lid}: SAM Policies are not allowed; use the function's own Role")
        role = cfn.getatt_target(props.get("Role"))
        if not role or res.get(role, {}).get("Type") != "AWS::IAM::Role":
            problems.append(f"{lid}: Role must be !GetAtt <its own AWS::IAM::Role>.Arn")
            continue
        if role in role_owner:
            problems.append(f"{lid}: role {role} is already used by {role_owner[role]} (one role per function)")
            continue
        role_owner[role] = lid
        rprops = res[role].get("Properties", {})
        if trust_services(res[role]) != {"lambda.amazonaws.com"}:
            problems.append(f"{role}: must be assumable by lambda.amazonaws.com only")
        if rprops.get("ManagedPolicyArns"):
            problems.append(f"{role}: no managed policies on a function role (inline, exact actions only)")
        for other in attached_elsewhere(tpl, role):
            problems.append(f"{role}: policy {other} attaches to it; keep every grant in the role's inline policies")
        log_group = cfn.ref_target((props.get("LoggingConfig") or {}).get("LogGroup"))
        granted = set()
        for s in cfn.role_statements(res[role]):
            problems += check_statement(ctx, role, s, log_group)
            if s.effect == "Allow":
                granted.update(s.actions)
        want = set(fn_table.get(crate, {}))
        for a in sorted(granted - want):
            problems.append(f"{role} ({crate}): grants {a}, which iam-actions.json does not list")
        for a in sorted(want - granted):
            problems.append(f"{role} ({crate}): iam-actions.json lists {a}, which the role does not grant")

    # Every other role: the instance role and the state machines' roles, nothing else.
    sm_roles = {}
    for slid, sm in ctx.state_machines.items():
        r = cfn.getatt_target(sm.get("Properties", {}).get("Role"))
        if r:
            sm_roles[r] = slid
    for rlid, role in cfn.resources_of_type(tpl, "AWS::IAM::Role").items():
        if rlid in role_owner:
            continue
        if rlid in ctx.instance_roles:
            key = rlid[0].lower() + rlid[1:]
            if key not in table:
                problems.append(f"{rlid}: iam-actions.json has no {key} table")
            problems += check_instance_role(ctx, rlid, role, table.get(key, {}), key)
        elif rlid in sm_roles:
            problems += check_state_machine_role(ctx, rlid, role, sm_roles[rlid])
        else:
            problems.append(f"{rlid}: a role that belongs to no function, state machine or the instance profile")
    # Policies attached in other ways to any role.
    for lid, r in res.items():
        if r.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy", "AWS::IAM::User", "AWS::IAM::Group"):
            problems.append(f"{lid}: {r['Type']} is not expected; grants live in each role's inline policies")
    return problems


def check_instance_role(ctx: Context, rlid: str, role: dict, want: dict, key: str) -> list[str]:
    p = []
    if trust_services(role) != {"ec2.amazonaws.com"}:
        p.append(f"{rlid}: must be assumable by ec2.amazonaws.com only")
    managed = cfn.render_all(role.get("Properties", {}).get("ManagedPolicyArns"))
    for m in managed:
        if m not in ("arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore", "${AWS::NoValue}"):
            p.append(f"{rlid}: managed policy {m} is not allowed (only AmazonSSMManagedInstanceCore)")
    granted = set()
    for s in cfn.role_statements(role):
        p += check_statement(ctx, rlid, s, None)
        if s.effect == "Allow":
            granted.update(s.actions)
            for a in s.actions:
                if a in INSTANCE_WRITES:
                    if cfn.render_all(s.raw.get("Resource")) != [INSTANCE_WRITES[a]]:
                        p.append(f"{rlid}: {a} only on {INSTANCE_WRITES[a]}")
                elif not a.split(":", 1)[-1].startswith(READ_ONLY_VERBS):
                    p.append(f"{rlid}: {a} is not read-only")
    for a in sorted(granted - set(want)):
        p.append(f"{rlid}: grants {a}, which iam-actions.json {key} does not list")
    for a in sorted(set(want) - granted):
        p.append(f"{rlid}: iam-actions.json {key} lists {a}, which the role does not grant")
    return p


def check_state_machine_role(ctx: Context, rlid: str, role: dict, sm_lid: str) -> list[str]:
    import json

    p = []
    if trust_services(role) != {"states.amazonaws.com"}:
        p.append(f"{rlid}: must be assumable by states.amazonaws.com only")
    if role.get("Properties", {}).get("ManagedPolicyArns"):
        p.append(f"{rlid}: no managed policies on a state machine role")
    sm = ctx.state_machines[sm_lid]["Properties"]
    subs = sm.get("DefinitionSubstitutions") or {}
    path = os.path.join(cfn.STATEMACHINES_DIR, os.path.basename(str(sm.get("DefinitionUri", ""))))
    used = set()
    if os.path.isfile(path):
        asl = json.load(open(path, encoding="utf-8"))
        for _, state, _ in task_states(asl):
            for name in cfn.asl_placeholders(state.get("Resource", "")):
                t = cfn.getatt_target(subs.get(name))
                if t:
                    used.add("${" + t + ".Arn}")
    invoke = set()
    for s in cfn.role_statements(role):
        p += check_statement(ctx, rlid, s, None)
        if s.effect != "Allow":
            continue
        for a in s.actions:
            if a == "lambda:InvokeFunction":
                invoke.update(s.resources)
            elif a not in LOG_DELIVERY:
                p.append(f"{rlid}: {a} is not needed by a state machine that only invokes Lambda functions")
    if invoke != used:
        p.append(f"{rlid}: lambda:InvokeFunction on {sorted(invoke)}, but {sm_lid} invokes {sorted(used)}")
    return p


# The IAM action each AWS operation the code names (aws_err("Op") / StepError::aws("Op", ..)) needs.
OP_ACTION = {
    **{op: "ec2:" + op for op in (
        "DescribeSecurityGroups", "CreateSecurityGroup", "AuthorizeSecurityGroupIngress", "DescribeInstances",
        "RunInstances", "TerminateInstances", "DeleteSecurityGroup", "DescribeSubnets")},
    **{op: "elasticloadbalancing:" + op for op in (
        "DescribeListeners", "DescribeLoadBalancers", "DescribeRules", "DescribeTags", "CreateRule", "ModifyRule",
        "DeleteRule", "DescribeTargetGroups", "CreateTargetGroup", "ModifyTargetGroupAttributes", "RegisterTargets",
        "DescribeTargetHealth", "DeregisterTargets", "DeleteTargetGroup")},
    **{op: "dynamodb:" + op for op in ("GetItem", "PutItem", "Query", "UpdateItem", "DeleteItem", "TransactWriteItems", "Scan")},
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "StartExecution": "states:StartExecution",
    "DescribeExecution": "states:DescribeExecution",
    "GetParameter": "ssm:GetParameter",
    "GetParametersByPath": "ssm:GetParametersByPath",
    "DeleteParameter": "ssm:DeleteParameter",
    "GetMetricData": "cloudwatch:GetMetricData",
    "Invoke": "lambda:InvokeFunction",
}
OP_PATTERN = re.compile(r'(?:aws_err|StepError::aws)\(\s*"([A-Za-z]+)"')


def code_operations(roots: list[str]) -> dict[str, set[str]]:
    """AWS operation name -> files (relative) that name it, over the Rust sources under roots."""
    out: dict[str, set[str]] = {}
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for f in files:
                if f.endswith(".rs"):
                    path = os.path.join(dirpath, f)
                    for op in OP_PATTERN.findall(open(path, encoding="utf-8").read()):
                        out.setdefault(op, set()).add(os.path.relpath(path, cfn.ROOT))
    return out


def check_code_coverage(table: dict, ops: dict[str, set[str]]) -> list[str]:
    """Every AWS operation the code names is granted to at least one function in the table."""
    problems = []
    granted = set()
    for actions in table.get("functions", {}).values():
        granted.update(actions)
    for op, files in sorted(ops.items()):
        if op == "Op":  # the placeholder in errors.rs's doc/tests
            continue
        action = OP_ACTION.get(op)
        if action is None:
            problems.append(f"code calls AWS operation {op} ({', '.join(sorted(files))}): add it to OP_ACTION in "
                            "tests/infra/check_iam.py and to the calling function's row in infra/iam-actions.json")
        elif action not in granted:
            problems.append(f"code calls {op} ({', '.join(sorted(files))}) but no function in iam-actions.json has {action}")
    return problems


def main() -> int:
    problems = check(cfn.load_template(), cfn.load_table(), cfn.crate_dirs())
    roots = sorted(glob.glob(os.path.join(cfn.ROOT, "shared", "*", "src"))) + [
        os.path.join(cfn.FUNCTIONS_DIR, c, "src") for c in cfn.crate_dirs()
    ]
    problems += check_code_coverage(cfn.load_table(), code_operations(roots))
    for p in problems:
        print(f"iam: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
