"""No package can be installed where the processing code runs: not in the container environments,
not in a processing job the offline harness runs, not even after a job puts pip back."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.container.environments import (
    container_python,
    find_interpreter,
    processing_targets,
    requirements,
    sealed_environment,
)
from tests.harness import ProcessingJobRun
from tests.pipeline.local_deployment import processing_runtime, run_processing_job

# What the report and comparison jobs once tried to install at run time; in no scikit-learn image.
ABSENT_PACKAGE = "matplotlib"


def _run(python: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), *arguments], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=sealed_environment({"PATH": f"{python.parent}:/usr/bin:/bin", "HOME": str(cwd)}))


def test_the_container_environments_have_no_pip(tmp_path):
    for target in processing_targets():
        python = container_python(target.python, target.requirement_set)
        completed = _run(python, "-m", "pip", "install", ABSENT_PACKAGE, cwd=tmp_path)
        assert completed.returncode != 0 and "No module named pip" in completed.stderr
        assert _run(python, "-c", f"import {ABSENT_PACKAGE}", cwd=tmp_path).returncode != 0


def test_with_pip_put_back_an_install_still_fails_for_want_of_an_index(tmp_path):
    """A job could run the pip that the standard library carries (the wheel `ensurepip` installs
    from): the sealed variables alone must still stop the install. Shown on a throwaway environment
    of the same interpreter, running that very wheel (as `python -m ensurepip` would put it back)."""
    target = processing_targets()[0]
    container_python(target.python, target.requirement_set)  # skips, naming it, when the interpreter is missing
    interpreter = find_interpreter(target.python)
    throwaway = tmp_path / "venv"
    subprocess.run([str(interpreter), "-m", "venv", "--without-pip", str(throwaway)], check=True, timeout=300)
    python = throwaway / "bin" / "python"
    pip = [f"{bundled_pip_wheel(python, tmp_path)}/pip"]
    assert _run(python, *pip, "--version", cwd=tmp_path).returncode == 0  # pip is there this time
    completed = _run(python, *pip, "install", ABSENT_PACKAGE, cwd=tmp_path)
    assert completed.returncode != 0
    assert "No matching distribution found" in completed.stderr or "Could not find a version" in completed.stderr
    assert _run(python, "-c", f"import {ABSENT_PACKAGE}", cwd=tmp_path).returncode != 0


def bundled_pip_wheel(python: Path, cwd: Path) -> Path:
    """The newest pip wheel in the interpreter's ensurepip (a wheel runs as `python WHEEL/pip`)."""
    bundled = _run(python, "-c", "import ensurepip, os; print(os.path.dirname(ensurepip.__file__))", cwd=cwd)
    wheels = sorted((Path(bundled.stdout.strip()) / "_bundled").glob("pip-*.whl"),
                    key=lambda wheel: tuple(int(part) for part in wheel.name.split("-")[1].split(".")))
    assert wheels, "this interpreter's ensurepip carries no pip wheel"
    return wheels[-1]


def test_a_processing_job_in_the_harness_runs_on_the_image_python_and_cannot_install(tmp_path):
    target = processing_targets()[0]
    container_python(target.python, target.requirement_set)
    script = (f"python3 -m pip install {ABSENT_PACKAGE} || echo install failed;"
              " python3 -c 'import platform, numpy, scipy, sklearn;"
              " print(platform.python_version(), numpy.__version__, scipy.__version__, sklearn.__version__)'")
    request = {"ProcessingJobName": "sandbox-check",
               "AppSpecification": {"ContainerEntrypoint": ["sh", "-c", script]},
               # A job's own variables cannot lift the rules.
               "Environment": {"PIP_NO_INDEX": "0", "PIP_INDEX_URL": "https://pypi.org/simple"}}
    record = run_processing_job(ProcessingJobRun(request, tmp_path, {}, {}, s3=None))

    assert record.ran_on == processing_runtime().description
    assert record.ran_on.startswith(f"Python {target.python}.")
    lines = record.stdout.splitlines()
    assert "install failed" in lines
    pins = dict(pin.split("==") for pin in requirements(target.requirement_set) if "==" in pin)
    python_version, *libraries = lines[-1].split()
    assert python_version.startswith(f"{target.python}.")
    assert libraries == [pins["numpy"], pins["scipy"], pins["scikit-learn"]]
