"""Shared test set-up: no test may reach AWS or any network, whatever the machine has configured."""

import os

import pytest

from tests.browser.chromium import chromium  # noqa: F401  (the page tests' browser, a session fixture)

# Fake credentials and a fixed region, set before any boto3 client exists.
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    "POWERTOOLS_SERVICE_NAME": "ntm-pipeline-tests",
    "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
    # aws-cdk-lib's built-in template validation loads a WebAssembly engine on each process's first
    # synth (about 4 s); with cdk.json's context, 2.275 leaves its result out of
    # validation-report.json (checked). cfn-lint lints the template instead (tests/infra/test_cfn_lint.py);
    # cdk-nag, a plugin of its own, still runs.
    "CDK_VALIDATION": "false",
})
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory):
    """The app with cdk.json's context, synthesized once per test process (cdk-nag included) for the
    template tests and the pipeline scenarios alike: a synth costs several seconds of CPU."""
    from tests.infra.synth import synthesize  # imports the CDK app only where a test asks for it

    return synthesize(tmp_path_factory.mktemp("cdk.out"))
