"""Shared helpers for the offline infrastructure checks: load infra/template.yaml with cfn-lint's own
loader (short-form intrinsics such as !Ref / !Sub / !GetAtt become their long form), render intrinsic
values to comparable strings, and read IAM policy statements.

Rendering: {"Ref": X} -> "${X}", {"Fn::GetAtt": [X, Y]} -> "${X.Y}", {"Fn::Sub": s} -> s (variables
of the list form substituted), {"Fn::Join": [d, [...]]} -> joined, {"Fn::If": [c, a, b]} -> both
branches (as alternatives in lists).
"""

from __future__ import annotations

import copy
import json
import os
import re
from dataclasses import dataclass, field

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TEMPLATE = os.path.join(ROOT, "infra", "template.yaml")
TABLE = os.path.join(ROOT, "infra", "iam-actions.json")
FUNCTIONS_DIR = os.path.join(ROOT, "functions")
STATEMACHINES_DIR = os.path.join(ROOT, "statemachines")

MANAGED_BY_KEY = "aviary:managed-by"
MANAGED_BY_VALUE = "aviary"


def load_template(path: str = TEMPLATE) -> dict:
    """The template as plain dicts/lists (a deep copy the checks and self-tests may mutate)."""
    from cfnlint.decode import decode  # cfn-lint's loader understands !Ref, !Sub, !GetAtt, ...

    tpl, matches = decode(path)
    if tpl is None or matches:
        raise SystemExit(f"{path} does not load: {[str(m) for m in matches or []]}")
    return json.loads(json.dumps(tpl))


def load_table(path: str = TABLE) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def crate_dirs(functions_dir: str = FUNCTIONS_DIR) -> list[str]:
    """Every crate directory under functions/ (a directory with a Cargo.toml)."""
    return sorted(
        d for d in os.listdir(functions_dir) if os.path.isfile(os.path.join(functions_dir, d, "Cargo.toml"))
    )


def clone(tpl: dict) -> dict:
    return copy.deepcopy(tpl)


def render(value) -> str:
    """One intrinsic value as a string (Fn::If renders its first branch; see render_all for both)."""
    alts = render_all(value)
    return alts[0] if alts else ""


def render_all(value) -> list[str]:
    """Every string a value can take (both branches of Fn::If; list members flattened)."""
    if value is None:
        return []
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, (str, int, float)):
        return [str(value)]
    if isinstance(value, list):
        out: list[str] = []
        for v in value:
            out.extend(render_all(v))
        return out
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return ["${" + str(arg) + "}"]
        if fn == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return ["${" + ".".join(str(p) for p in parts) + "}"]
        if fn == "Fn::Sub":
            if isinstance(arg, list):
                text, variables = arg[0], arg[1]
                for k, v in variables.items():
                    text = text.replace("${" + k + "}", render(v))
                return [text]
            return [str(arg)]
        if fn == "Fn::Join":
            sep, items = arg
            if isinstance(items, list):
                return [str(sep).join(render(i) for i in items)]
            return render_all(items)
        if fn == "Fn::If":
            return render_all(arg[1]) + render_all(arg[2])
        if fn == "Fn::Select":
            return ["${Select(" + render(arg[1]) + ")}"]
    return [json.dumps(value, sort_keys=True)]


def as_list(v) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


@dataclass
class Statement:
    sid: str
    effect: str
    actions: list[str]
    resources: list[str]
    conditions: dict = field(default_factory=dict)  # operator -> key -> [values]
    raw: dict = field(default_factory=dict)

    def cond(self, operator: str, key: str) -> list[str] | None:
        block = self.conditions.get(operator, {})
        return block.get(key)


def statements_of(policy_document: dict) -> list[Statement]:
    out = []
    for i, s in enumerate(as_list(policy_document.get("Statement"))):
        conditions = {}
        for op, block in (s.get("Condition") or {}).items():
            conditions[op] = {k: render_all(v) for k, v in block.items()}
        out.append(
            Statement(
                sid=s.get("Sid", f"#{i}"),
                effect=s.get("Effect", ""),
                actions=[render(a) for a in as_list(s.get("Action"))],
                resources=render_all(s.get("Resource")),
                conditions=conditions,
                raw=s,
            )
        )
    return out


def role_statements(role: dict) -> list[Statement]:
    """Every statement of a role's inline policies."""
    out = []
    for p in as_list(role.get("Properties", {}).get("Policies")):
        out.extend(statements_of(p.get("PolicyDocument", {})))
    return out


def resources_of_type(tpl: dict, rtype: str) -> dict:
    return {k: v for k, v in tpl.get("Resources", {}).items() if v.get("Type") == rtype}


def getatt_target(value) -> str | None:
    """X for {"Fn::GetAtt": [X, "Arn"]}, else None."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        arg = value["Fn::GetAtt"]
        parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
        if len(parts) == 2 and parts[1] == "Arn":
            return parts[0]
    return None


def ref_target(value) -> str | None:
    if isinstance(value, dict) and "Ref" in value:
        return value["Ref"]
    return None


def function_prop(tpl: dict, fn: dict, name: str):
    """A function property, falling back to Globals.Function."""
    props = fn.get("Properties", {})
    if name in props:
        return props[name]
    return tpl.get("Globals", {}).get("Function", {}).get(name)


def bucket_name_expr(tpl: dict) -> str:
    """The artifact bucket's name as rendered from its BucketName (the string roles must use)."""
    buckets = resources_of_type(tpl, "AWS::S3::Bucket")
    if len(buckets) != 1:
        return ""
    (b,) = buckets.values()
    return render(b.get("Properties", {}).get("BucketName"))


def asl_placeholders(text: str) -> set[str]:
    return set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", text))


def pascal(crate: str) -> str:
    """register-targets -> RegisterTargets, s3-trigger -> S3Trigger."""
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[-_]", crate))
