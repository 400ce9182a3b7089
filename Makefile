# Parley developer entry points. `make` lists them; each recipe is one line (longer logic
# lives in infra/, bench/ or scripts next to the code it drives).
PY ?= .venv/bin/python
PYTHON ?= python3.11
BIN := $(dir $(PY))

.DEFAULT_GOAL := help
.PHONY: help install fmt lint check test infra-install infra-up infra-down infra-status infra-logs cluster-up cluster-down cluster-status chaos protos protos-check bench-ingest bench-e2e bench-sessions bench-project bench-media bench-faust-floor bench-restart bench-audit bench-hooks bench-idle run

help: ## Show this help
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

install: .venv/.installed ## Create .venv and install the project with dev tools (once per pyproject change)

.venv/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv .venv; $(PY) -m pip install -q -e '.[dev]' && touch $@

fmt: ## Format and auto-fix the code (ruff)
	$(BIN)ruff format . && $(BIN)ruff check --fix .

lint: ## ruff, ruff format --check, mypy --strict, import-linter, protos breaking-change check
	$(BIN)ruff check . && $(BIN)ruff format --check . && $(BIN)mypy parley services streams infra bench faults tests examples && $(BIN)lint-imports && $(PY) -m parley.proto_breaking

check: install ## The tests that need no engine (pure domain, in-memory contract suites): well under a minute
	$(BIN)pytest -q -m 'not integration' tests/unit tests/contracts

test: install infra-up ## Install, start the engines if needed, then run the whole test suite
	$(BIN)pytest -q

infra-install: ## Fetch/build Kafka, Cassandra and MinIO into ~/.cache/parley (no-op when cached)
	$(PY) -m infra.local install

infra-up: install ## Start Kafka, Cassandra and MinIO (installs first if needed); apply topics, schema, buckets
	$(PY) -m infra.local up

infra-down: ## Stop the engines started by infra-up
	$(PY) -m infra.local down

infra-status: ## Show which engines are up (exit 1 if any is down)
	$(PY) -m infra.local status

infra-logs: ## Print the tail of each engine's log
	$(PY) -m infra.local logs

cluster-up: install ## Start a 3-broker Kafka, 3-node Cassandra and MinIO beside the single-node stack (ports 19xxx); provision RF 3
	$(PY) -m infra.local.cluster_stack up

cluster-down: ## Stop the local cluster
	$(PY) -m infra.local.cluster_stack down

cluster-status: ## Show each cluster engine, its pid and resident memory (exit 1 if any is down)
	$(PY) -m infra.local.cluster_stack status

chaos: cluster-up ## Fault suite on the local cluster (started if needed) under SDK load, with the history checker (JSON line)
	$(PY) -m faults

protos: ## Regenerate parley/gen from protos/
	PY=$(PY) bash protos/generate.sh

protos-check: ## Fail when parley/gen is stale against protos/
	PY=$(PY) bash protos/generate.sh --check

run: install ## Install, start engines, provision, run the six services supervised (ingress, projector, delivery, media, checkpoints, webhooks) (Ctrl-C stops all)
	$(PY) -m parley.cli run

bench-project: ## Projector throughput on a 200k-event backlog, then lag under live load (JSON line)
	$(PY) -m bench.project

bench-ingest: ## Acknowledged sends/s and latency through the ingress into Kafka (JSON line)
	$(PY) -m bench.ingest

bench-media: ## Upload MB/s (1 MB, 10 MB files) and the e2e message p99 under a steady upload load (JSON line)
	$(PY) -m bench.media

bench-e2e: ## Send-to-session latency and exactly-once check through ingress, Kafka, projector, delivery (JSON line)
	$(PY) -m bench.e2e

bench-faust-floor: ## Events/s and CPU per event of a Faust agent that only acks (the projector's ceiling)
	$(PY) -m bench.faust_floor

bench-restart: ## Ready time and memory of each folding service restarted on 0.4 M and 4 M event logs (JSON line)
	$(PY) -m bench.restart

bench-hooks: ## Webhook events/s to one endpoint; send ack p50/p99 at 200 msg/s with and without a pre-send hook (JSON line)
	$(PY) -m bench.hooks

bench-audit: ## Trail, state, export, verify and replay on a 4 M-event log, beside the live projector's catch-up (JSON line)
	$(PY) -m bench.audit

bench-idle: ## CPU of each part of an idle stack over 60 s, nothing sent (JSON line per part, then the total)
	$(PY) -m bench.idle

bench-sessions: ## Idle sessions one delivery process holds, memory per session, group fan-out pushes/s (JSON line)
	$(PY) -m bench.sessions
