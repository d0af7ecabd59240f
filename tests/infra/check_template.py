"""Structural checks of infra/template.yaml against the code it deploys (offline).

- every Task Resource in statemachines/*.asl.json maps, through its state machine's
  DefinitionSubstitutions, to a function of the template; every ${...} in an ASL file is defined
  in its DefinitionSubstitutions (and every substitution is used); every ASL file is deployed;
- every crate under functions/ has exactly one AWS::Serverless::Function that builds it
  (BuildMethod rust-cargolambda, Binary <crate>, CodeUri ../functions/<crate>) and vice versa;
  provided.al2023, arm64, JSON logs to a log group of the stack, a timeout below every Task
  TimeoutSeconds that invokes it;
- the environment variables the code reads (and that every AVIARY_* variable set is read by the
  Rust code, or listed in AWAITING_CODE until it is); the table, bucket, HTTP API, schedule, log groups,
  instance profile and outputs issue 4 asks for.

Usage: python tests/infra/check_template.py   (exit 1 and one line per problem on failure)
"""

from __future__ import annotations

import json
import glob
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn  # noqa: E402

# What each function's code reads from its environment (aviary_aws::Resources, aviary_lifecycle::Settings and the
# steps that call Settings::require); more may be set, these must be.
REQUIRED_ENV = {
    "provision": {"AVIARY_TABLE", "AVIARY_INSTANCE_PROFILE", "AVIARY_MONITOR_INSTANCE_PROFILE"},
    "register-targets": {"AVIARY_TABLE"},
    "add-listener-rule": {"AVIARY_TABLE"},
    "check-health": {"AVIARY_TABLE"},
    "teardown": {"AVIARY_TABLE"},
    "s3-trigger": {"AVIARY_TABLE", "AVIARY_BUCKET", "AVIARY_DEPLOY_STATE_MACHINE_ARN"},
    "api": {"AVIARY_TABLE", "AVIARY_BUCKET", "AVIARY_DEPLOY_STATE_MACHINE_ARN", "AVIARY_TEARDOWN_STATE_MACHINE_ARN"},
    "cleanup": {"AVIARY_TABLE", "AVIARY_TEARDOWN_STATE_MACHINE_ARN"},
    "analyze": {"AVIARY_TABLE"},
}
# What each variable must point at (rendered).
ENV_TARGETS = {
    "AVIARY_TABLE": "${DeploymentTable}",
    "AVIARY_INSTANCE_PROFILE": "${InstanceProfile}",
    "AVIARY_MONITOR_INSTANCE_PROFILE": "${MonitorInstanceProfile}",
    "AVIARY_DEPLOY_STATE_MACHINE_ARN": "${DeployStateMachine}",
    "AVIARY_TEARDOWN_STATE_MACHINE_ARN": "${TeardownStateMachine}",
}

API_ROUTES = {
    ("POST", "/deployments"),
    ("GET", "/deployments"),
    ("GET", "/deployments/{id}"),
    ("GET", "/deployments/{id}/events"),
    ("GET", "/deployments/{id}/credentials"),
    ("PATCH", "/deployments/{id}/traffic"),
    ("DELETE", "/deployments/{id}"),
    ("POST", "/uploads"),
    ("GET", "/environment"),
    ("POST", "/deployments/{id}/analyses"),
    ("GET", "/deployments/{id}/analyses/{aid}"),
    ("GET", "/deployments/{id}/verdict"),
}

# Variables the template may set before the Rust code reads them. Empty: every variable set is
# read. The check below fails both for a variable nobody reads and for a stale entry here.
AWAITING_CODE: set[str] = set()

REQUIRED_OUTPUTS = {"ApiUrl", "ArtifactBucketName", "DeploymentTableName", "DeployStateMachineArn", "TeardownStateMachineArn"}


def functions_by_crate(tpl: dict) -> tuple[dict[str, str], list[str]]:
    """crate -> function logical id (by BuildProperties.Binary), and problems found on the way."""
    problems = []
    out: dict[str, str] = {}
    for lid, fn in cfn.resources_of_type(tpl, "AWS::Serverless::Function").items():
        md = fn.get("Metadata", {})
        binary = (md.get("BuildProperties") or {}).get("Binary")
        if md.get("BuildMethod") != "rust-cargolambda" or not binary:
            problems.append(f"{lid}: Metadata must have BuildMethod rust-cargolambda and BuildProperties.Binary")
            continue
        if binary in out:
            problems.append(f"{lid}: crate {binary} is already built by {out[binary]}")
            continue
        out[binary] = lid
    return out, problems


def check_functions(tpl: dict, crates: list[str], asl_dir: str = cfn.STATEMACHINES_DIR) -> list[str]:
    problems = []
    by_crate, p = functions_by_crate(tpl)
    problems += p
    res = tpl.get("Resources", {})
    for crate in crates:
        if crate not in by_crate:
            problems.append(f"crate functions/{crate} has no AWS::Serverless::Function building it")
    for crate, lid in by_crate.items():
        fn = res[lid]
        props = fn.get("Properties", {})
        if crate not in crates:
            problems.append(f"{lid} builds '{crate}', which is not a crate under functions/")
        if props.get("CodeUri") != f"../functions/{crate}":
            problems.append(f"{lid}: CodeUri must be ../functions/{crate} (got {props.get('CodeUri')!r})")
        if cfn.function_prop(tpl, fn, "Runtime") != "provided.al2023":
            problems.append(f"{lid}: Runtime must be provided.al2023")
        if cfn.function_prop(tpl, fn, "Architectures") != ["arm64"]:
            problems.append(f"{lid}: Architectures must be [arm64]")
        if cfn.function_prop(tpl, fn, "Handler") != "bootstrap":
            problems.append(f"{lid}: Handler must be bootstrap")
        logging = props.get("LoggingConfig") or {}
        if logging.get("LogFormat") != "JSON":
            problems.append(f"{lid}: LoggingConfig.LogFormat must be JSON")
        lg = cfn.ref_target(logging.get("LogGroup"))
        if not lg or res.get(lg, {}).get("Type") != "AWS::Logs::LogGroup":
            problems.append(f"{lid}: LoggingConfig.LogGroup must !Ref a log group of the stack")
        env = ((props.get("Environment") or {}).get("Variables")) or {}
        for var in sorted(REQUIRED_ENV.get(crate, set()) - set(env)):
            problems.append(f"{lid}: environment variable {var} is missing")
        for var, want in ENV_TARGETS.items():
            if var in env and cfn.render(env[var]) != want:
                problems.append(f"{lid}: {var} must be {want}, got {cfn.render(env[var])}")
        if "AVIARY_BUCKET" in env and cfn.render(env["AVIARY_BUCKET"]) != cfn.bucket_name_expr(tpl):
            problems.append(f"{lid}: AVIARY_BUCKET must be the artifact bucket's name expression")
        timeout = cfn.function_prop(tpl, fn, "Timeout")
        if not isinstance(timeout, int) or timeout <= 0:
            problems.append(f"{lid}: Timeout must be a positive integer")
    api = by_crate.get("api")
    if api and cfn.function_prop(tpl, res[api], "Timeout") >= 30:
        problems.append(f"{api}: Timeout must be below API Gateway's 30 s integration timeout")
    problems += check_state_machines(tpl, by_crate, asl_dir)
    return problems


def check_state_machines(tpl: dict, by_crate: dict[str, str], asl_dir: str) -> list[str]:
    problems = []
    res = tpl.get("Resources", {})
    function_ids = set(cfn.resources_of_type(tpl, "AWS::Serverless::Function"))
    deployed = set()
    for lid, sm in cfn.resources_of_type(tpl, "AWS::Serverless::StateMachine").items():
        props = sm.get("Properties", {})
        if props.get("Type") != "STANDARD":
            problems.append(f"{lid}: Type must be STANDARD")
        if "Definition" in props:
            problems.append(f"{lid}: use DefinitionUri (the file under statemachines/), not an inline Definition")
        uri = props.get("DefinitionUri")
        if not isinstance(uri, str) or not uri.startswith("../statemachines/"):
            problems.append(f"{lid}: DefinitionUri must be ../statemachines/<file>")
            continue
        path = os.path.join(asl_dir, os.path.basename(uri))
        deployed.add(os.path.basename(uri))
        if not os.path.isfile(path):
            problems.append(f"{lid}: {uri} does not exist")
            continue
        text = open(path, encoding="utf-8").read()
        subs = props.get("DefinitionSubstitutions") or {}
        used = cfn.asl_placeholders(text)
        for name in sorted(used - set(subs)):
            problems.append(f"{lid}: ${{{name}}} in {os.path.basename(uri)} is not in DefinitionSubstitutions")
        for name in sorted(set(subs) - used):
            problems.append(f"{lid}: DefinitionSubstitutions.{name} is not used by {os.path.basename(uri)}")
        for name, value in subs.items():
            if isinstance(value, str) and value.startswith("arn:"):
                problems.append(f"{lid}: DefinitionSubstitutions.{name} is an ARN typed by hand")
        asl = json.loads(text)
        for state_name, state, timeout in task_states(asl):
            resource = state.get("Resource", "")
            m = cfn.asl_placeholders(resource)
            if len(m) != 1 or resource != "${" + next(iter(m)) + "}":
                problems.append(f"{lid}: Task {state_name} Resource {resource!r} is not a single ${{...}} substitution")
                continue
            (name,) = m
            target = cfn.getatt_target(subs.get(name))
            if target not in function_ids:
                problems.append(f"{lid}: Task {state_name} uses ${{{name}}}, which is not !GetAtt <Function>.Arn of the template")
                continue
            if timeout is None:
                problems.append(f"{lid}: Task {state_name} has no TimeoutSeconds")
                continue
            fn_timeout = cfn.function_prop(tpl, res[target], "Timeout")
            if not isinstance(fn_timeout, int) or fn_timeout >= timeout:
                problems.append(
                    f"{lid}: Task {state_name} TimeoutSeconds {timeout} must exceed {target}'s Lambda timeout {fn_timeout}"
                )
        logging = props.get("Logging") or {}
        dests = logging.get("Destinations") or []
        lg_ok = any(
            cfn.getatt_target(((d.get("CloudWatchLogsLogGroup") or {}).get("LogGroupArn"))) in res for d in dests
        )
        if not lg_ok or logging.get("Level") in (None, "OFF"):
            problems.append(f"{lid}: Logging must send to a log group of the stack")
        role = cfn.getatt_target(props.get("Role"))
        if not role or res.get(role, {}).get("Type") != "AWS::IAM::Role":
            problems.append(f"{lid}: Role must be !GetAtt <its own AWS::IAM::Role>.Arn")
        if props.get("Policies"):
            problems.append(f"{lid}: use the explicit Role only, not SAM Policies")
    for f in sorted(os.listdir(asl_dir)):
        if f.endswith(".asl.json") and f not in deployed:
            problems.append(f"statemachines/{f} is not deployed by any AWS::Serverless::StateMachine")
    return problems


def task_states(asl: dict):
    """(name, state, TimeoutSeconds) for every Task, nested Parallel/Map branches included."""
    for name, state in (asl.get("States") or {}).items():
        t = state.get("Type")
        if t == "Task":
            yield name, state, state.get("TimeoutSeconds")
        for branch in state.get("Branches", []) or []:
            yield from task_states(branch)
        for key in ("Iterator", "ItemProcessor"):
            if isinstance(state.get(key), dict):
                yield from task_states(state[key])


def check_storage(tpl: dict) -> list[str]:
    problems = []
    res = tpl.get("Resources", {})
    tables = cfn.resources_of_type(tpl, "AWS::DynamoDB::Table")
    if len(tables) != 1:
        problems.append(f"expected exactly one DynamoDB table, found {len(tables)}")
    for lid, t in tables.items():
        p = t.get("Properties", {})
        keys = {k["AttributeName"]: k["KeyType"] for k in p.get("KeySchema", [])}
        if keys != {"pk": "HASH", "sk": "RANGE"}:
            problems.append(f"{lid}: key schema must be pk (HASH) + sk (RANGE)")
        attrs = {a["AttributeName"]: a["AttributeType"] for a in p.get("AttributeDefinitions", [])}
        for a in ("pk", "sk", "kind", "status", "createdSort"):
            if attrs.get(a) != "S":
                problems.append(f"{lid}: attribute {a} must be defined as S")
        gsis = {g["IndexName"]: {k["AttributeName"]: k["KeyType"] for k in g["KeySchema"]} for g in p.get("GlobalSecondaryIndexes", [])}
        if gsis.get("byCreated") != {"kind": "HASH", "createdSort": "RANGE"}:
            problems.append(f"{lid}: GSI byCreated must be kind (HASH) + createdSort (RANGE)")
        if gsis.get("byStatus") != {"status": "HASH", "createdSort": "RANGE"}:
            problems.append(f"{lid}: GSI byStatus must be status (HASH) + createdSort (RANGE)")
        ttl = p.get("TimeToLiveSpecification") or {}
        if ttl.get("AttributeName") != "ttl" or ttl.get("Enabled") is not True:
            problems.append(f"{lid}: TTL on attribute ttl must be enabled")
        if (p.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled") is not True:
            problems.append(f"{lid}: point-in-time recovery must be enabled")
        if p.get("BillingMode") != "PAY_PER_REQUEST":
            problems.append(f"{lid}: BillingMode must be PAY_PER_REQUEST")
        if (p.get("SSESpecification") or {}).get("SSEEnabled") is not True:
            problems.append(f"{lid}: SSESpecification.SSEEnabled must be true")

    buckets = cfn.resources_of_type(tpl, "AWS::S3::Bucket")
    if len(buckets) != 1:
        problems.append(f"expected exactly one S3 bucket, found {len(buckets)}")
        return problems
    (blid, b), = buckets.items()
    p = b.get("Properties", {})
    name = cfn.bucket_name_expr(tpl)
    if not name or "${" not in name:
        problems.append(f"{blid}: BucketName must be computed from parameters (roles name it as a string)")
    if (p.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
        problems.append(f"{blid}: versioning must be enabled (the trigger uses object versions)")
    sse = (p.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration") or []
    if not any((r.get("ServerSideEncryptionByDefault") or {}).get("SSEAlgorithm") in ("AES256", "aws:kms", "aws:kms:dsse") for r in sse):
        problems.append(f"{blid}: default encryption must be set")
    pab = p.get("PublicAccessBlockConfiguration") or {}
    for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        if pab.get(k) is not True:
            problems.append(f"{blid}: PublicAccessBlockConfiguration.{k} must be true")
    rules = (p.get("LifecycleConfiguration") or {}).get("Rules") or []
    canary_rules = [r for r in rules if r.get("Status") == "Enabled" and (r.get("Prefix") == "canaries/" or ((r.get("Filter") or {}).get("Prefix") == "canaries/"))]
    if not any("ExpirationInDays" in r for r in canary_rules):
        problems.append(f"{blid}: a lifecycle rule must expire objects under canaries/")
    if not any("NoncurrentVersionExpiration" in r or "NoncurrentVersionExpirationInDays" in r for r in canary_rules):
        problems.append(f"{blid}: a lifecycle rule must expire noncurrent versions under canaries/")
    # Notification to s3-trigger: prefix canaries/, suffix .tar, and the permission exists first.
    by_crate, _ = functions_by_crate(tpl)
    trigger = by_crate.get("s3-trigger")
    lcs = ((p.get("NotificationConfiguration") or {}).get("LambdaConfigurations")) or []
    good = False
    for lc in lcs:
        rules_ = {r["Name"].lower(): r["Value"] for r in ((lc.get("Filter") or {}).get("S3Key") or {}).get("Rules", [])}
        if cfn.getatt_target(lc.get("Function")) == trigger and lc.get("Event", "").startswith("s3:ObjectCreated") \
                and rules_ == {"prefix": "canaries/", "suffix": ".tar"}:
            good = True
    if not good:
        problems.append(f"{blid}: an s3:ObjectCreated notification to the s3-trigger function filtered by prefix canaries/ and suffix .tar is required")
    perms = [
        (lid, r) for lid, r in cfn.resources_of_type(tpl, "AWS::Lambda::Permission").items()
        if cfn.getatt_target(r["Properties"].get("FunctionName")) == trigger and r["Properties"].get("Principal") == "s3.amazonaws.com"
    ]
    if len(perms) != 1:
        problems.append(f"{blid}: exactly one AWS::Lambda::Permission must let s3.amazonaws.com invoke the s3-trigger function")
    else:
        plid, perm = perms[0]
        if cfn.render(perm["Properties"].get("SourceArn")) != "arn:${AWS::Partition}:s3:::" + name:
            problems.append(f"{plid}: SourceArn must be the artifact bucket's ARN built from its name string")
        if cfn.render(perm["Properties"].get("SourceAccount")) != "${AWS::AccountId}":
            problems.append(f"{plid}: SourceAccount must be the stack's account")
        if plid not in cfn.as_list(b.get("DependsOn")):
            problems.append(f"{blid}: must DependsOn {plid} (S3 validates the notification target on create)")
    # TLS-only bucket policy.
    tls = False
    for lid, bp in cfn.resources_of_type(tpl, "AWS::S3::BucketPolicy").items():
        if cfn.ref_target(bp["Properties"].get("Bucket")) != blid:
            continue
        for s in cfn.statements_of(bp["Properties"].get("PolicyDocument", {})):
            if s.effect == "Deny" and s.cond("Bool", "aws:SecureTransport") == ["false"] and "s3:*" in s.actions \
                    and {"${" + blid + ".Arn}", "${" + blid + ".Arn}/*"} <= set(s.resources):
                tls = True
    if not tls:
        problems.append(f"{blid}: a bucket policy must deny s3:* without aws:SecureTransport on the bucket and its objects")
    return problems


def check_api_and_schedule(tpl: dict) -> list[str]:
    problems = []
    apis = cfn.resources_of_type(tpl, "AWS::Serverless::HttpApi")
    if len(apis) != 1:
        return [f"expected exactly one AWS::Serverless::HttpApi, found {len(apis)}"]
    (alid, api), = apis.items()
    auth = api.get("Properties", {}).get("Auth") or {}
    if auth.get("DefaultAuthorizer") != "AWS_IAM" or auth.get("EnableIamAuthorizer") is not True:
        problems.append(f"{alid}: Auth must set EnableIamAuthorizer: true and DefaultAuthorizer: AWS_IAM")
    by_crate, _ = functions_by_crate(tpl)
    routes = set()
    for lid, fn in cfn.resources_of_type(tpl, "AWS::Serverless::Function").items():
        for ename, ev in ((fn.get("Properties", {}).get("Events")) or {}).items():
            if ev.get("Type") != "HttpApi":
                continue
            ep = ev.get("Properties") or {}
            if lid != by_crate.get("api"):
                problems.append(f"{lid}: HttpApi event {ename} must route to the api function only")
            if cfn.ref_target(ep.get("ApiId")) != alid:
                problems.append(f"{lid}.{ename}: ApiId must !Ref {alid}")
            if str(ep.get("PayloadFormatVersion", "2.0")) != "2.0":
                problems.append(f"{lid}.{ename}: PayloadFormatVersion must be 2.0")
            if "Auth" in ep and (ep["Auth"] or {}).get("Authorizer") not in (None, "AWS_IAM"):
                problems.append(f"{lid}.{ename}: route overrides IAM authorisation")
            routes.add((ep.get("Method", "").upper(), ep.get("Path")))
    if routes != API_ROUTES:
        missing = sorted(API_ROUTES - routes)
        extra = sorted(routes - API_ROUTES)
        problems.append(f"{alid}: routes differ from issue 4: missing {missing}, unexpected {extra}")
    # Cleanup on a schedule parameter.
    cleanup = by_crate.get("cleanup")
    events = ((tpl["Resources"].get(cleanup, {}).get("Properties", {}).get("Events")) or {}) if cleanup else {}
    if not any(e.get("Type") in ("Schedule", "ScheduleV2") and cfn.ref_target((e.get("Properties") or {}).get("Schedule") or (e.get("Properties") or {}).get("ScheduleExpression")) for e in events.values()):
        problems.append("the cleanup function needs a Schedule event whose expression is a parameter")
    # Log retention everywhere.
    for lid, lg in cfn.resources_of_type(tpl, "AWS::Logs::LogGroup").items():
        if "RetentionInDays" not in lg.get("Properties", {}):
            problems.append(f"{lid}: RetentionInDays is required")
    # One instance profile for baseline and canary, one for the monitor; outputs.
    profiles = cfn.resources_of_type(tpl, "AWS::IAM::InstanceProfile")
    if set(profiles) != {"InstanceProfile", "MonitorInstanceProfile"}:
        problems.append(f"expected the instance profiles InstanceProfile and MonitorInstanceProfile, found {sorted(profiles)}")
    for o in sorted(REQUIRED_OUTPUTS - set(tpl.get("Outputs", {}))):
        problems.append(f"output {o} is missing")
    return problems


def check(tpl: dict, crates: list[str], asl_dir: str = cfn.STATEMACHINES_DIR) -> list[str]:
    return check_functions(tpl, crates, asl_dir) + check_storage(tpl) + check_api_and_schedule(tpl)


def rust_sources_text(roots: list[str]) -> str:
    chunks = []
    for root in roots:
        for dirpath, _, files in os.walk(root):
            chunks.extend(open(os.path.join(dirpath, f), encoding="utf-8").read() for f in files if f.endswith(".rs"))
    return "\n".join(chunks)


def check_env_read(tpl: dict, source_text: str, awaiting: set[str] = AWAITING_CODE) -> list[str]:
    """Every AVIARY_* variable the template sets is read somewhere in the Rust code (or awaits it)."""
    problems = []
    names = set(((tpl.get("Globals", {}).get("Function", {}).get("Environment") or {}).get("Variables") or {}).keys())
    for fn in cfn.resources_of_type(tpl, "AWS::Serverless::Function").values():
        names.update(((fn.get("Properties", {}).get("Environment") or {}).get("Variables") or {}).keys())
    for name in sorted(names):
        quoted = f'"{name}"' in source_text
        if not quoted and name not in awaiting:
            problems.append(f"environment variable {name} is set but no Rust code reads it")
        if quoted and name in awaiting:
            problems.append(f"{name} is read by the code now: remove it from AWAITING_CODE in tests/infra/check_template.py")
    return problems


def main() -> int:
    tpl = cfn.load_template()
    problems = check(tpl, cfn.crate_dirs())
    roots = sorted(glob.glob(os.path.join(cfn.ROOT, "shared", "*", "src"))) + [os.path.join(cfn.FUNCTIONS_DIR, c, "src") for c in cfn.crate_dirs()]
    problems += check_env_read(tpl, rust_sources_text(roots))
    for p in problems:
        print(f"template: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
