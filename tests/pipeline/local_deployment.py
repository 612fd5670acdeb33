"""The synthesized stack, "deployed" into the offline harness: roles with the template's policies,
the Lambdas with their environment, the buckets, the topic and the state machine's definition
exactly as synthesized (tokens resolved, nothing else changed).

SageMaker jobs do what the real ones would do to S3, locally:
- processing jobs run the entrypoint and arguments of their request, with the code taken from
  the zipped `training` asset they were given (`python -m training.prepare`, `...report`,
  `...compare`), on their downloaded inputs, like SageMaker local mode; `python3` is the
  processing image's Python with its pins (tests/container/images.json) when this machine has
  that interpreter, and no package can be installed (no pip, no index: as without internet);
- training writes a model.tar.gz in NTM's format whose decoder is fitted to the train channel
  (scikit-learn NMF, a stand-in for NTM's learning, so that the topics in a report make sense);
- batch transform answers each RecordIO input with one JSON line of topic weights per record;
- k-NN training and transform (the similarity stage) run an exact stand-in (knn_standin.py).
- the endpoint (sagemaker-runtime InvokeEndpoint) runs its serial pipeline: the preprocessing
  container's handler from the dataset's serving artifact, called as the scikit-learn serving
  library calls it (model_fn once, then input_fn -> predict_fn -> output_fn; tests/container proves
  the library itself does the same), then the NTM stand-in on the RecordIO it answered.
"""

from __future__ import annotations

import atexit
import functools
import io
import json
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
from moto.events.models import EventPattern
from scipy import sparse

from stacks.image_registries import NTM_REPOSITORY, SKLEARN_REPOSITORY
from tests.harness import (
    ContainerError,
    ContainerRequest,
    ExecutionResult,
    Harness,
    JobFailed,
    LambdaFunction,
    ProcessingJobRun,
    TrainingJobRun,
    TransformJobRun,
)
from tests.container.environments import (
    InterpreterMissing,
    build_environment,
    describe,
    processing_targets,
    sealed_environment,
)
from tests.harness.s3_uri import S3Location, list_keys, upload_folder
from tests.infra.cfn import Deployment, state_machine_definition
from tests.infra.synth import Synthesized
from tests.pipeline import knn_standin, ntm_standin
from training.formats import ntm_artifact as model_params
from training.formats import recordio
from training.preparation import serving_artifact
from training.serving import handler as text_handler

REPO = Path(__file__).resolve().parents[2]
RECORDIO = "application/x-recordio-protobuf"
# NTM's inference request types (FACTS §3); the stand-in reads the RecordIO one.
NTM_REQUEST_TYPES = {RECORDIO, "application/json", "application/jsonlines", "text/csv"}
# What the serving library hands input_fn as text rather than bytes (sagemaker-containers UTF8_TYPES).
UTF8_TYPES = {"application/json", "text/csv"}

@dataclass(frozen=True)
class ProcessingRuntime:
    python: Path  # what a job's `python3` is
    description: str


@functools.lru_cache(maxsize=1)
def processing_runtime() -> ProcessingRuntime:
    """The first of the processing image's interpreters this machine has, in an environment with
    the image's pins (built once, cached); else the development Python, saying so."""
    missing = []
    for target in processing_targets():
        try:
            python = build_environment(target.python, target.requirement_set)
        except InterpreterMissing as error:
            missing.append(str(error))
            continue
        return ProcessingRuntime(python, describe(python))
    return ProcessingRuntime(Path(sys.executable), f"the development Python {platform.python_version()}, NOT the "
                             f"processing image's ({'; '.join(missing)})")


@dataclass(frozen=True)
class ProcessingJobRecord:
    job_name: str
    ran_on: str  # ProcessingRuntime.description
    stdout: str


@dataclass
class LocalStack:
    harness: Harness
    synthesized: Synthesized
    deployment: Deployment
    state_machine_arn: str
    data_bucket: str
    notifications_queue_url: str
    processing_jobs: list[ProcessingJobRecord]

    def put_prepared_dataset(self, corpus: Path, prefix: str = "datasets/sample/") -> str:
        """A dataset prepared locally with training.prepare and put under `prefix`; returns its URI."""
        upload_folder(self.harness.client("s3"), prepared_locally(corpus), S3Location(self.data_bucket, prefix))
        return f"s3://{self.data_bucket}/{prefix}"

    def set_alarm(self, alarm_name: str, state: str, reason: str) -> None:
        """CloudWatch's part: an alarm of the template changes state (ALARM, OK)."""
        self.harness.client("cloudwatch").set_alarm_state(AlarmName=alarm_name, StateValue=state, StateReason=reason)

    def endpoint_user(self, endpoint_name: str) -> Any:
        return endpoint_user(self.harness, endpoint_name, self.data_bucket)

    def upload(self, key: str, body: bytes) -> dict[str, Any]:
        """Put an object as a user would, and return the S3 EventBridge event AWS would emit for it."""
        s3 = self.harness.client("s3")
        response = s3.put_object(Bucket=self.data_bucket, Key=key, Body=body)
        return object_created_event(self.data_bucket, key, len(body), response.get("VersionId"),
                                    self.deployment.account, self.deployment.region)

    def deliver(self, event: dict[str, Any]) -> list[Any]:
        """EventBridge's part: every rule of the template whose pattern matches invokes its Lambda targets."""
        results = []
        for rule in self.synthesized.resources("AWS::Events::Rule").values():
            if "EventPattern" not in rule["Properties"]:
                continue  # a schedule: see tick()
            pattern = self.deployment.resolve(rule["Properties"]["EventPattern"])
            if EventPattern.load(json.dumps(pattern)).matches_event(event):
                results += self._invoke_targets(rule, event)
        return results

    def tick(self) -> list[Any]:
        """EventBridge's part for schedules: every scheduled rule fires once, as its time came."""
        results = []
        for rule in self.synthesized.resources("AWS::Events::Rule").values():
            if "ScheduleExpression" in rule["Properties"]:
                results += self._invoke_targets(rule, {
                    "version": "0", "id": "tick", "detail-type": "Scheduled Event", "source": "aws.events",
                    "account": self.deployment.account, "time": "2026-11-26T00:00:00Z",
                    "region": self.deployment.region, "resources": [], "detail": {}})
        return results

    def _invoke_targets(self, rule: dict[str, Any], event: dict[str, Any]) -> list[Any]:
        arns = [self.deployment.resolve(target["Arn"]) for target in rule["Properties"]["Targets"]]
        return [self.harness.invoke_lambda(arn, event) for arn in arns if ":lambda:" in arn]

    def run(self, execution_input: dict[str, Any], name: str) -> ExecutionResult:
        result = self.harness.wait_for(self.harness.start_execution(self.state_machine_arn, execution_input, name))
        self.finish(result)
        return result

    def finish(self, result: ExecutionResult) -> None:
        """Step Functions' status-change event for a finished execution, through the template's rules."""
        description = self.harness.client("stepfunctions").describe_execution(executionArn=result.execution_arn)
        detail = {key: description.get(key) for key in ("executionArn", "stateMachineArn", "name", "status",
                                                        "input", "output", "error", "cause")}
        detail["startDate"] = int(description["startDate"].timestamp() * 1000)
        detail["stopDate"] = int(description["stopDate"].timestamp() * 1000) if description.get("stopDate") else None
        self.deliver({
            "version": "0", "id": "status-change", "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states", "account": self.deployment.account, "time": "2026-11-25T00:00:00Z",
            "region": self.deployment.region, "resources": [result.execution_arn], "detail": detail,
        })

    def notifications(self) -> list[dict[str, Any]]:
        """Messages published to the run-notification topic so far (via an SQS subscription)."""
        sqs = self.harness.client("sqs")
        messages = sqs.receive_message(QueueUrl=self.notifications_queue_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]

    def object(self, uri: str) -> bytes:
        location = S3Location.parse(uri)
        return self.harness.client("s3").get_object(Bucket=location.bucket, Key=location.key)["Body"].read()

    def keys(self, prefix: str) -> list[str]:
        return list_keys(self.harness.client("s3"), S3Location(self.data_bucket, prefix))


@functools.lru_cache(maxsize=None)
def prepared_locally(corpus: Path) -> Path:
    """training.prepare's dataset of `corpus`, made once per test process (several scenarios start
    from it; each uploads it into its own account)."""
    from training.preparation import prepare

    scratch = tempfile.mkdtemp(prefix="prepared-")
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    output = Path(scratch) / "dataset"
    assert prepare.main(["--input", str(corpus), "--output", str(output), "--min-train-shards", "2"]) == 0
    return output


def endpoint_user(harness: Harness, endpoint_name: str, bucket: str) -> Any:
    """A stand-in for a boto3 Session whose clients act as a user allowed to call (and describe)
    one endpoint and read one bucket: what README tells a user's role to allow."""
    role_arn = f"arn:aws:iam::{harness.account}:role/user-of-{endpoint_name}"
    endpoint_arn = f"arn:aws:sagemaker:{harness.region}:{harness.account}:endpoint/{endpoint_name}"
    if not harness.identities.role_exists(role_arn):
        harness.create_role(role_arn, trusted_service="ec2.amazonaws.com", policies={"use-endpoint": {
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["sagemaker:InvokeEndpoint", "sagemaker:DescribeEndpoint"],
                 "Resource": endpoint_arn},
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}})
    return _PrincipalSession(harness.identities, harness.identities.assume(role_arn, "user"))


@dataclass(frozen=True)
class _PrincipalSession:
    """Stands for a boto3 Session: `client(service)` acts as one principal, its requests checked."""

    identities: Any
    principal: Any

    def client(self, service: str, **_: Any) -> Any:
        return self.identities.client(service, self.principal)


def object_created_event(bucket: str, key: str, size: int, version: str | None, account: str, region: str) -> dict:
    return {
        "version": "0", "id": f"event-{key}", "detail-type": "Object Created", "source": "aws.s3",
        "account": account, "time": "2026-11-25T00:00:00Z", "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket},
                   "object": {"key": key, "size": size, "etag": "0", "sequencer": "0062E99A88DC407460",
                              **({"version-id": version} if version else {})},
                   "request-id": "R", "requester": account, "reason": "PutObject"},
    }


def _policies_of(template: dict[str, Any], role_logical_id: str, deployment: Deployment) -> dict[str, Any]:
    policies = {}
    for logical, policy in template["Resources"].items():
        if policy["Type"] == "AWS::IAM::Policy" and {"Ref": role_logical_id} in policy["Properties"].get("Roles", []):
            policies[logical] = deployment.resolve(policy["Properties"]["PolicyDocument"])
    for inline in template["Resources"][role_logical_id]["Properties"].get("Policies", []):
        policies[inline["PolicyName"]] = deployment.resolve(inline["PolicyDocument"])
    return policies


def _trusted_service(role: dict[str, Any]) -> str:
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    return statement["Principal"]["Service"]


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, path.relative_to(folder))
    return buffer.getvalue()


def _upload_assets(harness: Harness, synthesized: Synthesized, deployment: Deployment) -> None:
    """What `cdk deploy` publishes: file assets, zipped, in the bootstrap bucket."""
    s3 = harness.client("s3")
    manifest = json.loads((synthesized.outdir / f"{synthesized.stack_name}.assets.json").read_text())["files"]
    for asset in manifest.values():
        source = synthesized.outdir / asset["source"]["path"]
        if asset["source"].get("packaging") != "zip":
            continue
        for destination in asset["destinations"].values():
            bucket = deployment.resolve({"Fn::Sub": destination["bucketName"]})
            if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
                s3.create_bucket(Bucket=bucket)
            s3.put_object(Bucket=bucket, Key=destination["objectKey"], Body=_zip_folder(source))


# -- SageMaker jobs, local ---------------------------------------------------------------------

def run_processing_job(run: ProcessingJobRun) -> ProcessingJobRecord:
    """The container's entrypoint and arguments, with container paths mapped into the job's root,
    on the processing runtime; the job's own environment cannot lift the no-install rules."""
    def local(value: str) -> str:
        return str(run.local_path(value)) if value.startswith("/opt/ml/") else value

    runtime = processing_runtime()
    request = run.request["AppSpecification"]
    command = [local(part) for part in request["ContainerEntrypoint"]] + [local(a) for a in run.arguments]
    environment = {key: local(value) for key, value in run.environment.items()}
    with tempfile.TemporaryDirectory() as home:
        completed = subprocess.run(command, capture_output=True, text=True, cwd=run.root, env={
            **environment, **sealed_environment({"PATH": f"{runtime.python.parent}:/usr/bin:/bin", "HOME": home,
                                                 "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1"})})
    if completed.returncode != 0:
        raise JobFailed(f"AlgorithmError: exit {completed.returncode}: {completed.stderr.strip()[-600:]}")
    return ProcessingJobRecord(run.request["ProcessingJobName"], runtime.description, completed.stdout)


def _channel_matrix(run: TrainingJobRun, channel: str) -> sparse.csr_matrix:
    parts = [recordio.read_sparse(io.BytesIO(data)) for key, data in sorted(run.channel(channel).items())
             if key.endswith(".pbr")]
    return sparse.vstack(parts).tocsr()


def fitted_model(run: TrainingJobRun) -> tuple[bytes, float]:
    """A model.tar.gz in NTM's layout whose decoder holds topics fitted to the train channel, and
    the model's loss on the validation channel (NMF reconstruction error per document)."""
    hyperparameters = run.request["HyperParameters"]
    topics, vocabulary = int(hyperparameters["num_topics"]), int(hyperparameters["feature_dim"])
    corpus = _channel_matrix(run, "train")
    if corpus.shape[1] != vocabulary:
        raise JobFailed(f"ClientError: feature_dim {vocabulary} does not match the data's {corpus.shape[1]} columns")
    nmf, decoder = ntm_standin.fit(corpus, topics)
    validation = _channel_matrix(run, "validation")
    reconstruction = nmf.transform(validation) @ nmf.components_
    loss = float(np.linalg.norm(validation.toarray() - reconstruction) ** 2 / validation.shape[0])
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "model.tar.gz"
        model_params.write_model_tarball(path, decoder, instances=int(run.request["ResourceConfig"]["InstanceCount"]))
        return path.read_bytes(), loss


NTM_CHANNELS = {"train", "validation", "test", "auxiliary"}


def check_ntm_channels(request: dict[str, Any]) -> None:
    """What NTM itself refuses at start-up (FACTS §2): unknown channels, a missing train channel,
    optional channels not FullyReplicated, an auxiliary channel that is not text/plain."""
    channels = {c["ChannelName"]: c for c in request["InputDataConfig"]}
    unknown = sorted(set(channels) - NTM_CHANNELS)
    if unknown or "train" not in channels:
        raise JobFailed(f"ClientError: channels {sorted(channels)}: NTM takes train (required), validation, test, auxiliary")
    for name, channel in channels.items():
        distribution = channel["DataSource"]["S3DataSource"].get("S3DataDistributionType", "FullyReplicated")
        if name != "train" and distribution != "FullyReplicated":
            raise JobFailed(f"ClientError: channel {name} must be FullyReplicated, not {distribution}")
    if "auxiliary" in channels and channels["auxiliary"].get("ContentType") != "text/plain":
        raise JobFailed("ClientError: the auxiliary channel's ContentType must be text/plain")


def train_locally(harness: Harness) -> Callable[[TrainingJobRun], None]:
    def train(run: TrainingJobRun) -> None:
        if knn_standin.is_knn_image(run.request["AlgorithmSpecification"]["TrainingImage"]):
            knn_standin.train(run)
            return
        check_ntm_channels(run.request)
        model, loss = fitted_model(run)
        run.write_model(model)
        # NTM reports validation:total_loss in the job's final metrics; moto's job record has no
        # way in through its API, so the metric is added to moto's own record of the job.
        job = harness.jobs.backend().training_jobs[run.request["TrainingJobName"]]
        job.final_metric_data_list.append({"MetricName": "validation:total_loss", "Value": loss,
                                           "Timestamp": job.creation_time})
    return train


def _read_object(s3, uri: str) -> bytes:
    location = S3Location.parse(uri)
    return s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read()


def topic_weights(decoder: np.ndarray, rows: sparse.csr_matrix) -> list[list[float]]:
    """The stand-in NTM's answer per row: the rows' words scored by the decoder's word affinities."""
    affinity = np.exp(decoder - decoder.max(axis=0))
    affinity /= affinity.sum(axis=0)
    scores = rows @ affinity + 1e-9
    weights = scores / scores.sum(axis=1, keepdims=True)
    return [[round(float(w), 6) for w in row] for row in weights]


def transform_with_model(harness: Harness) -> Callable[[TransformJobRun], None]:
    """Topic weights per record from the model the transform names (its decoder's word affinities)."""
    def transform(run: TransformJobRun) -> None:
        model = harness.client("sagemaker").describe_model(ModelName=run.request["ModelName"])
        # Read as the job's role, as SageMaker fetches the model artifact for the container.
        tarball = _read_object(run.s3, model["PrimaryContainer"]["ModelDataUrl"])
        if knn_standin.is_knn_image(model["PrimaryContainer"]["Image"]):
            knn_standin.transform(run, tarball)
            return
        decoder = model_params.load_decoder(io.BytesIO(tarball))
        for relative_key, data in run.inputs().items():
            weights = topic_weights(decoder, recordio.read_sparse(io.BytesIO(data)))
            run.write_output(relative_key, "".join(json.dumps({"topic_weights": row}) + "\n" for row in weights).encode())
    return transform


def _check_packed_code(model_dir: Path, environment: dict[str, str]) -> None:
    """The artifact must carry the entry script the environment names and this checkout's code,
    which is what runs here in-process."""
    code = model_dir / serving_artifact.CODE_FOLDER
    for variable in ("SAGEMAKER_SUBMIT_DIRECTORY", "PYTHONPATH"):
        if environment.get(variable) != serving_artifact.SUBMIT_DIRECTORY:
            raise ContainerError(500, f"{variable} is {environment.get(variable)!r}, not {serving_artifact.SUBMIT_DIRECTORY}")
    program = code / environment.get("SAGEMAKER_PROGRAM", "")
    if not program.is_file() or program.read_bytes() != (REPO / "training/serving/container_entry.py").read_bytes():
        raise ContainerError(500, f"SAGEMAKER_PROGRAM {environment.get('SAGEMAKER_PROGRAM')!r} is not the serving entry script")
    for path in (code / "training").rglob("*.py"):
        if path.read_bytes() != (REPO / path.relative_to(code)).read_bytes():
            raise ContainerError(500, f"the artifact's {path.relative_to(code)} differs from this checkout's")


class LocalEndpointContainers:
    """The `serve` hook: each container of the endpoint's model, run here (one worker each, loaded once)."""

    def __init__(self) -> None:
        self._scratch = tempfile.TemporaryDirectory(prefix="endpoint-models-")
        self._loaded: dict[str, Any] = {}

    def __call__(self, request: ContainerRequest) -> tuple[bytes, str]:
        image = request.container["Image"]
        if image.endswith("/" + SKLEARN_REPOSITORY):
            return self._preprocess(request)
        if image.endswith("/" + NTM_REPOSITORY):
            return self._ntm(request)
        raise ContainerError(500, f"the harness cannot run image {image}")

    def _model(self, request: ContainerRequest, load: Callable[[bytes], Any]) -> Any:
        url = request.container["ModelDataUrl"]
        if url not in self._loaded:
            self._loaded[url] = load(_read_object(request.s3, url))
        return self._loaded[url]

    def _load_preprocessing(self, environment: dict[str, str]) -> Callable[[bytes], Any]:
        def load(tarball: bytes) -> Any:
            model_dir = Path(tempfile.mkdtemp(dir=self._scratch.name))
            with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
                archive.extractall(model_dir, filter="data")
            _check_packed_code(model_dir, environment)
            return text_handler.model_fn(str(model_dir))
        return load

    def _preprocess(self, request: ContainerRequest) -> tuple[bytes, str]:
        model = self._model(request, self._load_preprocessing(request.container.get("Environment", {})))
        content_type = request.content_type or "application/json"
        content = request.body.decode("utf-8") if content_type in UTF8_TYPES else request.body
        try:
            texts = text_handler.input_fn(content, content_type)
            return text_handler.output_fn(text_handler.predict_fn(texts, model), request.accept or "application/json")
        except Exception as error:  # the serving library answers any error of these functions with 500
            raise ContainerError(500, f"{type(error).__name__}: {error}") from error

    def _ntm(self, request: ContainerRequest) -> tuple[bytes, str]:
        if request.content_type not in NTM_REQUEST_TYPES:
            raise ContainerError(415, f"NTM does not accept content type {request.content_type!r}")
        decoder = self._model(request, lambda tarball: model_params.load_decoder(io.BytesIO(tarball)))
        if request.content_type == RECORDIO:
            rows = recordio.read_sparse(io.BytesIO(request.body))
        elif request.content_type == "text/csv":  # dense rows as wide as the vocabulary (the tutorial's way)
            rows = sparse.csr_matrix(np.loadtxt(io.StringIO(request.body.decode()), delimiter=",", ndmin=2, dtype=np.float32))
        else:
            raise ContainerError(415, f"the NTM stand-in reads {RECORDIO} or text/csv, not {request.content_type}")
        if rows.shape[1] != decoder.shape[0]:
            raise ContainerError(400, f"{rows.shape[1]} features per row, the model has {decoder.shape[0]}")
        weights = topic_weights(decoder, rows)
        accept = request.accept if request.accept not in (None, "*/*") else "application/json"
        if accept == "application/json":
            return json.dumps({"predictions": [{"topic_weights": row} for row in weights]}).encode(), accept
        if accept == "application/jsonlines":
            return "".join(json.dumps({"topic_weights": row}) + "\n" for row in weights).encode(), accept
        raise ContainerError(406, f"the NTM stand-in answers application/json or application/jsonlines, not {accept}")


# -- deployment ---------------------------------------------------------------------------------

def deploy(harness: Harness, synthesized: Synthesized, definition: dict[str, Any] | None = None,
           mutate_policies: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None) -> LocalStack:
    """Create everything the template declares that a run touches. `definition` and `mutate_policies`
    exist for the mutation check only: they let it break the deployment on purpose."""
    template = synthesized.template
    deployment = Deployment(template)
    for logical, role in synthesized.resources("AWS::IAM::Role").items():
        policies = _policies_of(template, logical, deployment)
        if mutate_policies:
            policies = {name: mutate_policies(logical, document) for name, document in policies.items()}
        harness.create_role(deployment.arn(logical), trusted_service=_trusted_service(role), policies=policies,
                            managed_policy_arns=tuple(deployment.resolve(role["Properties"].get("ManagedPolicyArns", []))))
    for logical, function in synthesized.resources("AWS::Lambda::Function").items():
        properties = function["Properties"]
        harness.add_lambda(LambdaFunction(
            arn=deployment.arn(logical), handler=properties["Handler"], role_arn=deployment.resolve(properties["Role"]),
            environment=deployment.resolve(properties.get("Environment", {}).get("Variables", {}))))
    s3 = harness.client("s3")
    for logical in synthesized.resources("AWS::S3::Bucket"):
        s3.create_bucket(Bucket=deployment.ref(logical))
        s3.put_bucket_versioning(Bucket=deployment.ref(logical), VersioningConfiguration={"Status": "Enabled"})
    _upload_assets(harness, synthesized, deployment)
    # The alarms (an endpoint update is rolled back by them), in state OK as a quiet endpoint's are.
    cloudwatch = harness.client("cloudwatch")
    for alarm in synthesized.resources("AWS::CloudWatch::Alarm").values():
        cloudwatch.put_metric_alarm(**deployment.resolve(alarm["Properties"]))
        cloudwatch.set_alarm_state(AlarmName=alarm["Properties"]["AlarmName"], StateValue="OK",
                                   StateReason="no requests")
    (topic_logical,) = synthesized.resources("AWS::SNS::Topic")
    topic_arn = harness.client("sns").create_topic(Name=topic_logical)["TopicArn"]
    queue_url = harness.client("sqs").create_queue(QueueName="notifications")["QueueUrl"]
    queue_arn = harness.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    harness.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    (machine_logical, machine), = synthesized.resources("AWS::StepFunctions::StateMachine").items()
    rendered = definition or state_machine_definition(template)
    arn = harness.deploy_state_machine(rendered, deployment.resolve(machine["Properties"]["RoleArn"]), machine_logical)
    (data_logical,) = [k for k in synthesized.resources("AWS::S3::Bucket") if k.startswith("StorageData")]
    processing_jobs: list[ProcessingJobRecord] = []
    harness.hooks.processing = lambda run: processing_jobs.append(run_processing_job(run))
    harness.hooks.training = train_locally(harness)
    harness.hooks.transform = transform_with_model(harness)
    harness.endpoints.serve = LocalEndpointContainers()
    return LocalStack(harness, synthesized, deployment, arn, deployment.ref(data_logical), queue_url, processing_jobs)



def serve_dataset(harness: Harness, dataset: Path, bucket: str, endpoint_name: str, num_topics: int = 4) -> str:
    """An InService endpoint serving a locally prepared dataset's text model, without running the
    pipeline (for client tests and benchmarks): the dataset's serving artifact and an NTM-format
    model fitted to its corpus, in `bucket`. Returns the S3 URI of a topics.json for that model."""
    from sklearn.decomposition import NMF

    from stacks.image_registries import REGISTRY_ACCOUNTS

    s3, sagemaker = harness.client("s3"), harness.client("sagemaker")
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)
    corpus = recordio_corpus(dataset)
    nmf = NMF(n_components=num_topics, init="nndsvda", max_iter=200, random_state=0).fit(corpus)
    decoder = np.log(nmf.components_.T + 1e-3).astype(np.float32)
    with tempfile.TemporaryDirectory() as scratch:
        model_path = Path(scratch) / "model.tar.gz"
        model_params.write_model_tarball(model_path, decoder)
        s3.put_object(Bucket=bucket, Key="serving-test/model.tar.gz", Body=model_path.read_bytes())
    s3.put_object(Bucket=bucket, Key="serving-test/serving.tar.gz", Body=(dataset / "serving" / "model.tar.gz").read_bytes())
    vocabulary = (dataset / "auxiliary" / "vocab.txt").read_text(encoding="utf-8").split()
    topics = {"topics": [{"topic": k, "words": [{"word": vocabulary[i], "weight": float(nmf.components_[k, i])}
                                               for i in np.argsort(-nmf.components_[k])[:10]]} for k in range(num_topics)]}
    s3.put_object(Bucket=bucket, Key="serving-test/topics.json", Body=json.dumps(topics).encode())
    role_arn = f"arn:aws:iam::{harness.account}:role/serving-test-sagemaker"
    if not harness.identities.role_exists(role_arn):
        harness.create_role(role_arn, trusted_service="sagemaker.amazonaws.com", policies={"read-models": {
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}})
    ntm_account, sklearn_account = REGISTRY_ACCOUNTS[harness.region]
    registry = "dkr.ecr.{}.amazonaws.com".format(harness.region)
    sagemaker.create_model(ModelName=f"{endpoint_name}-model", ExecutionRoleArn=role_arn, Containers=[
        {"Image": f"{sklearn_account}.{registry}/{SKLEARN_REPOSITORY}", "ModelDataUrl": f"s3://{bucket}/serving-test/serving.tar.gz",
         "Environment": {"SAGEMAKER_PROGRAM": serving_artifact.PROGRAM, "SAGEMAKER_SUBMIT_DIRECTORY": serving_artifact.SUBMIT_DIRECTORY,
                         "PYTHONPATH": serving_artifact.SUBMIT_DIRECTORY}},
        {"Image": f"{ntm_account}.{registry}/{NTM_REPOSITORY}", "ModelDataUrl": f"s3://{bucket}/serving-test/model.tar.gz"}],
        InferenceExecutionConfig={"Mode": "Serial"})
    sagemaker.create_endpoint_config(EndpointConfigName=f"{endpoint_name}-config", ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": f"{endpoint_name}-model", "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1}])
    sagemaker.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=f"{endpoint_name}-config")
    harness.endpoints.serve = harness.endpoints.serve or LocalEndpointContainers()
    return f"s3://{bucket}/serving-test/topics.json"


def recordio_corpus(dataset: Path) -> sparse.csr_matrix:
    return sparse.vstack([recordio.read_sparse(path) for path in sorted((dataset / "transform").glob("part-*.pbr"))]).tocsr()
