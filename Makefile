# The two commands a newcomer needs: `make run` and `make test`. See README.md.

CARGO ?= cargo
VENV ?= .venv
MOTO_VERSION ?= moto[server]>=5.1,<6
PRISM_VERSION ?= 5

.PHONY: run test lint fmt build clean

## Serve the whole product on http://127.0.0.1:3000 (PORT overrides), data under ./.sevtool/.
run:
	$(CARGO) run -p sevtool

## Every test: unit, contract tests on both backends (moto started and stopped here), black-box.
test: $(VENV)/.moto tests/node_modules/.prism
	$(CARGO) build -p sevtool
	SEVTOOL_PRISM=$(CURDIR)/tests/node_modules/.bin/prism SEVTOOL_VENV=$(VENV) tests/with-moto.sh $(CARGO) test --workspace --all-targets

## What CI enforces besides the tests.
lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build --workspace --release

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
