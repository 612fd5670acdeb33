"""The NTM, k-NN and scikit-learn image accounts match the sagemaker SDK's bundled tables, region by region."""

import json
from importlib import resources

import pytest

from stacks.image_registries import REGISTRY_ACCOUNTS
from tests.infra.cfn import all_states, state_machine_definition


def sdk_table(name: str, scope: str | None, version: str) -> dict[str, str]:
    table = json.loads(resources.files("sagemaker").joinpath(f"image_uri_config/{name}.json").read_text())
    table = table[scope] if scope else table
    return table["versions"][version]["registries"]


def test_every_sdk_region_is_mapped_to_the_sdk_accounts():
    ntm = sdk_table("ntm", None, "1")
    sklearn = sdk_table("sklearn", "training", "1.2-1")
    assert set(REGISTRY_ACCOUNTS) == set(ntm) == set(sklearn)
    assert {region: accounts[0] for region, accounts in REGISTRY_ACCOUNTS.items()} == ntm
    assert {region: accounts[1] for region, accounts in REGISTRY_ACCOUNTS.items()} == sklearn
    # k-NN is pulled from the NTM account: true of every region in the SDK's own knn table.
    assert sdk_table("knn", None, "1") == ntm


@pytest.mark.parametrize("region, suffix", [("us-east-1", "amazonaws.com"), ("cn-north-1", "amazonaws.com.cn"),
                                            ("eu-west-1", "amazonaws.com")])
def test_rendered_image_uris_equal_the_sdk_retrieve(synthesized, region, suffix):
    from sagemaker import image_uris

    definition = state_machine_definition(synthesized.template, region=region, url_suffix=suffix,
                                          partition="aws-cn" if region.startswith("cn-") else "aws")
    training = all_states(definition)["Train topic model"]["Parameters"]["AlgorithmSpecification"]["TrainingImage"]
    processing = definition["States"]["Prepare corpus"]["Parameters"]["AppSpecification"]["ImageUri"]
    states = all_states(definition)
    knn_training = states["Train similarity index"]["Parameters"]["AlgorithmSpecification"]["TrainingImage"]
    knn_model = states["Create similarity model"]["Parameters"]["PrimaryContainer"]["Image"]
    assert knn_training == knn_model == image_uris.retrieve("knn", region)
    assert training == image_uris.retrieve("ntm", region)
    assert processing == image_uris.retrieve("sklearn", region, version="1.2-1")
