# Countersign: every target installs what it needs first, so a fresh clone needs no manual steps.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ROOT := $(CURDIR)

# Node 24 LTS: when the machine's Node is older than 22.18 (the first to run the TypeScript benches
# directly), use node@24 from the npm registry.
SYS_NODE_MAJOR := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
SYS_NODE_OK := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=18)?0:1)' 2>/dev/null && echo yes)
LOCAL_NODE := $(ROOT)/.tools/node/node_modules/node/bin/node
ifeq ($(SYS_NODE_OK),yes)
NODE_DEP :=
else
NODE_DEP := $(LOCAL_NODE)
export PATH := $(ROOT)/.tools/node/node_modules/node/bin:$(PATH)
endif

export NX_DAEMON := false
export NX_NO_CLOUD := true
export NX_TUI := false
export NX_SKIP_NX_CACHE ?= false
export KAFKAJS_NO_PARTITIONER_WARNING := 1
# kafkajs schedules a negative timeout on Node 24 and Node warns on every one; it is harmless.
export NODE_OPTIONS := --disable-warning=TimeoutNegativeWarning
export npm_config_update_notifier := false

.PHONY: test-kafka chromium help install build lint test test-unit test-integration chaos up down logs status demo bench kafka kafka-stop db keys clean

help:
	@echo "make demo   start the stack and run the demo agent fleet"
	@echo "make test   install, fetch and start Kafka, prepare Postgres, lint and run every test"
	@echo "make chaos  the fault suite at full size (10,000 proposals through crashes; own broker and Postgres)"
	@echo "make up | down | logs | status | bench | lint | build"

$(LOCAL_NODE):
	@echo "==> Node $(SYS_NODE_MAJOR) is older than 22.18: installing node@24 from the npm registry into .tools/node"
	@mkdir -p .tools/node
	npm install --no-save --no-package-lock --prefix .tools/node node@24 >/dev/null
	@$(LOCAL_NODE) --version

node_modules/.installed: package.json package-lock.json $(wildcard patches/*.patch) | $(NODE_DEP)
	@echo "==> npm ci (Node $$(node --version))"
	npm ci --no-fund --no-audit
	@touch $@

install: node_modules/.installed

build: install
	@echo "==> build"
	npx tsc -b tsconfig.build.json
	node scripts/api-types.cjs  # the reviewers' page API types (git-ignored), from the built OpenAPI document
	npx tsc --noEmit -p services/approval-queue/ui/tsconfig.json
	npx tsc -p bench/tsconfig.json
	npx vite build --logLevel warn --config services/approval-queue/ui/vite.config.ts

# The browser tests drive Debian's Chromium (no browser download: the registry of the distro only).
chromium:
	@if [ -x /usr/bin/chromium ]; then echo "==> chromium present"; else \
	  echo "==> installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; fi

lint: install
	@echo "==> lint"
	@# The reviewers' page types (git-ignored) are generated from approval-queue's OpenAPI document; eslint reads them.
	npx tsc -b services/approval-queue && node scripts/api-types.cjs
	@npx nx show projects >/dev/null  # the boundary rule reads the Nx project graph
	npx eslint --max-warnings=0 .
	npx prettier --check --log-level warn .
	npx tsc -b libs/cli && node scripts/errors-docs.cjs --check  # docs/errors.md matches the catalogue
	@# Specs and test support are compiled by swc without type checks: check them here.
	npx tsc -p tsconfig.json && npx tsc -p test/browser/tsconfig.json

# make up SECURE=1: the SASL/SCRAM + ACL broker on 9192, each service as its own principal.
ifeq ($(SECURE),1)
export KAFKA_SECURE := 1
endif

kafka: install build
	deploy/local/kafka.sh start
	$(if $(filter 1,$(SECURE)),,node deploy/local/create-topics.cjs)

kafka-stop:
	deploy/local/kafka.sh stop

# Tests get their own brokers (fresh every run, on other ports), so a running `make up` stack never
# consumes a test's events and no test sees another run's history: one per Jest worker, since every
# stack uses the same topic names (deploy/local/test-brokers.sh). TEST_WORKERS=1 runs them in band.
TEST_WORKERS ?= 2
export TEST_KAFKA_BROKERS := $(shell TEST_WORKERS=$(TEST_WORKERS) deploy/local/test-brokers.sh list)

test-kafka: install build
	@echo "==> $(TEST_WORKERS) test broker(s) (fresh) on $(TEST_KAFKA_BROKERS)"
	TEST_WORKERS=$(TEST_WORKERS) deploy/local/test-brokers.sh start

db: install
	node deploy/local/prepare-db.cjs

keys: install
	node deploy/local/dev-keys.cjs

up: install build kafka db keys
	deploy/local/stack.sh start

down:
	-deploy/local/stack.sh stop
	-deploy/local/kafka.sh stop
	-@deploy/local/test-brokers.sh stop

status:
	-deploy/local/kafka.sh status
	-deploy/local/stack.sh status

logs:
	deploy/local/stack.sh logs

test-unit: install
	npx jest --selectProjects unit

test-integration: build test-kafka db chromium
	npx jest --selectProjects integration --maxWorkers=$(TEST_WORKERS) --forceExit

test: install build lint test-kafka db chromium
	@echo "==> unit tests"
	npx jest --selectProjects unit
	@echo "==> integration and end-to-end tests (real Kafka, real Postgres), $(TEST_WORKERS) at a time"
	npx jest --selectProjects integration --maxWorkers=$(TEST_WORKERS) --forceExit

# The fault suite (test/reliability) at full size; `make test` runs it short. It starts its own
# broker and PostgreSQL cluster (so no test-kafka/db: it must not reset a broker others may use).
# CHAOS_PROPOSALS=n to resize.
CHAOS_PROPOSALS ?= 10000
chaos: install build
	@echo "==> fault suite: $(CHAOS_PROPOSALS) proposals"
	CHAOS_PROPOSALS=$(CHAOS_PROPOSALS) npx jest --selectProjects integration --runInBand --forceExit test/reliability

demo: up
	node deploy/local/demo.cjs

bench: build kafka db
	node bench/run.ts

clean:
	rm -rf node_modules .tools .nx dist libs/*/dist services/*/dist test-results
