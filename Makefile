# Every target installs what it needs first (a virtual environment and the pinned CDK CLI), then
# works offline with no AWS credentials. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CDK := node_modules/.bin/cdk
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

# Quiet, offline tools: no CLI notices or telemetry, no EC2 metadata probing, no Node EOL banner.
export CDK_DISABLE_CLI_TELEMETRY := true
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_EC2_METADATA_DISABLED := true
export SAGEMAKER_SUPPRESS_V2_WARNING := 1

.PHONY: help install container-envs synth dry-run test update-snapshots screenshot diff deploy destroy bench clean

help:
	@echo "make dry-run           run the whole pipeline offline on the sample corpus, state by state"
	@echo "make synth             write the CloudFormation templates to cdk.out/ (offline, no credentials)"
	@echo "make test              run every test (unit, handlers, container, infrastructure, pipeline)"
	@echo "make container-envs    build the processing image's Pythons and pins (done by test and dry-run)"
	@echo "make update-snapshots  rewrite the template snapshots after an intended change"
	@echo "make screenshot        redraw docs/report.png from the page test of the dry run's report"
	@echo "make diff | deploy     pass through to the CDK CLI (needs AWS credentials)"
	@echo "make bench             run the benchmarks in bench/ (needs ../shared/data)"

$(PY_STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(PY_STAMP) $(NODE_STAMP)

# Virtual environments with the processing image's Pythons and pins (tests/container/images.json),
# from pyenv's interpreters: about a minute the first time, cached in .container-envs/ after that.
container-envs: $(PY_STAMP)
	$(PY) -m tests.container.environments

synth: install
	$(CDK) synth --quiet --no-notices --no-validation

dry-run: install container-envs
	$(PY) scripts/dry_run.py

test: install container-envs
	$(PY) -m pytest -n 2 -q

update-snapshots: install
	UPDATE_SNAPSHOTS=1 $(PY) -m pytest -q tests/infra/test_snapshot.py

screenshot: install container-envs
	REPORT_SCREENSHOT=$(CURDIR)/docs/report.png $(PY) -m pytest -q -p no:cacheprovider \
		"tests/pipeline/test_scenarios.py::test_a_upload_runs_prepare_train_deploy_transform_report"

diff: install
	$(CDK) diff --no-notices

deploy: install
	$(CDK) deploy --no-notices

destroy: install
	$(CDK) destroy --no-notices

bench: install
	$(PY) bench/prepare.py --label-field group --repetitions 5
	$(PY) bench/serving.py --repetitions 3
	$(PY) bench/report.py --repetitions 5

clean:
	rm -rf cdk.out .pytest_cache .container-envs
