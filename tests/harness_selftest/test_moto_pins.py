"""The moto internals the harness patches or relies on are exactly those of the pinned version.

If this fails after a moto upgrade, re-read each pinned object against moto_patches' docstring,
adapt the patch, then update MOTO_VERSION and the fingerprints.
"""

import json
import pathlib
import re

import moto
import pytest

from tests.harness import moto_patches


def test_moto_is_the_pinned_version() -> None:
    assert moto.__version__ == moto_patches.MOTO_VERSION


@pytest.mark.parametrize("pin", moto_patches.PINS, ids=lambda pin: pin.target.rsplit(".", 1)[-1])
def test_pinned_moto_source_is_unchanged(pin: moto_patches.Pin) -> None:
    assert moto_patches.fingerprint(pin.target) == pin.sha256, f"moto changed {pin.target}: {pin.reason}"


def test_every_interpreter_module_that_makes_clients_is_patched() -> None:
    parser = pathlib.Path(moto.__file__).parent / "stepfunctions" / "parser"
    users = {
        "moto." + path.relative_to(parser.parents[1]).with_suffix("").as_posix().replace("/", ".")
        for path in parser.rglob("*.py")
        if re.search(r"^\s*boto_client_for,?$|import boto_client_for", path.read_text(), re.MULTILINE)
    }
    assert users == set(moto_patches.BOTO_CLIENT_USERS)


def test_a_definition_is_parsed_once_and_every_parse_builds_its_own_program() -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser, ASLParserException

    from tests.harness import Harness
    from tests.harness_selftest import toy

    definition = json.dumps(toy.DEFINITION)
    with Harness():
        first, first_tree = AmazonStateLanguageParser.parse(definition)
        second, second_tree = AmazonStateLanguageParser.parse(definition)
        with pytest.raises(ASLParserException):
            AmazonStateLanguageParser.parse('{"StartAt": "A", "States": {"A": {"Type": "Nope"}}')
    assert first_tree is second_tree  # kept
    assert first is not second and type(first) is type(second)  # never shared between executions
