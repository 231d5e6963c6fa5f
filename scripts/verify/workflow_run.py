"""Runs one Step Functions execution on a moto server with Lambda results stubbed at the invoke boundary.

stdin: {"endpoint", "region", "definition": {...}, "functions": [names to create], "results": [json strings
queued as Lambda results, consumed one per invoke], "input": {...}, "timeoutSeconds": n}
stdout: {"status", "visited": [state names in entry order], "error", "cause"}
Functions not listed are absent, so invoking them fails like a Lambda that cannot be reached.
"""
import io
import json
import re
import sys
import time
import urllib.request
import zipfile

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def main() -> int:
    req = json.load(sys.stdin)
    kw = dict(endpoint_url=req["endpoint"], region_name=req["region"],
              aws_access_key_id="test", aws_secret_access_key="test",
              config=Config(read_timeout=120, retries={"max_attempts": 1}))
    iam, lam, sfn = boto3.client("iam", **kw), boto3.client("lambda", **kw), boto3.client("stepfunctions", **kw)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="verify-workflow", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.js", "exports.handler = async (e) => e;")
    for name in req["functions"]:
        lam.create_function(FunctionName=name, Runtime="nodejs22.x", Role=role, Handler="index.handler", Code={"ZipFile": buf.getvalue()})
    body = json.dumps({"results": req["results"], "region": req["region"]}).encode()
    urllib.request.urlopen(urllib.request.Request(f"{req['endpoint']}/moto-api/static/lambda-simple/response", data=body, method="POST", headers={"Content-Type": "application/json"}))
    # Topics the definition publishes to exist, so notifications succeed as they would after apply.
    sns = boto3.client("sns", **kw)
    for arn in sorted(set(re.findall(r'"(arn:aws:sns:[^"]+)"', json.dumps(req["definition"])))):
        sns.create_topic(Name=arn.split(":")[-1])
    sm = sfn.create_state_machine(name="verify-workflow", definition=json.dumps(req["definition"]), roleArn=role)["stateMachineArn"]
    ex = sfn.start_execution(stateMachineArn=sm, input=json.dumps(req["input"]))["executionArn"]
    deadline = time.time() + req.get("timeoutSeconds", 30)
    status = "RUNNING"
    last_error = None
    while time.time() < deadline:
        try:
            d = sfn.describe_execution(executionArn=ex)
        except ClientError as err:  # moto answers 500 while the interpreter thread mutates the execution
            last_error = str(err)
            time.sleep(0.2)
            continue
        status = d["status"]
        if status != "RUNNING":
            break
        time.sleep(0.1)
    events = []
    token = None
    while True:
        page = sfn.get_execution_history(executionArn=ex, maxResults=1000, **({"nextToken": token} if token else {}))
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    visited = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    failed = next((e.get("executionFailedEventDetails") for e in events if e.get("executionFailedEventDetails")), {}) or {}
    json.dump({"status": status, "visited": visited, "error": failed.get("error") or (last_error if status == "RUNNING" else None), "cause": failed.get("cause")}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
