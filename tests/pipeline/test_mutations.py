"""The mutation check: break the deployment on purpose, one way a test, and show the offline run fails
the way AWS would. A harness that let any of these through would give false confidence.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import pytest

from tests.harness import Harness
from tests.infra.cfn import all_states, state_machine_definition
from tests.pipeline.conftest import SAMPLE_CORPUS
from tests.pipeline.local_deployment import deploy


def _train(definition: dict[str, Any]) -> dict[str, Any]:
    return all_states(definition)["Train topic model"]["Parameters"]


def number_hyperparameter(definition: dict[str, Any]) -> None:
    parameters = _train(definition)
    del parameters["HyperParameters.$"]
    parameters["HyperParameters"] = {"num_topics": 4, "feature_dim.$": "$.candidate.hyperparameters.feature_dim"}


def wrong_channel_name(definition: dict[str, Any]) -> None:
    (auxiliary,) = [c for c in _train(definition)["InputDataConfig"] if c["ChannelName"] == "auxiliary"]
    auxiliary["ChannelName"] = "vocabulary"


def transform_without_model(definition: dict[str, Any]) -> None:
    del definition["States"]["Batch transform"]["Parameters"]["ModelName.$"]


def knn_feature_dim_from_the_vocabulary(definition: dict[str, Any]) -> None:
    hyperparameters = all_states(definition)["Train similarity index"]["Parameters"]["HyperParameters"]
    hyperparameters["feature_dim.$"] = "States.Format('{}', $.dataset.value.vocabulary_size)"


def without_action(role_prefix: str, action: str) -> Callable[[str, dict[str, Any]], dict[str, Any]]:
    def mutate(role: str, document: dict[str, Any]) -> dict[str, Any]:
        if not role.startswith(role_prefix):
            return document
        document = copy.deepcopy(document)
        for statement in document["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            statement["Action"] = [a for a in actions if a != action] or ["sagemaker:ListTags"]
        return document
    return mutate


MUTATIONS = {
    "hyperparameter sent as a number": (number_hyperparameter, None, "HyperParameters.num_topics"),
    "wrong channel name": (wrong_channel_name, None, "NTM takes train (required), validation, test, auxiliary"),
    "transform names no model": (transform_without_model, None, 'Missing required parameter in input: "ModelName"'),
    "k-NN feature_dim taken from the vocabulary": (knn_feature_dim_from_the_vocabulary, None,
                                                    "does not match the data's 4 features"),
    "CreateTrainingJob removed from the state machine's role": (
        None, without_action("PipelineStateMachineRole", "sagemaker:CreateTrainingJob"),
        "is not authorized to perform: sagemaker:CreateTrainingJob"),
    "iam:PassRole removed from the state machine's role": (
        None, without_action("PipelineStateMachineRole", "iam:PassRole"),
        "is not authorized to perform: iam:PassRole"),
}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=list(MUTATIONS))
def test_the_harness_catches_a_broken_deployment(synthesized, mutation):
    break_definition, break_policies, expected = MUTATIONS[mutation]
    definition = state_machine_definition(synthesized.template)
    if break_definition:
        break_definition(definition)
    with Harness(job_polls=1, endpoint_polls=1, timeout_seconds=300) as harness:
        stack = deploy(harness, synthesized, definition=definition, mutate_policies=break_policies)
        dataset = stack.put_prepared_dataset(SAMPLE_CORPUS)
        result = stack.run({"dataset": dataset, "num_topics": 4, "deploy_endpoint": False}, "mutated")
    assert result.status == "FAILED", f"{mutation} went unnoticed:\n{result.report()}"
    assert expected in result.cause, result.cause


def test_the_same_run_unbroken_succeeds(synthesized):
    """The control: every failure above comes from its mutation, not from the set-up."""
    # The whole pipeline runs here (the mutations stop early): as long a guard as the scenarios'.
    with Harness(job_polls=1, endpoint_polls=1, timeout_seconds=300) as harness:
        stack = deploy(harness, synthesized)
        dataset = stack.put_prepared_dataset(SAMPLE_CORPUS)
        result = stack.run({"dataset": dataset, "num_topics": 4, "deploy_endpoint": False}, "unbroken")
    assert result.status == "SUCCEEDED", result.report()
