"""SageMaker jobs that take time and do work, on top of moto's job records.

moto marks a job Completed the moment it is created. Here a job created by a principal is
InProgress until it has been described `polls` times; at its first describe it "runs":
- a processing job runs once per instance of its ClusterConfig.InstanceCount, each in a temporary
  folder laid out like that instance's container (`<root>/opt/ml/processing/...`): its S3 inputs
  downloaded (a ShardedByS3Key input gives each instance its own share of the objects, a
  FullyReplicated one all of them), `/opt/ml/config/resourceconfig.json` naming the instance
  (`{"current_host": "algo-2", "hosts": ["algo-1", ...]}`) and `processingjobconfig.json` holding the
  request, as "How Amazon SageMaker Processing Configures Your Processing Container"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/build-your-own-processing-container.html)
  describes; then the scenario's processing hook runs and the instance's outputs are uploaded.
  Which objects a sharded instance gets is not documented beyond "approximately 1/n of the number
  of S3 objects" (S3DataSource, API reference): here the sorted keys are dealt out in turn;
- a training job runs the training hook (default: writes a placeholder model.tar.gz to
  `<S3OutputPath>/<TrainingJobName>/output/model.tar.gz`);
- a transform job runs the transform hook (default: writes nothing).
An ended job reports start and end times, and a training job its TrainingTimeInSeconds and
BillableTimeInSeconds (JobBilling), as SageMaker's Describe<Job> does and moto does not.
All S3 traffic of a job goes through the gate as the job's own role, so the SageMaker role's
policies are checked too. A hook raising `JobFailed` ends the job with that FailureReason; any
other exception ends it as AlgorithmError; an S3 error as ClientError.
"""

from __future__ import annotations

import datetime
import io
import json
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.harness.gate import RequestGate, ServiceError
from tests.harness.principals import Identities, Principal
from tests.harness.s3_uri import (
    S3Location,
    download_keys,
    list_keys,
    relative_key,
    upload_folder,
)

SAGEMAKER_PRINCIPAL = "sagemaker.amazonaws.com"


class JobFailed(Exception):
    """Raised by a hook: the job ends with `status` (Failed or Stopped) and this FailureReason."""

    def __init__(self, reason: str, status: str = "Failed") -> None:
        super().__init__(reason)
        self.reason, self.status = reason, status


@dataclass(frozen=True)
class ProcessingJobRun:
    request: dict[str, Any]  # the CreateProcessingJob request
    root: Path  # stands for the container's "/"
    inputs: dict[str, Path]  # InputName -> local folder holding the downloaded input
    outputs: dict[str, Path]  # OutputName -> local folder whose files are uploaded afterwards
    s3: BaseClient  # acts as the job's role
    host: str = "algo-1"  # this instance (resourceconfig.json's current_host)
    hosts: tuple[str, ...] = ("algo-1",)

    @property
    def environment(self) -> dict[str, str]:
        return dict(self.request.get("Environment", {}))

    @property
    def arguments(self) -> list[str]:
        return list(self.request["AppSpecification"].get("ContainerArguments", []))

    def local_path(self, container_path: str) -> Path:
        return self.root / container_path.lstrip("/")


@dataclass(frozen=True)
class TrainingJobRun:
    request: dict[str, Any]
    s3: BaseClient

    @property
    def model_location(self) -> S3Location:
        output = S3Location.parse(self.request["OutputDataConfig"]["S3OutputPath"])
        return output.join(self.request["TrainingJobName"], "output", "model.tar.gz")

    def channel(self, name: str) -> dict[str, bytes]:
        """The objects of one input channel, by key."""
        for channel in self.request.get("InputDataConfig", []):
            if channel["ChannelName"] == name:
                return _read_prefix(self.s3, S3Location.parse(channel["DataSource"]["S3DataSource"]["S3Uri"]))
        raise KeyError(f"no channel {name!r} in the training request")

    def write_model(self, data: bytes) -> None:
        location = self.model_location
        self.s3.put_object(Bucket=location.bucket, Key=location.key, Body=data)


@dataclass(frozen=True)
class TransformJobRun:
    request: dict[str, Any]
    s3: BaseClient

    @property
    def _input(self) -> S3Location:
        return S3Location.parse(self.request["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"])

    def inputs(self) -> dict[str, bytes]:
        """Input objects by their key relative to the input prefix (an exact key: its base name)."""
        prefix = self._input
        return {relative_key(prefix, key): data for key, data in _read_prefix(self.s3, prefix).items()}

    def write_output(self, relative_key: str, data: bytes) -> None:
        """Writes the output of one input object, named `<input>.out` as batch transform does."""
        target = S3Location.parse(self.request["TransformOutput"]["S3OutputPath"]).join(f"{relative_key}.out")
        self.s3.put_object(Bucket=target.bucket, Key=target.key, Body=data)


def placeholder_model(run: TrainingJobRun) -> None:
    """Default training hook: a model.tar.gz holding an empty `model_algo-1`."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        archive.addfile(tarfile.TarInfo("model_algo-1"), io.BytesIO(b""))
    run.write_model(buffer.getvalue())


@dataclass
class JobHooks:
    processing: Callable[[ProcessingJobRun], None] | None = None
    training: Callable[[TrainingJobRun], None] = placeholder_model
    transform: Callable[[TransformJobRun], None] | None = None


@dataclass
class JobBilling:
    """What an ended job reports as its time (moto reports none): every job ran `seconds`; a managed
    spot training job is billed `spot_billed_fraction` of them, as DescribeTrainingJob shows a saving."""

    seconds: int = 600
    spot_billed_fraction: float = 0.3


@dataclass
class _Job:
    noun: str  # "TrainingJob", "ProcessingJob" or "TransformJob"
    request: dict[str, Any]
    polls_left: int
    outcome: tuple[str, str | None] | None = None


@dataclass
class SageMakerJobs:
    identities: Identities
    backend: Callable[[], Any]  # moto's SageMakerModelBackend of the harness's account and region
    service_client: Callable[[str], BaseClient]
    polls: int
    hooks: JobHooks = field(default_factory=JobHooks)
    billing: JobBilling = field(default_factory=JobBilling)
    _jobs: dict[tuple[str, str], _Job] = field(default_factory=dict, init=False)

    NOUNS: ClassVar[tuple[str, ...]] = ("TrainingJob", "ProcessingJob", "TransformJob")

    def register(self, gate: RequestGate) -> None:
        for noun in self.NOUNS:
            gate.intercept("sagemaker", f"Create{noun}", self._check_create(noun))
            gate.observe("sagemaker", f"Create{noun}", self._started(noun))
            gate.intercept("sagemaker", f"Describe{noun}", self._described(noun))

    def _record(self, noun: str, name: str) -> Any:
        return getattr(self.backend(), f"{_snake(noun)}s").get(name)

    def _check_create(self, noun: str) -> Callable[[Principal, dict[str, Any]], None]:
        def check(_: Principal, params: dict[str, Any]) -> None:
            name = params[f"{noun}Name"]
            existing = self._record(noun, name)
            if existing is not None:
                raise ServiceError("ResourceInUse", f"{noun} names must be unique within an AWS account and "
                                   f"region, and a {noun} with this name already exists ({existing.arn})")
            if noun == "TransformJob":
                self._require_model(params["ModelName"])
        return check

    def _require_model(self, model_name: str) -> dict[str, Any]:
        sagemaker = self.service_client("sagemaker")
        try:
            return sagemaker.describe_model(ModelName=model_name)
        except ClientError as error:
            raise ServiceError("ValidationException", error.response["Error"]["Message"]) from error

    def _started(self, noun: str) -> Callable[[Principal, dict[str, Any], dict[str, Any]], None]:
        def start(_: Principal, params: dict[str, Any], __: dict[str, Any]) -> None:
            name = params[f"{noun}Name"]
            self._jobs[(noun, name)] = _Job(noun, dict(params), self.polls)
            self._set_status(noun, name, "InProgress", None)
            if noun == "ProcessingJob":  # moto's record drops it; DescribeProcessingJob returns it
                self._record(noun, name).processing_resources = params["ProcessingResources"]
        return start

    def _described(self, noun: str) -> Callable[[Principal, dict[str, Any]], None]:
        def advance(_: Principal, params: dict[str, Any]) -> None:
            name = params[f"{noun}Name"]
            job = self._jobs.get((noun, name))
            if job is None:  # not started by a principal, or already ended
                return
            if job.outcome is None:
                job.outcome = self._run(job)
            if job.polls_left > 0:
                job.polls_left -= 1
                return
            del self._jobs[(noun, name)]
            self._set_status(noun, name, *job.outcome)
            self._bill(job)
        return advance

    def _bill(self, job: _Job) -> None:
        """Start and end times (and for training, TrainingTimeInSeconds and BillableTimeInSeconds)."""
        record = self._record(job.noun, job.request[f"{job.noun}Name"])
        end = datetime.datetime.now(datetime.timezone.utc)
        start = end - datetime.timedelta(seconds=self.billing.seconds)
        prefix = {"TrainingJob": "training", "ProcessingJob": "processing", "TransformJob": "transform"}[job.noun]
        setattr(record, f"{prefix}_start_time", start)
        setattr(record, f"{prefix}_end_time", end)
        if job.noun == "TrainingJob":
            spot = bool(job.request.get("EnableManagedSpotTraining"))
            record.training_time_in_seconds = self.billing.seconds
            record.billable_time_in_seconds = (round(self.billing.seconds * self.billing.spot_billed_fraction)
                                               if spot else self.billing.seconds)

    def _set_status(self, noun: str, name: str, status: str, reason: str | None) -> None:
        record = self._record(noun, name)
        setattr(record, f"{_snake(noun)}_status", status)
        if noun == "TrainingJob":
            record.secondary_status = "Starting" if status == "InProgress" else status
        if reason:
            record.failure_reason = reason

    def _job_role(self, job: _Job) -> str:
        if job.noun == "TransformJob":
            return self._require_model(job.request["ModelName"])["ExecutionRoleArn"]
        return job.request["RoleArn"]

    def _run(self, job: _Job) -> tuple[str, str | None]:
        role_arn = self._job_role(job)
        if not self.identities.trusts(role_arn, SAGEMAKER_PRINCIPAL):
            return "Failed", f"ClientError: SageMaker was unable to assume the role '{role_arn}'"
        principal = self.identities.assume(role_arn, f"sagemaker:{job.request[f'{job.noun}Name']}")
        s3 = self.identities.client("s3", principal)
        try:
            if job.noun == "ProcessingJob":
                self._run_processing(job.request, s3)
            elif job.noun == "TrainingJob":
                self.hooks.training(TrainingJobRun(job.request, s3))
            elif self.hooks.transform is not None:
                self.hooks.transform(TransformJobRun(job.request, s3))
        except JobFailed as failure:
            return failure.status, failure.reason
        except ClientError as error:
            return "Failed", f"ClientError: {error}"
        except Exception as error:  # noqa: BLE001 - the job's own code failed, as in a container
            return "Failed", f"AlgorithmError: {type(error).__name__}: {error}"
        return "Completed", None

    def _run_processing(self, request: dict[str, Any], s3: BaseClient) -> None:
        if self.hooks.processing is None:
            raise JobFailed("ClientError: the harness has no processing hook to run this job's code")
        for item in request.get("ProcessingInputs", []):
            if "S3Input" not in item:
                raise JobFailed(f"ClientError: input {item['InputName']} is not an S3Input (not emulated)")
        count = request["ProcessingResources"]["ClusterConfig"]["InstanceCount"]
        hosts = tuple(f"algo-{number}" for number in range(1, count + 1))
        for index, host in enumerate(hosts):
            self._run_instance(request, s3, index, hosts)

    def _run_instance(self, request: dict[str, Any], s3: BaseClient, index: int, hosts: tuple[str, ...]) -> None:
        with tempfile.TemporaryDirectory(prefix=f"processing-job-{hosts[index]}-") as folder:
            root = Path(folder)
            config = root / "opt/ml/config"
            config.mkdir(parents=True)
            (config / "resourceconfig.json").write_text(json.dumps({"current_host": hosts[index], "hosts": list(hosts)}))
            (config / "processingjobconfig.json").write_text(json.dumps(request, default=str))
            inputs = {}
            for item in request.get("ProcessingInputs", []):
                source = item["S3Input"]
                local = root / source["LocalPath"].lstrip("/")
                local.mkdir(parents=True, exist_ok=True)
                prefix = S3Location.parse(source["S3Uri"])
                keys = sorted(list_keys(s3, prefix))
                if source.get("S3DataDistributionType") == "ShardedByS3Key":
                    keys = keys[index::len(hosts)]
                download_keys(s3, prefix, keys, local)
                inputs[item["InputName"]] = local
            outputs = {}
            for item in request.get("ProcessingOutputConfig", {}).get("Outputs", []):
                local = root / item["S3Output"]["LocalPath"].lstrip("/")
                local.mkdir(parents=True, exist_ok=True)
                outputs[item["OutputName"]] = local
            self.hooks.processing(ProcessingJobRun(request, root, inputs, outputs, s3, hosts[index], hosts))
            for item in request.get("ProcessingOutputConfig", {}).get("Outputs", []):
                upload_folder(s3, outputs[item["OutputName"]], S3Location.parse(item["S3Output"]["S3Uri"]))


def _snake(noun: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in noun).lstrip("_")


def _read_prefix(s3: BaseClient, prefix: S3Location) -> dict[str, bytes]:
    return {key: s3.get_object(Bucket=prefix.bucket, Key=key)["Body"].read() for key in list_keys(s3, prefix)}
