#!/usr/bin/env bash
# Brings up the infrastructure `make test` runs against, choosing in this order:
#   1. STACK_EXTERNAL=1: a stack that is already running, named by the env vars in README.md;
#   2. a reachable Docker engine (and USE_LOCAL_STACK unset): docker-compose via testcontainers;
#   3. otherwise the local process stack (deploy/local/stack.sh): real PostgreSQL, Kafka, SMTP.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-uv}

if [[ "${STACK_EXTERNAL:-}" == 1 ]]; then
  echo "test-env: using the running stack named by the environment"
elif [[ "${USE_LOCAL_STACK:-}" != 1 ]] && docker info >/dev/null 2>&1; then
  echo "test-env: Docker engine found, starting docker-compose through testcontainers"
  $UV run --frozen python -m tests.support.compose_stack up
else
  deploy/local/stack.sh up
fi
