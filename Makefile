# One entry point for developers, CI and ops. Every target is idempotent.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export UV_PYTHON_DOWNLOADS := never
# A fresh machine gets uv from PyPI; `python3 -m uv` works before the shell has seen its binary.
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export UV
STACK := deploy/local/stack.sh

.PHONY: help install up down status logs test test-unit demo asyncapi lint bench

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

install: ## install uv (from PyPI) if absent and the locked Python environment
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check uv
	@$(UV) sync --frozen --all-packages

up: install ## start PostgreSQL, Kafka, the SMTP sink and the three services (no-op when running)
	@$(STACK) up

down: ## stop everything `make up` started
	@$(STACK) down

status: ## show what is running
	@$(STACK) status

logs: ## follow all logs of the local stack
	@$(STACK) logs

test: install ## install, start what is missing, run unit + integration + e2e tests
	@deploy/test-env.sh
	@$(UV) run --frozen pytest tests

test-unit: install ## unit tests only (no infrastructure)
	@$(UV) run --frozen pytest tests/unit

# The demo talks to the stack `make up` started, on the ports it was given (STACK_*_PORT).
demo: export PROJECTS_URL ?= http://127.0.0.1:$(or $(STACK_PROJECTS_PORT),8001)
demo: export INDICATORS_URL ?= http://127.0.0.1:$(or $(STACK_INDICATORS_PORT),8002)
demo: export NOTIFICATIONS_URL ?= http://127.0.0.1:$(or $(STACK_NOTIFICATIONS_PORT),8003)
demo: export MAIL_UI_URL ?= http://127.0.0.1:$(or $(STACK_MAILSINK_HTTP_PORT),8025)
demo: up ## start the stack, load both strategies, report demo values, show the alerts and emails (Ctrl-C ends)
	@$(STACK) status
	@# Exit code 2: loaded, but the services refused some records (named in the summary).
	@$(UV) run --frozen load-strategy leningrad-oblast nenets-ao --coordinators data/demo/coordinators.yaml || [ $$? -eq 2 ]
	@$(UV) run --frozen strategy-demo

asyncapi: install ## regenerate docs/asyncapi.yaml from the event contracts
	@$(UV) run --frozen python -m common.asyncapi > docs/asyncapi.yaml

bench: install ## run the benchmarks in bench/ on their own brokers and services (not tests; they print their figures)
	@$(STACK) bench-deps
	@for script in bench/*_bench.py; do PYTHONPATH=. $(UV) run --frozen python "$$script" || exit 1; done

lint: install ## static checks
	@$(UV) run --frozen ruff check .
