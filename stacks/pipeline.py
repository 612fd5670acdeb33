"""The state machine: resolve the run, prepare, train, deploy, transform, report.

Every state reads the run document that *Resolve run* writes to `$.run` (docs/design.md, section 5)
and adds its own result under a key of its own, so the execution's state shows at each step what
was decided and what came back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as assets
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from ntm_glue.run_config import (
    COMPARE_MODELS_DIR,
    COMPARISON_IN_DIR,
    COMPARISON_OUT_DIR,
    PROCESSING_ROOT,
    REPORT_DATASET_DIR,
    REPORT_MODEL_DIR,
    REPORT_OUT_DIR,
    REPORT_SIMILAR_DIR,
    REPORT_TRANSFORM_DIR,
)
from ntm_glue.endpoint_turn import IDLE_HOURS_TAG, RUN_STARTED_TAG
from ntm_glue.run_costs import REPORTED_STAGES
from ntm_glue.similarity import endpoint_name as similarity_endpoint_name
from stacks import nag
from stacks.endpoint_guard import EndpointDeployment
from stacks.images import ImageRegistry
from stacks.preparation_states import preparation_states, s3_input
from stacks.sagemaker_tasks import SageMakerCall, grant_sagemaker_tasks, task
from stacks.similarity import SimilarityStage
from training.preparation import serving_artifact

REPO_ROOT = Path(__file__).resolve().parent.parent
CODE_DIR = f"{PROCESSING_ROOT}/input/code"
RECORDIO = "application/x-recordio-protobuf"
# The serving artifact's entry script and code folder (training/preparation/serving_artifact.py). With the
# folder on PYTHONPATH the container imports the script as it is (sklearn serving.import_module) and never
# runs `pip install` on it, which an endpoint without internet access could not finish.
TEXT_SERVING_ENVIRONMENT = {"SAGEMAKER_PROGRAM": serving_artifact.PROGRAM,
                            "SAGEMAKER_SUBMIT_DIRECTORY": serving_artifact.SUBMIT_DIRECTORY,
                            "PYTHONPATH": serving_artifact.SUBMIT_DIRECTORY}


# Nothing is installed at run time (jobs may have no internet): pictures that need matplotlib are
# drawn only where the image happens to have it; report.html draws its charts itself.
COMPARE_ENTRYPOINT = ["python3", "-m", "training.compare"]
REPORT_ENTRYPOINT = ["python3", "-m", "training.report"]
# What the report's "Run parameters" table shows instead of container paths: the run's S3
# locations, run id and job names, as the report job's environment (training.report reads them).
REPORT_RUN_PARAMETERS = {
    "RUN_PARAMETER_RUN_ID": "$.run.run_id",
    "RUN_PARAMETER_TRAINING_JOB": "$.training.job_name",
    "RUN_PARAMETER_MODEL": "$.training.model_artifacts",
    "RUN_PARAMETER_DATASET": "$.run.dataset.uri",
    "RUN_PARAMETER_TRANSFORM_JOB": "$.transform.job_name",
    "RUN_PARAMETER_TRANSFORM_OUTPUT": "$.transform.output_uri",
    "RUN_PARAMETER_COMPARISON": "$.run.sweep.comparison_uri",
    "RUN_PARAMETER_REPORT_JOB": "$.run.report.job_name",
    "RUN_PARAMETER_REPORT": "$.run.report.output_uri",
    "RUN_PARAMETER_SIMILAR_DOCUMENTS": "$.similar.neighbours",
    # What the run cost before the report job, one row per stage (Read costs so far).
    **{f"RUN_PARAMETER_COST_{key.upper()}": f"$.costs_so_far.value.by_stage.{key}"
       for key in (*(stage.replace("-", "_") for stage in REPORTED_STAGES), "total")},
}


@dataclass(frozen=True)
class PipelineFunctions:
    resolve_run: lambda_.IFunction
    load_dataset: lambda_.IFunction
    endpoint_status: lambda_.IFunction
    training_metrics: lambda_.IFunction
    collect_candidates: lambda_.IFunction
    read_choice: lambda_.IFunction
    read_run_costs: lambda_.IFunction
    scale_endpoint: lambda_.IFunction
    smoke_test: lambda_.IFunction

    def all(self) -> list[lambda_.IFunction]:
        return [self.resolve_run, self.load_dataset, self.endpoint_status, self.training_metrics,
                self.collect_candidates, self.read_choice, self.read_run_costs, self.scale_endpoint, self.smoke_test]


@dataclass(frozen=True)
class PipelineSettings:
    name_prefix: str
    endpoint_name: str
    processing_instance_type: str
    max_parallel_training: int
    execution_timeout: Duration
    log_retention: logs.RetentionDays
    retain_logs: bool


def training_code_asset(scope: Construct) -> assets.Asset:
    """The `training` package, zipped as-is: processing jobs import it from the zip (no Docker build)."""
    return assets.Asset(
        scope,
        "TrainingCode",
        path=str(REPO_ROOT),
        exclude=["*", ".*", "!training", "!training/**", "training/**/__pycache__", "training/**/*.pyc"],
    )


class TopicPipeline(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, settings: PipelineSettings,
                 images: ImageRegistry, sagemaker_role: iam.IRole, functions: PipelineFunctions) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
        self._images = images
        self._role_arn = sagemaker_role.role_arn
        self.code = training_code_asset(self)
        self.code.grant_read(sagemaker_role)
        self._failed = self._failure_states()

        definition = self._definition(functions)
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=settings.execution_timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(self, "ExecutionLogs", retention=settings.log_retention,
                                          removal_policy=RemovalPolicy.RETAIN if settings.retain_logs else RemovalPolicy.DESTROY),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
            comment="Prepare a corpus, train SageMaker NTM on it, deploy it, transform the corpus and report the topics",
        )
        grant_sagemaker_tasks(self.state_machine.role, name_prefix=settings.name_prefix,
                              endpoint_name=settings.endpoint_name, sagemaker_role=sagemaker_role)
        SimilarityStage.grant(self.state_machine.role, name_prefix=settings.name_prefix,
                              endpoint_name=similarity_endpoint_name(settings.name_prefix))
        policy = self.state_machine.role.node.find_child("DefaultPolicy")
        nag.accept(policy, "IAM5[Resource::*]", "StateMachine role: X-Ray and CloudWatch Logs delivery actions have no resource type (CDK adds them for tracing and logging).")
        for function in functions.all():
            nag.accept(policy, f"IAM5[Resource::<{_logical_id(function)}.Arn>:*]",
                       "StateMachine role: invoking any version of the pipeline's own function, as CDK's LambdaInvoke grants.")

    # -- states -----------------------------------------------------------------------------

    def _failure_states(self) -> sfn.Choice:
        """Where every caught error goes: the run fails with the error and cause of the state at fault.

        A Fail state may not raise a name starting with "States." (the ASL reserves them), so
        Step Functions' own errors (a failed job's States.TaskFailed, a States.Timeout) end the run
        as StageFailed, with their name leading the cause; errors of our own keep their name.
        """
        own = sfn.Fail(self, "Run failed", error_path="$.failure.Error", cause_path="$.failure.Cause",
                       comment="An error of the pipeline's own (RunInputError, DatasetError, EndpointFailed...) or of a service")
        reserved = sfn.Fail(self, "Run failed in a stage", error="StageFailed",
                            cause_path="States.Format('{}: {}', $.failure.Error, $.failure.Cause)",
                            comment="A Step Functions error (States.*): reported as StageFailed, its name leading the cause")
        return (sfn.Choice(self, "Reserved error name?")
                .when(sfn.Condition.string_matches("$.failure.Error", "States.*"), reserved)
                .otherwise(own))

    def _catch(self, state: sfn.CustomState | tasks.LambdaInvoke) -> sfn.CustomState | tasks.LambdaInvoke:
        state.add_catch(self._failed, errors=["States.ALL"], result_path="$.failure")
        return state

    def _lambda(self, state_id: str, function: lambda_.IFunction, payload: dict, result_path: str,
                comment: str) -> tasks.LambdaInvoke:
        return self._catch(tasks.LambdaInvoke(
            self, state_id, lambda_function=function, payload=sfn.TaskInput.from_object(payload),
            result_selector={"value.$": "$.Payload"}, result_path=result_path, comment=comment,
        ))

    def _resolve(self, function: lambda_.IFunction) -> tasks.LambdaInvoke:
        return self._lambda(
            "Resolve run", function,
            {"input": sfn.JsonPath.object_at("$"), "execution": sfn.JsonPath.string_at("$$.Execution.Name"),
             "started_at": sfn.JsonPath.string_at("$$.Execution.StartTime")},
            "$.resolved",
            "Merge the input over the deployed defaults, validate it and name every job of the run",
        ).next(sfn.Pass(self, "Keep run", parameters={
            "run.$": "$.resolved.value",
            # Whether the endpoint ends up serving this run's model; the deploy states may say otherwise.
            "deployment": {"serves_this_run.$": "$.resolved.value.deploy.enabled", "note": ""}},
                        comment="From here on the state is the run document and what each stage adds to it"))

    def _definition(self, functions: PipelineFunctions) -> sfn.IChainable:
        """Resolve, [prepare], load, train the candidates, choose, model, [deploy], transform, report."""
        load = self._lambda("Load dataset", functions.load_dataset, {"run.$": "$.run"}, "$.dataset",
                            "Read the dataset's manifest: feature_dim, document counts, shards per instance")
        transform = self._transform()
        start = self._resolve(functions.resolve_run)
        start.next(sfn.Choice(self, "Corpus or prepared dataset?")
                   .when(sfn.Condition.boolean_equals("$.run.prepare.enabled", True),
                         preparation_states(self, self._processing_job, self._catch).next(load))
                   .otherwise(load))
        load.next(self._train_candidates(functions)).next(self._choose_candidate(functions)).next(
            self._create_model()).next(
            sfn.Choice(self, "Deploy endpoint?")
            .when(sfn.Condition.boolean_equals("$.run.deploy.enabled", True),
                  self._deploy(functions, transform))
            .otherwise(transform))
        report = self._report()
        costs_so_far = self._lambda("Read costs so far", functions.read_run_costs, {"run.$": "$.run"}, "$.costs_so_far",
                                    "Each stage's jobs and billed seconds until now, for the report page")
        costs_so_far.next(report)
        similarity = SimilarityStage(
            self, images=self._images, role_arn=self._role_arn, processing_job=self._processing_job, catch=self._catch,
            s3_input=s3_input, lambda_task=self._lambda, endpoint_status=functions.endpoint_status,
            failed=self._failed).chain(costs_so_far)
        # The smoke test compares the endpoint with this run's transform: only when it serves this run.
        transform.next(sfn.Choice(self, "Endpoint deployed?")
                       .when(sfn.Condition.boolean_equals("$.run.deploy.enabled", True),
                             sfn.Choice(self, "Endpoint serves this run?")
                             .when(sfn.Condition.boolean_equals("$.deployment.serves_this_run", True),
                                   self._smoke_test(functions.smoke_test, similarity))
                             .otherwise(similarity))
                       .otherwise(similarity))
        costs = self._lambda("Read run costs", functions.read_run_costs, {"run.$": "$.run"}, "$.costs",
                             "Each job of the run with its instances and the seconds SageMaker billed")
        report.next(costs).next(self._summary())
        return start

    def _processing_job(self, state_id: str, *, job_name: str, entrypoint: list[str], arguments_path: str,
                        inputs: list[dict], outputs: list[dict], result_path: str, comment: str,
                        environment_paths: dict[str, str] | None = None,
                        instance_count_path: str | None = None) -> sfn.CustomState:
        code_input = {
            "InputName": "code",
            "S3Input": {"S3Uri": self.code.s3_object_url, "LocalPath": CODE_DIR,
                        "S3DataType": "S3Prefix", "S3InputMode": "File"},
        }
        return task(self, state_id, SageMakerCall("CreateProcessingJob", run_job=True), {
            "ProcessingJobName.$": job_name,
            "RoleArn": self._role_arn,
            "AppSpecification": {
                "ImageUri": self._images.sklearn_image,
                "ContainerEntrypoint": entrypoint,
                "ContainerArguments.$": arguments_path,
            },
            # The code arrives as the asset's zip file; Python imports packages straight from a zip.
            "Environment": {"PYTHONPATH": f"{CODE_DIR}/{self.code.s3_object_key}",
                            **{f"{name}.$": path for name, path in (environment_paths or {}).items()}},
            "ProcessingInputs": [code_input, *inputs],
            "ProcessingOutputConfig": {"Outputs": outputs},
            "ProcessingResources": {"ClusterConfig": {
                **({"InstanceCount.$": instance_count_path} if instance_count_path else {"InstanceCount": 1}),
                "InstanceType": self._settings.processing_instance_type, "VolumeSizeInGB": 30}},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86_400},
        }, result_selector={"job_name.$": "$.ProcessingJobName"}, result_path=result_path, comment=comment)

    @staticmethod
    def _channel(name: str, uri_path: str, distribution: str, content_type: str = RECORDIO) -> dict:
        return {
            "ChannelName": name,
            "ContentType": content_type,
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri.$": uri_path,
                                            "S3DataDistributionType": distribution}},
        }

    def _train(self) -> sfn.CustomState:
        """Train one candidate; runs inside the Map, whose item state is {"run", "candidate"}."""
        return task(self, "Train topic model", SageMakerCall("CreateTrainingJob", run_job=True), {
            "TrainingJobName.$": "$.candidate.job_name",
            "RoleArn": self._role_arn,
            "AlgorithmSpecification": {"TrainingImage": self._images.ntm_image, "TrainingInputMode": "File"},
            "HyperParameters.$": "$.candidate.hyperparameters",
            "InputDataConfig": [
                # Each instance trains on its own share of the train files; the other channels go to all.
                self._channel("train", "$.run.dataset.train_uri", "ShardedByS3Key"),
                self._channel("validation", "$.run.dataset.validation_uri", "FullyReplicated"),
                self._channel("test", "$.run.dataset.test_uri", "FullyReplicated"),
                self._channel("auxiliary", "$.run.dataset.auxiliary_uri", "FullyReplicated", "text/plain"),
            ],
            "OutputDataConfig": {"S3OutputPath.$": "$.run.training.output_uri"},
            "ResourceConfig": {
                "InstanceType.$": "$.run.training.instance_type",
                "InstanceCount.$": "$.run.training.instance_count",
                "VolumeSizeInGB.$": "$.run.training.volume_size_gb",
            },
            # Spot or on demand, and the limits that go with it, are the run's (Resolve run checks them).
            "EnableManagedSpotTraining.$": "$.run.training.spot",
            "StoppingCondition.$": "$.run.training.stopping_condition",
        }, result_selector={"job_name.$": "$.TrainingJobName"}, result_path="$.trained",
            comment="Train NTM on the prepared dataset (train channel sharded across instances)")

    def _train_candidates(self, functions: PipelineFunctions) -> sfn.Map:
        """One training job per num_topics candidate, a few at a time; a failed one is recorded, not fatal."""
        failed = sfn.Pass(self, "Candidate failed", parameters={
            "num_topics.$": "$.candidate.num_topics", "job_name.$": "$.candidate.job_name", "status": "Failed",
            "error.$": "$.failure.Error", "cause.$": "$.failure.Cause"})
        train = self._train()
        train.add_catch(failed, errors=["States.ALL"], result_path="$.failure")
        metrics = tasks.LambdaInvoke(
            self, "Read training metrics", lambda_function=functions.training_metrics,
            payload=sfn.TaskInput.from_object({"candidate.$": "$.candidate"}),
            result_selector={"value.$": "$.Payload"}, output_path="$.value",
            comment="The candidate's model artifacts and final validation loss")
        metrics.add_catch(failed, errors=["States.ALL"], result_path="$.failure")
        candidates = sfn.Map(
            self, "Train candidates", items_path="$.dataset.value.candidates",
            item_selector={"run.$": "$.run", "candidate.$": "$$.Map.Item.Value"},
            max_concurrency=self._settings.max_parallel_training, result_path="$.candidates",
            comment="One NTM training job per num_topics candidate (one for a single number)")
        candidates.item_processor(train.next(metrics))
        return self._catch(candidates)

    def _choose_candidate(self, functions: PipelineFunctions) -> sfn.IChainable:
        """Fail if nothing trained; compare candidates when there are several; keep the chosen one as $.training."""
        payload = {"run.$": "$.run", "candidates.$": "$.candidates"}
        collect = self._lambda("Collect candidates", functions.collect_candidates, payload, "$.selection",
                               "Fail when every candidate failed; record the candidates for the comparison and report")
        read_choice = self._lambda("Read choice", functions.read_choice, payload, "$.selection",
                                   "The candidate the comparison chose")
        keep = sfn.Pass(self, "Keep chosen model", parameters={
            "num_topics.$": "$.selection.value.chosen.num_topics",
            "job_name.$": "$.selection.value.chosen.job_name",
            "model_artifacts.$": "$.selection.value.chosen.model_artifacts",
        }, result_path="$.training")
        compare = self._compare()
        compare.next(read_choice).next(keep)
        collect.next(
            sfn.Choice(self, "Several candidates?")
            .when(sfn.Condition.boolean_equals("$.run.sweep.enabled", True), compare)
            .otherwise(keep)
        )
        return sfn.Chain.custom(collect, [keep], keep)

    def _compare(self) -> sfn.CustomState:
        return self._catch(self._processing_job(
            "Compare candidates", job_name="$.run.sweep.job_name", entrypoint=COMPARE_ENTRYPOINT,
            result_path="$.compared",
            arguments_path="$.run.sweep.arguments",
            inputs=[
                s3_input("models", "$.run.training.output_uri", COMPARE_MODELS_DIR),
                s3_input("candidates", "$.run.sweep.comparison_uri", COMPARISON_IN_DIR),
                s3_input("vocabulary", "$.run.dataset.auxiliary_uri", f"{REPORT_DATASET_DIR}/auxiliary"),
                s3_input("corpus", "$.run.dataset.transform_uri", f"{REPORT_DATASET_DIR}/transform"),
            ],
            outputs=[{"OutputName": "comparison", "S3Output": {"S3Uri.$": "$.run.sweep.comparison_uri",
                                                                "LocalPath": COMPARISON_OUT_DIR, "S3UploadMode": "EndOfJob"}}],
            comment="Validation loss, coherence and uniqueness of every candidate; pick one by the run's rule",
        ))

    def _create_model(self) -> sfn.CustomState:
        return self._catch(task(self, "Create model", SageMakerCall("CreateModel"), {
            "ModelName.$": "$.run.model.name",
            "ExecutionRoleArn": self._role_arn,
            "PrimaryContainer": {"Image": self._images.ntm_image, "ModelDataUrl.$": "$.training.model_artifacts"},
        }, result_selector={"arn.$": "$.ModelArn"}, result_path="$.model",
            comment="Register the trained artifacts as a model (used by the endpoint and the transform)"))

    def _create_text_model(self) -> sfn.CustomState:
        """The endpoint's model: a serial inference pipeline whose first container turns raw text into
        the dataset's own vectors (training/serving, from the dataset's serving artifact) for NTM."""
        return self._catch(task(self, "Create text model", SageMakerCall("CreateModel"), {
            "ModelName.$": "$.run.model.text_model_name",
            "ExecutionRoleArn": self._role_arn,
            "Containers": [
                {"Image": self._images.sklearn_image, "ModelDataUrl.$": "$.run.dataset.serving_uri",
                 "Environment": TEXT_SERVING_ENVIRONMENT},
                {"Image": self._images.ntm_image, "ModelDataUrl.$": "$.training.model_artifacts"},
            ],
            "InferenceExecutionConfig": {"Mode": "Serial"},
        }, result_selector={"arn.$": "$.ModelArn"}, result_path="$.text_model",
            comment="Raw text in, NTM's topic weights out: the dataset's preprocessing, then the trained model"))

    def _deploy(self, functions: PipelineFunctions, next_state: sfn.IChainable) -> sfn.IChainable:
        endpoint_config = self._catch(task(self, "Create endpoint config", SageMakerCall("CreateEndpointConfig"), {
            "EndpointConfigName.$": "$.run.deploy.endpoint_config_name",
            "ProductionVariants": [{
                "VariantName": "AllTraffic",
                "ModelName.$": "$.run.model.text_model_name",
                "InstanceType.$": "$.run.deploy.instance_type",
                "InitialInstanceCount.$": "$.run.deploy.instance_count",
            }],
            # Which run made it: a run never replaces a newer run's config (stacks/endpoint_guard.py).
            # How long it may sit idle before the hourly check deletes the endpoint (stacks/endpoint_sleep.py).
            "Tags": [{"Key": RUN_STARTED_TAG, "Value.$": "$.run.deploy.run_started_at"},
                     {"Key": IDLE_HOURS_TAG, "Value.$": "$.run.deploy.idle_hours"}],
        }, result_selector={"arn.$": "$.EndpointConfigArn"}, result_path="$.endpoint_config",
            comment="A new endpoint config per run, so the previous one stays for rollback"))
        # What the endpoint served before this run: a failed smoke test puts it back (stacks/endpoint_guard.py
        # then decides whether, and when, this run may change it).
        before = self._lambda("Record endpoint before", functions.endpoint_status,
                              {"endpoint_name.$": "$.run.deploy.endpoint_name",
                               "run_started_at.$": "$.run.deploy.run_started_at"}, "$.endpoint_before",
                              "Does the endpoint exist already, and on which config (restored if the smoke test fails)?")
        deployment = EndpointDeployment(self, "Endpoint", endpoint_status=functions.endpoint_status,
                                        scale_endpoint=functions.scale_endpoint, failed=self._failed,
                                        catch=self._catch, next_state=next_state)
        return self._create_text_model().next(endpoint_config).next(before).next(deployment.start)

    def _smoke_test(self, smoke_test: lambda_.IFunction, next_state: sfn.IChainable) -> sfn.IChainable:
        """Raw text of a few of the run's documents to the new endpoint, against the transform's answers;
        on a mismatch, put the endpoint back as it was (or delete it) and fail with both answers."""
        check = self._lambda("Smoke test endpoint", smoke_test, {"run.$": "$.run", "transform.$": "$.transform"},
                             "$.smoke_test", "The endpoint's topics for a few corpus documents, compared with the batch transform's")
        failed = sfn.Pass(self, "Smoke test failed",
                          parameters={"Error": "SmokeTestFailed", "Cause.$": "$.smoke_test.value.cause"},
                          result_path="$.failure").next(self._failed)
        endpoint = {"EndpointName.$": "$.run.deploy.endpoint_name"}
        restore = self._catch(task(self, "Restore endpoint config", SageMakerCall("UpdateEndpoint"),
                                   {**endpoint, "EndpointConfigName.$": "$.endpoint_before.value.endpoint_config_name"},
                                   result_selector={"arn.$": "$.EndpointArn"}, result_path="$.endpoint_rollback",
                                   comment="The endpoint existed: back to the config it served before this run"))
        # DeleteEndpoint has no optimized integration: the AWS SDK integration calls the API as it is.
        delete = sfn.CustomState(self, "Delete new endpoint", state_json={
            "Type": "Task", "Comment": "This run created the endpoint: remove it",
            "Resource": f"arn:{Aws.PARTITION}:states:::aws-sdk:sagemaker:deleteEndpoint",
            "Parameters": endpoint,
            "ResultPath": "$.endpoint_rollback"})
        delete.add_retry(errors=["SageMaker.SageMakerException"], interval=Duration.seconds(10), max_attempts=3, backoff_rate=2.0)
        self._catch(delete)
        restore.next(failed)
        delete.next(failed)
        return check.next(
            sfn.Choice(self, "Smoke test passed?")
            .when(sfn.Condition.boolean_equals("$.smoke_test.value.passed", True), next_state)
            .otherwise(sfn.Choice(self, "Endpoint existed before?")
                       .when(sfn.Condition.boolean_equals("$.endpoint_before.value.exists", True), restore)
                       .otherwise(delete))
        )

    def _transform(self) -> sfn.CustomState:
        return self._catch(task(self, "Batch transform", SageMakerCall("CreateTransformJob", run_job=True), {
            "TransformJobName.$": "$.run.transform.job_name",
            "ModelName.$": "$.run.model.name",
            "BatchStrategy": "MultiRecord",
            "MaxPayloadInMB": 6,
            # Sparse RecordIO in, one JSON line of topic weights per document out, in input order.
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri.$": "$.run.dataset.transform_uri"}},
                "ContentType": RECORDIO,
                "SplitType": "RecordIO",
            },
            "TransformOutput": {"S3OutputPath.$": "$.run.transform.output_uri", "Accept": "application/jsonlines",
                                "AssembleWith": "Line"},
            "TransformResources": {"InstanceType.$": "$.run.transform.instance_type",
                                   "InstanceCount.$": "$.run.transform.instance_count"},
        }, result_selector={"job_name.$": "$.TransformJobName", "output_uri.$": "$.TransformOutput.S3OutputPath"},
            result_path="$.transform", comment="Topic weights for every document of the corpus"))

    def _report(self) -> sfn.CustomState:
        return self._catch(self._processing_job(
            "Report topics", job_name="$.run.report.job_name", entrypoint=REPORT_ENTRYPOINT,
            result_path="$.reported",
            arguments_path="$.run.report.arguments", environment_paths=REPORT_RUN_PARAMETERS,
            inputs=[
                s3_input("model", "$.training.model_artifacts", REPORT_MODEL_DIR),
                s3_input("vocabulary", "$.run.dataset.auxiliary_uri", f"{REPORT_DATASET_DIR}/auxiliary"),
                s3_input("documents", "$.run.dataset.documents_uri", REPORT_DATASET_DIR),
                s3_input("corpus", "$.run.dataset.transform_uri", f"{REPORT_DATASET_DIR}/transform"),
                s3_input("topic-weights", "$.transform.output_uri", REPORT_TRANSFORM_DIR),
                s3_input("comparison", "$.run.sweep.comparison_uri", COMPARISON_IN_DIR),
                s3_input("similar", "$.similar.report_input", REPORT_SIMILAR_DIR),
            ],
            outputs=[{"OutputName": "report", "S3Output": {"S3Uri.$": "$.run.report.output_uri", "LocalPath": REPORT_OUT_DIR,
                                                            "S3UploadMode": "EndOfJob"}}],
            comment="Topic words, measures, document map and the interactive report.html from the model and the transform output",
        ))

    def _summary(self) -> sfn.IChainable:
        """The execution's output: where everything is (the success notification quotes it)."""
        return sfn.Pass(self, "Summarize run", parameters={
            "run_id.$": "$.run.run_id",
            "outputs": {
                "run.$": "$.run.output_uri",
                "dataset.$": "$.run.dataset.uri",
                "model_artifacts.$": "$.training.model_artifacts",
                "model_name.$": "$.run.model.name",
                "num_topics.$": "$.training.num_topics",
                "comparison.$": "$.run.sweep.comparison_uri",
                "transform.$": "$.transform.output_uri",
                "report.$": "$.run.report.page_uri",
                "similar_documents.$": "$.similar.neighbours",
            },
            "endpoint.$": "$.run.deploy",
            "deployment.$": "$.deployment",
            "costs.$": "$.costs.value",
        }).next(sfn.Succeed(self, "Run succeeded"))

def _logical_id(function: lambda_.IFunction) -> str:
    return Stack.of(function).get_logical_id(function.node.default_child)
