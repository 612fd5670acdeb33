"""The rendered state machine definition: valid ASL, and every SageMaker request valid for the API.

cfn-lint cannot look inside DefinitionString (CDK builds it with Fn::Join), so these tests render
it with plausible deployment values and check it with the tools that know each format.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator
from ntm_glue.run_config import Deployment, build_run
from ntm_glue.run_costs import stage_summaries
from ntm_glue.run_input import parse_request

from stacks.config import PipelineConfig
from tests.infra.asl import apply_parameters
from tests.infra.cfn import all_states, state_machine_definition

REPO = Path(__file__).resolve().parents[2]
BUCKET = "storagedata6bb23f4e"


@pytest.fixture(scope="module")
def definition(synthesized) -> dict[str, Any]:
    return state_machine_definition(synthesized.template)


def sample_state() -> dict[str, Any]:
    """The state a SageMaker task sees in a run with every stage enabled, built by the real Lambdas' code."""
    request = parse_request({"corpus": f"s3://{BUCKET}/incoming/news/",
                             "preparation": {"instance_count": 4, "stop_words": f"s3://{BUCKET}/incoming/stop.txt"}},
                            PipelineConfig().run_defaults(), BUCKET)
    run = build_run(request, "console-2026-11-25", Deployment("ntm", BUCKET, "ntm-topics", 90, 60))
    (candidate,) = run["training"]["candidates"]
    candidate = dict(candidate, hyperparameters=dict(candidate["hyperparameters"], feature_dim="2000"))
    return {
        "run": run,
        "candidate": candidate,
        "dataset": {"value": {"vocabulary_size": 2000, "documents": 100, "candidates": [candidate]}},
        "training": {"job_name": candidate["job_name"], "num_topics": 30,
                     "model_artifacts": f"{run['training']['output_uri']}{candidate['job_name']}/output/model.tar.gz"},
        "transform": {"job_name": run["transform"]["job_name"], "output_uri": run["transform"]["output_uri"]},
        "similar": {"neighbours": run["similar"]["neighbours_uri"], "report_input": run["similar"]["neighbours_uri"]},
        "similar_index": {"job_name": run["similar"]["training_job_name"],
                          "model_artifacts": f"{run['similar']['model_output_uri']}x/output/model.tar.gz"},
        # Read costs so far, by the real Lambda's code: each stage's line as the report job gets it.
        "costs_so_far": {"value": {"by_stage": stage_summaries([])}},
        "endpoint_before": {"value": {"exists": True, "status": "InService", "failure_reason": "", "busy": False,
                                      "endpoint_config_name": "ntm-epc-an-earlier-run", "newer_run_deployed": False}},
    }


def sagemaker_tasks(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: state for name, state in all_states(definition).items()
            if state["Type"] == "Task" and ":states:::sagemaker:" in state["Resource"]}


def test_definition_is_valid_asl(definition, tmp_path):
    path = tmp_path / "definition.json"
    path.write_text(json.dumps(definition))
    result = subprocess.run([str(REPO / "node_modules/.bin/asl-validator"), "--json-path", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_rejects_a_dangling_next(definition, tmp_path):
    broken = json.loads(json.dumps(definition))
    broken["States"]["Keep run"]["Next"] = "No such state"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    result = subprocess.run([str(REPO / "node_modules/.bin/asl-validator"), "--json-path", str(path)],
                            capture_output=True, text=True)
    assert result.returncode != 0


def test_every_sagemaker_request_matches_the_api_model(definition):
    model = botocore.session.get_session().get_service_model("sagemaker")
    tasks = sagemaker_tasks(definition)
    assert {name for name in tasks} == {
        "Prepare corpus", "Prepare corpus with stop-word file", "Train topic model", "Create model", "Create text model", "Create endpoint config",
        "Create endpoint", "Restore endpoint config", "Update endpoint", "Batch transform", "Report topics", "Compare candidates",
        "Count terms", "Encode shards", "Encode shards with stop-word file", "Assemble dataset",
        "Index topic vectors", "Train similarity index", "Create similarity model", "Find neighbours", "Collect neighbours",
        "Create similarity endpoint config", "Create similarity endpoint", "Update similarity endpoint",
    }
    for name, state in tasks.items():
        operation = state["Resource"].rsplit(":", 1)[1].removesuffix(".sync")
        shape = model.operation_model(operation[0].upper() + operation[1:]).input_shape
        request = apply_parameters(state["Parameters"], sample_state())
        report = ParamValidator().validate(request, shape)
        assert not report.has_errors(), f"{name}: {report.generate_report()}"


def test_the_scale_out_jobs_run_on_the_run_s_instances_with_the_corpus_sharded(definition):
    states = all_states(definition)
    for name in ("Count terms", "Encode shards"):
        request = apply_parameters(states[name]["Parameters"], sample_state())
        assert request["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 4
        distribution = {item["InputName"]: item["S3Input"]["S3DataDistributionType"] for item in request["ProcessingInputs"]
                        if item["InputName"] != "code"}
        assert distribution == ({"corpus": "ShardedByS3Key"} if name == "Count terms"
                                else {"corpus": "ShardedByS3Key", "counts": "FullyReplicated"})
    assemble = apply_parameters(states["Assemble dataset"]["Parameters"], sample_state())
    assert assemble["ProcessingResources"]["ClusterConfig"]["InstanceCount"] == 1
    assert assemble["AppSpecification"]["ContainerArguments"][0] == "assemble"


def test_the_similarity_index_gets_string_hyperparameters_from_the_run(definition):
    request = apply_parameters(all_states(definition)["Train similarity index"]["Parameters"], sample_state())
    assert request["HyperParameters"] == {"feature_dim": "30", "sample_size": "100", "k": "11",
                                          "predictor_type": "classifier", "index_metric": "COSINE",
                                          "index_type": "faiss.Flat"}


def test_the_sdk_integrations_delete_endpoint_request_matches_the_api_model(definition):
    """DeleteEndpoint has no optimized integration; the AWS SDK one sends the Parameters as the API request."""
    state = all_states(definition)["Delete new endpoint"]
    assert state["Resource"].endswith(":states:::aws-sdk:sagemaker:deleteEndpoint")
    shape = botocore.session.get_session().get_service_model("sagemaker").operation_model("DeleteEndpoint").input_shape
    report = ParamValidator().validate(apply_parameters(state["Parameters"], sample_state()), shape)
    assert not report.has_errors(), report.generate_report()


def test_the_validation_catches_a_number_hyperparameter(definition):
    model = botocore.session.get_session().get_service_model("sagemaker")
    state = sample_state()
    state["candidate"]["hyperparameters"]["num_topics"] = 30
    request = apply_parameters(all_states(definition)["Train topic model"]["Parameters"], state)
    report = ParamValidator().validate(request, model.operation_model("CreateTrainingJob").input_shape)
    assert report.has_errors() and "num_topics" in report.generate_report()
