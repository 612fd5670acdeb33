#!/usr/bin/env python3
"""CDK entry point: read the typed config from context, build the stack, run cdk-nag."""

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from stacks.config import load_config
from stacks.ntm_pipeline_stack import NtmPipelineStack


def build_app(app: cdk.App) -> NtmPipelineStack:
    config = load_config(app.node.try_get_context)
    stack = NtmPipelineStack(app, f"{config.name_prefix}-topic-pipeline".title().replace("-", ""), config=config,
                             description="SageMaker Neural Topic Model pipeline: prepare, train, deploy, transform, report")
    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks())
    return stack


if __name__ == "__main__":
    app = cdk.App()
    build_app(app)
    app.synth()
