"""One assertion per promise the template makes (issue: the deployable NTM pipeline)."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match, Template

from tests.infra.cfn import all_states, state_machine_definition

PAID_STAGES = ["Prepare corpus", "Create model", "Create text model", "Create endpoint config", "Report topics",
               "Create endpoint", "Update endpoint", "Batch transform", "Compare candidates"]


@pytest.fixture(scope="module")
def template(synthesized) -> Template:
    return Template.from_json(synthesized.template)


@pytest.fixture(scope="module")
def definition(synthesized) -> dict:
    return state_machine_definition(synthesized.template)


@pytest.fixture(scope="module")
def states(definition) -> dict:
    return all_states(definition)


def statements(synthesized, role_prefix: str) -> list[dict]:
    found = []
    for key, resource in synthesized.resources("AWS::IAM::Policy").items():
        if key.startswith(role_prefix):
            found += resource["Properties"]["PolicyDocument"]["Statement"]
    return found


def test_train_channel_is_sharded_and_the_others_replicated(states):
    channels = states["Train topic model"]["Parameters"]["InputDataConfig"]
    distribution = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3DataDistributionType"] for c in channels}
    assert distribution == {"train": "ShardedByS3Key", "validation": "FullyReplicated",
                            "test": "FullyReplicated", "auxiliary": "FullyReplicated"}
    content = {c["ChannelName"]: c["ContentType"] for c in channels}
    assert content["train"] == "application/x-recordio-protobuf" and content["auxiliary"] == "text/plain"


def test_training_reads_instance_settings_and_string_hyperparameters_from_the_run(states):
    parameters = states["Train topic model"]["Parameters"]
    assert parameters["ResourceConfig"] == {
        "InstanceType.$": "$.run.training.instance_type",
        "InstanceCount.$": "$.run.training.instance_count",
        "VolumeSizeInGB.$": "$.run.training.volume_size_gb",
    }
    # The Load dataset Lambda builds this map per candidate; tests/unit checks every value is a string.
    assert parameters["HyperParameters.$"] == "$.candidate.hyperparameters"
    # Resolve run writes the stopping condition: MaxWaitTimeInSeconds only for a spot run.
    assert parameters["StoppingCondition.$"] == "$.run.training.stopping_condition"
    assert parameters["EnableManagedSpotTraining.$"] == "$.run.training.spot"


def test_deployed_defaults_are_the_tutorials(synthesized):
    (function,) = [f for key, f in synthesized.resources("AWS::Lambda::Function").items() if key.startswith("FunctionsResolveRun")]
    defaults = json.loads(function["Properties"]["Environment"]["Variables"]["RUN_DEFAULTS"])
    assert defaults["training"]["instance_type"] == "ml.p3.2xlarge"
    assert defaults["training"]["instance_count"] == 2
    assert defaults["num_topics"] == [30]
    assert defaults["hyperparameters"] == {"mini_batch_size": 128, "epochs": 100, "num_patience_epochs": 5, "tolerance": 0.001}
    assert {key: defaults["endpoint"][key] for key in ("instance_type", "instance_count")} == {
        "instance_type": "ml.m4.xlarge", "instance_count": 1}
    assert defaults["deploy_endpoint"] is True


def test_pass_role_only_for_the_sagemaker_role_and_only_to_sagemaker(synthesized):
    pass_role = [s for key in ("Pipeline", "Functions", "SageMaker") for s in statements(synthesized, key)
                 if "iam:PassRole" in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])]
    assert len(pass_role) == 1
    (statement,) = pass_role
    assert statement["Resource"] == {"Fn::GetAtt": [next(k for k in synthesized.resources("AWS::IAM::Role") if k.startswith("SageMakerExecution")), "Arn"]}
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}


def test_no_full_access_managed_policy_anywhere(synthesized):
    text = json.dumps(synthesized.template)
    assert "FullAccess" not in text
    for role in synthesized.resources("AWS::IAM::Role").values():
        assert "ManagedPolicyArns" not in role["Properties"], role


def test_sagemaker_role_writes_only_datasets_and_runs(synthesized):
    writes = [s for s in statements(synthesized, "SageMakerExecution")
              if any(a.startswith("s3:Put") for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))]
    resources = json.dumps([s["Resource"] for s in writes])
    assert "/datasets/*" in resources and "/runs/*" in resources and "/incoming/*" not in resources


def test_buckets_are_encrypted_private_versioned_and_retained(template, synthesized):
    buckets = synthesized.resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    for key, bucket in buckets.items():
        properties = bucket["Properties"]
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        assert properties["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
        assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
        assert bucket["DeletionPolicy"] == "Retain" and bucket["UpdateReplacePolicy"] == "Retain"
        assert properties["LifecycleConfiguration"]["Rules"], key
    template.has_resource_properties("AWS::S3::BucketPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})


def test_data_bucket_logs_access_and_sends_events(synthesized):
    (data,) = [b for k, b in synthesized.resources("AWS::S3::Bucket").items() if k.startswith("StorageData")]
    assert data["Properties"]["LoggingConfiguration"]["LogFilePrefix"] == "data/"
    assert data["Properties"]["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    rules = {rule["Id"]: rule for rule in data["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["datasets-to-infrequent-access"]["Prefix"] == "datasets/"
    assert rules["abort-incomplete-uploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_state_machine_is_standard_logged_traced_and_bounded(template):
    template.has_resource_properties("AWS::StepFunctions::StateMachine", {
        "StateMachineType": "STANDARD",
        "TracingConfiguration": {"Enabled": True},
        "LoggingConfiguration": Match.object_like({"Level": "ALL", "IncludeExecutionData": True}),
    })
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 90})


def test_execution_timeout(definition):
    assert definition["TimeoutSeconds"] == 72 * 3600


@pytest.mark.parametrize("stage", PAID_STAGES)
def test_every_paid_stage_retries_transient_errors_and_catches_the_rest(definition, stage):
    state = definition["States"][stage]
    (retry,) = state["Retry"]
    assert "SageMaker.AmazonSageMakerException" in retry["ErrorEquals"] and retry["BackoffRate"] > 1
    (catch,) = state["Catch"]
    # Creating or updating the endpoint may lose a race with another run: that is looked at first.
    handler = "Another run got there first?" if stage in ("Create endpoint", "Update endpoint") else "Reserved error name?"
    assert catch == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": handler}


def test_a_lost_race_for_the_endpoint_waits_its_turn_and_any_other_error_fails_the_run(definition):
    choice = definition["States"]["Another run got there first?"]
    (rule,) = choice["Choices"]
    patterns = {condition["StringMatches"] for condition in rule["Or"]}
    # SageMaker's refusals when another run changed the endpoint in between (the harness answers alike).
    assert patterns == {"*in-progress endpoint*", "*already existing endpoint*", "*Could not find endpoint*"}
    assert rule["Next"] == "Endpoint turn left?" and choice["Default"] == "Reserved error name?"
    turn = definition["States"]["Endpoint turn left?"]
    assert turn["Choices"][0]["NumericGreaterThanEqualsPath"] == "$.run.deploy.max_polls"
    assert turn["Choices"][0]["Next"] == "Endpoint busy too long"


def test_failure_states_keep_error_and_cause_without_raising_reserved_names(definition):
    states = definition["States"]
    choice = states["Reserved error name?"]
    assert choice["Choices"] == [{"Variable": "$.failure.Error", "StringMatches": "States.*",
                                  "Next": "Run failed in a stage"}]
    assert choice["Default"] == "Run failed"
    own, stage = states["Run failed"], states["Run failed in a stage"]
    assert (own["ErrorPath"], own["CausePath"]) == ("$.failure.Error", "$.failure.Cause")
    assert (stage["Error"], stage["CausePath"]) == ("StageFailed", "States.Format('{}: {}', $.failure.Error, $.failure.Cause)")


def test_run_jobs_wait_for_completion(states):
    for stage in ("Prepare corpus", "Train topic model", "Batch transform", "Report topics", "Compare candidates"):
        assert states[stage]["Resource"].endswith(".sync"), stage


def test_candidates_train_in_parallel_within_the_limit_and_fail_alone(definition, states):
    sweep = definition["States"]["Train candidates"]
    assert sweep["Type"] == "Map" and sweep["MaxConcurrency"] == 2
    assert sweep["ItemsPath"] == "$.dataset.value.candidates"
    for stage in ("Train topic model", "Read training metrics"):
        (catch,) = states[stage]["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"] and catch["Next"] == "Candidate failed"
    assert states["Candidate failed"]["Parameters"]["status"] == "Failed"
    assert states["Train topic model"]["Retry"][0]["ErrorEquals"][0] == "SageMaker.AmazonSageMakerException"


def test_only_the_chosen_model_goes_on(definition):
    choice = definition["States"]["Several candidates?"]
    assert choice["Choices"][0]["Next"] == "Compare candidates" and choice["Default"] == "Keep chosen model"
    assert definition["States"]["Keep chosen model"]["ResultPath"] == "$.training"
    assert definition["States"]["Keep chosen model"]["Next"] == "Create model"


def test_endpoint_wait_is_a_bounded_loop(definition):
    choice = definition["States"]["Endpoint ready?"]
    conditions = {json.dumps(c, sort_keys=True): c["Next"] for c in choice["Choices"]}
    assert any("InService" in k for k in conditions) and any("Failed" in k for k in conditions)
    assert any("$.run.deploy.max_polls" in k and v == "Endpoint not ready in time" for k, v in conditions.items())
    assert choice["Default"] == "Wait for endpoint"


def test_deploy_is_skipped_when_the_run_says_so(definition):
    choice = definition["States"]["Deploy endpoint?"]
    assert choice["Choices"] == [{"Variable": "$.run.deploy.enabled", "BooleanEquals": True, "Next": "Create text model"}]
    assert choice["Default"] == "Batch transform"


def test_the_endpoint_serves_a_serial_pipeline_of_the_datasets_preprocessing_then_ntm(states):
    """Batch transform keeps the NTM-only model (it reads the prepared RecordIO); the endpoint's
    config names the text model, whose first container is the dataset's serving artifact."""
    text_model = states["Create text model"]["Parameters"]
    preprocessing, ntm = text_model["Containers"]
    assert text_model["InferenceExecutionConfig"] == {"Mode": "Serial"}
    assert preprocessing["ModelDataUrl.$"] == "$.run.dataset.serving_uri"
    assert preprocessing["Environment"] == {"SAGEMAKER_PROGRAM": "ntm_text_serving.py",
                                            "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code",
                                            "PYTHONPATH": "/opt/ml/model/code"}
    assert ntm["ModelDataUrl.$"] == "$.training.model_artifacts"
    assert "sagemaker-scikit-learn:1.2-1-cpu-py3" in json.dumps(preprocessing["Image"]) and "ntm:1" in json.dumps(ntm["Image"])
    assert states["Create endpoint config"]["Parameters"]["ProductionVariants"][0]["ModelName.$"] == "$.run.model.text_model_name"
    assert states["Batch transform"]["Parameters"]["ModelName.$"] == "$.run.model.name"


def test_preparation_is_skipped_for_a_prepared_dataset(definition):
    choice = definition["States"]["Corpus or prepared dataset?"]
    assert choice["Choices"][0]["Next"] == "Several preparation instances?" and choice["Default"] == "Load dataset"


def test_a_stop_word_file_is_the_second_input_of_the_job_choosing_the_vocabulary(definition):
    states = definition["States"]
    for choice_name, plain_name, with_file_name, after in (
            ("Stop-word file?", "Prepare corpus", "Prepare corpus with stop-word file", "Load dataset"),
            ("Stop-word file for the shards?", "Encode shards", "Encode shards with stop-word file", "Assemble dataset")):
        choice = states[choice_name]
        assert choice["Choices"] == [{"Variable": "$.run.prepare.stop_words_file", "BooleanEquals": True, "Next": with_file_name}]
        assert choice["Default"] == plain_name
        plain, with_file = (states[name]["Parameters"]["ProcessingInputs"] for name in (plain_name, with_file_name))
        assert with_file[:-1] == plain
        assert with_file[-1]["S3Input"]["S3Uri.$"] == "$.run.prepare.stop_words_uri"
        assert with_file[-1]["S3Input"]["LocalPath"] == "/opt/ml/processing/input/stop-words"
        assert with_file[-1]["S3Input"]["S3DataDistributionType"] == "FullyReplicated"
        assert states[plain_name]["Next"] == states[with_file_name]["Next"] == after


def test_several_preparation_instances_count_encode_and_assemble_then_load(definition):
    states = definition["States"]
    choice = states["Several preparation instances?"]
    assert choice["Choices"] == [{"Variable": "$.run.prepare.scale_out.enabled", "BooleanEquals": True, "Next": "Count terms"}]
    assert choice["Default"] == "Stop-word file?"
    assert [states[name]["Next"] for name in ("Count terms", "Encode shards", "Assemble dataset", "Prepare corpus")] == [
        "Stop-word file for the shards?", "Assemble dataset", "Load dataset", "Load dataset"]


def test_no_task_replaces_the_run_document(states):
    """Every task puts its answer under a key of its own (without a ResultPath it would overwrite `$`),
    except the last state of a Map iteration, whose whole output is the iteration's result."""
    replacing = {name for name, state in states.items()
                 if state["Type"] == "Task" and state.get("ResultPath", "$") == "$"}
    assert replacing == {"Read training metrics"}
    assert states["Read training metrics"]["End"] is True
