"""Smoke test of `make deploy`: deploy the built template to moto.

`make deploy-check` runs this with the project venv's Python after `sam build`.
It starts moto's server on a free loopback port, points the pinned SAM CLI at
it (AWS_ENDPOINT_URL) and runs the same command `make deploy ENV=dev` runs,
`sam deploy --config-env dev`: SAM packages the artifacts into its managed S3
bucket (resolve_s3, itself a CloudFormation stack), creates a change set and
executes it. Then it checks, through moto's APIs, that the stack reached
CREATE_COMPLETE with the outputs the README names, that the FIFO queues exist
under their .fifo names, and that the table is there. Nothing leaves the
machine: every AWS call goes to moto on 127.0.0.1.

moto does not run SAM's transform, so the AWS::Serverless::* resources (the
functions and the HTTP API) are accepted but not created; what this catches is
a template or samconfig.toml that SAM cannot package or deploy as written, and
plain CloudFormation resources that cannot be created (as the FIFO queues
without explicit .fifo names could not).
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import boto3

STACK = "pytake-dev"  # samconfig.toml's [dev] stack_name
WANT_OUTPUTS = {"TableName", "SecretsPrefix"}
WANT_QUEUES = {STACK + "-outbound.fifo", STACK + "-outbound-dlq.fifo"}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_moto(url, proc, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit("moto_server exited with status %d" % proc.returncode)
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("moto_server did not answer within %d s" % timeout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sam", required=True, help="the sam executable")
    ap.add_argument("--moto", required=True, help="the moto_server executable")
    ap.add_argument("--config-env", default="dev")
    args = ap.parse_args()

    port = free_port()
    endpoint = "http://127.0.0.1:%d" % port
    moto = subprocess.Popen([args.moto, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_moto(endpoint, moto)
        env = dict(os.environ)
        env.update({
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local-secret",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "SAM_CLI_TELEMETRY": "0",
        })
        for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            env.pop(k, None)
        cmd = [args.sam, "deploy", "--config-env", args.config_env, "--no-progressbar"]
        print("deploy-check:", " ".join(cmd), "(AWS_ENDPOINT_URL=%s)" % endpoint, flush=True)
        started = time.time()
        rc = subprocess.call(cmd, env=env)
        if rc != 0:
            raise SystemExit("deploy-check: sam deploy failed with status %d" % rc)

        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local-secret",
                                        region_name="us-east-1")
        cfn = session.client("cloudformation", endpoint_url=endpoint)
        stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
        problems = []
        if stack["StackStatus"] != "CREATE_COMPLETE":
            problems.append("stack status %s" % stack["StackStatus"])
        outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
        for k in sorted(WANT_OUTPUTS - outputs.keys()):
            problems.append("output %s missing (have %s)" % (k, sorted(outputs)))
        if outputs.get("SecretsPrefix") and outputs["SecretsPrefix"] != "pytake/dev/":
            problems.append("SecretsPrefix %r, want 'pytake/dev/'" % outputs["SecretsPrefix"])
        queues = {u.rsplit("/", 1)[-1] for u in session.client("sqs", endpoint_url=endpoint).list_queues().get("QueueUrls", [])}
        for q in sorted(WANT_QUEUES - queues):
            problems.append("queue %s missing (have %s)" % (q, sorted(queues)))
        tables = session.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"]
        if outputs.get("TableName") and outputs["TableName"] not in tables:
            problems.append("table %s missing (have %s)" % (outputs["TableName"], tables))
        resources = cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        if problems:
            raise SystemExit("deploy-check: " + "; ".join(problems))
        print("deploy-check: stack %s %s in %.0f s: %d resources, outputs %s, FIFO queues %s" % (
            STACK, stack["StackStatus"], time.time() - started, len(resources), ", ".join(sorted(outputs)),
            ", ".join(sorted(WANT_QUEUES))))
    finally:
        try:
            os.killpg(moto.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            moto.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(moto.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
