"""The run document: unique valid names, layout of a run's outputs, strings for hyperparameters."""

import re

import pytest
from ntm_glue.run_config import MAX_NAME, Deployment, build_run, sagemaker_name
from ntm_glue.run_input import parse_request

from stacks.config import PipelineConfig

BUCKET = "data-bucket"
DEPLOYMENT = Deployment("ntm", BUCKET, "ntm-topics", endpoint_max_polls=120, endpoint_poll_seconds=30)
NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def run_for(body, execution="manual-run-1"):
    return build_run(parse_request(body, PipelineConfig().run_defaults(), BUCKET), execution, DEPLOYMENT)


def test_names_are_valid_and_unique_even_for_long_similar_executions():
    long_a = "upload-" + "x" * 70 + "-a"
    long_b = "upload-" + "x" * 70 + "-b"
    names = {sagemaker_name("ntm", kind, run) for kind in ("train", "transform") for run in (long_a, long_b)}
    assert len(names) == 4
    assert all(NAME.match(name) and len(name) <= MAX_NAME for name in names)


def test_names_survive_characters_sagemaker_refuses():
    name = sagemaker_name("ntm", "train", "My Run_2026.11.25 (retry)")
    assert NAME.match(name) and name.startswith("ntm-train-My-Run-2026-11-25-retry-")


def test_a_corpus_run_prepares_into_its_own_dataset_prefix():
    run = run_for({"corpus": f"s3://{BUCKET}/incoming/news.jsonl.gz"}, "exec-42")
    assert run["prepare"]["enabled"] is True
    assert run["dataset"]["uri"] == f"s3://{BUCKET}/datasets/exec-42/"
    assert run["output_uri"] == f"s3://{BUCKET}/runs/exec-42/"
    assert run["training"]["output_uri"].startswith(run["output_uri"])
    assert run["transform"]["output_uri"].startswith(run["output_uri"])
    arguments = run["prepare"]["arguments"]
    assert arguments[arguments.index("--train-shards") + 1] == "8"
    assert arguments[arguments.index("--num-topics") + 1] == "30"


def test_a_prepared_dataset_run_skips_preparation():
    run = run_for({"dataset": f"s3://{BUCKET}/datasets/news/"})
    assert run["prepare"]["enabled"] is False
    assert run["dataset"]["train_uri"] == f"s3://{BUCKET}/datasets/news/train/"
    assert run["dataset"]["manifest_uri"] == f"s3://{BUCKET}/datasets/news/manifest.json"


def test_hyperparameters_are_strings():
    run = run_for({"dataset": f"s3://{BUCKET}/datasets/news/", "hyperparameters": {"batch_norm": True}})
    (candidate,) = run["training"]["candidates"]
    assert candidate["hyperparameters"]["batch_norm"] == "true"
    assert candidate["hyperparameters"]["num_topics"] == "30"
    assert all(isinstance(value, str) for value in candidate["hyperparameters"].values())


def test_one_training_job_per_candidate_and_a_comparison_only_for_several():
    single = run_for({"dataset": f"s3://{BUCKET}/datasets/news/"})
    assert single["sweep"]["enabled"] is False
    assert "--comparison" not in single["report"]["arguments"]
    sweep = run_for({"dataset": f"s3://{BUCKET}/datasets/news/", "num_topics": [10, 20, 30], "selection": "loss"}, "e7")
    names = [c["job_name"] for c in sweep["training"]["candidates"]]
    assert [c["num_topics"] for c in sweep["training"]["candidates"]] == [10, 20, 30]
    assert len(set(names)) == 3 and all(NAME.match(n) for n in names)
    assert [c["hyperparameters"]["num_topics"] for c in sweep["training"]["candidates"]] == ["10", "20", "30"]
    assert sweep["sweep"]["enabled"] is True
    assert sweep["sweep"]["comparison_uri"] == f"s3://{BUCKET}/runs/e7/comparison/"
    arguments = sweep["sweep"]["arguments"]
    assert arguments[arguments.index("--rule") + 1] == "loss"
    assert "--comparison" in sweep["report"]["arguments"]


def test_preparation_keeps_the_vocabulary_above_the_largest_candidate():
    run = run_for({"corpus": f"s3://{BUCKET}/incoming/c", "num_topics": [10, 200]})
    arguments = run["prepare"]["arguments"]
    assert arguments[arguments.index("--num-topics") + 1] == "200"


def test_never_fewer_train_shards_than_instances():
    run = run_for({"corpus": f"s3://{BUCKET}/incoming/c", "training": {"instance_count": 12}})
    arguments = run["prepare"]["arguments"]
    assert arguments[arguments.index("--train-shards") + 1] == "12"


@pytest.mark.parametrize("flag, expected", [(True, True), (False, False)])
def test_deploy_follows_the_input(flag, expected):
    run = run_for({"dataset": f"s3://{BUCKET}/datasets/d/", "deploy_endpoint": flag})
    assert run["deploy"]["enabled"] is expected
    assert run["deploy"]["endpoint_name"] == "ntm-topics"
    assert run["deploy"]["max_polls"] == 120


def test_report_reads_the_run_outputs_and_arguments_fit_the_api_limit():
    run = run_for({"corpus": f"s3://{BUCKET}/incoming/c", "run_name": "r" * 40}, "e" * 80)
    arguments = run["report"]["arguments"]
    assert all(len(argument) <= 256 for argument in arguments)
    assert arguments[arguments.index("--output") + 1] == "/opt/ml/processing/output/report"
    assert run["report"]["page_uri"] == run["output_uri"] + "report/report.html"


def test_the_similarity_stage_gets_its_own_names_and_places_under_the_run():
    run = run_for({"dataset": f"s3://{BUCKET}/datasets/news/", "similar": {"k": 7, "deploy_endpoint": True}})
    similar = run["similar"]
    assert similar["enabled"] and similar["k"] == 7 and similar["index_k"] == "8"
    assert similar["neighbours_uri"] == f"{run['output_uri']}similar/neighbours.jsonl"
    names = [similar[key] for key in ("index_job_name", "training_job_name", "model_name", "transform_job_name",
                                      "neighbours_job_name")] + [similar["deploy"]["endpoint_config_name"]]
    assert len(set(names)) == len(names) and all(NAME.match(n) and n.startswith("ntm-knn-") for n in names)
    assert similar["neighbours_arguments"][similar["neighbours_arguments"].index("--k") + 1] == "7"
    deploy = dict(similar["deploy"])
    update = deploy.pop("deployment_config")
    assert deploy == {"enabled": True, "endpoint_name": "ntm-similar", "instance_type": "ml.m4.xlarge",
                      "instance_count": 1, "endpoint_config_name": similar["deploy"]["endpoint_config_name"],
                      "rollback_alarms": []}
    # One instance: its update goes all at once, whatever the run chose for the topics endpoint.
    assert update["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"


def test_no_similarity_endpoint_when_the_stage_is_off():
    run = run_for({"dataset": f"s3://{BUCKET}/datasets/news/", "similar": {"enabled": False, "deploy_endpoint": True}})
    assert not run["similar"]["enabled"] and not run["similar"]["deploy"]["enabled"]
def test_listed_stop_words_travel_as_arguments_packed_under_the_api_limits():
    words = [f"word{number:04d}" for number in range(900)]
    run = run_for({"corpus": f"s3://{BUCKET}/incoming/news.jsonl.gz", "preparation": {"stop_words": words}})
    arguments = run["prepare"]["arguments"]
    packed = arguments[arguments.index("--stop-words") + 1:]
    assert ",".join(packed).split(",") == sorted(words)
    assert len(arguments) <= 100 and all(len(argument) <= 256 for argument in arguments)
    assert run["prepare"]["stop_words_file"] is False


def test_a_stop_word_file_is_a_processing_input_and_its_local_path_an_argument():
    uri = f"s3://{BUCKET}/incoming/lists/stop.txt"
    run = run_for({"corpus": f"s3://{BUCKET}/incoming/news.jsonl.gz",
                   "preparation": {"stop_words": uri, "default_stop_words": False, "phrases": True, "clean_text": False}})
    prepare = run["prepare"]
    assert (prepare["stop_words_file"], prepare["stop_words_uri"]) == (True, uri)
    arguments = prepare["arguments"]
    assert arguments[arguments.index("--stop-words-file") + 1] == "/opt/ml/processing/input/stop-words/stop.txt"
    assert {"--no-default-stop-words", "--phrases", "--no-clean-text"} <= set(arguments)
    assert arguments[arguments.index("--phrase-threshold") + 1] == "0.5"
def test_several_preparation_instances_get_count_encode_and_assemble_jobs():
    one = run_for({"corpus": f"s3://{BUCKET}/incoming/news/"})
    assert one["prepare"]["instance_count"] == 1 and one["prepare"]["scale_out"]["enabled"] is False
    run = run_for({"corpus": f"s3://{BUCKET}/incoming/news/", "training": {"instance_count": 3},
                   "preparation": {"instance_count": 4, "strip_headers": True, "label_field": "group"}}, "exec-7")
    prepare = run["prepare"]
    scale_out = prepare["scale_out"]
    assert prepare["instance_count"] == 4 and scale_out["enabled"] is True
    assert scale_out["counts_uri"] == f"s3://{BUCKET}/runs/exec-7/preparation/counts/"
    count, encode, assemble = (scale_out[step]["arguments"] for step in ("count", "encode", "assemble"))
    assert count[0] == "count" and "--strip-headers" in count and count[count.index("--label-field") + 1] == "group"
    # encode takes every option of the single-instance preparation, and where the counts and shards are.
    assert encode[0] == "encode" and encode[1:len(prepare["arguments"]) + 1] == prepare["arguments"]
    assert encode[encode.index("--counts") + 1] == "/opt/ml/processing/input/counts"
    assert "--resource-config" in count and "--resource-config" in encode
    assert assemble[assemble.index("--min-train-shards") + 1] == "3"
    names = {scale_out[step]["job_name"] for step in ("count", "encode", "assemble")} | {prepare["job_name"]}
    assert len(names) == 4 and all(NAME.match(name) for name in names)
    assert all(len(argument) <= 256 for step in ("count", "encode", "assemble") for argument in scale_out[step]["arguments"])


def test_several_instances_apply_the_text_options_and_encode_reads_the_stop_word_file():
    uri = f"s3://{BUCKET}/incoming/lists/stop.txt"
    run = run_for({"corpus": f"s3://{BUCKET}/incoming/news/",
                   "preparation": {"instance_count": 2, "stop_words": uri, "clean_text": False, "default_stop_words": False}})
    prepare = run["prepare"]
    assert (prepare["stop_words_file"], prepare["stop_words_uri"]) == (True, uri)
    count, encode = (prepare["scale_out"][step]["arguments"] for step in ("count", "encode"))
    # Counting needs the cleaning choice (it decides the terms); the vocabulary choice, in encode, the stop words.
    assert "--no-clean-text" in count and "--stop-words-file" not in count
    assert encode[encode.index("--stop-words-file") + 1] == "/opt/ml/processing/input/stop-words/stop.txt"
    assert {"--no-clean-text", "--no-default-stop-words"} <= set(encode)
