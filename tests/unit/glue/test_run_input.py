"""Execution input: merged over the defaults, every field checked, errors naming the field."""

import pytest
from ntm_glue import hyperparameters
from ntm_glue.run_input import RunInputError, RunSettings, parse_request

from stacks.config import PipelineConfig

BUCKET = "data-bucket"
DEFAULTS = PipelineConfig().run_defaults()


def parse(**fields):
    fields.setdefault("corpus", f"s3://{BUCKET}/incoming/corpus.jsonl")
    return parse_request(fields, DEFAULTS, BUCKET)


def test_only_a_dataset_location_is_enough():
    request = parse_request({"dataset": f"s3://{BUCKET}/datasets/news"}, DEFAULTS, BUCKET)
    assert request.dataset_uri == f"s3://{BUCKET}/datasets/news/"
    assert request.corpus_uri is None
    assert request.settings == DEFAULTS


def test_overrides_replace_only_what_they_name():
    settings = parse(num_topics=20, hyperparameters={"epochs": 10, "optimizer": "adam"},
                     training={"instance_type": "ml.c5.2xlarge"}).settings
    assert settings.num_topics == (20,)
    assert settings.hyperparameters == {"mini_batch_size": 128, "epochs": 10, "num_patience_epochs": 5,
                                        "tolerance": 0.001, "optimizer": "adam"}
    assert settings.training.instance_type == "ml.c5.2xlarge"
    assert settings.training.instance_count == 2


def test_numbers_typed_as_strings_are_accepted_for_hyperparameters():
    assert parse(hyperparameters={"epochs": "7", "batch_norm": "true"}).settings.hyperparameters["epochs"] == 7


@pytest.mark.parametrize("fields, message", [
    ({"num_topics": 1}, "num_topics"),
    ({"num_topics": 1001}, "num_topics"),
    ({"num_topics": True}, "num_topics"),
    ({"num_topics": []}, "num_topics: an empty list"),
    ({"num_topics": [10, 1]}, "num_topics"),
    ({"num_topics": list(range(2, 20))}, "num_topics: 18 candidates, at most 8"),
    ({"num_topics": [10, 20], "selection": 30}, "selection: 30 is not one of the num_topics candidates"),
    ({"selection": "best"}, "selection"),
    ({"hyperparameters": {"epochs": 0}}, "hyperparameters.epochs"),
    ({"hyperparameters": {"learning_rate": 2}}, "hyperparameters.learning_rate"),
    ({"hyperparameters": {"optimizer": "lbfgs"}}, "hyperparameters.optimizer"),
    ({"hyperparameters": {"feature_dim": 5}}, "hyperparameters.feature_dim"),
    ({"hyperparameters": {"num_topic": 5}}, "hyperparameters.num_topic"),
    ({"hyperparameters": {"num_topics": 5}}, "hyperparameters.num_topics"),
    ({"training": {"instance_type": "p3.2xlarge"}}, "training.instance_type"),
    ({"training": {"instance_count": 0}}, "training.instance_count"),
    ({"training": {"instance_count": "2"}}, "training.instance_count"),
    ({"training": {"gpus": 2}}, "training.gpus"),
    ({"endpoint": {"instance_type": "ml.m4"}}, "endpoint.instance_type"),
    ({"deploy_endpoint": "yes"}, "deploy_endpoint"),
    ({"preparation": {"vocab_size": 1}}, "preparation.vocab_size"),
    ({"preparation": {"validation_fraction": 0.6}}, "preparation.validation_fraction"),
    ({"preparation": {"stop_words": ["fine", "two words"]}}, "preparation.stop_words[1]: 'two words' is not one word"),
    ({"preparation": {"stop_words": "stop.txt"}}, "preparation.stop_words: 'stop.txt' is neither a list of words nor the s3:// URI"),
    ({"preparation": {"stop_words": ["w" * 40] * 300}}, "preparation.stop_words: more than 10,000 characters"),
    ({"preparation": {"stop_words": f"s3://{BUCKET}/datasets/stop.txt"}}, "preparation.stop_words: 's3://data-bucket/datasets/stop.txt' must be under incoming/"),
    ({"preparation": {"stop_words": "s3://other/incoming/stop.txt"}}, "preparation.stop_words: bucket 'other'"),
    ({"preparation": {"default_stop_words": "no"}}, "preparation.default_stop_words"),
    ({"preparation": {"phrase_threshold": 0}}, "preparation.phrase_threshold: 0 is outside"),
    ({"preparation": {"phrase_threshold": 1.5}}, "preparation.phrase_threshold: 1.5 is outside 0.0..1.0"),
    ({"preparation": {"phrase_min_count": 0}}, "preparation.phrase_min_count"),
    ({"run_name": "has spaces"}, "run_name"),
    ({"colour": "blue"}, "input.colour"),
])
def test_bad_input_names_the_field(fields, message):
    with pytest.raises(RunInputError) as raised:
        parse(**fields)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize("body, message", [
    ({}, "corpus: give exactly one"),
    ({"corpus": f"s3://{BUCKET}/incoming/a", "dataset": f"s3://{BUCKET}/datasets/a/"}, "corpus: give exactly one"),
    ({"corpus": "s3://someone-elses/incoming/a"}, "corpus: bucket 'someone-elses'"),
    ({"corpus": f"s3://{BUCKET}/runs/a"}, "corpus:"),
    ({"corpus": "/local/file"}, "corpus:"),
    ({"dataset": f"s3://{BUCKET}/elsewhere/"}, "dataset:"),
    ([], "input:"),
])
def test_locations_must_be_inside_the_data_bucket(body, message):
    with pytest.raises(RunInputError, match="^" + message.replace("(", r"\(")):
        parse_request(body, DEFAULTS, BUCKET)


def test_settings_round_trip_through_json():
    assert RunSettings.deserialize(DEFAULTS.serialize()) == DEFAULTS
    listed = parse(preparation={"stop_words": ["Foo", "bar", "foo"], "phrases": True}).settings
    assert listed.preparation.stop_words == ("bar", "foo")
    assert RunSettings.deserialize(listed.serialize()) == listed


@pytest.mark.parametrize("name, value, expected", [
    ("batch_norm", True, "true"), ("learning_rate", 0.01, "0.01"), ("epochs", 5, "5"),
    ("encoder_layers", "auto", "auto"), ("tolerance", "0.001", "0.001"),
])
def test_api_strings(name, value, expected):
    assert hyperparameters.to_api_string(hyperparameters.validate(name, value)) == expected


def test_a_list_of_candidates_is_deduplicated_and_sorted():
    settings = parse(num_topics=[40, 10, "20", 10]).settings
    assert settings.num_topics == (10, 20, 40)
    assert settings.sweep.rule == "combined"


@pytest.mark.parametrize("selection, rule, fixed", [("loss", "loss", None), ("coherence", "coherence", None), (20, "fixed", 20)])
def test_selection_rule(selection, rule, fixed):
    sweep = parse(num_topics=[10, 20], selection=selection).settings.sweep
    assert (sweep.rule, sweep.fixed_num_topics, sweep.max_candidates) == (rule, fixed, 8)
