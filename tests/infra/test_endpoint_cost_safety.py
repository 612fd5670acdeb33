"""Issue 15 in the template: the hourly idle check, the scaling function, the tagged endpoint configs."""

from __future__ import annotations

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
