"""Runs one ASL definition on moto's Step Functions executor and prints the outcome as JSON.

Used by tests/moto_crosscheck.rs to compare aviary-asl's data flow with an independent
implementation. Usage: moto_run.py MOTO_URL EXECUTION_NAME  (stdin: {"definition": ..., "input": ...})
Prints {"status": ..., "output": <json or null>, "error": ..., "cause": ...}.
"""
import json
import sys
import time

import boto3
import requests

url, name = sys.argv[1], sys.argv[2]
req = json.load(sys.stdin)

# Ask moto to really execute state machines (Pass/Choice/Wait/Succeed/Fail run faithfully).
requests.post(
    url + "/moto-api/config",
    json={"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}},
    timeout=10,
).raise_for_status()

sfn = boto3.client(
    "stepfunctions",
    endpoint_url=url,
    region_name="us-east-1",
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)
arn = sfn.create_state_machine(
    name="xcheck-" + name,
    definition=json.dumps(req["definition"]),
    roleArn="arn:aws:iam::123456789012:role/sfn",
)["stateMachineArn"]
exe = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(req["input"]))["executionArn"]
deadline = time.time() + 60
while True:
    d = sfn.describe_execution(executionArn=exe)
    if d["status"] != "RUNNING" or time.time() > deadline:
        break
    time.sleep(0.2)
out = d.get("output")
print(json.dumps({
    "status": d["status"],
    "output": json.loads(out) if out else None,
    "error": d.get("error"),
    "cause": d.get("cause"),
}))
