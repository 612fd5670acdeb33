"""The similar-documents stage: SageMaker k-NN over every document's topic vector.

After the batch transform: turn the topic vectors into k-NN's training set (a processing job),
train the index (k-NN, `.sync`), register it as a model, ask it for every document's neighbours
(a k-NN batch transform) and write `runs/<run-id>/similar/neighbours.jsonl` (a processing job).
k-NN's formats and hyperparameters are cited in docs/design.md, section 8.
"""

from __future__ import annotations

from typing import Callable

from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from ntm_glue.similarity import DOCUMENTS_DIR, INDEX_OUT_DIR, NEIGHBOURS_OUT_DIR, PREDICTIONS_DIR, TOPIC_WEIGHTS_DIR
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
                 s3_input: Callable[[str, str, str], dict]) -> None:
        self._scope, self._images, self._role_arn = scope, images, role_arn
        self._processing_job, self._catch, self._s3_input = processing_job, catch, s3_input

    def chain(self, next_state: sfn.IChainable) -> sfn.IChainable:
        """Choice on `$.run.similar.enabled`: the stage then `next_state`, or straight to it."""
        scope = self._scope
        skipped = sfn.Pass(scope, "Similar documents off", parameters={
            "neighbours": "not computed (similar.enabled was false)"}, result_path="$.similar")
        done = sfn.Pass(scope, "Keep neighbours", parameters={"neighbours.$": "$.run.similar.neighbours_uri"},
                        result_path="$.similar")
        index = self._index()
        index.next(self._train()).next(self._model()).next(self._transform()).next(self._neighbours()).next(done)
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
