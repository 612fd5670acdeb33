"""The similar-documents stage: SageMaker k-NN over every document's topic vector.

After the batch transform: turn the topic vectors into k-NN's training set (a processing job),
train the index (k-NN, `.sync`), register it as a model, ask it for every document's neighbours
(a k-NN batch transform) and write `runs/<run-id>/similar/neighbours.jsonl` (a processing job).
With `similar.deploy_endpoint` the k-NN model is also served as `<prefix>-similar`, created or
updated like the topics endpoint and waited for with the same bounded poll.
k-NN's formats and hyperparameters are cited in docs/design.md, section 10.
"""

from __future__ import annotations

from typing import Callable

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ntm_glue.endpoint_turn import RUN_STARTED_TAG
from ntm_glue.similarity import DOCUMENTS_DIR, INDEX_OUT_DIR, NEIGHBOURS_OUT_DIR, PREDICTIONS_DIR, TOPIC_WEIGHTS_DIR
from stacks.endpoint_guard import wait_again_if_raced
from stacks.images import ImageRegistry
from stacks.sagemaker_tasks import SageMakerCall, task

ENTRYPOINT = ["python3", "-m", "training.similar"]
RECORDIO = "application/x-recordio-protobuf"
# The tutorial's k-NN: documents are alike when their topic mixtures point the same way.
INDEX_HYPERPARAMETERS = {"predictor_type": "classifier", "index_metric": "COSINE", "index_type": "faiss.Flat"}
# Building an exact index of topic vectors takes minutes; a job still running after this is stuck.
INDEX_MAX_RUNTIME_SECONDS = 6 * 3600


class SimilarityStage:
    """Builds the stage's states inside the pipeline's construct; `chain(next_state)` wires them."""

    def __init__(self, scope: Construct, *, images: ImageRegistry, role_arn: str,
                 processing_job: Callable[..., sfn.CustomState],
                 catch: Callable[[sfn.CustomState], sfn.CustomState],
                 s3_input: Callable[[str, str, str], dict],
                 lambda_task: Callable[..., sfn.IChainable],
                 endpoint_status: lambda_.IFunction, failed: sfn.IChainable) -> None:
        self._scope, self._images, self._role_arn = scope, images, role_arn
        self._processing_job, self._catch, self._s3_input = processing_job, catch, s3_input
        self._lambda_task, self._endpoint_status, self._failed = lambda_task, endpoint_status, failed

    @staticmethod
    def grant(role: iam.IRole, *, name_prefix: str, endpoint_name: str) -> None:
        """The state machine may create and update the similar-documents endpoint (configs are
        already granted under the name prefix)."""
        stack = Stack.of(role)
        role.add_to_principal_policy(iam.PolicyStatement(
            sid="DeploySimilarityEndpoint",
            actions=["sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"],
            resources=[stack.format_arn(service="sagemaker", resource="endpoint", resource_name=endpoint_name),
                       stack.format_arn(service="sagemaker", resource="endpoint-config", resource_name=f"{name_prefix}-*")],
        ))

    def chain(self, next_state: sfn.IChainable) -> sfn.IChainable:
        """Choice on `$.run.similar.enabled`: the stage then `next_state`, or straight to it."""
        scope = self._scope
        # The report reads neighbours.jsonl through a processing input, which may not be empty: without
        # the stage it is given the (small) documents file instead, and finds no neighbours there.
        skipped = sfn.Pass(scope, "Similar documents off", result_path="$.similar", parameters={
            "neighbours": "not computed (similar.enabled was false)", "report_input.$": "$.run.dataset.documents_uri"})
        done = sfn.Pass(scope, "Keep neighbours", result_path="$.similar", parameters={
            "neighbours.$": "$.run.similar.neighbours_uri", "report_input.$": "$.run.similar.neighbours_uri"})
        index = self._index()
        transform = self._transform()
        index.next(self._train()).next(self._model()).next(
            sfn.Choice(scope, "Deploy similarity endpoint?")
            .when(sfn.Condition.boolean_equals("$.run.similar.deploy.enabled", True), self._deploy(transform))
            .otherwise(transform))
        transform.next(self._neighbours()).next(done)
        done.next(next_state)
        skipped.next(next_state)
        return (sfn.Choice(scope, "Find similar documents?")
                .when(sfn.Condition.boolean_equals("$.run.similar.enabled", True), index)
                .otherwise(skipped))

    def _index(self) -> sfn.CustomState:
        return self._catch(self._processing_job(
            "Index topic vectors", job_name="$.run.similar.index_job_name", entrypoint=ENTRYPOINT,
            arguments_path="$.run.similar.index_arguments", result_path="$.similar_index_input",
            inputs=[self._s3_input("topic-weights", "$.transform.output_uri", TOPIC_WEIGHTS_DIR)],
            outputs=[{"OutputName": "index", "S3Output": {"S3Uri.$": "$.run.similar.index_uri",
                                                           "LocalPath": INDEX_OUT_DIR, "S3UploadMode": "EndOfJob"}}],
            comment="Topic vectors to k-NN's training set (labels = document indices) and query rows (training.similar index)",
        ))

    def _train(self) -> sfn.CustomState:
        return self._catch(task(self._scope, "Train similarity index", SageMakerCall("CreateTrainingJob", run_job=True), {
            "TrainingJobName.$": "$.run.similar.training_job_name",
            "RoleArn": self._role_arn,
            "AlgorithmSpecification": {"TrainingImage": self._images.knn_image, "TrainingInputMode": "File"},
            "HyperParameters": {
                # Known only now: the chosen model's number of topics and the corpus's size.
                "feature_dim.$": "States.Format('{}', $.training.num_topics)",
                "sample_size.$": "States.Format('{}', $.dataset.value.documents)",
                "k.$": "$.run.similar.index_k",
                **INDEX_HYPERPARAMETERS,
            },
            "InputDataConfig": [{
                "ChannelName": "train",
                "ContentType": RECORDIO,
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri.$": "$.run.similar.train_uri",
                                                "S3DataDistributionType": "FullyReplicated"}},
            }],
            "OutputDataConfig": {"S3OutputPath.$": "$.run.similar.model_output_uri"},
            "ResourceConfig": {"InstanceType.$": "$.run.similar.instance_type", "InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": INDEX_MAX_RUNTIME_SECONDS},
        }, result_selector={"job_name.$": "$.TrainingJobName", "model_artifacts.$": "$.ModelArtifacts.S3ModelArtifacts"},
            result_path="$.similar_index", comment="SageMaker k-NN indexes every document's topic vector (COSINE)"))

    def _model(self) -> sfn.CustomState:
        return self._catch(task(self._scope, "Create similarity model", SageMakerCall("CreateModel"), {
            "ModelName.$": "$.run.similar.model_name",
            "ExecutionRoleArn": self._role_arn,
            "PrimaryContainer": {"Image": self._images.knn_image, "ModelDataUrl.$": "$.similar_index.model_artifacts"},
        }, result_selector={"arn.$": "$.ModelArn"}, result_path="$.similar_model",
            comment="Register the k-NN index as a model (used by the transform and the optional endpoint)"))

    def _transform(self) -> sfn.CustomState:
        return self._catch(task(self._scope, "Find neighbours", SageMakerCall("CreateTransformJob", run_job=True), {
            "TransformJobName.$": "$.run.similar.transform_job_name",
            "ModelName.$": "$.run.similar.model_name",
            "BatchStrategy": "MultiRecord",
            "MaxPayloadInMB": 6,
            "TransformInput": {
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri.$": "$.run.similar.query_uri"}},
                "ContentType": "text/csv",
                "SplitType": "Line",
            },
            # verbose=true adds each query's neighbour labels (document indices) and distances.
            "TransformOutput": {"S3OutputPath.$": "$.run.similar.transform_output_uri",
                                "Accept": "application/json; verbose=true", "AssembleWith": "Line"},
            "TransformResources": {"InstanceType.$": "$.run.similar.instance_type", "InstanceCount": 1},
        }, result_selector={"job_name.$": "$.TransformJobName"}, result_path="$.similar_transform",
            comment="Every document's nearest documents, in documents.jsonl order"))

    def _neighbours(self) -> sfn.CustomState:
        return self._catch(self._processing_job(
            "Collect neighbours", job_name="$.run.similar.neighbours_job_name", entrypoint=ENTRYPOINT,
            arguments_path="$.run.similar.neighbours_arguments", result_path="$.similar_collected",
            inputs=[self._s3_input("predictions", "$.run.similar.transform_output_uri", PREDICTIONS_DIR),
                    self._s3_input("documents", "$.run.dataset.documents_uri", DOCUMENTS_DIR)],
            outputs=[{"OutputName": "neighbours", "S3Output": {"S3Uri.$": "$.run.similar.output_uri",
                                                                "LocalPath": NEIGHBOURS_OUT_DIR, "S3UploadMode": "EndOfJob"}}],
            comment="k-NN's answers to neighbours.jsonl: each document's id, then its neighbours' ids and distances",
        ))

    def _deploy(self, next_state: sfn.IChainable) -> sfn.IChainable:
        """Endpoint config, then `<prefix>-similar` created, or updated under its alarms (rolled back by
        SageMaker if one goes off while it bakes), then poll until InService (bounded). Like the topics
        endpoint (stacks/endpoint_guard.py), a run waits while another changes it and leaves a newer
        run's index in place, and a request SageMaker refuses because another run got there between the
        check and the request goes back to waiting; unlike it, it has no auto scaling and no idle sleep."""
        scope, deploy = self._scope, "$.run.similar.deploy"
        config = self._catch(task(scope, "Create similarity endpoint config", SageMakerCall("CreateEndpointConfig"), {
            "EndpointConfigName.$": f"{deploy}.endpoint_config_name",
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName.$": "$.run.similar.model_name",
                                    "InstanceType.$": f"{deploy}.instance_type",
                                    "InitialInstanceCount.$": f"{deploy}.instance_count"}],
            # Which run made it: an older run never replaces a newer run's index.
            "Tags": [{"Key": RUN_STARTED_TAG, "Value.$": "$.run.deploy.run_started_at"}],
        }, result_selector={"arn.$": "$.EndpointConfigArn"}, result_path="$.similar_endpoint_config",
            comment="A new endpoint config per run, so the previous one stays for rollback"))
        request = {"EndpointName.$": f"{deploy}.endpoint_name", "EndpointConfigName.$": f"{deploy}.endpoint_config_name"}
        create = task(scope, "Create similarity endpoint", SageMakerCall("CreateEndpoint"), request,
                      result_selector={"arn.$": "$.EndpointArn"}, result_path="$.similar_endpoint_request",
                      comment="Create the similar-documents endpoint")
        update = task(scope, "Update similarity endpoint", SageMakerCall("UpdateEndpoint"),
                      {**request, "DeploymentConfig.$": f"{deploy}.deployment_config"},
                      result_selector={"arn.$": "$.EndpointArn"}, result_path="$.similar_endpoint_request",
                      comment="Blue/green update of the similar-documents endpoint, baked under its alarms")
        check = {"endpoint_name.$": f"{deploy}.endpoint_name", "run_started_at.$": "$.run.deploy.run_started_at"}
        find = self._lambda_task("Find similarity endpoint", self._endpoint_status, check, "$.similar_endpoint",
                                 "Does the similar-documents endpoint exist, is it free, and whose index does it serve?")
        poll = self._lambda_task("Check similarity endpoint", self._endpoint_status,
                                 {**check, "expected_config.$": f"{deploy}.endpoint_config_name",
                                  "alarms.$": f"{deploy}.rollback_alarms"},
                                 "$.similar_endpoint", "Poll the similar-documents endpoint's status")
        start = sfn.Pass(scope, "Start similarity endpoint wait", parameters={"polls": 0},
                         result_path="$.similar_endpoint_wait")
        wait = sfn.Wait(scope, "Wait for similarity endpoint", time=sfn.WaitTime.seconds_path("$.run.deploy.poll_seconds"))
        count = sfn.Pass(scope, "Count similarity endpoint poll",
                         parameters={"polls.$": "States.MathAdd($.similar_endpoint_wait.polls, 1)"},
                         result_path="$.similar_endpoint_wait")
        failed = sfn.Pass(scope, "Similarity endpoint failed", result_path="$.failure", parameters={
            "Error": "EndpointFailed",
            "Cause.$": f"States.Format('Endpoint {{}} became Failed: {{}}', {deploy}.endpoint_name, "
                       "$.similar_endpoint.value.failure_reason)"}).next(self._failed)
        too_slow = sfn.Pass(scope, "Similarity endpoint not ready in time", result_path="$.failure", parameters={
            "Error": "EndpointTimeout",
            "Cause.$": f"States.Format('Endpoint {{}} was not InService after {{}} polls', {deploy}.endpoint_name, "
                       "$.similar_endpoint_wait.polls)"}).next(self._failed)
        rolled_back = sfn.Pass(scope, "Similarity endpoint update rolled back", result_path="$.failure", parameters={
            "Error": "EndpointRolledBack", "Cause.$": "$.similar_endpoint.value.rollback_cause"}).next(self._failed)
        wait.next(poll).next(count).next(
            sfn.Choice(scope, "Similarity endpoint ready?")
            .when(sfn.Condition.and_(sfn.Condition.string_equals("$.similar_endpoint.value.status", "InService"),
                                     sfn.Condition.boolean_equals("$.similar_endpoint.value.rolled_back", True)),
                  rolled_back)
            .when(sfn.Condition.string_equals("$.similar_endpoint.value.status", "InService"), next_state)
            .when(sfn.Condition.or_(sfn.Condition.string_equals("$.similar_endpoint.value.status", "Failed"),
                                    sfn.Condition.string_equals("$.similar_endpoint.value.status", "UpdateRollbackFailed")),
                  failed)
            .when(sfn.Condition.number_greater_than_equals_json_path("$.similar_endpoint_wait.polls",
                                                                     "$.run.deploy.max_polls"), too_slow)
            .otherwise(wait))
        create.next(start)
        update.next(start)
        start.next(wait)
        # Another run is changing it: wait a turn (bounded, then EndpointBusy) and look again.
        start_turns = sfn.Pass(scope, "Start similarity endpoint turn", parameters={"polls": 0},
                               result_path="$.similar_endpoint_turn")
        turn_wait = sfn.Wait(scope, "Wait for similarity endpoint turn",
                             time=sfn.WaitTime.seconds_path("$.run.deploy.poll_seconds"))
        busy = sfn.Pass(scope, "Similarity endpoint busy too long", result_path="$.failure", parameters={
            "Error": "EndpointBusy",
            "Cause.$": f"States.Format('Endpoint {{}} was still being changed by another run after {{}} checks; run "
                       f"again later', {deploy}.endpoint_name, $.similar_endpoint_turn.polls)"}).next(self._failed)
        turn_left = (sfn.Choice(scope, "Similarity endpoint turn left?")
                     .when(sfn.Condition.number_greater_than_equals_json_path("$.similar_endpoint_turn.polls",
                                                                              "$.run.deploy.max_polls"), busy)
                     .otherwise(turn_wait))
        turn_wait.next(sfn.Pass(scope, "Count similarity endpoint turn", result_path="$.similar_endpoint_turn",
                                parameters={"polls.$": "States.MathAdd($.similar_endpoint_turn.polls, 1)"})).next(find)
        wait_again_if_raced(scope, "Another run got to the similarity endpoint first?", (create, update), turn_left,
                            self._failed)
        config.next(start_turns).next(find).next(
            sfn.Choice(scope, "Similarity endpoint free?")
            .when(sfn.Condition.boolean_equals("$.similar_endpoint.value.busy", True), turn_left)
            # A newer run's index stays: this run's neighbours come from its own batch transform anyway.
            .when(sfn.Condition.boolean_equals("$.similar_endpoint.value.newer_run_deployed", True), next_state)
            .when(sfn.Condition.boolean_equals("$.similar_endpoint.value.exists", True), update)
            .otherwise(create))
        return config
