"""Virtual environments with a SageMaker image's Python and library pins, built once and cached.

The versions come from `images.json` beside this file (named requirement sets; docs/design.md
says where each pin comes from). `container_python("3.8", "sklearn-1.2-1-tag")` returns the python
of a virtual environment made from pyenv's 3.8 with exactly that set installed, building it the
first time (under `.container-envs/` in the repository, keyed by a hash of the interpreter and the
pins). A missing interpreter is a visible `pytest.skip` naming it.

The environments have no pip, and `sealed_environment()` gives the variables a job runs with:
no pip configuration, no index, an unreachable index URL. Together they make a package install at
run time fail, as it would in a job without internet (tests/container/test_environments.py).

Concurrent builds (pytest -n 2, or `make test` beside `make dry-run`) are serialized per
environment by a file lock; an environment counts as built only once its marker file is written
last, so an interrupted build is thrown away and redone.

    python -m tests.container.environments     # build every environment the processing tier uses
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[2]
IMAGES = json.loads((Path(__file__).with_name("images.json")).read_text())
CACHE = REPO / ".container-envs"
MARKER = "environment.json"
BUILDER_VERSION = 1  # bump when the way an environment is built changes
UNREACHABLE_INDEX = "http://127.0.0.1:9/simple"  # the discard port: nothing answers there


class InterpreterMissing(Exception):
    """No interpreter of the requested version was found (pyenv or PATH)."""


class BuildFailed(Exception):
    """Creating the virtual environment or installing its pins failed."""


@dataclass(frozen=True)
class ProcessingTarget:
    python: str
    requirement_set: str


def processing_targets() -> list[ProcessingTarget]:
    """The (Python, requirement set) pairs the processing image may run our code with."""
    return [ProcessingTarget(item["python"], item["requirement_set"]) for item in IMAGES["processing"]]


def requirements(requirement_set: str) -> list[str]:
    try:
        return list(IMAGES["requirement_sets"][requirement_set]["requirements"])
    except KeyError:
        raise KeyError(f"no requirement set {requirement_set!r} in tests/container/images.json; "
                       f"known: {sorted(IMAGES['requirement_sets'])}") from None


def source_requirements(requirement_set: str) -> list[str]:
    """Pins without a wheel for the set's Python: built here, without their dependencies."""
    return list(IMAGES["requirement_sets"][requirement_set].get("build_from_source", []))


def _pyenv_roots() -> list[Path]:
    roots = [os.environ.get("PYENV_ROOT", ""), str(Path.home() / ".pyenv"), "/root/.pyenv"]
    pyenv = shutil.which("pyenv")
    if pyenv:
        try:
            roots.insert(0, subprocess.run([pyenv, "root"], capture_output=True, text=True, timeout=10).stdout.strip())
        except (OSError, subprocess.SubprocessError):
            pass
    return [Path(root) for root in dict.fromkeys(roots) if root]


def _patch_level(path: Path) -> tuple[int, ...]:
    version = path.parent.parent.name
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def find_interpreter(python_version: str) -> Path:
    """The newest pyenv build of `python_version` (e.g. "3.8" -> .../versions/3.8.18/bin/python3.8),
    else `python3.8` on PATH."""
    candidates = []
    for root in _pyenv_roots():
        candidates += [Path(p) for p in glob.glob(str(root / "versions" / f"{python_version}.*" / "bin" / f"python{python_version}"))]
    candidates = [path for path in candidates if os.access(path, os.X_OK)]
    if candidates:
        return max(candidates, key=_patch_level)
    on_path = shutil.which(f"python{python_version}")
    if on_path:
        return Path(on_path)
    raise InterpreterMissing(f"Python {python_version} not found (looked in pyenv's versions/{python_version}.* "
                             f"under {', '.join(map(str, _pyenv_roots()))} and for python{python_version} on PATH)")


def _full_version(interpreter: Path) -> str:
    completed = subprocess.run([str(interpreter), "-c", "import platform; print(platform.python_version())"],
                               capture_output=True, text=True, timeout=60)
    if completed.returncode != 0:
        raise InterpreterMissing(f"{interpreter} does not run: {completed.stderr.strip()[-300:]}")
    return completed.stdout.strip()


def environment_key(interpreter: Path, full_version: str, pins: list[str]) -> str:
    recipe = json.dumps({"interpreter": str(interpreter.resolve()), "version": full_version, "pins": pins,
                         "builder": BUILDER_VERSION}, sort_keys=True)
    return hashlib.sha256(recipe.encode()).hexdigest()[:12]


def sealed_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Variables under which no package can be installed: pip reads no configuration file (so no
    machine-wide index or find-links), has no index, and its index URL leads nowhere."""
    return {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_INDEX_URL": UNREACHABLE_INDEX,
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PYTHONNOUSERSITE": "1",
        **(extra or {}),
    }


def _site_packages(environment: Path) -> list[Path]:
    return [Path(p) for p in glob.glob(str(environment / "lib" / "python*" / "site-packages"))]


def _is_complete(environment: Path) -> bool:
    """Built to the end, and still without pip (a job running `ensurepip` would have put it back)."""
    return (environment / MARKER).is_file() and not any(
        (site / "pip").exists() for site in _site_packages(environment))


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (created), between processes and between threads alike."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run(command: list[str], what: str) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if completed.returncode != 0:
        raise BuildFailed(f"{what} failed (exit {completed.returncode}): {' '.join(command)}\n"
                          f"{(completed.stderr or completed.stdout).strip()[-1500:]}")
    return completed.stdout


_INSTALLED = ("import json, importlib.metadata as m; "
              "print(json.dumps(sorted((d.metadata['Name'], d.version) for d in m.distributions())))")


def _check_pins(python: Path, pins: list[str]) -> list[tuple[str, str]]:
    installed = json.loads(_run([str(python), "-c", _INSTALLED], "listing the installed packages"))
    versions = {name.lower().replace("_", "-"): version for name, version in installed}
    for pin in pins:
        if "==" in pin:
            name, version = pin.split("==")
            if versions.get(name.lower()) != version:
                raise BuildFailed(f"{pin} asked, {name} {versions.get(name.lower(), 'missing')} installed")
    return [tuple(item) for item in installed]


def _build(environment: Path, interpreter: Path, full_version: str, requirement_set: str, pins: list[str]) -> None:
    shutil.rmtree(environment, ignore_errors=True)
    _run([str(interpreter), "-m", "venv", *([] if pins else ["--without-pip"]), str(environment)],
         f"creating a Python {full_version} environment")
    python = environment / "bin" / "python"
    if pins:
        _run([str(python), "-m", "pip", "install", "--quiet", "--no-input", "--disable-pip-version-check",
              "--only-binary=:all:", "--no-warn-script-location", *pins], f"installing {requirement_set} ({', '.join(pins)})")
        sources = source_requirements(requirement_set)
        if sources:
            _run([str(python), "-m", "pip", "install", "--quiet", "--no-input", "--disable-pip-version-check", "--no-deps",
                  "--no-build-isolation", "--no-warn-script-location", *sources], f"building {', '.join(sources)}")
        # A job in the image has pip, but no internet: here pip is gone altogether, and the job's
        # environment (sealed_environment) has no index either.
        _run([str(python), "-m", "pip", "uninstall", "--yes", "--quiet", "pip"], "removing pip")
    installed = _check_pins(python, pins + source_requirements(requirement_set))
    (environment / MARKER).write_text(json.dumps({
        "python": full_version, "interpreter": str(interpreter), "requirement_set": requirement_set,
        "pins": pins, "installed": installed}, indent=1))


def build_environment(python_version: str, requirement_set: str) -> Path:
    """The python of the cached environment for this version and set, built if needed.
    Raises InterpreterMissing when no such interpreter exists here, BuildFailed when pip fails."""
    pins = requirements(requirement_set)
    interpreter = find_interpreter(python_version)
    full_version = _full_version(interpreter)
    name = f"py{python_version}-{requirement_set}-{environment_key(interpreter, full_version, pins + source_requirements(requirement_set))}"
    environment = CACHE / name
    if not _is_complete(environment):
        with locked(CACHE / f"{name}.lock"):
            if not _is_complete(environment):  # another process may have built it meanwhile
                _build(environment, interpreter, full_version, requirement_set, pins)
    return environment / "bin" / "python"


def container_python(python_version: str, requirement_set: str) -> Path:
    """For tests: like build_environment, but a missing interpreter skips the test, naming it."""
    import pytest

    try:
        return build_environment(python_version, requirement_set)
    except InterpreterMissing as missing:
        pytest.skip(f"container tier: {missing} (install it with pyenv to run this test)")


def describe(python: Path) -> str:
    """One line: which interpreter and pins an environment's python stands for."""
    record = json.loads((python.parent.parent / MARKER).read_text())
    pins = ", ".join(pin for pin in record["pins"] if pin.split("==")[0] in {"numpy", "scipy", "scikit-learn", "pandas"})
    return f"Python {record['python']} with the {record['requirement_set']} pins ({pins}), no pip, no package index"


def main() -> int:
    for target in processing_targets():
        started = time.monotonic()
        try:
            python = build_environment(target.python, target.requirement_set)
        except InterpreterMissing as missing:
            print(f"container environments: SKIPPED {target.requirement_set}: {missing}", file=sys.stderr)
            continue
        print(f"container environments: {describe(python)} ready in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
