"""Gives each Aviary function, on a moto server, an IAM user whose policy is that function's role
policy as infra/template.yaml renders it, so the emulator lifecycle can run with every function's
own permissions (tests/tests/iam_policies.rs).

What moto 5 evaluates, and therefore what this projection keeps (verified against moto's
iam/access_control.py and by experiment):
- Actions: evaluated for every service, exactly as written in the template (wildcards included).
- Resources: S3 requests are checked against `arn:aws:s3:::bucket[/key]`, so S3 statements keep
  their rendered ARNs (the test names its bucket as the template does). Every other service asks
  moto about the resource "*", which no ARN pattern matches; those statements get "Resource": "*"
  (their ARNs stay checked offline by check_iam.py).
- Conditions: moto has no request context for identity policies (tag and IMDS conditions are
  never evaluated), so they are dropped here and stay checked offline by check_iam.py.

Usage: moto_iam.py --endpoint URL --installation NAME [--account ID] [--region R]
                   [--drop CRATE:ACTION ...] [--only CRATE ...] [--print]
Prints JSON {"functions": {crate: {"accessKeyId", "secretAccessKey", "user"}}, "admin": {...}}.
Run it before moto enforces authentication, or with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY of an
admin user afterwards (re-running updates the policies and keeps the keys).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import cfn  # noqa: E402
from check_template import functions_by_crate  # noqa: E402

ADMIN_POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def substitute(text: str, values: dict[str, str]) -> str:
    for k, v in values.items():
        text = text.replace("${" + k + "}", v)
    return text


def moto_policy(role: dict, values: dict[str, str], drop: set[str]) -> dict:
    """The role's statements as moto can evaluate them (see the module doc)."""
    statements = []
    for st in cfn.role_statements(role):
        if st.effect != "Allow":
            raise SystemExit(f"{st.sid}: only Allow statements are expected in function roles")
        actions = [a for a in st.actions if a not in drop]
        if not actions:
            continue
        s3_only = all(a.startswith("s3:") for a in actions)
        resources = [substitute(r, values) for r in st.resources] if s3_only else ["*"]
        unresolved = [r for r in resources if "${" in r]
        if unresolved:
            raise SystemExit(f"{st.sid}: cannot render {unresolved} for the emulator")
        statements.append({"Sid": st.sid.replace("-", ""), "Effect": "Allow", "Action": actions, "Resource": resources})
    return {"Version": "2012-10-17", "Statement": statements}


def ensure_user(iam, name: str, policy: dict) -> dict:
    try:
        iam.create_user(UserName=name)
        created = True
    except iam.exceptions.EntityAlreadyExistsException:
        created = False
    iam.put_user_policy(UserName=name, PolicyName="aviary", PolicyDocument=json.dumps(policy))
    if created:
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return {"user": name, "accessKeyId": k["AccessKeyId"], "secretAccessKey": k["SecretAccessKey"]}
    # An existing user keeps the key it was given (only its policy changed).
    return {"user": name, "accessKeyId": None, "secretAccessKey": None}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--installation", required=True)
    ap.add_argument("--account", default="123456789012")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--drop", action="append", default=[], help="CRATE:ACTION to leave out (negative tests)")
    ap.add_argument("--only", action="append", default=[], help="update only these crates")
    ap.add_argument("--print", action="store_true", help="print the projected policies, create nothing")
    args = ap.parse_args()

    tpl = cfn.load_template()
    by_crate, problems = functions_by_crate(tpl)
    if problems:
        raise SystemExit("; ".join(problems))
    values = {
        "AWS::Partition": "aws",
        "AWS::Region": args.region,
        "AWS::AccountId": args.account,
        "AWS::StackName": args.installation,
        "InstallationName": args.installation,
    }
    drops: dict[str, set[str]] = {}
    for d in args.drop:
        crate, _, action = d.partition(":")
        if crate not in by_crate or not action:
            raise SystemExit(f"--drop {d}: want CRATE:ACTION with CRATE one of {sorted(by_crate)}")
        drops.setdefault(crate, set()).add(action)

    res = tpl["Resources"]
    policies = {}
    for crate, lid in sorted(by_crate.items()):
        role = cfn.getatt_target(res[lid]["Properties"].get("Role"))
        policies[crate] = moto_policy(res[role], values, drops.get(crate, set()))
    if args.print:
        print(json.dumps(policies, indent=2))
        return 0

    import boto3

    iam = boto3.client(
        "iam",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
    )
    out: dict = {"functions": {}}
    for crate, policy in policies.items():
        if args.only and crate not in args.only:
            continue
        out["functions"][crate] = ensure_user(iam, f"{args.installation}-{crate}", policy)
    if not args.only:
        out["admin"] = ensure_user(iam, f"{args.installation}-harness", ADMIN_POLICY)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
