"""Guarded endpoint updates: the DeploymentConfig a run sends with UpdateEndpoint, its limits (each
error names the field), and how a rolled-back update is told apart from a newer run's change."""

import datetime

import botocore.session
import pytest
from botocore.validate import ParamValidator
from ntm_glue import endpoint_turn
from ntm_glue.run_config import Deployment, build_run
from ntm_glue.run_input import RunInputError, parse_request

from stacks.config import ConfigError, PipelineConfig, load_config

BUCKET = "data-bucket"
ALARMS = ("ntm-endpoint-server-errors", "ntm-endpoint-latency")
SIMILAR_ALARMS = ("ntm-similar-server-errors", "ntm-similar-latency")
DEPLOYMENT = Deployment("ntm", BUCKET, "ntm-topics", endpoint_max_polls=90, endpoint_poll_seconds=60,
                        endpoint_alarms=ALARMS, similar_alarms=SIMILAR_ALARMS)
UPDATE_ENDPOINT = botocore.session.get_session().get_service_model("sagemaker").operation_model("UpdateEndpoint")


def run_for(endpoint: dict, *, idle_check: bool = True, deployment: Deployment = DEPLOYMENT) -> dict:
    request = parse_request({"dataset": f"s3://{BUCKET}/datasets/d/", "endpoint": endpoint},
                            PipelineConfig().run_defaults(), BUCKET)
    return build_run(request, "e", deployment, "2026-12-01T10:00:00Z", idle_check=idle_check)


def update_request(run: dict) -> dict:
    request = {"EndpointName": run["deploy"]["endpoint_name"], "EndpointConfigName": run["deploy"]["endpoint_config_name"],
               "DeploymentConfig": run["deploy"]["deployment_config"]}
    report = ParamValidator().validate(request, UPDATE_ENDPOINT.input_shape)
    assert not report.has_errors(), report.generate_report()
    return request["DeploymentConfig"]


def test_by_default_the_update_goes_all_at_once_bakes_and_is_watched_by_the_endpoint_alarms():
    config = update_request(run_for({}))
    assert config == {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300},
                                  "TerminationWaitInSeconds": 900, "MaximumExecutionTimeoutInSeconds": 3600},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in ALARMS]}}
    assert run_for({})["deploy"]["rollback_alarms"] == list(ALARMS)


def test_canary_and_linear_sizes_are_percentages_of_the_instances():
    canary = update_request(run_for({"instance_count": 2, "update_traffic": "CANARY", "update_step_percent": 50}))
    routing = canary["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing["CanarySize"] == {"Type": "CAPACITY_PERCENT", "Value": 50} and "LinearStepSize" not in routing
    linear = update_request(run_for({"instance_count": 4, "update_traffic": "LINEAR", "update_step_percent": 25,
                                     "update_wait_seconds": 60}))
    routing = linear["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
    assert routing == {"Type": "LINEAR", "WaitIntervalInSeconds": 60, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25}}


def test_the_similar_documents_endpoint_goes_all_at_once_under_its_own_alarms():
    run = run_for({"instance_count": 2, "update_traffic": "CANARY", "update_baking_seconds": 300})
    config = run["similar"]["deploy"]["deployment_config"]
    ParamValidator().validate({"EndpointName": "ntm-similar", "EndpointConfigName": "c", "DeploymentConfig": config},
                              UPDATE_ENDPOINT.input_shape)
    assert config["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"] == {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300}
    assert config["BlueGreenUpdatePolicy"]["TerminationWaitInSeconds"] == 300  # the run's baking period
    assert config["AutoRollbackConfiguration"]["Alarms"] == [{"AlarmName": name} for name in SIMILAR_ALARMS]
    assert run["similar"]["deploy"]["rollback_alarms"] == list(SIMILAR_ALARMS)


def test_without_alarms_the_update_still_bakes_but_nothing_can_roll_it_back():
    bare = Deployment("ntm", BUCKET, "ntm-topics", 90, 60)
    assert "AutoRollbackConfiguration" not in update_request(run_for({}, deployment=bare))


@pytest.mark.parametrize("endpoint, message", [
    ({"update_traffic": "CANARY"}, "endpoint.update_traffic: CANARY shifts traffic to part of the new fleet"),
    ({"update_traffic": "LINEAR"}, "endpoint.update_traffic: LINEAR"),
    ({"instance_count": 2, "update_traffic": "CANARY", "update_step_percent": 51}, "endpoint.update_step_percent: 51 is outside 1..50"),
    ({"instance_count": 2, "update_traffic": "LINEAR", "update_step_percent": 9}, "endpoint.update_step_percent: 9 is outside 10..50"),
    ({"instance_count": 2, "update_traffic": "LINEAR", "update_step_percent": 60}, "endpoint.update_step_percent: 60 is outside 10..50"),
    ({"update_traffic": "BLUE_GREEN"}, "endpoint.update_traffic: 'BLUE_GREEN' is not one of ALL_AT_ONCE, CANARY, LINEAR"),
    ({"update_wait_seconds": 3601}, "endpoint.update_wait_seconds: 3601 is outside 0..3600"),
    ({"update_baking_seconds": -1}, "endpoint.update_baking_seconds: -1 is outside 0..3600"),
    ({"update_timeout_seconds": 599}, "endpoint.update_timeout_seconds: 599 is outside 600..28800"),
    ({"update_timeout_seconds": 28_801}, "endpoint.update_timeout_seconds: 28801 is outside 600..28800"),
    ({"idle_hours": 24 * 455 + 1}, "endpoint.idle_hours: 10921 is outside 0..10920"),
    ({"idle_hours": "48"}, "endpoint.idle_hours: expected an integer"),
])
def test_each_limit_is_refused_naming_its_field(endpoint, message):
    with pytest.raises(RunInputError) as refused:
        run_for(endpoint)
    assert str(refused.value).startswith(message)


def test_limits_only_the_deployment_knows():
    # SageMaker would still be updating when the run stops waiting (90 checks x 60 s).
    with pytest.raises(RunInputError, match=r"^endpoint.update_timeout_seconds: 7200 is longer than this deployment waits"):
        run_for({"update_timeout_seconds": 7200})
    with pytest.raises(RunInputError, match=r"^endpoint.idle_hours: 48, but this deployment has no idle check"):
        run_for({"idle_hours": 48}, idle_check=False)
    assert run_for({"idle_hours": 0}, idle_check=False)["deploy"]["idle_hours"] == "0"
    assert run_for({"idle_hours": 48})["deploy"]["idle_hours"] == "48"  # the config's tag value (a string)


def test_the_deployed_defaults_are_checked_at_synth_naming_the_context_key():
    with pytest.raises(ConfigError, match="'endpoint_update_step_percent'"):
        load_config({"endpoint_instance_count": 2, "endpoint_update_traffic": "CANARY",
                     "endpoint_update_step_percent": 80}.get)
    with pytest.raises(ConfigError, match="'endpoint_update_timeout_seconds'.*longer than a run waits"):
        load_config({"endpoint_max_polls": 10, "endpoint_poll_seconds": 60}.get)
    config = load_config({"endpoint_instance_count": 2, "endpoint_update_traffic": "LINEAR",
                          "endpoint_update_step_percent": 50}.get)
    assert config.run_defaults().endpoint.update_traffic == "LINEAR"


# -- telling a rolled-back update from a newer run's change ------------------------------------------

STARTED = "2026-12-01T10:00:00Z"


class FakeSageMaker:
    def __init__(self, config: str, tags: dict[str, str], failure: str = "") -> None:
        self.endpoint = {"EndpointStatus": "InService", "EndpointConfigName": config}
        if failure:
            self.endpoint["FailureReason"] = failure
        self.tags = tags

    def describe_endpoint(self, EndpointName):
        return dict(self.endpoint)

    def describe_endpoint_config(self, EndpointConfigName):
        return {"EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:1:endpoint-config/{EndpointConfigName}"}

    def list_tags(self, ResourceArn):
        return {"Tags": [{"Key": endpoint_turn.RUN_STARTED_TAG, "Value": self.tags[ResourceArn.rsplit("/", 1)[1]]}]}


class FakeCloudWatch:
    def __init__(self, states: dict[str, tuple[str, datetime.datetime]]) -> None:
        self.states = states

    def describe_alarms(self, AlarmNames, AlarmTypes):
        return {"MetricAlarms": [{"AlarmName": name, "StateValue": self.states[name][0],
                                  "StateUpdatedTimestamp": self.states[name][1]} for name in AlarmNames]}


def at(hour: int) -> datetime.datetime:
    return datetime.datetime(2026, 12, 1, hour, tzinfo=datetime.timezone.utc)


def test_back_on_the_old_config_means_rolled_back_and_the_alarm_is_named():
    sagemaker = FakeSageMaker("old", {"old": "2026-12-01T08:00:00Z"}, failure="Alarm tripped during baking")
    cloudwatch = FakeCloudWatch({ALARMS[0]: ("ALARM", at(11)), ALARMS[1]: ("OK", at(2))})
    found = endpoint_turn.find(sagemaker, "ntm-topics", STARTED, expected_config="ours", alarms=list(ALARMS),
                               cloudwatch=cloudwatch)
    assert found["rolled_back"] is True and found["newer_run_deployed"] is False
    assert found["rollback_cause"] == (
        "Endpoint ntm-topics: the update to ours was rolled back by alarm ntm-endpoint-server-errors; the endpoint "
        "is InService and still serves old (SageMaker's FailureReason: Alarm tripped during baking)")
    # An alarm that went off and is OK again by now still counts (it changed state during this run).
    cloudwatch.states[ALARMS[0]] = ("OK", at(12))
    assert "by alarm ntm-endpoint-server-errors;" in endpoint_turn.find(
        sagemaker, "ntm-topics", STARTED, "ours", list(ALARMS), cloudwatch)["rollback_cause"]
    cloudwatch.states[ALARMS[0]] = ("OK", at(3))
    assert "by SageMaker (none of its rollback alarms changed state)" in endpoint_turn.find(
        sagemaker, "ntm-topics", STARTED, "ours", list(ALARMS), cloudwatch)["rollback_cause"]


def test_the_runs_own_config_or_a_newer_runs_is_not_a_rollback():
    ours = FakeSageMaker("ours", {"ours": STARTED})
    assert endpoint_turn.find(ours, "ntm-topics", STARTED, "ours", list(ALARMS), FakeCloudWatch({}))["rolled_back"] is False
    newer = FakeSageMaker("theirs", {"theirs": "2026-12-01T11:00:00Z"})
    found = endpoint_turn.find(newer, "ntm-topics", STARTED, "ours", list(ALARMS), FakeCloudWatch({}))
    assert (found["rolled_back"], found["newer_run_deployed"]) == (False, True)
