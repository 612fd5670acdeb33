"""One stack: storage, roles, glue functions and the pipeline, wired from the typed config."""

from __future__ import annotations


from aws_cdk import ArnFormat, Aws, CfnOutput, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct

from ntm_glue.similarity import alarm_names as similarity_alarm_names
from ntm_glue.similarity import endpoint_name as similarity_endpoint_name

from stacks import nag
from stacks.config import LOG_RETENTION_DAYS, PipelineConfig
from stacks.endpoint_scaling import EndpointScalingFunction
from stacks.endpoint_sleep import EndpointSleep
from stacks.functions import GlueFunctions
from stacks.images import ImageRegistry
from stacks.monitoring import EndpointAlarms, PipelineMonitoring, endpoint_alarm_names
from stacks.notifications import RunNotifications, grant_describe_jobs
from stacks.pipeline import PipelineFunctions, PipelineSettings, TopicPipeline
from stacks.roles import SageMakerExecutionRole
from stacks.storage import DATASETS_PREFIX, INCOMING_PREFIX, RUNS_PREFIX, PipelineStorage
from stacks.triggers import UploadTrigger


class NtmPipelineStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: PipelineConfig, **kwargs) -> None:
        super().__init__(scope, construct_id, **kwargs)
        retention = logs.RetentionDays[LOG_RETENTION_DAYS[config.log_retention_days]]
        storage = PipelineStorage(self, "Storage", retain_data=config.retain_data,
                                  noncurrent_version_days=config.noncurrent_version_days)
        images = ImageRegistry(self, "Images")
        sagemaker = SageMakerExecutionRole(self, "SageMakerExecution", data=storage.data, images=images)
        glue = GlueFunctions(self, "Functions", log_retention=retention, retain_logs=config.retain_data)
        functions = self._functions(glue, config, storage)
        self.pipeline = TopicPipeline(
            self, "Pipeline",
            settings=PipelineSettings(
                name_prefix=config.name_prefix,
                endpoint_name=config.endpoint_name,
                processing_instance_type=config.processing_instance_type,
                max_parallel_training=config.max_parallel_training,
                execution_timeout=Duration.hours(config.execution_timeout_hours),
                log_retention=retention,
                retain_logs=config.retain_data,
            ),
            images=images,
            sagemaker_role=sagemaker.role,
            functions=functions,
        )
        state_machine = self.pipeline.state_machine
        trigger = UploadTrigger(self, "Triggers", functions=glue, bucket=storage.data, state_machine=state_machine,
                                run_defaults=config.run_defaults())
        notifications = RunNotifications(self, "Notifications", functions=glue, state_machine=state_machine,
                                         name_prefix=config.name_prefix, email=config.notification_email)
        monitoring = PipelineMonitoring(
            self, "Monitoring", name_prefix=config.name_prefix, state_machine=state_machine, topic=notifications.topic,
            functions={"StartFromUpload": trigger.function, "NotifyRunFinished": notifications.function},
            endpoint=EndpointAlarms(config.endpoint_name, config.endpoint_5xx_alarm_count,
                                    config.endpoint_latency_alarm_ms) if config.deploy_endpoint else None,
            # A run may deploy the similar-documents endpoint whatever the default: its alarms exist with the stage.
            similar_endpoint=EndpointAlarms(similarity_endpoint_name(config.name_prefix), config.endpoint_5xx_alarm_count,
                                            config.endpoint_latency_alarm_ms) if config.similar_enabled else None,
        )
        alarms = ((endpoint_alarm_names(config.name_prefix) if config.deploy_endpoint else ())
                  + (similarity_alarm_names(config.name_prefix) if config.similar_enabled else ()))
        if alarms:
            self._grant_rollback_alarms(alarms, [sagemaker.role, functions.endpoint_status.role])
        if config.deploy_endpoint and config.endpoint_idle_hours:
            EndpointSleep(self, "EndpointSleep", functions=glue, endpoint_name=config.endpoint_name,
                          idle_hours=config.endpoint_idle_hours, name_prefix=config.name_prefix, topic=notifications.topic)
        CfnOutput(self, "DataBucketName", value=storage.data.bucket_name,
                  description="Upload corpora under incoming/; runs write under runs/")
        CfnOutput(self, "UploadLocation", value=f"s3://{storage.data.bucket_name}/{INCOMING_PREFIX}",
                  description="Upload a corpus file here (or a folder, then its _START marker) to start a run")
        CfnOutput(self, "StateMachineArn", value=state_machine.state_machine_arn)
        console = f"https://{Aws.REGION}.console.aws.amazon.com"
        CfnOutput(self, "StateMachineConsoleUrl",
                  value=f"{console}/states/home?region={Aws.REGION}#/statemachines/view/{state_machine.state_machine_arn}",
                  description="Start a run from the console here (Start execution, JSON input)")
        CfnOutput(self, "NotificationTopicArn", value=notifications.topic.topic_arn,
                  description="One message per finished run, and the alarms; subscribe to it")
        CfnOutput(self, "DashboardUrl",
                  value=f"{console}/cloudwatch/home?region={Aws.REGION}#dashboards:name={monitoring.dashboard.dashboard_name}")
        CfnOutput(self, "SageMakerRoleArn", value=sagemaker.role.role_arn)

    def _grant_rollback_alarms(self, alarms: tuple[str, ...], roles: list) -> None:
        """SageMaker watches the rollback alarms during an update as the model's execution role
        (deployment-guardrails-configuration); Endpoint status names the one that went off."""
        statement = iam.PolicyStatement(
            sid="ReadRollbackAlarms", actions=["cloudwatch:DescribeAlarms"],
            resources=[self.format_arn(service="cloudwatch", resource="alarm", resource_name=name,
                                       arn_format=ArnFormat.COLON_RESOURCE_NAME)
                       for name in alarms])
        for role in roles:
            role.add_to_principal_policy(statement)

    def _functions(self, glue: GlueFunctions, config: PipelineConfig, storage: PipelineStorage) -> PipelineFunctions:
        resolve = glue.add(
            "ResolveRun", handler="resolve_run.handler",
            description="Validates an execution's input and names the run's jobs",
            environment={
                "RUN_DEFAULTS": config.run_defaults().serialize(),
                "NAME_PREFIX": config.name_prefix,
                "DATA_BUCKET": storage.data.bucket_name,
                "ENDPOINT_NAME": config.endpoint_name,
                "ENDPOINT_MAX_POLLS": str(config.endpoint_max_polls),
                "ENDPOINT_POLL_SECONDS": str(config.endpoint_poll_seconds),
                # An update that sets one of them off is rolled back (UpdateEndpoint's DeploymentConfig).
                "ENDPOINT_ALARMS": ",".join(endpoint_alarm_names(config.name_prefix)) if config.deploy_endpoint else "",
                "SIMILAR_ALARMS": ",".join(similarity_alarm_names(config.name_prefix)) if config.similar_enabled else "",
            },
        )
        load_dataset = glue.add("LoadDataset", handler="load_dataset.handler",
                                description="Reads a prepared dataset's manifest for training", environment={})
        storage.data.grant_read(load_dataset, f"{DATASETS_PREFIX}*")
        storage.data.grant_read(load_dataset, f"{INCOMING_PREFIX}*")
        nag.accept_prefix_grants(load_dataset.role.node.find_child("DefaultPolicy"), "LoadDatasetRole", storage.data,
                                 [DATASETS_PREFIX, INCOMING_PREFIX])
        endpoint_status = glue.add("EndpointStatus", handler="endpoint_status.handler",
                                   description="Tells whether the pipeline's endpoint exists and its status",
                                   environment={})
        endpoint_status.add_to_role_policy(iam.PolicyStatement(
            actions=["sagemaker:DescribeEndpoint"],
            resources=[self.format_arn(service="sagemaker", resource="endpoint", resource_name=name)
                       for name in (config.endpoint_name, similarity_endpoint_name(config.name_prefix))],
        ))
        # Which run made the deployed config (its tag), so an older run never replaces a newer one's.
        endpoint_status.add_to_role_policy(iam.PolicyStatement(
            actions=["sagemaker:DescribeEndpointConfig", "sagemaker:ListTags"],
            resources=[self.format_arn(service="sagemaker", resource="endpoint-config",
                                       resource_name=f"{config.name_prefix}-*")],
        ))
        nag.accept(endpoint_status.role.node.find_child("DefaultPolicy"),
                   f"IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:endpoint-config/{config.name_prefix}-*]",
                   "EndpointStatusRole: reads the run tag of the endpoint's current config; configs are named per run under this stack's prefix.")
        training_metrics = glue.add("TrainingMetrics", handler="training_metrics.handler",
                                    description="Reads a trained candidate's artifacts and validation loss",
                                    environment={})
        training_metrics.add_to_role_policy(iam.PolicyStatement(
            actions=["sagemaker:DescribeTrainingJob"],
            resources=[self.format_arn(service="sagemaker", resource="training-job",
                                       resource_name=f"{config.name_prefix}-*")],
        ))
        nag.accept(training_metrics.role.node.find_child("DefaultPolicy"),
                   f"IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/{config.name_prefix}-*]",
                   "TrainingMetricsRole: describes the run's training jobs, named per run under this stack's prefix.")
        collect = glue.add("CollectCandidates", handler="collect_candidates.handler",
                           description="Records a run's num_topics candidates; fails the run if none trained",
                           environment={})
        storage.data.grant_put(collect, f"{RUNS_PREFIX}*")
        read_choice = glue.add("ReadChoice", handler="read_choice.handler",
                               description="Reads which num_topics candidate the comparison chose", environment={})
        storage.data.grant_read(read_choice, f"{RUNS_PREFIX}*")
        nag.accept_prefix_grants(collect.role.node.find_child("DefaultPolicy"), "CollectCandidatesRole", storage.data,
                                 [RUNS_PREFIX], actions=("s3:Abort*",))
        nag.accept_prefix_grants(read_choice.role.node.find_child("DefaultPolicy"), "ReadChoiceRole", storage.data,
                                 [RUNS_PREFIX])
        read_run_costs = glue.add("ReadRunCosts", handler="read_run_costs.handler",
                                  description="Reads the instances and billed seconds of a run's SageMaker jobs",
                                  environment={})
        grant_describe_jobs(read_run_costs, "ReadRunCostsRole", config.name_prefix)
        scale_endpoint = EndpointScalingFunction(glue, config).function
        smoke_test = glue.add("SmokeTestEndpoint", handler="smoke_test_endpoint.handler",
                              description="Asks the new endpoint about a few corpus documents; compares with the batch transform",
                              environment={}, timeout=Duration.seconds(120))
        smoke_test.add_to_role_policy(iam.PolicyStatement(
            actions=["sagemaker:InvokeEndpoint"],
            resources=[self.format_arn(service="sagemaker", resource="endpoint", resource_name=config.endpoint_name)],
        ))
        storage.data.grant_read(smoke_test, f"{DATASETS_PREFIX}*")
        storage.data.grant_read(smoke_test, f"{RUNS_PREFIX}*")
        nag.accept_prefix_grants(smoke_test.role.node.find_child("DefaultPolicy"), "SmokeTestEndpointRole", storage.data,
                                 [DATASETS_PREFIX, RUNS_PREFIX])
        return PipelineFunctions(resolve_run=resolve, load_dataset=load_dataset, endpoint_status=endpoint_status,
                                 training_metrics=training_metrics, collect_candidates=collect, read_choice=read_choice,
                                 read_run_costs=read_run_costs, scale_endpoint=scale_endpoint, smoke_test=smoke_test)


