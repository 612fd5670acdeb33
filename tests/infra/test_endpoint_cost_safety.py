"""Issue 15 in the template: the hourly idle check, the scaling function, the tagged endpoint configs, guarded updates."""

from __future__ import annotations

from ntm_glue.similarity import alarm_names as similarity_alarm_names

from stacks.monitoring import endpoint_alarm_names
from tests.infra.cfn import state_machine_definition
from tests.infra.synth import Synthesized
from tests.infra.test_triggers_and_monitoring import one, own_statements


def _actions(statements: list[dict]) -> set[str]:
    return {a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def test_an_hourly_schedule_runs_the_idle_check_with_the_configured_hours(synthesized: Synthesized):
    _, rule = one(synthesized, "AWS::Events::Rule", "EndpointSleepHourlyCheck")
    assert rule["Properties"]["ScheduleExpression"] == "rate(1 hour)"
    function_id, function = one(synthesized, "AWS::Lambda::Function", "FunctionsIdleEndpoint")
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    variables = function["Properties"]["Environment"]["Variables"]
    assert (variables["ENDPOINT_NAME"], variables["IDLE_HOURS"]) == ("ntm-topics", "24")
    assert {"sagemaker:DeleteEndpoint", "cloudwatch:GetMetricStatistics",
            "application-autoscaling:DeregisterScalableTarget", "sns:Publish"} <= _actions(own_statements(synthesized, "IdleEndpoint"))


def test_the_scaling_function_has_sagemakers_documented_minimum(synthesized: Synthesized):
    actions = _actions(own_statements(synthesized, "ScaleEndpoint"))
    assert {"application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy",
            "application-autoscaling:DeregisterScalableTarget", "sagemaker:DescribeEndpoint",
            "sagemaker:DescribeEndpointConfig", "sagemaker:UpdateEndpointWeightsAndCapacities",
            "iam:CreateServiceLinkedRole", "cloudwatch:PutMetricAlarm"} <= actions
    _, function = one(synthesized, "AWS::Lambda::Function", "FunctionsScaleEndpoint")
    variables = function["Properties"]["Environment"]["Variables"]
    assert (variables["SCALING_MIN_INSTANCES"], variables["SCALING_MAX_INSTANCES"]) == ("1", "2")


def _states(synthesized: Synthesized) -> dict:
    """Every state of the rendered definition, Map iterators included, by name."""
    found: dict = {}

    def walk(states: dict) -> None:
        for name, state in states.items():
            found[name] = state
            for nested in (state.get("ItemProcessor") or state.get("Iterator") or {}, *state.get("Branches", [])):
                walk(nested.get("States", {}))
    walk(state_machine_definition(synthesized.template)["States"])
    return found


def test_an_update_is_guarded_by_the_endpoint_alarms_and_the_restore_is_not(synthesized: Synthesized):
    states = _states(synthesized)
    assert states["Update endpoint"]["Parameters"]["DeploymentConfig.$"] == "$.run.deploy.deployment_config"
    assert "DeploymentConfig" not in str(states["Create endpoint"]["Parameters"])
    # Putting back the old config after a failed smoke test must not be rolled back by the alarms it set off.
    assert "DeploymentConfig" not in str(states["Restore endpoint config"]["Parameters"])
    assert states["Check endpoint"]["Parameters"]["Payload"]["alarms.$"] == "$.run.deploy.rollback_alarms"
    assert states["Endpoint update rolled back"]["Parameters"]["Error"] == "EndpointRolledBack"
    # The rollback alarms are the template's endpoint alarms, by name.
    names = {alarm["Properties"]["AlarmName"] for alarm in synthesized.resources("AWS::CloudWatch::Alarm").values()}
    assert set(endpoint_alarm_names("ntm")) | set(similarity_alarm_names("ntm")) <= names
    _, resolve = one(synthesized, "AWS::Lambda::Function", "FunctionsResolveRun")
    variables = resolve["Properties"]["Environment"]["Variables"]
    assert variables["ENDPOINT_ALARMS"] == ",".join(endpoint_alarm_names("ntm"))
    assert variables["SIMILAR_ALARMS"] == "ntm-similar-server-errors,ntm-similar-latency"
    # The similar-documents endpoint: its update is guarded the same way, its turn waited for.
    assert states["Update similarity endpoint"]["Parameters"]["DeploymentConfig.$"] == "$.run.similar.deploy.deployment_config"
    assert states["Check similarity endpoint"]["Parameters"]["Payload"]["alarms.$"] == "$.run.similar.deploy.rollback_alarms"
    assert states["Similarity endpoint update rolled back"]["Parameters"]["Error"] == "EndpointRolledBack"
    assert states["Similarity endpoint busy too long"]["Parameters"]["Error"] == "EndpointBusy"
    for change in ("Create similarity endpoint", "Update similarity endpoint"):  # a race goes back to waiting
        (catch,) = states[change]["Catch"]
        assert catch["Next"] == "Another run got to the similarity endpoint first?"
    raced = states["Another run got to the similarity endpoint first?"]
    assert raced["Choices"][0]["Next"] == "Similarity endpoint turn left?" and raced["Default"] == "Reserved error name?"


def test_the_execution_role_and_endpoint_status_may_read_exactly_the_rollback_alarms(synthesized: Synthesized):
    def alarm_reads(statements: list[dict]) -> list:
        return [s["Resource"] for s in statements if s["Action"] == "cloudwatch:DescribeAlarms"]

    (status,) = alarm_reads(own_statements(synthesized, "EndpointStatus"))
    _, policy = one(synthesized, "AWS::IAM::Policy", "SageMakerExecutionRoleDefaultPolicy")
    (execution,) = alarm_reads(policy["Properties"]["PolicyDocument"]["Statement"])
    assert status == execution and len(status) == 4
    tails = {[part for part in arn["Fn::Join"][1] if isinstance(part, str)][-1] for arn in status}
    assert tails == {f":alarm:{name}" for name in ("ntm-endpoint-server-errors", "ntm-endpoint-latency",
                                                   "ntm-similar-server-errors", "ntm-similar-latency")}
    # The idle check reads a run's own idle hours from its endpoint config's tag.
    assert {"sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"} <= _actions(own_statements(synthesized, "IdleEndpoint"))


def test_the_report_job_gets_each_stages_costs_so_far(synthesized: Synthesized):
    states = _states(synthesized)
    assert states["Read costs so far"]["Next"] == "Report topics"
    environment = states["Report topics"]["Parameters"]["Environment"]
    assert environment["RUN_PARAMETER_COST_TRAIN.$"] == "$.costs_so_far.value.by_stage.train"
    assert environment["RUN_PARAMETER_COST_KNN_QUERY.$"] == "$.costs_so_far.value.by_stage.knn_query"
    assert environment["RUN_PARAMETER_COST_TOTAL.$"] == "$.costs_so_far.value.by_stage.total"
