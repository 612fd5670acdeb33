"""The environment builder: one build however many callers, an interrupted build redone, a missing
interpreter a skip that names it. Built on an empty requirement set, in a scratch cache."""

from __future__ import annotations

import threading

import pytest

from tests.container import environments
from tests.container.environments import (
    MARKER,
    InterpreterMissing,
    build_environment,
    container_python,
    find_interpreter,
    processing_targets,
)


@pytest.fixture
def scratch_cache(tmp_path, monkeypatch):
    images = {**environments.IMAGES, "requirement_sets": {**environments.IMAGES["requirement_sets"],
                                                           "probe": {"requirements": []}}}
    monkeypatch.setattr(environments, "IMAGES", images)
    monkeypatch.setattr(environments, "CACHE", tmp_path / "envs")
    builds = []
    build = environments._build

    def counted(*arguments):
        builds.append(arguments[0])
        build(*arguments)
    monkeypatch.setattr(environments, "_build", counted)
    return builds


def available_python() -> str:
    version = processing_targets()[0].python
    try:
        find_interpreter(version)
    except InterpreterMissing as missing:
        pytest.skip(str(missing))
    return version


def test_concurrent_callers_build_once_and_get_the_same_working_environment(scratch_cache):
    version = available_python()
    results = []
    callers = [threading.Thread(target=lambda: results.append(build_environment(version, "probe"))) for _ in range(3)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert len(scratch_cache) == 1
    assert len(set(results)) == 1 and len(results) == 3
    (python,) = set(results)
    assert python.is_file() and (python.parent.parent / MARKER).is_file()
    assert not list(python.parent.parent.glob("lib/python*/site-packages/pip"))


def test_an_interrupted_build_is_thrown_away_and_redone(scratch_cache):
    version = available_python()
    python = build_environment(version, "probe")
    environment = python.parent.parent
    (environment / MARKER).unlink()  # as if the build had stopped before its last step
    (environment / "half-written").write_text("")
    assert build_environment(version, "probe") == python
    assert len(scratch_cache) == 2 and not (environment / "half-written").exists()
    assert build_environment(version, "probe") == python and len(scratch_cache) == 2  # cached now


def test_a_missing_interpreter_is_a_skip_that_names_it():
    with pytest.raises(pytest.skip.Exception, match=r"Python 2\.5 not found"):
        container_python("2.5", "sklearn-1.2-1")


def test_an_unknown_requirement_set_is_an_error_naming_the_known_ones():
    with pytest.raises(KeyError, match="sklearn-1.2-1-tag"):
        build_environment("3.8", "no-such-set")


def test_the_pins_are_recorded_for_the_image_the_stack_runs():
    """Changing the processing image without recording its Python and pins here fails."""
    from stacks.image_registries import SKLEARN_REPOSITORY

    assert environments.IMAGES["processing_image"] == SKLEARN_REPOSITORY
    for target in processing_targets():
        pins = dict(pin.split("==") for pin in environments.requirements(target.requirement_set) if "==" in pin)
        assert {"numpy", "scipy", "scikit-learn"} <= set(pins)
