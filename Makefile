# PyTake. Two commands matter: `make run` (the whole system locally) and
# `make test` (everything CI checks). Tools are pinned here and installed into
# .local/ only when missing.

SHELL := /bin/bash
GO ?= go
GOPATH := $(shell $(GO) env GOPATH)

# Functions: directory under functions/ -> logical id in template.yaml.
FUNCTIONS := api whatsapp-webhook sender dispatcher shopify-webhook woocommerce-webhook dashboard hubspot-webhook crm-sync template-sync campaign-runner outbox-relay

# Pinned tools.
MOTO_VERSION        := 5.2.5
CFN_LINT_VERSION    := 1.58.0
CFN_LINT_SLS_VERSION := 0.3.6
SAM_CLI_VERSION     := 1.170.0
SCHEMATHESIS_VERSION := 4.32.5
RIE_VERSION         := v0.0.0-20261030222936-bef5c4ba774d

# sam: no telemetry from CI or laptops.
export SAM_CLI_TELEMETRY := 0

VENV := .local/venv
PY   := $(VENV)/bin
# The Python SDK's checks (infra/sdk/python): pytest, mypy, build, twine,
# pinned in its requirements-dev.txt.
SDK_DIR  := infra/sdk/python
SDK_VENV := .local/sdk-venv
SDK_REQS := $(SDK_DIR)/requirements-dev.txt
SDK_PY   := $(SDK_VENV)/bin
RIE  := $(GOPATH)/bin/aws-lambda-rie

# The one set of flags for every Lambda artifact (sam build uses them too).
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags "-s -w"
LAMBDA_ENV   := CGO_ENABLED=0 GOOS=linux GOARCH=arm64

# Redocly CLI, for the API reference page, is pinned in infra/docs/package.json
# and package-lock.json. Chromium comes from Debian's packages (make chromium).
export REDOCLY_TELEMETRY := off
export REDOCLY_SUPPRESS_UPDATE_NOTICE := true

# make deploy ENV=dev|prod: a [ENV] section of samconfig.toml.
ENV ?=

.PHONY: all build check tools venv rie run test vet unit lint-template sam-build e2e zapier sdk sdk-venv postman postman-deps zapier-deps bench bench-cold clean fmt \
	docs chromium deploy deploy-check

all: build

## build: the deployable arm64 artifacts, bin/arm64/<fn>/bootstrap (as sam build makes them)
build: $(FUNCTIONS:%=bin/arm64/%/bootstrap)

bin/arm64/%/bootstrap: FORCE
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $@ ./functions/$*

FORCE:

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR.
build-ApiFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/api
build-DashboardFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/dashboard
build-WhatsAppWebhookFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/whatsapp-webhook
build-SenderFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/sender
build-DispatcherFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/dispatcher
build-ShopifyWebhookFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/shopify-webhook
build-WooCommerceWebhookFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/woocommerce-webhook
build-HubSpotWebhookFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/hubspot-webhook
build-CrmSyncFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/crm-sync
build-TemplateSyncFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/template-sync
build-CampaignRunnerFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/campaign-runner
build-OutboxRelayFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/outbox-relay

## check: the tools `make run` and `make test` need, with a clear message for the first one missing
GO_MIN     := 1.26
PYTHON_MIN := 3.11
NODE_MIN   := 20.19.0
check:
	@command -v $(GO) >/dev/null || { echo "make: Go $(GO_MIN) or newer is needed (https://go.dev/dl/); 'go' is not on PATH" >&2; exit 1; }
	@v=$$($(GO) env GOVERSION | sed 's/^go//'); printf '%s\n%s\n' "$(GO_MIN)" "$$v" | sort -V -C || { echo "make: Go $(GO_MIN) or newer is needed, found $$v" >&2; exit 1; }
	@command -v python3 >/dev/null || { echo "make: Python $(PYTHON_MIN) or newer is needed; 'python3' is not on PATH" >&2; exit 1; }
	@python3 -c 'import sys; sys.exit(sys.version_info < tuple(map(int, "$(PYTHON_MIN)".split("."))))' || { echo "make: Python $(PYTHON_MIN) or newer is needed, found $$(python3 -V)" >&2; exit 1; }
	@python3 -c 'import venv, ensurepip' 2>/dev/null || { echo "make: Python's venv and ensurepip modules are needed (Debian/Ubuntu: apt-get install python3-venv)" >&2; exit 1; }
	@command -v node >/dev/null || { echo "make: Node.js $(NODE_MIN) or newer is needed (the Zapier app, newman); 'node' is not on PATH" >&2; exit 1; }
	@v=$$(node -p 'process.versions.node'); printf '%s\n%s\n' "$(NODE_MIN)" "$$v" | sort -V -C || { echo "make: Node.js $(NODE_MIN) or newer is needed (the pinned Redocly CLI wants 20.19 on Node 20, or 22.12; nock 20.12.1), found $$v" >&2; exit 1; }
	@command -v npm >/dev/null || { echo "make: npm is needed (it comes with Node.js); 'npm' is not on PATH" >&2; exit 1; }

## tools: the pinned Python tools in .local/venv and the Lambda Runtime Interface Emulator
tools: venv rie

venv: check $(PY)/.installed-$(MOTO_VERSION)-$(SAM_CLI_VERSION)-$(SCHEMATHESIS_VERSION)

$(PY)/.installed-$(MOTO_VERSION)-$(SAM_CLI_VERSION)-$(SCHEMATHESIS_VERSION):
	python3 -m venv $(VENV)
	$(PY)/pip install --quiet --disable-pip-version-check \
		"moto[server]==$(MOTO_VERSION)" "cfn-lint==$(CFN_LINT_VERSION)" \
		"cfn-lint-serverless==$(CFN_LINT_SLS_VERSION)" "aws-sam-cli==$(SAM_CLI_VERSION)" \
		"schemathesis==$(SCHEMATHESIS_VERSION)"
	touch $@

rie: $(RIE)

$(RIE):
	$(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

## run: the whole system on 127.0.0.1 (PORT, default 3000), the API reference at /docs; Ctrl-C stops it
run: check tools docs
	$(GO) run ./infra/local

## docs: the API reference page, infra/docs/dist/reference.html (one self-contained file), from
## internal/api/openapi.json with the pinned Redocly CLI
docs: infra/docs/dist/reference.html

infra/docs/node_modules/.installed: infra/docs/package.json infra/docs/package-lock.json
	cd infra/docs && npm ci --engine-strict --no-audit --no-fund --loglevel=error
	touch $@

infra/docs/dist/reference.html: internal/api/openapi.json infra/docs/build.js infra/docs/node_modules/.installed
	cd infra/docs && npm run --silent build

## chromium: Debian's Chromium and ChromeDriver for the browser tests (infra/browser), when missing
chromium:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		echo "installing chromium and chromium-driver (apt-get)"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver; \
	fi

## deploy: build and deploy to AWS with the pinned SAM CLI: make deploy ENV=dev (or prod)
# Checked when make reads this file, before the venv is built (minutes on a
# fresh clone): ENV, and no AWS_ENDPOINT_URL (.local/demo.env's points the
# SDK at the local stack's moto, with fake keys).
ifneq ($(filter deploy,$(MAKECMDGOALS)),)
ifeq ($(filter $(ENV),dev prod),)
$(error usage: make deploy ENV=dev|prod (samconfig.toml's environments))
endif
ifneq ($(AWS_ENDPOINT_URL),)
$(error make deploy: AWS_ENDPOINT_URL is set ($(AWS_ENDPOINT_URL), from .local/demo.env?), so sam would deploy there, not to AWS: unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY, or use a new terminal)
endif
endif
deploy: venv
	$(PY)/sam build --region us-east-1 --build-dir .aws-sam/build
	$(PY)/sam deploy --config-env $(ENV)

## deploy-check: `sam deploy --config-env dev` of the built template against moto (no AWS account needed)
deploy-check: sam-build
	$(PY)/python infra/deploy/deploy_check.py --sam $(PY)/sam --moto $(PY)/moto_server

## test: vet, unit tests, template checks, sam build, deploy check, the Zapier app's and SDK's tests, the Postman collection's check, end-to-end suite
test: check chromium vet unit lint-template sam-build deploy-check zapier sdk postman e2e

## zapier: the Zapier Platform app (infra/zapier): pinned npm dependencies, its tests and schema check
zapier: check zapier-deps
	cd infra/zapier && npm test && npm run validate

## sdk: the Python SDK's unit tests, mypy --strict, python -m build and twine check
sdk: sdk-venv
	cd $(SDK_DIR) && ../../../$(SDK_PY)/python -m pytest -q -p no:cacheprovider
	cd $(SDK_DIR) && ../../../$(SDK_PY)/mypy --cache-dir /dev/null
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
		cp -r $(SDK_DIR)/pyproject.toml $(SDK_DIR)/README.md $(SDK_DIR)/pytake "$$d"/ && \
		$(SDK_PY)/python -m build --quiet --no-isolation --outdir "$$d/dist" "$$d" && \
		$(SDK_PY)/twine check --strict "$$d"/dist/*

sdk-venv: check $(SDK_VENV)/.installed-$(shell cat $(SDK_REQS) 2>/dev/null | cksum | cut -d' ' -f1)

$(SDK_VENV)/.installed-%:
	python3 -m venv $(SDK_VENV)
	$(SDK_PY)/pip install --quiet --disable-pip-version-check -r $(SDK_REQS)
	rm -f $(SDK_VENV)/.installed-*
	touch $@

## postman: the collection's pinned tools (newman) and its check against the OpenAPI document
postman: check postman-deps
	cd infra/postman && npm test

postman-deps: infra/postman/node_modules/.package-lock.json
zapier-deps: infra/zapier/node_modules/.package-lock.json

# npm ci only when the lockfile changed (npm writes node_modules/.package-lock.json).
infra/%/node_modules/.package-lock.json: infra/%/package-lock.json
	cd infra/$* && npm ci --no-audit --no-fund --loglevel=error
	touch $@

vet:
	@test -z "$$(gofmt -l functions internal infra)" || { gofmt -l functions internal infra; echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) vet -tags e2e ./infra/e2e/...

unit:
	$(GO) test -count=1 -timeout 25m ./...

lint-template: venv
	$(PY)/cfn-lint template.yaml
	$(PY)/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml
	$(PY)/sam validate --lint --region us-east-1

## The deployable artifact's budget (10 MB, MB = 10^6 bytes); sam-build fails a function over it.
ARTIFACT_MAX_BYTES ?= 10000000

sam-build: venv
	$(PY)/sam build --region us-east-1 --build-dir .aws-sam/build
	@for f in $(FUNCTIONS); do \
		id=$$(echo $$f | sed -E 's/(^|-)([a-z])/\U\2/g; s/^Whatsapp/WhatsApp/; s/^Woocommerce/WooCommerce/; s/^Hubspot/HubSpot/')Function; \
		test -x .aws-sam/build/$$id/bootstrap || { echo "sam build made no bootstrap for $$id"; exit 1; }; \
		n=$$(stat -c %s .aws-sam/build/$$id/bootstrap); \
		test $$n -le $(ARTIFACT_MAX_BYTES) || { echo "$$id's artifact is $$n bytes, over the budget of $(ARTIFACT_MAX_BYTES) (DESIGN.md: 10 MB)"; exit 1; }; \
	done

e2e: tools docs chromium postman-deps zapier-deps
	$(GO) test -count=1 -tags e2e -timeout 40m ./infra/e2e/...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

## bench-cold: cold start of every function under the emulator against a hello-world function,
## interleaved (hello, function, hello, function, ...), COLD_PAIRS pairs each; reports the medians,
## their ratio (x-hello) and the median of the pairs' own ratios (x-pair)
COLD_PAIRS ?= 25
bench-cold: tools
	$(GO) test -tags e2e -run '^$$' -bench ColdStart -benchtime $(COLD_PAIRS)x -timeout 30m ./infra/e2e/

clean:
	rm -rf bin .aws-sam infra/docs/dist

fmt:
	gofmt -w functions internal infra
