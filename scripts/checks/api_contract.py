#!/usr/bin/env python3
"""Checks recorded API responses against api/openapi.yaml.

Usage: api_contract.py OPENAPI.yaml RECORDS.json

RECORDS.json is a list of {"method", "path", "status", "contentType", "body"} as the local API
answered them (tests/tests/api_contract.rs records them). For each record:
  - the path must match a documented path template and the method an operation on it
    (otherwise the answer must be a 404 or 405 error body);
  - the status must be documented for that operation;
  - the body must be JSON and valid against the documented schema (JSON Schema 2020-12, the
    OpenAPI 3.1 dialect, with every $ref resolved in the document).
Then coverage: every operation must have been exercised, and every documented status below
500 seen at least once (5xx answers need a broken AWS and are not recorded).

The document itself is validated first with openapi-spec-validator. Exits 1 on any problem,
printing each one.
"""

import json
import re
import sys

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOC_URI = "urn:aviary:openapi"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


def template_regex(template):
    parts = re.split(r"(\{[^}]+\})", template)
    out = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile("^" + out + "$")


def resolve(doc, node):
    """Follows a local $ref (responses are referenced from components)."""
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            node = node[part]
    return node


def main():
    spec_path, records_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        doc = yaml.safe_load(f)
    with open(records_path) as f:
        records = json.load(f)

    problems = []
    try:
        validate_spec(doc)
    except Exception as e:  # the validator raises its own exception types
        problems.append(f"openapi document: {e}")

    registry = Registry().with_resource(DOC_URI, Resource.from_contents(doc, default_specification=DRAFT202012))
    templates = [(t, template_regex(t)) for t in doc["paths"]]
    error_schema = {"$ref": f"{DOC_URI}#/components/schemas/Error"}
    seen = set()

    def check_body(where, schema_ref, body):
        validator = Draft202012Validator({"$ref": schema_ref}, registry=registry)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        for e in errors[:5]:
            path = "/".join(str(p) for p in e.absolute_path) or "(root)"
            problems.append(f"{where}: body at {path}: {e.message}")

    for r in records:
        method, path, status = r["method"].lower(), r["path"].split("?")[0], str(r["status"])
        where = f"{r['method']} {r['path']} -> {status}"
        if not (r.get("contentType") or "").startswith("application/json"):
            problems.append(f"{where}: content type {r.get('contentType')!r} is not application/json")
        body = r["body"]
        matched = [t for t, rx in templates if rx.match(path)]
        # Literal templates win over parameterised ones, as in API Gateway.
        matched.sort(key=lambda t: t.count("{"))
        op = None
        template = matched[0] if matched else None
        if template and method in doc["paths"][template]:
            op = doc["paths"][template][method]
        if op is None:
            if status not in ("404", "405"):
                problems.append(f"{where}: undocumented route answered {status} (only 404/405 may)")
            check_body(where, error_schema["$ref"], body)
            continue
        seen.add((template, method, status))
        response = op["responses"].get(status)
        if response is None:
            problems.append(f"{where}: status {status} is not documented for {method.upper()} {template}")
            continue
        response = resolve(doc, response)
        content = response.get("content", {}).get("application/json")
        if content is None:
            problems.append(f"{where}: no application/json schema documented")
            continue
        ref = content["schema"].get("$ref")
        if ref is None:
            problems.append(f"{where}: response schema must be a $ref to components")
            continue
        check_body(where, DOC_URI + ref, body)

    for template, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            if not any(s[0] == template and s[1] == method for s in seen):
                problems.append(f"coverage: {method.upper()} {template} was never exercised")
                continue
            untested = set(op.get("x-contract-untested", []))
            for status in op["responses"]:
                if int(status) < 500 and status not in untested and (template, method, status) not in seen:
                    problems.append(f"coverage: {method.upper()} {template} never answered {status}")

    for p in problems:
        print(p)
    print(f"api contract: {len(records)} responses checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
