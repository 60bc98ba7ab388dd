# The two commands a newcomer needs: `make run` and `make test`. See README.md.

CARGO ?= cargo
VENV ?= .venv
MOTO_VERSION ?= moto[server]>=5.1,<6
# The template's linters; they run offline.
INFRA_TOOLS ?= 'cfn-lint>=1.20,<2' 'checkov>=3.2,<4'
# Only `make deploy` needs it; its own virtualenv, because it pins jsonschema below what moto needs.
SAM_CLI ?= 'aws-sam-cli>=1.120,<2'
# Lambda CPU architecture: x86_64 or arm64 (see README.md, "Deploying to AWS").
ARCH ?= x86_64
# Every Lambda function: each crate in functions/ except sevtool, which is the local server.
LAMBDA_FUNCTIONS ?= $(filter-out sevtool,$(notdir $(wildcard functions/*)))
STACK ?= sevtool
REGION ?= $(or $(AWS_REGION),us-east-1)
PRISM_VERSION ?= 5

.PHONY: run test lint fmt build clean infra-check package deploy bench bench-lint system-packages mutants

## Serve the whole product on http://127.0.0.1:3000 (PORT overrides), data under ./.sevtool/.
run:
	$(CARGO) run -p sevtool

## Every test: unit, contract tests on both backends (moto started and stopped here), black-box.
## The build step makes every target the run needs (sevtool's binary for the black-box tests
## among them) with the features the run resolves, so no crate is compiled twice.
test: system-packages $(VENV)/.moto tests/node_modules/.prism infra-check
	$(CARGO) build --workspace --all-targets
	SEVTOOL_PRISM=$(CURDIR)/tests/node_modules/.bin/prism SEVTOOL_VENV=$(VENV) tests/with-moto.sh $(CARGO) test --workspace --all-targets --no-fail-fast

## What CI enforces besides the tests.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path bench/Cargo.toml --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all
	$(CARGO) fmt --manifest-path bench/Cargo.toml

## Benchmarks, never part of `make test`: builds the binaries (BENCH_PROFILE, default
## quick-release; release is what ships) and the harness (bench/), prints one table and writes
## target/bench/results.json. See README.md, "Performance".
BENCH_PROFILE ?= quick-release
bench: $(VENV)/.moto
	CARGO=$(CARGO) SEVTOOL_VENV=$(VENV) BENCH_PROFILE=$(BENCH_PROFILE) bench/run.sh

## Mutation testing of the security-critical code (never part of `make test`; about 45 minutes
## on two cores): every mutant of sign-in and sessions, CSRF, the Slack, Jira and PagerDuty
## signature checks, the visibility policy and the alert-token check must fail a unit test.
## Installs cargo-mutants (crates.io) on first use. See README.md, "Development".
MUTANTS_FILES ?= shared/src/http/auth/session.rs shared/src/http/csrf.rs shared/src/slack/signature.rs \
	shared/src/jira/webhook.rs shared/src/paging/pagerduty_webhook.rs shared/src/paging/opsgenie_webhook.rs shared/src/app/access.rs shared/src/http/api/alerts.rs
mutants:
	command -v cargo-mutants >/dev/null || $(CARGO) install cargo-mutants --locked
	$(CARGO) mutants -p sev $(addprefix --file ,$(MUTANTS_FILES)) --timeout 180 -o target/mutants -- --lib

## The harness is its own workspace, so `make lint` (and CI) never compiles it; this checks it.
bench-lint:
	$(CARGO) fmt --manifest-path bench/Cargo.toml --check
	$(CARGO) clippy --manifest-path bench/Cargo.toml --target-dir target/bench-harness --all-targets -- -D warnings

build:
	$(CARGO) build --workspace --release

## The Debian packages the tests run (Alertmanager, Chromium): installed with apt-get as root or
## through `sudo -n`; otherwise make stops here, before compiling, with the command to run.
system-packages:
	tests/system-packages.sh test

## The deployment template: both linters, then its consistency with the code (tests/infra_check.py).
infra-check: $(VENV)/.infra
	$(VENV)/bin/cfn-lint infra/template.yaml
	$(VENV)/bin/checkov --quiet --compact --skip-download --framework cloudformation -f infra/template.yaml
	$(VENV)/bin/python tests/infra_check.py

## One Lambda artefact per function: target/lambda/<function>/bootstrap.zip (ARCH=x86_64|arm64).
package:
	ARCH=$(ARCH) CARGO=$(CARGO) infra/package.sh $(LAMBDA_FUNCTIONS)

## Deploys the packaged functions with SAM (needs AWS credentials; see README.md).
deploy: $(VENV)/sam/.installed
	SAM_CLI_TELEMETRY=0 $(VENV)/sam/bin/sam deploy --template-file infra/template.yaml --stack-name $(STACK) --region $(REGION) \
		--resolve-s3 --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset \
		--parameter-overrides Architecture=$(ARCH) $(PARAMETERS)

$(VENV)/.infra: $(VENV)/.moto
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(INFRA_TOOLS)
	touch $@

$(VENV)/sam/.installed:
	python3 -m venv $(VENV)/sam
	$(VENV)/sam/bin/pip install --quiet --disable-pip-version-check $(SAM_CLI)
	touch $@

$(VENV)/.moto:
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check '$(MOTO_VERSION)'
	touch $@

## Prism mock server (validates the pager adapters' requests against the vendors' OpenAPI specs).
## Installs exactly what tests/package-lock.json pins (@stoplight/prism-cli major $(PRISM_VERSION)).
tests/node_modules/.prism: tests/package-lock.json
	npm ci --prefix tests --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) target tests/node_modules
