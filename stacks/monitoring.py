"""Alarms that notify the run topic, and a dashboard of runs, stages, jobs and the endpoint."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from stacks.sagemaker_tasks import SageMakerCall

FIVE_MINUTES = Duration.minutes(5)
HOUR = Duration.hours(1)
# The SageMaker jobs the pipeline runs as `.sync` tasks, as Step Functions names them in metrics.
JOB_STAGES = {
    "Processing (prepare, report)": SageMakerCall("CreateProcessingJob", run_job=True),
    "Training": SageMakerCall("CreateTrainingJob", run_job=True),
    "Batch transform": SageMakerCall("CreateTransformJob", run_job=True),
}


# The endpoint's alarms by construct id; their names are `<prefix>-<kebab id>` (endpoint_alarm_names).
ENDPOINT_ALARM_IDS = ("EndpointServerErrors", "EndpointLatency")


def endpoint_alarm_names(name_prefix: str) -> tuple[str, ...]:
    """The endpoint alarms' names: they watch the variant during an update too, and roll it back."""
    return tuple(f"{name_prefix}-{_kebab(alarm_id)}" for alarm_id in ENDPOINT_ALARM_IDS)


@dataclass(frozen=True)
class EndpointAlarms:
    endpoint_name: str
    max_5xx_errors: int  # per five minutes
    max_latency_ms: int  # p90, three five-minute periods in a row


def _endpoint_metric(endpoint_name: str, name: str, statistic: str) -> cw.Metric:
    return cw.Metric(namespace="AWS/SageMaker", metric_name=name, statistic=statistic, period=FIVE_MINUTES,
                     dimensions_map={"EndpointName": endpoint_name, "VariantName": "AllTraffic"})


def _integration_metric(call: SageMakerCall, name: str, statistic: str, label: str) -> cw.Metric:
    return cw.Metric(namespace="AWS/States", metric_name=name, statistic=statistic, period=HOUR, label=label,
                     dimensions_map={"ServiceIntegrationResourceArn": call.resource})


def _scaled(metrics: dict[str, cw.IMetric], divisor: int, period: Duration) -> list[cw.MathExpression]:
    """Each metric divided by `divisor` (milliseconds to minutes, microseconds to milliseconds)."""
    # One graph's expressions must not share a metric id.
    return [cw.MathExpression(expression=f"m{i} / {divisor}", using_metrics={f"m{i}": metric}, label=label, period=period)
            for i, (label, metric) in enumerate(metrics.items())]


def _kebab(name: str) -> str:
    """RunsTimedOut -> runs-timed-out."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).lower()


class PipelineMonitoring(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, name_prefix: str, state_machine: sfn.StateMachine,
                 topic: sns.ITopic, functions: dict[str, lambda_.IFunction], endpoint: EndpointAlarms | None,
                 similar_endpoint: EndpointAlarms | None = None) -> None:
        super().__init__(scope, construct_id)
        self._prefix = name_prefix
        self._action = cw_actions.SnsAction(topic)
        self.alarms = [
            self._alarm("RunsFailed", state_machine.metric_failed(period=FIVE_MINUTES, statistic="Sum"), 1,
                        "A pipeline run failed. Its notification names the state, error and cause."),
            self._alarm("RunsTimedOut", state_machine.metric_timed_out(period=FIVE_MINUTES, statistic="Sum"), 1,
                        "A pipeline run ran longer than execution_timeout_hours and was stopped."),
            self._alarm("RunsThrottled", state_machine.metric_throttled(period=FIVE_MINUTES, statistic="Sum"), 1,
                        "Step Functions throttled the pipeline's executions: runs are starting late or not at all."),
        ]
        for name, function in functions.items():
            self.alarms.append(self._alarm(
                f"{name}Errors", function.metric_errors(period=FIVE_MINUTES, statistic="Sum"), 1,
                f"The {name} Lambda failed (after its retries): see its log group. An upload may not have started "
                "a run, or a finished run may not have been announced."))
        # Each endpoint's pair also rolls back an update that sets one of them off (its DeploymentConfig).
        for prefix, watched in (("Endpoint", endpoint), ("Similar", similar_endpoint)):
            if watched:
                self.alarms += self._endpoint_alarms(prefix, watched)
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{name_prefix}-topic-pipeline",
                                      default_interval=Duration.days(7))
        self._add_widgets(state_machine, endpoint)

    def _endpoint_alarms(self, prefix: str, endpoint: EndpointAlarms) -> list[cw.Alarm]:
        return [
            self._alarm(f"{prefix}ServerErrors", _endpoint_metric(endpoint.endpoint_name, "Invocation5XXErrors", "Sum"),
                        endpoint.max_5xx_errors, f"Endpoint {endpoint.endpoint_name} answered with 5xx errors."),
            self._alarm(f"{prefix}Latency", _endpoint_metric(endpoint.endpoint_name, "ModelLatency", "p90"),
                        endpoint.max_latency_ms * 1000,  # ModelLatency is in microseconds
                        f"Endpoint {endpoint.endpoint_name}: p90 model latency above {endpoint.max_latency_ms} ms "
                        "for 15 minutes.", periods=3),
        ]

    def _alarm(self, alarm_id: str, metric: cw.IMetric, threshold: float, description: str, periods: int = 1) -> cw.Alarm:
        alarm = cw.Alarm(
            self, alarm_id, metric=metric, threshold=threshold, evaluation_periods=periods,
            comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            # No runs, no requests: nothing is wrong.
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_name=f"{self._prefix}-{_kebab(alarm_id)}", alarm_description=description,
        )
        alarm.add_alarm_action(self._action)
        return alarm

    def _add_widgets(self, state_machine: sfn.StateMachine, endpoint: EndpointAlarms | None) -> None:
        hourly = {"period": HOUR, "statistic": "Sum"}
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Runs per hour", width=12, left=[
                state_machine.metric_started(label="started", **hourly),
                state_machine.metric_succeeded(label="succeeded", **hourly),
                state_machine.metric_failed(label="failed", **hourly),
                state_machine.metric_timed_out(label="timed out", **hourly),
                state_machine.metric_aborted(label="aborted", **hourly),
            ]),
            cw.GraphWidget(title="Run duration (minutes)", width=12, left=_scaled({
                "average": state_machine.metric_time(statistic="Average", period=HOUR),
                "longest": state_machine.metric_time(statistic="Maximum", period=HOUR),
            }, 60_000, HOUR)),
        )
        # Step Functions reports SageMaker jobs per integration, for every state machine of the account.
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Stage durations, minutes (SageMaker jobs of all state machines here)", width=12,
                           left=_scaled({stage: _integration_metric(call, "ServiceIntegrationRunTime", "Average", stage)
                                         for stage, call in JOB_STAGES.items()}, 60_000, HOUR)),
            cw.GraphWidget(title="Job outcomes per hour (SageMaker jobs of all state machines here)", width=12, left=[
                _integration_metric(call, f"ServiceIntegrations{outcome}", "Sum", f"{stage} {label}")
                for stage, call in JOB_STAGES.items()
                for outcome, label in (("Succeeded", "succeeded"), ("Failed", "failed"), ("TimedOut", "timed out"))
            ]),
        )
        if endpoint:
            name = endpoint.endpoint_name
            self.dashboard.add_widgets(
                cw.GraphWidget(title=f"Endpoint {name}: requests", width=12, left=[
                    _endpoint_metric(name, metric, "Sum").with_(label=label)
                    for metric, label in (("Invocations", "invocations"), ("Invocation4XXErrors", "4xx"),
                                          ("Invocation5XXErrors", "5xx"))
                ]),
                cw.GraphWidget(title=f"Endpoint {name}: model latency (ms)", width=12, left=_scaled(
                    {statistic: _endpoint_metric(name, "ModelLatency", statistic) for statistic in ("p50", "p90")},
                    1000, FIVE_MINUTES)),
            )
        self.dashboard.add_widgets(cw.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=24))
