"""What a run cost: the billing facts of each Describe<Job> answer, and the lines a person reads."""

import datetime

import pytest
from botocore.exceptions import ClientError
from ntm_glue.run_costs import JobCost, cost_lines, describe_costs, job_cost, run_jobs

START = datetime.datetime(2026, 11, 1, 12, 0, tzinfo=datetime.timezone.utc)
RUN = {
    "prepare": {"enabled": True, "job_name": "ntm-prepare-r"},
    "training": {"candidates": [{"job_name": "ntm-train-k10-r"}, {"job_name": "ntm-train-k20-r"}]},
    "sweep": {"enabled": True, "job_name": "ntm-compare-r"},
    "transform": {"job_name": "ntm-transform-r"},
    "report": {"job_name": "ntm-report-r"},
}


def training(name, *, spot, seconds, billable, status="Completed"):
    return {"TrainingJobName": name, "TrainingJobStatus": status, "EnableManagedSpotTraining": spot,
            "ResourceConfig": {"InstanceType": "ml.p3.2xlarge", "InstanceCount": 2, "VolumeSizeInGB": 30},
            "TrainingTimeInSeconds": seconds, "BillableTimeInSeconds": billable}


def test_every_job_of_the_run_in_the_order_it_starts_them():
    assert [stage for stage, _ in run_jobs(RUN)] == ["prepare", "train", "train", "compare", "transform", "report"]
    without = {**RUN, "prepare": {"enabled": False, "job_name": "x"}, "sweep": {"enabled": False, "job_name": "y"}}
    assert [name for _, name in run_jobs(without)] == ["ntm-train-k10-r", "ntm-train-k20-r", "ntm-transform-r", "ntm-report-r"]


def test_a_spot_training_job_shows_its_saving_as_sagemaker_defines_it():
    cost = job_cost("train", training("t", spot=True, seconds=1000, billable=300))
    assert (cost.billable_seconds, cost.instance_seconds, cost.spot_saving_percent) == (300, 600, 70)
    assert job_cost("train", training("t", spot=False, seconds=1000, billable=1000)).spot_saving_percent is None


def test_processing_and_transform_jobs_bill_from_start_to_end():
    processing = job_cost("report", {"ProcessingJobName": "p", "ProcessingJobStatus": "Completed",
                                     "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.xlarge",
                                                                               "InstanceCount": 1, "VolumeSizeInGB": 30}},
                                     "ProcessingStartTime": START, "ProcessingEndTime": START + datetime.timedelta(seconds=95)})
    transform = job_cost("transform", {"TransformJobName": "t", "TransformJobStatus": "Failed",
                                       "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 3},
                                       "TransformStartTime": START})  # ended before it started: no end time
    assert (processing.billable_seconds, processing.instance_count) == (95, 1)
    assert (transform.billable_seconds, transform.instance_count, transform.status) == (0, 3, "Failed")


class FakeSageMaker:
    """Answers Describe<Job> from a dict; a job it does not know is missing, as SageMaker says it."""

    def __init__(self, jobs):
        self.jobs = jobs

    def __getattr__(self, operation):
        def describe(**params):
            (name,) = params.values()
            if name not in self.jobs:
                raise ClientError({"Error": {"Code": "ValidationException", "Message": f"Requested resource not found: {name}"}},
                                  operation)
            return self.jobs[name]
        return describe


def test_jobs_the_run_never_started_are_left_out_and_other_errors_surface():
    sagemaker = FakeSageMaker({"ntm-train-k10-r": training("ntm-train-k10-r", spot=False, seconds=60, billable=60)})
    assert [cost.job_name for cost in describe_costs(sagemaker, RUN)] == ["ntm-train-k10-r"]

    class Denied(FakeSageMaker):
        def __getattr__(self, operation):
            def describe(**_):
                raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, operation)
            return describe

    with pytest.raises(ClientError):
        describe_costs(Denied({}), RUN)


def test_the_lines_name_each_job_its_instances_billed_seconds_and_the_total_per_instance_type():
    lines = cost_lines([JobCost("train", "ntm-train-k10-r", "Completed", "ml.p3.2xlarge", 2, 1000, 300, spot=True),
                        JobCost("report", "ntm-report-r", "Completed", "ml.m5.xlarge", 1, 90, 90)])
    assert lines[1] == "  train     2 x ml.p3.2xlarge       300 s billed, spot: 1000 s run, 70% saved  (ntm-train-k10-r, Completed)"
    assert lines[2] == "  report    1 x ml.m5.xlarge         90 s billed  (ntm-report-r, Completed)"
    assert lines[3] == "  total: 0.03 h of ml.m5.xlarge, 0.17 h of ml.p3.2xlarge"
    assert cost_lines([]) == []


def test_the_similar_documents_stage_lists_its_k_nn_jobs_between_the_transform_and_the_report():
    from ntm_glue.run_config import Deployment, build_run
    from ntm_glue.run_input import parse_request

    from stacks.config import PipelineConfig

    request = parse_request({"dataset": "s3://b/datasets/d/", "similar": {"enabled": True}},
                            PipelineConfig().run_defaults(), "b")
    run = build_run(request, "e", Deployment("ntm", "b", "ntm-topics", 90, 60))
    stages = [stage for stage, _ in run_jobs(run)]
    assert stages == ["train", "transform", "knn-index", "knn-train", "knn-query", "similar", "report"]
    similar = run["similar"]
    names = dict(run_jobs(run))
    assert (names["knn-train"], names["knn-query"]) == (similar["training_job_name"], similar["transform_job_name"])
    off = {**run, "similar": {**similar, "enabled": False}}
    assert [stage for stage, _ in run_jobs(off)] == ["train", "transform", "report"]
    # Each is described by its own API, and shows in the lines like any other job.
    knn = job_cost("knn-train", training(names["knn-train"], spot=False, seconds=120, billable=120))
    query = job_cost("knn-query", {"TransformJobName": names["knn-query"], "TransformJobStatus": "Completed",
                                   "TransformResources": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1},
                                   "TransformStartTime": START, "TransformEndTime": START + datetime.timedelta(seconds=40)})
    lines = cost_lines([knn, query])
    assert lines[1].startswith("  knn-train 2 x ml.p3.2xlarge       120 s billed")
    assert lines[2].startswith("  knn-query 1 x ml.m5.xlarge         40 s billed")


def test_the_report_gets_one_short_line_per_stage_and_the_total_so_far():
    from ntm_glue.run_costs import MAX_ENVIRONMENT_VALUE, REPORTED_STAGES, stage_summaries

    costs = [JobCost("train", f"ntm-train-k{k}-r", "Completed", "ml.p3.2xlarge", 2, 1000, 300, spot=True) for k in range(8)]
    costs += [JobCost("transform", "ntm-transform-r", "Completed", "ml.m5.xlarge", 1, 90, 90)]
    lines = stage_summaries(costs)
    assert set(lines) == {stage.replace("-", "_") for stage in REPORTED_STAGES} | {"total"}
    assert lines["train"] == "8 jobs on 2 x ml.p3.2xlarge: 4800 instance-seconds billed, spot saved 70%"
    assert lines["transform"] == "1 job on 1 x ml.m5.xlarge: 90 instance-seconds billed"
    assert lines["prepare"] == lines["knn_train"] == "not run"
    assert lines["total"].startswith("total: 0.03 h of ml.m5.xlarge, 1.33 h of ml.p3.2xlarge (before the report job")
    assert all(len(line) <= MAX_ENVIRONMENT_VALUE for line in lines.values())
    assert stage_summaries([])["total"].startswith("total: nothing billed yet")
