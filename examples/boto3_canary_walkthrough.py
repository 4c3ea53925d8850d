#!/usr/bin/env python3
"""Walk a SageMaker canary deployment and an alarm rollback with plain boto3.

Against the local emulator (from a fresh ``pip install sagemaker-guardrails-operator``)::

    sagemaker-guardrails emulator --port 4566 --speed 60 &
    export AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
    export AWS_DEFAULT_REGION=us-east-1
    python examples/boto3_canary_walkthrough.py

Nothing below knows about the emulator. The same calls work against SageMaker given real images, model
data and an execution role (``--image``, ``--model-data``, ``--role``); but there, ``SetAlarmState``
only lasts until the alarm's next evaluation, so the rollback half may not trigger reliably.

What it shows:
1. v1 -> v2 as a canary (25 %, bake W, then the rest, bake T) guarded by a CloudWatch alarm: succeeds.
2. v2 -> v3 the same way, but the alarm goes to ALARM during the canary bake: SageMaker rolls back and the
   endpoint is InService again, on v2, with FailureReason set. A client that only waits for InService
   would report success here; the script checks EndpointConfigName and FailureReason instead.
Exit status 0 when both happened as described.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import boto3


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--name", default="guardrails-walkthrough", help="endpoint name (also the prefix of everything else)"
    )
    parser.add_argument(
        "--image",
        default="123456789012.dkr.ecr.us-east-1.amazonaws.com/fraud-model",
        help="image without tag",
    )
    parser.add_argument("--model-data", default="s3://models/fraud", help="model data URL prefix")
    parser.add_argument("--role", default="arn:aws:iam::123456789012:role/SageMakerExecution")
    parser.add_argument("--instance-type", default="ml.m5.xlarge")
    parser.add_argument("--instances", type=int, default=4)
    parser.add_argument("--wait", type=int, default=300, help="WaitIntervalInSeconds (canary bake)")
    parser.add_argument(
        "--termination-wait", type=int, default=300, help="TerminationWaitInSeconds (final bake)"
    )
    parser.add_argument("--poll", type=float, default=1.0, help="seconds between DescribeEndpoint calls")
    parser.add_argument("--timeout", type=float, default=3 * 3600, help="give up after this many seconds")
    parser.add_argument("--cleanup", action="store_true", help="delete everything at the end")
    return parser.parse_args(argv)


class Walkthrough:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sagemaker = boto3.client("sagemaker")
        self.cloudwatch = boto3.client("cloudwatch")
        self.alarm = f"{args.name}-5xx"
        self.started = time.monotonic()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.started:7.1f}s] {text}", flush=True)

    def setup(self) -> None:
        name = self.args.name
        self.cloudwatch.put_metric_alarm(
            AlarmName=self.alarm,
            Namespace="AWS/SageMaker",
            MetricName="Invocation5XXErrors",
            Statistic="Average",
            Dimensions=[
                {"Name": "EndpointName", "Value": name},
                {"Name": "VariantName", "Value": "AllTraffic"},
            ],
            Period=60,
            EvaluationPeriods=2,
            Threshold=0.01,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
        for version in (1, 2, 3):
            self.sagemaker.create_model(
                ModelName=f"{name}-model-v{version}",
                ExecutionRoleArn=self.args.role,
                PrimaryContainer={
                    "Image": f"{self.args.image}:{version}",
                    "ModelDataUrl": f"{self.args.model_data}/v{version}.tar.gz",
                },
            )
            self.sagemaker.create_endpoint_config(
                EndpointConfigName=f"{name}-v{version}",
                ProductionVariants=[
                    {
                        "VariantName": "AllTraffic",
                        "ModelName": f"{name}-model-v{version}",
                        "InstanceType": self.args.instance_type,
                        "InitialInstanceCount": self.args.instances,
                    }
                ],
            )
        self.sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=f"{name}-v1")
        self.say(f"creating endpoint {name} on {name}-v1")
        self.follow()

    def deployment_config(self) -> dict[str, Any]:
        return {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {
                    "Type": "CANARY",
                    "WaitIntervalInSeconds": self.args.wait,
                    "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                },
                "TerminationWaitInSeconds": self.args.termination_wait,
                "MaximumExecutionTimeoutInSeconds": max(
                    1800, 2 * (self.args.wait + self.args.termination_wait)
                ),
            },
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": self.alarm}]},
        }

    def follow(self, on_canary_bake: Any = None) -> dict[str, Any]:
        """Poll DescribeEndpoint, print every phase change, return the settled description."""
        last = None
        while time.monotonic() - self.started < self.args.timeout:
            described = self.sagemaker.describe_endpoint(EndpointName=self.args.name)
            phase = describe_phase(described)
            if phase != last:
                self.say(phase)
                last = phase
                if on_canary_bake and "canary capacity" in phase and phase.startswith("Updating Baking"):
                    on_canary_bake()
            if described["EndpointStatus"] not in (
                "Creating",
                "Updating",
                "RollingBack",
                "Deleting",
                "SystemUpdating",
            ):
                return dict(described)
            time.sleep(self.args.poll)
        raise TimeoutError(f"{self.args.name} did not settle within {self.args.timeout:g}s")

    def trip_alarm(self) -> None:
        self.say(f"simulating a 5xx spike: {self.alarm} -> ALARM")
        self.cloudwatch.set_alarm_state(
            AlarmName=self.alarm, StateValue="ALARM", StateReason="5xx error rate above 1 %"
        )

    def run(self) -> int:
        name, ok = self.args.name, True
        self.setup()
        self.say(f"canary deployment {name}-v1 -> {name}-v2, guarded by {self.alarm}")
        self.sagemaker.update_endpoint(
            EndpointName=name, EndpointConfigName=f"{name}-v2", DeploymentConfig=self.deployment_config()
        )
        done = self.follow()
        if (
            done["EndpointStatus"] == "InService"
            and done["EndpointConfigName"] == f"{name}-v2"
            and not done.get("FailureReason")
        ):
            self.say(f"deployed: {name} serves {name}-v2")
        else:
            ok = False
            self.say(
                f"UNEXPECTED: {done['EndpointStatus']} on {done['EndpointConfigName']}: {done.get('FailureReason')}"
            )

        self.say(f"canary deployment {name}-v2 -> {name}-v3; the alarm will fire during the canary bake")
        self.sagemaker.update_endpoint(
            EndpointName=name, EndpointConfigName=f"{name}-v3", RetainDeploymentConfig=True
        )
        done = self.follow(on_canary_bake=self.trip_alarm)
        if (
            done["EndpointStatus"] == "InService"
            and done["EndpointConfigName"] == f"{name}-v2"
            and done.get("FailureReason")
        ):
            self.say(f"rolled back: {name} is InService on {name}-v2 again")
            self.say(f"FailureReason: {done['FailureReason']}")
        else:
            ok = False
            self.say(
                f"UNEXPECTED: {done['EndpointStatus']} on {done['EndpointConfigName']}: {done.get('FailureReason')}"
            )
        self.cloudwatch.set_alarm_state(
            AlarmName=self.alarm, StateValue="OK", StateReason="walkthrough finished"
        )
        if self.args.cleanup:
            self.cleanup()
        return 0 if ok else 1

    def cleanup(self) -> None:
        name = self.args.name
        self.sagemaker.delete_endpoint(EndpointName=name)
        for version in (1, 2, 3):
            self.sagemaker.delete_endpoint_config(EndpointConfigName=f"{name}-v{version}")
            self.sagemaker.delete_model(ModelName=f"{name}-model-v{version}")
        self.cloudwatch.delete_alarms(AlarmNames=[self.alarm])
        self.say("cleaned up")


def describe_phase(described: dict[str, Any]) -> str:
    text = f"{described['EndpointStatus']}"
    pending = described.get("PendingDeploymentSummary")
    variants = (pending or {}).get("ProductionVariants", []) + described.get("ProductionVariants", [])
    for variant in variants:
        for status in variant.get("VariantStatus", []):
            return f"{text} {status['Status']}: {status.get('StatusMessage', '')}"
    return f"{text} on {described.get('EndpointConfigName')}"


def main(argv: list[str] | None = None) -> int:
    return Walkthrough(parse_args(sys.argv[1:] if argv is None else argv)).run()


if __name__ == "__main__":
    sys.exit(main())
