"""Smoke test of `make deploy`: deploy the built template to moto.

`make deploy-check` runs this with the project venv's Python after `sam build`.
It starts moto's server on a free loopback port, points the pinned SAM CLI at
it (AWS_ENDPOINT_URL) and runs the command `make deploy ENV=dev` runs,
`sam deploy --config-env dev`, with one difference: the artifacts go to a
bucket this script creates (--no-resolve-s3 --s3-bucket), since SAM refuses
the managed bucket's stack as moto reports it (no Tags or Outputs). SAM
packages the artifacts into it, creates a change set and executes it. Then it checks, through moto's APIs, that the stack reached
CREATE_COMPLETE, that every resource of the template that is plain
CloudFormation (not AWS::Serverless::*) was created, the FIFO queues under
their .fifo names, and that the table is there. Nothing leaves the
machine: every AWS call goes to moto on the loopback interface.

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
from samcli.yamlhelper import yaml_parse

# Types moto accepts in a stack without creating them (5.2.5 reports the
# alarms with no logical id and describe_alarms lists none; it has no
# CloudFormation support for SNS subscriptions and queue policies: the local
# stack creates the subscriptions itself, infra/local/stack/resources.go).
MOTO_SKIPS = {"AWS::CloudWatch::Alarm", "AWS::SNS::Subscription", "AWS::SQS::QueuePolicy"}
STACK = "pytake-dev"  # samconfig.toml's [dev] stack_name
BUCKET = "pytake-deploy-check-artifacts"
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


def stop_on_signals():
    """SIGTERM and SIGHUP (a CI timeout, a closed terminal) end the script
    through its finally blocks, as Ctrl-C does: moto runs in a session of its
    own, so nothing else would stop it; subprocess.call kills sam on the way."""
    def handler(signum, frame):
        raise SystemExit("deploy-check: stopped by %s" % signal.Signals(signum).name)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def main():
    stop_on_signals()
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sam", required=True, help="the sam executable")
    ap.add_argument("--moto", required=True, help="the moto_server executable")
    ap.add_argument("--config-env", default="dev")
    ap.add_argument("--template", default=".aws-sam/build/template.yaml", help="the built template sam deploys")
    args = ap.parse_args()

    port = free_port()
    # "localhost", not 127.0.0.1: moto reads the bucket of a template URL
    # from its path only when the host is localhost (SAM builds the URL from
    # the endpoint); either way it is this machine's loopback.
    endpoint = "http://localhost:%d" % port
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
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local-secret",
                                        region_name="us-east-1")
        session.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        cmd = [args.sam, "deploy", "--config-env", args.config_env, "--no-progressbar",
               "--no-resolve-s3", "--s3-bucket", BUCKET]
        print("deploy-check:", " ".join(cmd), "(AWS_ENDPOINT_URL=%s)" % endpoint, flush=True)
        started = time.time()
        rc = subprocess.call(cmd, env=env)
        if rc != 0:
            raise SystemExit("deploy-check: sam deploy failed with status %d" % rc)

        cfn = session.client("cloudformation", endpoint_url=endpoint)
        stack = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
        problems = []
        if stack["StackStatus"] != "CREATE_COMPLETE":
            problems.append("stack status %s" % stack["StackStatus"])
        # moto answers no Outputs here (they refer to the HTTP API, which it
        # does not create), so the check is on the resources: every plain
        # CloudFormation resource of the template must exist.
        resources = cfn.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
        created = {r["LogicalResourceId"]: r.get("PhysicalResourceId", "") for r in resources}
        template = yaml_parse(open(args.template).read())
        plain = sorted(k for k, r in template["Resources"].items() if not r["Type"].startswith("AWS::Serverless::"))
        skipped = [k for k in plain if template["Resources"][k]["Type"] in MOTO_SKIPS]
        # A resource under a Condition (the alarm e-mail subscription, made
        # only when AlarmEmail is set) may rightly be absent with the dev
        # parameters; the rest must exist.
        conditional = [k for k in plain if "Condition" in template["Resources"][k]]
        if conditional:
            print("deploy-check: conditional, not required:", ", ".join(conditional), flush=True)
        plain = [k for k in plain if k not in skipped and k not in conditional]
        for k in plain:
            if not created.get(k):
                problems.append("resource %s (%s) not created" % (k, template["Resources"][k]["Type"]))
        queues = {u.rsplit("/", 1)[-1] for u in session.client("sqs", endpoint_url=endpoint).list_queues().get("QueueUrls", [])}
        for q in sorted(WANT_QUEUES - queues):
            problems.append("queue %s missing (have %s)" % (q, sorted(queues)))
        tables = session.client("dynamodb", endpoint_url=endpoint).list_tables()["TableNames"]
        if created.get("Table") not in tables:
            problems.append("table %s missing (have %s)" % (created.get("Table"), tables))
        if problems:
            print("deploy-check: the stack as moto describes it:", stack, flush=True)
            print("deploy-check: its resources:", [(r["LogicalResourceId"], r.get("PhysicalResourceId")) for r in resources], flush=True)
            raise SystemExit("deploy-check: " + "; ".join(problems))
        print("deploy-check: stack %s %s in %.0f s: all %d plain CloudFormation resources created (FIFO queues %s); "
              "not checked, as moto does not create them: %s" % (
                  STACK, stack["StackStatus"], time.time() - started, len(plain), ", ".join(sorted(WANT_QUEUES)),
                  ", ".join(skipped)))
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
