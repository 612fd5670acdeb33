"""Typed config from context: defaults, `-c key=value` strings, and errors that name the key."""

import pytest

from stacks.config import ConfigError, PipelineConfig, load_config


def load(**context):
    return load_config(context.get)


def test_defaults_are_the_tutorials():
    config = load()
    assert (config.training_instance_type, config.training_instance_count) == ("ml.p3.2xlarge", 2)
    assert (config.num_topics, config.mini_batch_size, config.epochs, config.num_patience_epochs, config.tolerance) == ((30,), 128, 100, 5, 0.001)
    assert config.endpoint_instance_type == "ml.m4.xlarge" and config.retain_data is True


def test_command_line_strings_are_converted():
    config = load(training_instance_count="4", deploy_endpoint="false", tolerance="0.01", num_topics="50")
    assert (config.training_instance_count, config.deploy_endpoint, config.tolerance, config.num_topics) == (4, False, 0.01, (50,))


@pytest.mark.parametrize("given", ["10,20,40", "[10, 20, 40]", [10, 20, 40]])
def test_num_topics_candidates_from_context(given):
    assert load(num_topics=given).num_topics == (10, 20, 40)


def test_a_fixed_selection_is_a_number_of_topics():
    sweep = load(num_topics="10,20", topic_selection="20").run_defaults().sweep
    assert (sweep.rule, sweep.fixed_num_topics) == ("fixed", 20)


@pytest.mark.parametrize("key, value, message", [
    ("training_instance_count", "two", "'training_instance_count': 'two' is not an integer"),
    ("training_instance_count", 0, "'training_instance_count': 0 is outside 1..20"),
    ("num_topics", 5000, "'num_topics'"),
    ("epochs", 0, "'epochs'"),
    ("tolerance", 1, "'tolerance'"),
    ("deploy_endpoint", "maybe", "'deploy_endpoint': 'maybe' is not true or false"),
    ("training_instance_type", "p3.2xlarge", "'training_instance_type'"),
    ("endpoint_instance_type", "large", "'endpoint_instance_type'"),
    ("name_prefix", "Bad_Prefix", "'name_prefix'"),
    ("log_retention_days", 10, "'log_retention_days'"),
    ("notification_email", "nobody", "'notification_email'"),
    ("retain_data", 1, "'retain_data'"),
    ("num_topics", "ten", "'num_topics'"),
    ("topic_selection", "best", "'topic_selection'"),
    ("topic_selection", "25", "'topic_selection': 25 is not one of the num_topics candidates"),
    ("max_parallel_training", 0, "'max_parallel_training'"),
    ("processing_instance_type", "ml.big", "'processing_instance_type'"),
])
def test_a_bad_value_names_the_key_and_what_is_allowed(key, value, message):
    with pytest.raises(ConfigError, match=message):
        load(**{key: value})


def test_every_field_is_documented_in_readme():
    from dataclasses import fields
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    missing = [f.name for f in fields(PipelineConfig) if f"`{f.name}`" not in readme]
    assert missing == []


@pytest.mark.parametrize("given, expected", [
    ("foo, Bar", ("bar", "foo")),
    (["x", "y"], ("x", "y")),
    ("s3://bucket/incoming/stop.txt", "s3://bucket/incoming/stop.txt"),
])
def test_stop_words_from_context(given, expected):
    from ntm_glue.run_input import merge_settings

    # As every run sees them: merged (lower-cased, sorted) over the deployed defaults.
    assert merge_settings(load(stop_words=given, phrases="true").run_defaults(), {}).preparation.stop_words == expected


@pytest.mark.parametrize("given", [["two words"], "s3://bucket/incoming/", 5])
def test_bad_stop_words_name_the_key(given):
    with pytest.raises(ConfigError, match="^context key 'stop_words'"):
        load(stop_words=given)
