"""docker-compose.yml and deploy/docker/Dockerfile, checked without a Docker engine.

The compose file is validated against the Compose Specification's JSON schema (vendored in
deploy/docker/compose-spec.schema.json, see deploy/docker/README.md), and its services against
the code: environment variables that the settings classes read, ports, health checks, start
order, and the databases the PostgreSQL init script creates.
"""

import fnmatch
import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from pydantic_settings import BaseSettings

from common.settings import SmtpSettings
from indicators.config import Settings as IndicatorsSettings
from notifications.config import Settings as NotificationsSettings
from projects.config import Settings as ProjectsSettings

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKER_DIR = REPO / "deploy" / "docker"
SCHEMA_FILE = DOCKER_DIR / "compose-spec.schema.json"
DOCKERFILE = DOCKER_DIR / "Dockerfile"
POSTGRES_INIT = DOCKER_DIR / "postgres-init"

# Each application service: the settings classes it is configured by, and its port (the same
# as in the local stack, deploy/local/stack.sh).
APP_SERVICES: dict[str, tuple[tuple[type[BaseSettings], ...], int]] = {
    "projects": ((ProjectsSettings,), 8001),
    "indicators": ((IndicatorsSettings,), 8002),
    "notifications": ((NotificationsSettings, SmtpSettings), 8003),
}
INFRASTRUCTURE = {"kafka", "postgres", "mailpit"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two compose syntaxes it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {key: None if value is None else str(value) for key, value in env.items()}


def env_names(settings_class: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (case-insensitive, upper-cased here)."""
    prefix = settings_class.model_config.get("env_prefix", "")
    return {f"{prefix}{name}".upper() for name in settings_class.model_fields}


def published_ports(service: dict[str, Any]) -> list[tuple[int, int]]:
    """(host port, container port) of every published port, short or long syntax."""
    ports = []
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            ports.append((int(entry["published"]), int(entry["target"])))
        else:
            parts = str(entry).split("/")[0].split(":")
            ports.append((int(parts[-2]), int(parts[-1])))
    return ports


def healthcheck_command(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return test if isinstance(test, str) else " ".join(test)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


def copied_sources() -> set[str]:
    """What the Dockerfile copies from the build context (not from other stages)."""
    sources = set()
    for keyword, args in dockerfile_instructions():
        words = args.split()
        if keyword == "COPY" and not any(w.startswith("--from") for w in words):
            sources.update(w for w in words[:-1] if not w.startswith("--"))
    return sources


def dockerfile_stages() -> list[list[tuple[str, str]]]:
    """The instructions of each build stage, global ARGs before the first FROM left out."""
    stages: list[list[tuple[str, str]]] = []
    for instruction in dockerfile_instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


# ------------------------------------------------------------------------------ the schema


def test_vendored_schema_is_the_compose_specification(schema):
    assert schema["title"] == "Compose Specification"
    jsonschema.Draft7Validator.check_schema(schema)


def test_compose_file_is_valid_against_the_compose_specification(compose, schema):
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(compose), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )


def test_the_schema_rejects_what_compose_would_reject(compose, schema):
    """The validation above is not vacuous: a misspelt key or a bad condition fails it."""
    validator = jsonschema.Draft7Validator(schema)
    misspelt = json.loads(json.dumps(compose))
    misspelt["services"]["projects"]["healthcheck"]["intervall"] = "10s"
    assert not validator.is_valid(misspelt)
    bad_condition = json.loads(json.dumps(compose))
    bad_condition["services"]["projects"]["depends_on"]["kafka"]["condition"] = "healthy"
    assert not validator.is_valid(bad_condition)


# ------------------------------------------------------------------------------ the services


def test_the_expected_services_are_defined(compose):
    assert set(compose["services"]) == INFRASTRUCTURE | set(APP_SERVICES)


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_environment_keys_are_settings_fields(compose, name):
    classes, _ = APP_SERVICES[name]
    env = environment_of(compose["services"][name])
    known = set().union(*(env_names(c) for c in classes))
    unknown = sorted(set(env) - known)
    assert not unknown, f"{name}: no settings field reads {unknown}"
    for required in ("SERVICE_NAME", "DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        assert env.get(required), f"{name}: {required} must be set"


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_environment_values_are_accepted_by_the_settings(compose, name, monkeypatch):
    classes, _ = APP_SERVICES[name]
    env = environment_of(compose["services"][name])
    for key in set().union(*(env_names(c) for c in classes)):  # not the runner's environment
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    loaded = [cls() for cls in classes]  # raises if a value has the wrong type or literal
    settings = loaded[0]
    assert settings.service_name == name
    assert urlsplit(settings.database_url).path == f"/{name}"
    assert settings.database_url.startswith("postgresql+asyncpg://")


def test_services_reach_kafka_on_its_advertised_container_listener(compose):
    advertised = environment_of(compose["services"]["kafka"])["KAFKA_ADVERTISED_LISTENERS"]
    addresses = {listener.split("://", 1)[1] for listener in advertised.split(",")}
    for name in APP_SERVICES:
        servers = environment_of(compose["services"][name])["KAFKA_BOOTSTRAP_SERVERS"]
        assert set(servers.split(",")) <= addresses, name
        assert servers == "kafka:9092"


def test_notifications_sends_mail_to_mailpit(compose):
    env = environment_of(compose["services"]["notifications"])
    assert env["SMTP_HOST"] == "mailpit"
    assert (int(env["SMTP_PORT"]), int(env["SMTP_PORT"])) in published_ports(
        compose["services"]["mailpit"]
    )


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_port_is_the_same_in_build_args_publication_and_healthcheck(compose, name):
    _, port = APP_SERVICES[name]
    service = compose["services"][name]
    assert published_ports(service) == [(port, port)]
    assert int(service["build"]["args"]["PORT"]) == port
    urls = re.findall(r"https?://[^\s'\"]+", healthcheck_command(service))
    assert [urlsplit(u).port for u in urls] == [port]
    assert [urlsplit(u).path for u in urls] == ["/health/ready"]


@pytest.mark.parametrize("name", sorted(APP_SERVICES))
def test_services_are_built_from_the_one_dockerfile(compose, name):
    build = compose["services"][name]["build"]
    assert (REPO / build["context"]).resolve() == REPO
    assert (REPO / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE
    assert build["args"]["SERVICE"] == name
    assert (REPO / "services" / name / "src" / name / "prestart.py").is_file()


def test_every_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_dependencies_wait_for_health(compose):
    services = compose["services"]
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs the long syntax"
        for dependency, spec in depends_on.items():
            assert spec.get("condition") == "service_healthy", f"{name} -> {dependency}"
            assert "healthcheck" in services[dependency], dependency
    for name in APP_SERVICES:
        assert {"postgres", "kafka"} <= set(services[name]["depends_on"]), name
    assert "mailpit" in services["notifications"]["depends_on"]


def test_infrastructure_images(compose):
    services = compose["services"]
    assert re.fullmatch(r"apache/kafka:4\.1\.\d+", services["kafka"]["image"])
    assert re.fullmatch(r"postgres:1[67](\.\d+)?", services["postgres"]["image"])
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert {(1025, 1025), (8025, 8025)} <= set(published_ports(services["mailpit"]))
    assert (5432, 5432) in published_ports(services["postgres"])
    assert 9092 in {host for host, _ in published_ports(services["kafka"])}


def test_postgres_init_script_creates_the_role_and_every_database(compose):
    mounts = compose["services"]["postgres"]["volumes"]
    assert any(
        m.split(":")[0] == "./deploy/docker/postgres-init"
        and m.split(":")[1] == "/docker-entrypoint-initdb.d"
        for m in mounts
    )
    scripts = sorted(POSTGRES_INIT.glob("*.sql")) + sorted(POSTGRES_INIT.glob("*.sh"))
    assert scripts, "no init script"
    sql = "\n".join(s.read_text(encoding="utf-8") for s in scripts)
    for name in APP_SERVICES:
        url = urlsplit(environment_of(compose["services"][name])["DATABASE_URL"])
        assert url.hostname == "postgres" and url.port == 5432
        assert re.search(
            rf"CREATE ROLE {url.username}\b[^;]*\bLOGIN\b[^;]*PASSWORD '{url.password}'", sql
        )
        assert re.search(rf"CREATE DATABASE {name} OWNER {url.username};", sql)


# ------------------------------------------------------------------------------ the Dockerfile


def test_dockerfile_is_multi_stage_with_a_non_root_runtime():
    assert DOCKERFILE.is_file()
    stages = dockerfile_stages()
    assert len(stages) >= 2, "expected a build stage and a runtime stage"
    runtime = stages[-1]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users, "the runtime stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert not any("uv" in args.split() for keyword, args in runtime if keyword == "RUN")
    assert any(
        keyword == "COPY" and "--from=build" in args and "/app/.venv" in args
        for keyword, args in runtime
    )


def test_dockerfile_installs_the_locked_workspace_for_one_service():
    instructions = dockerfile_instructions()
    syncs = [args for keyword, args in instructions if keyword == "RUN" and "uv sync" in args]
    assert syncs
    for command in syncs:
        words = shlex.split(command.split("uv sync", 1)[1])
        assert "--frozen" in words and "--no-dev" in words
        assert words[words.index("--package") + 1] == "$SERVICE"
    assert ("ARG", "SERVICE") in instructions


def test_dockerfile_copies_every_workspace_manifest():
    """uv reads the lock only with every member's pyproject.toml present."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    sources = copied_sources()
    for member in root["tool"]["uv"]["workspace"]["members"]:
        assert f"{member}/pyproject.toml" in sources, member
    assert {"pyproject.toml", "uv.lock", "libs/common", "services/${SERVICE}"} <= sources


def test_dockerfile_command_migrates_then_serves_on_all_interfaces():
    runtime = dockerfile_stages()[-1]
    cmd = [args for keyword, args in runtime if keyword == "CMD"][-1]
    script = json.loads(cmd)[-1]
    prestart = script.index('python -m "$SERVICE.prestart"')
    uvicorn = script.index('uvicorn "$SERVICE.main:app"')
    assert prestart < uvicorn
    assert "&&" in script[prestart:uvicorn]
    assert '--host 0.0.0.0 --port "$PORT"' in script
    env = " ".join(args for keyword, args in runtime if keyword == "ENV")
    assert "SERVICE=${SERVICE}" in env and "PORT=${PORT}" in env


def test_dockerignore_keeps_local_state_out_but_not_what_the_dockerfile_copies():
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    patterns = [p.strip() for p in lines if p.strip() and not p.strip().startswith("#")]
    for pattern in (".git", ".venv", ".local", "**/__pycache__"):
        assert pattern in patterns
    for source in copied_sources():
        path = source.replace("${SERVICE}", "projects")
        for pattern in patterns:
            assert not fnmatch.fnmatch(path, pattern), f"{pattern} hides {source}"
            assert not path.startswith(pattern.rstrip("/") + "/"), f"{pattern} hides {source}"
