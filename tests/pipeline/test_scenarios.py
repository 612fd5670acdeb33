"""The synthesized state machine, run end to end offline (tests/harness), one scenario a test.

Every request of a run is validated against the AWS API model and checked against the IAM
policies of the template, as the role that would send it; jobs run the project's real code.
"""

from __future__ import annotations

import datetime
import json
import threading

import pytest

from tests.browser.report_page import check_comparison_chart, check_report_page, downloaded_report
from tests.harness import JobFailed
from tests.pipeline.conftest import SAMPLE_CORPUS
from tests.pipeline.local_deployment import LocalStack, prepared_locally, serve_dataset
from tests.pipeline.test_similarity import KNN_STATES, check_similar_documents

ENDPOINT = "ntm-topics"
SIMILAR_ENDPOINT = "ntm-similar"
ENDPOINT_STATES = {"Create text model", "Create endpoint config", "Record endpoint before", "Find endpoint", "Create endpoint", "Update endpoint", "Check endpoint"}


def upload_corpus(stack: LocalStack) -> str:
    """Upload the sample corpus; return the ARN of the one execution the upload started."""
    stack.deliver(stack.upload("incoming/sample-news.jsonl", SAMPLE_CORPUS.read_bytes()))
    executions = stack.harness.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    assert len(executions) == 1
    return executions[0]["executionArn"]


def sagemaker_operations(result) -> list[str]:
    return [r.operation for r in result.requests if r.service == "sagemaker" and r.caller == "states"]


def test_a_upload_runs_prepare_train_deploy_transform_report(stack, chromium, tmp_path):
    result = stack.harness.wait_for(upload_corpus(stack))
    stack.finish(result)
    assert result.status == "SUCCEEDED", result.report()
    visited = [state.name for state in result.states]
    for state in ("Prepare corpus", "Load dataset", "Train topic model", "Create model", "Create text model",
                  "Create endpoint", "Check endpoint", "Batch transform", "Smoke test endpoint", "Report topics",
                  "Run succeeded"):
        assert state in visited, state
    assert "Update endpoint" not in visited
    outputs = result.output["outputs"]
    run_prefix = outputs["run"].split("/", 3)[3]
    dataset_prefix = outputs["dataset"].split("/", 3)[3]
    manifest = json.loads(stack.object(outputs["dataset"] + "manifest.json"))
    assert manifest["documents"]["kept"] == 240
    keys = stack.keys(run_prefix)
    assert outputs["model_artifacts"].endswith("/output/model.tar.gz") and stack.object(outputs["model_artifacts"])
    endpoint = stack.harness.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointStatus"] == "InService"
    # Once InService, the variant is registered for auto scaling (config: 1 to 2 instances).
    (target,) = stack.harness.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker")["ScalableTargets"]
    assert (target["ResourceId"], target["MinCapacity"], target["MaxCapacity"]) == (
        f"endpoint/{ENDPOINT}/variant/AllTraffic", 1, 2)
    assert any(key.endswith(".pbr.out") for key in keys if "/transform/" in key)
    report = stack.object(outputs["report"]).decode()
    assert "Topic report: 30 topics, 240 documents" in report
    assert json.loads(stack.object(outputs["run"] + "report/summary.json"))["documents"] == 240
    # The run parameters name the run's S3 locations and jobs, never the job's container paths.
    assert outputs["model_artifacts"] in report and outputs["transform"] in report and "/opt/ml" not in report
    # What the run cost before the report job, stage by stage, read from SageMaker (Read costs so far).
    assert "1 job on 2 x ml.p3.2xlarge: 1200 instance-seconds billed" in report
    assert "1 job on 1 x ml.m5.xlarge: 600 instance-seconds billed" in report  # e.g. the preparation
    assert "(before the report job; the run&#x27;s notification has every job)" in report or \
        "(before the report job; the run's notification has every job)" in report
    check_report_page(chromium, downloaded_report(stack, outputs, tmp_path))  # as `make dry-run` copies it
    assert stack.keys(dataset_prefix + "train/")
    check_similar_documents(stack, result, k=10, num_topics=30)
    (message,) = stack.notifications()
    assert "succeeded" in message["Subject"] and outputs["report"] in message["Message"]
    assert_endpoint_answers_raw_text(stack, result)
    # A day later, nobody called it: the hourly check deletes it (configs kept) and tells the topic;
    # the next run finds it absent and creates it again, as this one did.
    assert stack.tick() == [{"deleted": False, "reason": "changed 0.0 h ago"}]
    stack.harness.jobs.backend().endpoints[ENDPOINT].last_modified_time -= datetime.timedelta(hours=25)
    (slept,) = stack.tick()
    assert slept["deleted"] is True and slept["endpoint_config_name"] == result.output["endpoint"]["endpoint_config_name"]
    assert not stack.harness.client("sagemaker").list_endpoints()["Endpoints"]
    assert stack.harness.client("sagemaker").describe_endpoint_config(EndpointConfigName=slept["endpoint_config_name"])
    (note,) = stack.notifications()
    assert note["Subject"] == f"[ntm] Endpoint {ENDPOINT} deleted after no invocations in 24 h"


def assert_endpoint_answers_raw_text(stack: LocalStack, result) -> None:
    """The endpoint is the serial pipeline: raw text in, NTM's JSON out, for the same documents the
    batch transform scored, with the same weights (the same vectors reached the same model)."""
    sagemaker = stack.harness.client("sagemaker")
    config = sagemaker.describe_endpoint_config(
        EndpointConfigName=sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    images = [container["Image"].rsplit("/", 1)[1] for container in model["Containers"]]
    assert images == ["sagemaker-scikit-learn:1.2-1-cpu-py3", "ntm:1"]
    assert model["Containers"][0]["ModelDataUrl"] == result.output["outputs"]["dataset"] + "serving/model.tar.gz"
    texts = {json.loads(line)["id"]: json.loads(line)["text"] for line in SAMPLE_CORPUS.read_text().splitlines()}
    ids = [json.loads(line)["id"] for line in stack.object(result.output["outputs"]["dataset"] + "documents.jsonl").decode().splitlines()]
    transform_key = [k for k in stack.keys(result.output["outputs"]["transform"].split("/", 3)[3]) if k.endswith(".out")][0]
    transformed = [json.loads(line)["topic_weights"] for line in stack.object(f"s3://{stack.data_bucket}/{transform_key}").decode().splitlines()]
    runtime = stack.endpoint_user(ENDPOINT).client("sagemaker-runtime")
    answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="application/json", Accept="application/json",
                                     Body=json.dumps({"instances": [{"text": texts[i]} for i in ids[:5]]}))
    assert answer["ContentType"] == "application/json"
    assert [p["topic_weights"] for p in json.loads(answer["Body"].read())["predictions"]] == transformed[:5]
    invocations = [r for r in stack.harness.requests if r.operation == "InvokeEndpoint"]
    assert invocations[-1].caller == "user" and invocations[-1].ok


def test_b_a_later_spot_run_updates_the_endpoint_and_lists_what_it_cost(stack):
    # Both runs also serve the similar-documents index: created by the first, updated by the second.
    stack.harness.client("s3").put_object(Bucket=stack.data_bucket, Key="incoming/sample-news.run.json",
                                          Body=json.dumps({"similar": {"deploy_endpoint": True}}).encode())
    first = stack.harness.wait_for(upload_corpus(stack))
    assert first.status == "SUCCEEDED", first.report()
    assert [r.params["EndpointName"] for r in first.requests_to("sagemaker", "CreateEndpoint")] == [ENDPOINT, SIMILAR_ENDPOINT]
    second = stack.run({"dataset": first.output["outputs"]["dataset"], "num_topics": 12, "similar": {"deploy_endpoint": True},
                        "training": {"spot": True, "max_runtime_seconds": 1800, "max_wait_seconds": 3600}}, "second-run")
    assert second.status == "SUCCEEDED", second.report()
    operations = sagemaker_operations(second)
    assert operations.count("UpdateEndpoint") == 2 and "CreateEndpoint" not in operations
    similar = stack.harness.client("sagemaker").describe_endpoint(EndpointName=SIMILAR_ENDPOINT)
    assert similar["EndpointStatus"] == "InService"
    assert similar["EndpointConfigName"] == second.state("Keep run").output["run"]["similar"]["deploy"]["endpoint_config_name"]
    assert "CreateProcessingJob" in operations  # the report; preparation was skipped
    assert "Prepare corpus" not in [state.name for state in second.states]
    # Same instance type: SageMaker allows the update with auto scaling in place, and it stays registered.
    assert "Prepare scaling for update" in [state.name for state in second.states]
    scaling_calls = [r.operation for r in second.requests if r.service == "application-autoscaling"]
    assert "DeregisterScalableTarget" not in scaling_calls and "RegisterScalableTarget" in scaling_calls
    endpoint = stack.harness.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointConfigName"] == second.output["endpoint"]["endpoint_config_name"]
    # Spot: asked for in the training request, its saving read back from DescribeTrainingJob.
    (training,) = [r.params for r in second.requests if r.operation == "CreateTrainingJob"
                   and r.params["AlgorithmSpecification"]["TrainingImage"].endswith("/ntm:1")]
    assert training["EnableManagedSpotTraining"] is True
    assert training["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800, "MaxWaitTimeInSeconds": 3600}
    (message,) = stack.notifications()
    body = message["Message"]
    # The harness's jobs all ran 600 s; a spot training job was billed 30% of that (JobBilling).
    assert "train     2 x ml.p3.2xlarge       180 s billed, spot: 600 s run, 70% saved" in body
    assert "transform 1 x ml.m5.xlarge        600 s billed" in body and "report    1 x ml.m5.xlarge" in body
    # The similar-documents stage's k-NN jobs are billed too, and listed.
    assert "knn-train 1 x ml.m5.xlarge        600 s billed" in body and "similar   1 x ml.m5.xlarge" in body
    assert "total: 1.00 h of ml.m5.xlarge, 0.10 h of ml.p3.2xlarge" in body, body
    # The run's summary (the execution output) carries the same figures.
    jobs = second.output["costs"]["jobs"]
    assert [(job["stage"], job["billable_seconds"], job["spot_saving_percent"]) for job in jobs] == [
        ("train", 180, 70), ("transform", 600, None), ("knn-index", 600, None), ("knn-train", 600, None),
        ("knn-query", 600, None), ("similar", 600, None), ("report", 600, None)]


def test_c_a_failed_training_job_fails_the_run_with_its_reason_and_notifies(stack):
    def fail(run):
        raise JobFailed("AlgorithmError: CUDA out of memory on algo-1")

    stack.harness.hooks.training = fail
    result = stack.harness.wait_for(upload_corpus(stack))
    stack.finish(result)
    assert result.status == "FAILED"
    assert result.error == "AllCandidatesFailed"
    assert "CUDA out of memory on algo-1" in result.cause
    touched = set(sagemaker_operations(result))
    assert not touched & {"CreateModel", "CreateEndpointConfig", "CreateEndpoint", "UpdateEndpoint", "CreateTransformJob"}
    (message,) = stack.notifications()
    assert "failed" in message["Subject"] and "CUDA out of memory" in message["Message"]
    assert 'in state "Collect candidates"' in message["Message"]
    # What the failed run cost: the preparation and the failed training job, as SageMaker billed them.
    assert "What it cost" in message["Message"]
    assert "prepare   1 x ml.m5.xlarge" in message["Message"] and "train     2 x ml.p3.2xlarge" in message["Message"]
    assert "Failed)" in message["Message"]


def test_d_invalid_input_fails_at_resolve_before_any_sagemaker_request(stack):
    result = stack.run({"dataset": f"s3://{stack.data_bucket}/datasets/x/", "training": {"instance_count": 0}}, "bad")
    assert result.status == "FAILED"
    assert result.error == "RunInputError" and "training.instance_count" in result.cause
    assert [state.name for state in result.states] == ["Resolve run", "Reserved error name?", "Run failed"]
    assert not [r for r in result.requests if r.service == "sagemaker"]


def test_e_an_endpoint_that_becomes_failed_fails_the_run_clearly(stack):
    stack.harness.plan_endpoint(ENDPOINT, status="Failed", failure_reason="Image could not be pulled", polls=1)
    result = stack.harness.wait_for(upload_corpus(stack))
    assert result.status == "FAILED"
    assert result.error == "EndpointFailed"
    assert "Image could not be pulled" in result.cause and ENDPOINT in result.cause
    assert "CreateTransformJob" not in sagemaker_operations(result)


def test_f_a_repeated_upload_event_starts_one_execution(stack):
    event = stack.upload("incoming/sample-news.jsonl", SAMPLE_CORPUS.read_bytes())
    first, again = stack.deliver(event), stack.deliver(event)
    assert first[0]["status"] == "started"
    assert again[0]["execution_name"] == first[0]["execution_name"]
    executions = stack.harness.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn)
    assert len(executions["executions"]) == 1


def test_g_without_endpoint_or_similar_documents_those_states_are_skipped_and_a_stop_word_file_is_used(stack):
    put_corpus(stack)
    stack.harness.client("s3").put_object(Bucket=stack.data_bucket, Key="incoming/lists/stop.txt", Body=b"striker\nReferee\n")
    result = stack.run({"corpus": f"s3://{stack.data_bucket}/incoming/sample-news.jsonl", "deploy_endpoint": False,
                        "similar": {"enabled": False},
                        "preparation": {"stop_words": f"s3://{stack.data_bucket}/incoming/lists/stop.txt"}},
                       "no-endpoint")
    assert result.status == "SUCCEEDED", result.report()
    # Similar documents turned off too: no k-NN request, and the output says so.
    assert not KNN_STATES & {state.name for state in result.states}
    assert sagemaker_operations(result).count("CreateTrainingJob") == 1
    assert "not computed" in result.output["outputs"]["similar_documents"]
    assert not ENDPOINT_STATES & {state.name for state in result.states}
    assert not {"CreateEndpointConfig", "CreateEndpoint", "UpdateEndpoint"} & set(sagemaker_operations(result))
    assert "Batch transform" in [state.name for state in result.states]
    assert "Prepare corpus with stop-word file" in [state.name for state in result.states]
    (vocabulary_key,) = [key for key in stack.keys("datasets/") if "no-endpoint" in key and key.endswith("vocab.txt")]
    vocabulary = stack.object(f"s3://{stack.data_bucket}/{vocabulary_key}").decode().split()
    assert "league" in vocabulary and not {"striker", "referee"} & set(vocabulary)


def rotate_ntm_answers(stack: LocalStack) -> None:
    """Break the endpoint on purpose: its NTM container answers every document with the weights
    shifted by one topic, so no dominant topic matches the batch transform's."""
    serve = stack.harness.endpoints.serve

    def rotated(request):
        body, content_type = serve(request)
        if not request.container["Image"].endswith("/ntm:1"):
            return body, content_type
        predictions = json.loads(body)["predictions"]
        shifted = [{"topic_weights": p["topic_weights"][-1:] + p["topic_weights"][:-1]} for p in predictions]
        return json.dumps({"predictions": shifted}).encode(), content_type
    stack.harness.endpoints.serve = rotated


def test_h_a_failed_smoke_test_removes_a_new_endpoint_and_restores_an_updated_one(stack):
    dataset = stack.put_prepared_dataset(SAMPLE_CORPUS)
    healthy = stack.harness.endpoints.serve
    rotate_ntm_answers(stack)
    first = stack.run({"dataset": dataset, "num_topics": 4}, "broken-new-endpoint")
    assert (first.status, first.error) == ("FAILED", "SmokeTestFailed"), first.report()
    assert first.cause.startswith("0 of 5 documents have the same dominant topic") and '"endpoint_weights"' in first.cause
    assert "DeleteEndpoint" in sagemaker_operations(first) and "Report topics" not in [s.name for s in first.states]
    assert ENDPOINT not in stack.harness.endpoints.backend().endpoints

    stack.harness.endpoints.serve = healthy
    second = stack.run({"dataset": dataset, "num_topics": 4}, "healthy")
    assert second.status == "SUCCEEDED", second.report()
    served_config = second.output["endpoint"]["endpoint_config_name"]

    rotate_ntm_answers(stack)
    third = stack.run({"dataset": dataset, "num_topics": 4}, "broken-update")
    assert (third.status, third.error) == ("FAILED", "SmokeTestFailed"), third.report()
    assert sagemaker_operations(third).count("UpdateEndpoint") == 2  # the update, then the restore
    # The run does not wait for the restore: once SageMaker ends it, the previous config serves again.
    endpoint = settled(stack, ENDPOINT)
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", served_config)


def settled(stack: LocalStack, name: str, describes: int = 10) -> dict:
    """DescribeEndpoint until no change is in progress (the harness ends one after a few describes by a
    principal: here the endpoint's user, whom README lets describe it)."""
    sagemaker = stack.endpoint_user(name).client("sagemaker")
    for _ in range(describes):
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
        if endpoint["EndpointStatus"] not in ("Creating", "Updating", "RollingBack"):
            return endpoint
    raise AssertionError(f"{name} still {endpoint['EndpointStatus']} after {describes} describes")


def put_corpus(stack: LocalStack) -> None:
    """The sample corpus in place, without an upload event (for runs started from the console)."""
    stack.harness.client("s3").put_object(Bucket=stack.data_bucket, Key="incoming/sample-news.jsonl",
                                          Body=SAMPLE_CORPUS.read_bytes())


def test_a_sweep_trains_every_candidate_compares_and_carries_one_forward(stack, chromium, tmp_path):
    put_corpus(stack)
    result = stack.run({"corpus": f"s3://{stack.data_bucket}/incoming/sample-news.jsonl", "num_topics": [3, 4, 6],
                        "similar": {"enabled": False}}, "sweep")  # similar documents: test_similarity.py
    assert result.status == "SUCCEEDED", result.report()
    operations = sagemaker_operations(result)
    assert operations.count("CreateTrainingJob") == 3
    # One NTM model (batch transform) and one text model (the endpoint's serial pipeline).
    assert operations.count("CreateModel") == 2 and operations.count("CreateEndpoint") == 1
    assert operations.count("CreateTransformJob") == 1
    comparison = json.loads(stack.object(result.output["outputs"]["comparison"] + "comparison.json"))
    assert sorted(c["num_topics"] for c in comparison["candidates"]) == [3, 4, 6]
    chosen = result.output["outputs"]["num_topics"]
    assert chosen == comparison["chosen"]["num_topics"]
    report = stack.object(result.output["outputs"]["report"]).decode()
    assert "Choosing the number of topics" in report and comparison["why"] in report.replace("&#x27;", "'")
    assert result.output["outputs"]["comparison"] in report and "/opt/ml" not in report
    check_comparison_chart(chromium, downloaded_report(stack, result.output["outputs"], tmp_path), chosen)
    (message,) = stack.notifications()
    assert f"{chosen}" in message["Message"] and "Number of topics" in message["Message"]


def test_one_failing_candidate_does_not_sink_the_sweep(stack):
    fit = stack.harness.hooks.training

    def fail_four(run):
        if run.request["HyperParameters"]["num_topics"] == "4":
            raise JobFailed("AlgorithmError: diverged")
        fit(run)

    stack.harness.hooks.training = fail_four
    put_corpus(stack)
    result = stack.run({"corpus": f"s3://{stack.data_bucket}/incoming/sample-news.jsonl", "num_topics": [3, 4],
                        "similar": {"enabled": False}}, "sweep-one-fails")
    assert result.status == "SUCCEEDED", result.report()
    comparison = json.loads(stack.object(result.output["outputs"]["comparison"] + "comparison.json"))
    status = {c["num_topics"]: c["status"] for c in comparison["candidates"]}
    assert status == {3: "Trained", 4: "Failed"}
    assert result.output["outputs"]["num_topics"] == 3


@pytest.mark.parametrize("rule", ["loss"])
def test_the_selection_rule_travels_to_the_comparison(stack, rule):
    put_corpus(stack)
    result = stack.run({"corpus": f"s3://{stack.data_bucket}/incoming/sample-news.jsonl", "num_topics": [3, 5],
                        "selection": rule, "deploy_endpoint": False, "similar": {"enabled": False}}, "sweep-rule")
    assert result.status == "SUCCEEDED", result.report()
    comparison = json.loads(stack.object(result.output["outputs"]["comparison"] + "comparison.json"))
    assert comparison["rule"] == rule
    losses = {c["num_topics"]: c["validation_loss"] for c in comparison["candidates"]}
    assert result.output["outputs"]["num_topics"] == min(losses, key=losses.get)


def test_a_failed_stage_outside_the_sweep_fails_as_stage_failed_with_the_job_reason(stack):
    def fail(run):
        raise JobFailed("ClientError: the transform input is not RecordIO")

    stack.harness.hooks.transform = fail
    put_corpus(stack)
    result = stack.run({"corpus": f"s3://{stack.data_bucket}/incoming/sample-news.jsonl", "deploy_endpoint": False},
                       "transform-fails")
    assert result.status == "FAILED"
    assert result.error == "StageFailed"
    assert result.cause.startswith("States.TaskFailed: ") and "the transform input is not RecordIO" in result.cause
    (message,) = stack.notifications()
    assert 'in state "Batch transform"' in message["Message"]
    assert "Cause:      ClientError: the transform input is not RecordIO" in message["Message"]


def test_a_folder_corpus_is_prepared_by_two_instances_into_the_single_instance_dataset(stack, tmp_path):
    """The upload trigger's folder mode with preparation.instance_count 2: count and encode run on two
    emulated instances, each on its share of the files (ShardedByS3Key); the assembled dataset is the
    one training.prepare makes from the whole corpus on one machine. To stay cheap the run ends at
    training (what follows does not depend on how the dataset was prepared; scenario a runs it): the
    training hook stops it there. A stop-word file (issue 17) reaches the encode jobs, which choose
    the vocabulary, as their extra input."""
    from training.preparation import prepare

    def stop(run):
        raise JobFailed("ClientError: stopped by the scenario after preparation")

    stack.harness.hooks.training = stop

    lines = SAMPLE_CORPUS.read_text().splitlines(keepends=True)
    s3 = stack.harness.client("s3")
    stop_words = b"# ours\nnebula\ntelescope\n"
    s3.put_object(Bucket=stack.data_bucket, Key="incoming/lists/stop.txt", Body=stop_words)
    s3.put_object(Bucket=stack.data_bucket, Key="incoming/news.run.json", Body=json.dumps(
        {"preparation": {"instance_count": 2, "stop_words": f"s3://{stack.data_bucket}/incoming/lists/stop.txt"},
         "num_topics": 4, "deploy_endpoint": False}).encode())
    for number in range(5):
        s3.put_object(Bucket=stack.data_bucket, Key=f"incoming/news/part-{number}.jsonl",
                      Body="".join(lines[number::5]).encode())
    (started,) = stack.deliver(stack.upload("incoming/news/_START", b""))
    result = stack.harness.wait_for(started["execution_arn"])
    assert (result.status, result.error) == ("FAILED", "AllCandidatesFailed") and "stopped by the scenario" in result.cause
    visited = [state.name for state in result.states]
    assert "Prepare corpus" not in visited and "Train topic model" in visited
    assert visited.index("Count terms") < visited.index("Encode shards with stop-word file") < visited.index("Assemble dataset") < visited.index("Load dataset")
    jobs = {r.params["ProcessingJobName"]: r.params for r in result.requests if r.operation == "CreateProcessingJob"}
    counts = sorted(job["ProcessingResources"]["ClusterConfig"]["InstanceCount"] for job in jobs.values())
    assert counts == [1, 2, 2]  # count and encode on two, assemble on one
    dataset = f"s3://{stack.data_bucket}/datasets/{started['execution_name']}/"
    manifest = json.loads(stack.object(dataset + "manifest.json"))
    assert manifest["preparation_instances"] == 2
    assert manifest["text_settings"]["stop_words"] == ["nebula", "telescope"]
    assert len(manifest["files"]["train"]) >= 2 and all(file.startswith("train/part-0000") for file in manifest["files"]["train"])

    corpus = tmp_path / "news"
    corpus.mkdir()
    for number in range(5):
        (corpus / f"part-{number}.jsonl").write_text("".join(lines[number::5]))
    (tmp_path / "stop.txt").write_bytes(stop_words)
    single = tmp_path / "single"
    assert prepare.main(["--input", str(corpus), "--output", str(single), "--train-shards", str(manifest["options"]["train_shards"]),
                         "--num-topics", "4", "--workers", "1", "--stop-words-file", str(tmp_path / "stop.txt")]) == 0
    one = json.loads((single / "manifest.json").read_text())
    assert manifest["text_settings"] == one["text_settings"]
    assert not {"nebula", "telescope"} & set(stack.object(dataset + "auxiliary/vocab.txt").decode().split())
    assert manifest["documents"] == one["documents"] and manifest["documents"]["kept"] == 240
    assert stack.object(dataset + "auxiliary/vocab.txt") == (single / "auxiliary" / "vocab.txt").read_bytes()
    splits = {json.loads(line)["id"]: json.loads(line)["split"] for line in stack.object(dataset + "documents.jsonl").decode().splitlines()}
    assert splits == {json.loads(line)["id"]: json.loads(line)["split"] for line in (single / "documents.jsonl").read_text().splitlines()}


def test_two_runs_racing_for_the_endpoint_wait_their_turn_and_the_newer_model_stays(stack):
    """The older run trains slowly; when it reaches the endpoint another change is in progress, and
    once that ends the endpoint serves the newer run's model, which the older run must leave."""
    dataset = stack.put_prepared_dataset(SAMPLE_CORPUS)
    newer_done = threading.Event()
    fit = stack.harness.hooks.training

    def train(run):
        if "older" in run.request["TrainingJobName"]:
            assert newer_done.wait(600), "the newer run never finished"
        fit(run)

    stack.harness.hooks.training = train
    settings = {"dataset": dataset, "num_topics": 3}
    older = stack.harness.start_execution(stack.state_machine_arn, {**settings, "run_name": "older"}, "older")
    newer = stack.run({**settings, "run_name": "newer"}, "newer")
    assert newer.status == "SUCCEEDED", newer.report()
    # Another change, still going: seen by *Record endpoint before*, then by two turns of *Find endpoint*.
    stack.harness.endpoints.hold(ENDPOINT, "Updating", polls=3)
    newer_done.set()
    result = stack.harness.wait_for(older)
    stack.finish(result)
    assert result.status == "SUCCEEDED", result.report()
    visited = [state.name for state in result.states]
    assert visited.count("Wait for endpoint turn") == 2 and "Keep newer endpoint" in visited
    assert not {"CreateEndpoint", "UpdateEndpoint"} & set(sagemaker_operations(result))
    endpoint = stack.harness.client("sagemaker").describe_endpoint(EndpointName=ENDPOINT)
    assert endpoint["EndpointConfigName"] == newer.output["endpoint"]["endpoint_config_name"]
    assert result.output["deployment"]["serves_this_run"] is False
    assert "Batch transform" in visited  # the older run's own outputs still come from its own model
    messages = [m["Message"] for m in stack.notifications()]
    assert any("left as it was: it serves " + endpoint["EndpointConfigName"] in m for m in messages)


def test_a_slept_endpoint_is_created_again_and_an_update_its_alarm_catches_is_rolled_back(stack):
    """Issue 15's endpoint life: the idle check deletes the endpoint, the next run creates it again
    (with idle hours of its own), and a later run's blue/green update sets off the 5xx alarm while it
    bakes: SageMaker rolls it back, the previous model keeps serving, the run fails naming the alarm
    and notifies with what it cost. Cheap: a prepared dataset, 3 topics, no similar documents, and
    the first endpoint put in place directly (serve_dataset) instead of by a run."""
    settings = {"dataset": stack.put_prepared_dataset(SAMPLE_CORPUS), "num_topics": 3, "similar": {"enabled": False}}
    serve_dataset(stack.harness, prepared_locally(SAMPLE_CORPUS), stack.data_bucket, ENDPOINT)
    sagemaker = stack.harness.client("sagemaker")
    stack.harness.jobs.backend().endpoints[ENDPOINT].last_modified_time -= datetime.timedelta(hours=25)
    (slept,) = stack.tick()
    assert slept["deleted"] is True and not sagemaker.list_endpoints()["Endpoints"]

    again = stack.run({**settings, "run_name": "again", "endpoint": {"idle_hours": 48}}, "again")
    assert again.status == "SUCCEEDED", again.report()
    assert "CreateEndpoint" in sagemaker_operations(again) and "UpdateEndpoint" not in sagemaker_operations(again)
    served = again.output["endpoint"]["endpoint_config_name"]
    assert sagemaker.describe_endpoint(EndpointName=ENDPOINT)["EndpointConfigName"] == served
    # Its own idle hours travel as a tag on its config: 25 h later the check (24 h by default) keeps it.
    stack.harness.jobs.backend().endpoints[ENDPOINT].last_modified_time -= datetime.timedelta(hours=25)
    assert stack.tick() == [{"deleted": False, "reason": "changed 25.0 h ago"}]
    stack.notifications()  # the sleep's and the run's messages

    # The new fleet answers with errors: the 5xx alarm goes off while the update bakes.
    def errors_while_baking(principal, params, response):
        stack.set_alarm("ntm-endpoint-server-errors", "ALARM", "Threshold Crossed: 3 datapoints >= 1")
    stack.harness.gate.observe("sagemaker", "UpdateEndpoint", errors_while_baking)
    canary = {"instance_count": 2, "update_traffic": "CANARY", "update_step_percent": 50, "update_baking_seconds": 600}
    guarded = stack.run({**settings, "run_name": "guarded", "endpoint": canary}, "guarded")
    assert (guarded.status, guarded.error) == ("FAILED", "EndpointRolledBack"), guarded.report()
    (update,) = guarded.requests_to("sagemaker", "UpdateEndpoint")
    assert update.params["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 300,
                                                                  "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50}},
                                  "TerminationWaitInSeconds": 600, "MaximumExecutionTimeoutInSeconds": 3600},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "ntm-endpoint-server-errors"},
                                                 {"AlarmName": "ntm-endpoint-latency"}]}}
    assert guarded.cause.startswith(f"Endpoint {ENDPOINT}: the update to ") and \
        f"rolled back by alarm ntm-endpoint-server-errors; the endpoint is InService and still serves {served}" in guarded.cause
    endpoint = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", served)
    assert "ntm-endpoint-server-errors" in endpoint["FailureReason"]
    visited = [state.name for state in guarded.states]
    seen = [run.output["endpoint"]["value"]["status"] for run in guarded.runs("Check endpoint")]
    assert seen[-2:] == ["RollingBack", "InService"], seen
    assert "Batch transform" not in visited and "Scale endpoint" not in visited
    (message,) = stack.notifications()
    assert "failed" in message["Subject"] and "rolled back by alarm ntm-endpoint-server-errors" in message["Message"]
    assert "What it cost" in message["Message"] and "train     2 x ml.p3.2xlarge" in message["Message"]
