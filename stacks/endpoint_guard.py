"""Putting a run's endpoint config on the one endpoint without colliding with another run.

    Find endpoint --busy--> Wait for endpoint turn --> Count endpoint turn --> Find endpoint ...
                  --a newer run's model--> Keep newer endpoint --> (next stage)
                  --exists--> Prepare scaling for update --> Update endpoint \\
                  --absent--> Create endpoint --> Wait for endpoint --> Check endpoint --> Endpoint ready?
                  --InService--> Update kept? --yes--> Scale endpoint --> Endpoint serves this run --> (next stage)
                                              --rolled back--> Endpoint update rolled back (EndpointRolledBack)
                                              --a newer run's model--> Keep newer endpoint

An update is a blue/green deployment with a baking period, watched by the endpoint's alarms
(`$.run.deploy.deployment_config`): SageMaker rolls it back when one goes off, and the endpoint is
InService again on the config it had. The run then fails and names the alarm; the old model serves.

A run waits while another changes the endpoint (at most `max_polls` turns, then EndpointBusy),
never puts an older run's model over a newer one's (endpoint_turn.py), and when another run got
there between its check and its request (SageMaker refuses: in progress, already exists, or gone)
it goes back to waiting its turn instead of failing after all its training is paid for.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from stacks.sagemaker_tasks import SageMakerCall, task

# SageMaker's answers when another run changed the endpoint between our check and our request.
RACE_MESSAGES = ("*in-progress endpoint*", "*already existing endpoint*", "*Could not find endpoint*")


def wait_again_if_raced(scope: Construct, name: str, changes: tuple, turn: sfn.IChainable,
                        failed: sfn.IChainable) -> None:
    """A Create or Update Endpoint that SageMaker refused because another run changed the endpoint
    since the check goes back to waiting its turn; any other failure fails the run."""
    raced = (sfn.Choice(scope, name)
             .when(sfn.Condition.or_(*(sfn.Condition.string_matches("$.failure.Cause", p) for p in RACE_MESSAGES)),
                   turn)
             .otherwise(failed))
    for change in changes:
        change.add_catch(raced, errors=["States.ALL"], result_path="$.failure")

Catch = Callable[[sfn.CustomState | tasks.LambdaInvoke], sfn.CustomState | tasks.LambdaInvoke]


class EndpointDeployment(Construct):
    """The states from "the endpoint config exists" to "the endpoint serves it" (or keeps a newer one)."""

    def __init__(self, scope: Construct, construct_id: str, *, endpoint_status: lambda_.IFunction,
                 scale_endpoint: lambda_.IFunction, failed: sfn.IChainable, catch: Catch,
                 next_state: sfn.IChainable) -> None:
        super().__init__(scope, construct_id)
        self._status, self._scale, self._failed, self._catch = endpoint_status, scale_endpoint, failed, catch
        self._next = next_state
        self._ready: sfn.Pass | None = None
        self._keep_newer_state = self._keep_newer()
        find = self._find("Find endpoint", "Is the endpoint free, and which run's model does it serve?")
        turn = self._turn_wait(find)
        create, update = self._changes(turn)
        prepare = self._scaling("Prepare scaling for update", "prepare_update", "$.scaling_update",
                                "Deregister auto scaling only if the update changes the instance type (AWS requires it)")
        prepare.next(update)
        find.next(
            sfn.Choice(self, "Endpoint free?")
            .when(sfn.Condition.boolean_equals("$.endpoint.value.busy", True), turn)
            .when(sfn.Condition.boolean_equals("$.endpoint.value.newer_run_deployed", True), self._keep_newer_state)
            .when(sfn.Condition.boolean_equals("$.endpoint.value.exists", True), prepare)
            .otherwise(create))
        self.start = sfn.Pass(self, "Start endpoint turn", parameters={"polls": 0}, result_path="$.endpoint_turn",
                              comment="Counts the checks this run waited for another run's endpoint change")
        self.start.next(find)

    def _find(self, state_id: str, comment: str, expected: bool = False) -> tasks.LambdaInvoke:
        payload = {"endpoint_name.$": "$.run.deploy.endpoint_name", "run_started_at.$": "$.run.deploy.run_started_at"}
        if expected:
            # Once the change ends: is it this run's config, and if not, which alarm rolled it back?
            payload |= {"expected_config.$": "$.run.deploy.endpoint_config_name",
                        "alarms.$": "$.run.deploy.rollback_alarms"}
        return self._catch(tasks.LambdaInvoke(
            self, state_id, lambda_function=self._status,
            payload=sfn.TaskInput.from_object(payload),
            result_selector={"value.$": "$.Payload"}, result_path="$.endpoint", comment=comment))

    def _scaling(self, state_id: str, action: str, result_path: str, comment: str) -> tasks.LambdaInvoke:
        return self._catch(tasks.LambdaInvoke(
            self, state_id, lambda_function=self._scale,
            payload=sfn.TaskInput.from_object({"action": action, "deploy.$": "$.run.deploy",
                                               "current_config.$": "$.endpoint.value.endpoint_config_name"}),
            result_selector={"value.$": "$.Payload"}, result_path=result_path, comment=comment))

    def _fail(self, state_id: str, error: str, cause: str) -> sfn.Pass:
        failure = sfn.Pass(self, state_id, parameters={"Error": error, "Cause.$": cause}, result_path="$.failure")
        failure.next(self._failed)
        return failure

    def _turn_wait(self, find: sfn.IChainable) -> sfn.Choice:
        """Wait poll_seconds and look again, at most max_polls times."""
        wait = sfn.Wait(self, "Wait for endpoint turn", time=sfn.WaitTime.seconds_path("$.run.deploy.poll_seconds"))
        count = sfn.Pass(self, "Count endpoint turn", parameters={"polls.$": "States.MathAdd($.endpoint_turn.polls, 1)"},
                         result_path="$.endpoint_turn")
        wait.next(count).next(find)
        busy = self._fail("Endpoint busy too long", "EndpointBusy", "States.Format('Endpoint {} was still being "
                          "changed by another run after {} checks; run again later', $.run.deploy.endpoint_name, "
                          "$.endpoint_turn.polls)")
        return (sfn.Choice(self, "Endpoint turn left?")
                .when(sfn.Condition.number_greater_than_equals_json_path("$.endpoint_turn.polls", "$.run.deploy.max_polls"),
                      busy)
                .otherwise(wait))

    def _keep_newer(self) -> sfn.Pass:
        keep = sfn.Pass(self, "Keep newer endpoint", parameters={
            "serves_this_run": False,
            "note.$": "States.Format('it serves {}, made by a run that started after this one', "
                      "$.endpoint.value.endpoint_config_name)",
        }, result_path="$.deployment", comment="Never replace a newer run's model with this older run's")
        keep.next(self._next)
        return keep

    def _changes(self, turn: sfn.IChainable) -> tuple[sfn.CustomState, sfn.CustomState]:
        request = {"EndpointName.$": "$.run.deploy.endpoint_name",
                   "EndpointConfigName.$": "$.run.deploy.endpoint_config_name"}
        create = task(self, "Create endpoint", SageMakerCall("CreateEndpoint"), request,
                      result_selector={"arn.$": "$.EndpointArn"}, result_path="$.endpoint_request",
                      comment="No endpoint yet (first run, or it slept): create it")
        update = task(self, "Update endpoint", SageMakerCall("UpdateEndpoint"),
                      {**request, "DeploymentConfig.$": "$.run.deploy.deployment_config"},
                      result_selector={"arn.$": "$.EndpointArn"}, result_path="$.endpoint_request",
                      comment="Blue/green switch to this run's config, baked under the endpoint's alarms (rolled back if one goes off)")
        wait_again_if_raced(self, "Another run got there first?", (create, update), turn, self._failed)
        for change in (create, update):
            change.next(self._ready_loop())
        return create, update

    def _ready_loop(self) -> sfn.IChainable:
        if self._ready is not None:
            return self._ready
        start_wait = sfn.Pass(self, "Start endpoint wait", parameters={"polls": 0}, result_path="$.endpoint_wait")
        wait = sfn.Wait(self, "Wait for endpoint", time=sfn.WaitTime.seconds_path("$.run.deploy.poll_seconds"))
        poll = self._find("Check endpoint", "Poll the endpoint's status", expected=True)
        count = sfn.Pass(self, "Count endpoint poll",
                         parameters={"polls.$": "States.MathAdd($.endpoint_wait.polls, 1)"}, result_path="$.endpoint_wait")
        endpoint_failed = self._fail("Endpoint failed", "EndpointFailed", "States.Format('Endpoint {} became Failed: "
                                     "{}', $.run.deploy.endpoint_name, $.endpoint.value.failure_reason)")
        too_slow = self._fail("Endpoint not ready in time", "EndpointTimeout", "States.Format('Endpoint {} was not "
                              "InService after {} polls', $.run.deploy.endpoint_name, $.endpoint_wait.polls)")
        rolled_back = self._fail("Endpoint update rolled back", "EndpointRolledBack", "$.endpoint.value.rollback_cause")
        serves = sfn.Pass(self, "Endpoint serves this run", parameters={"serves_this_run": True, "note": ""},
                          result_path="$.deployment")
        scale = self._scaling("Scale endpoint", "register", "$.scaling",
                              "Register the variant with Application Auto Scaling and its target-tracking policy")
        scale.next(serves).next(self._next)
        start_wait.next(wait).next(poll).next(count).next(
            sfn.Choice(self, "Endpoint ready?")
            .when(sfn.Condition.string_equals("$.endpoint.value.status", "InService"),
                  sfn.Choice(self, "Update kept?")
                  .when(sfn.Condition.boolean_equals("$.endpoint.value.rolled_back", True), rolled_back)
                  .when(sfn.Condition.boolean_equals("$.endpoint.value.newer_run_deployed", True), self._keep_newer_state)
                  .otherwise(scale))
            .when(sfn.Condition.or_(sfn.Condition.string_equals("$.endpoint.value.status", "Failed"),
                                    sfn.Condition.string_equals("$.endpoint.value.status", "UpdateRollbackFailed")),
                  endpoint_failed)
            .when(sfn.Condition.number_greater_than_equals_json_path("$.endpoint_wait.polls", "$.run.deploy.max_polls"),
                  too_slow)
            .otherwise(wait))
        self._ready = start_wait
        return start_wait
