"""The projects service as identity provider, and token verification in every service."""

import asyncio
import os
import sys
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from common.clock import ManualClock
from common.security import DEVELOPMENT_PUBLIC_KEY_FILE, Principal, Role, public_jwk
from indicators.config import Settings as IndicatorsSettings
from notifications.config import Settings as NotificationsSettings
from projects.config import Settings as ProjectsSettings
from projects.main import build_app
from projects.prestart import ensure_bootstrap_admin
from tests.integration.indicators_fixtures import indicators_service
from tests.integration.notifications_fixtures import notifications_service, service_settings
from tests.integration.projects_fixtures import (  # noqa: F401 (fixtures)
    API,
    START,
    about,
    ok,
    only_event,
    projects_fixture,
    projects_settings,
    running_projects,
    seed_department,
    seed_region,
    tap_fixture,
)
from tests.support.auth import (
    ADMIN,
    AUDIENCE,
    ISSUER,
    PUBLIC_KEY_PEM,
    SIGNING_KEY,
    auth_headers,
)
from tests.support.infra import REPO
from tests.support.kafka import of_type
from tests.support.services import RunningService

pytestmark = pytest.mark.integration

PASSWORD = "correct-horse-battery-staple"


async def password_grant(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )


async def key_grant(client: httpx.AsyncClient, key_id: str, secret: str) -> httpx.Response:
    return await client.post(
        f"{API}/auth/token",
        data={"grant_type": "client_credentials", "client_id": key_id, "client_secret": secret},
    )


def claims_of(token: str) -> dict:
    return jwt.decode(token, PUBLIC_KEY_PEM, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER)


def unique_email() -> str:
    return f"user-{uuid4().hex[:10]}@lenreg.ru"


async def create_department_user(projects) -> tuple[dict, dict]:
    """A department user of a new region; returns (user, department)."""
    region = await seed_region(projects.client)
    department = await seed_department(projects.client, region)
    body = {
        "email": unique_email(),
        "name": "Петров Иван Сергеевич",
        "password": PASSWORD,
        "role": "department",
        "department_id": department["id"],
    }
    return ok(await projects.client.post(f"{API}/users", json=body), 201), department


async def test_password_grant_issues_a_short_lived_token_carrying_the_scope(projects):
    user, department = await create_department_user(projects)
    assert "password" not in user and "password_hash" not in user
    assert user["region"] == department["region"]

    async with projects.service.client(principal=None) as anonymous:
        issued = ok(await password_grant(anonymous, user["email"].upper(), PASSWORD))
        assert issued["token_type"] == "bearer" and issued["expires_in"] == 900
        claims = claims_of(issued["access_token"])
        assert claims["sub"] == user["subject"] == f"user:{user['id']}"
        assert claims["role"] == "department"
        assert claims["department_id"] == department["id"]
        assert claims["region"] == department["region"]
        assert claims["exp"] - claims["iat"] == 900

        headers = {"Authorization": f"Bearer {issued['access_token']}"}
        assert (await anonymous.get(f"{API}/regions", headers=headers)).status_code == 200


async def test_wrong_password_unknown_email_and_inactive_user_answer_the_same_401(projects):
    user, _ = await create_department_user(projects)
    async with projects.service.client(principal=None) as anonymous:
        wrong = await password_grant(anonymous, user["email"], PASSWORD + "x")
        unknown = await password_grant(anonymous, unique_email(), PASSWORD)
        ok(await projects.client.patch(f"{API}/users/{user['id']}", json={"active": False}))
        inactive = await password_grant(anonymous, user["email"], PASSWORD)
    for response in (wrong, unknown, inactive):
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "Wrong credentials."
        assert "access_token" not in response.text


async def test_a_grant_without_its_fields_names_the_missing_field(projects):
    async with projects.service.client(principal=None) as anonymous:
        response = await anonymous.post(
            f"{API}/auth/token", data={"grant_type": "client_credentials", "client_id": "x"}
        )
        unsupported = await anonymous.post(f"{API}/auth/token", data={"grant_type": "implicit"})
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "client_secret", "message": "required for grant_type=client_credentials"}
    ]
    assert unsupported.status_code == 422
    assert unsupported.json()["errors"][0]["field"] == "grant_type"


async def test_an_api_key_is_shown_once_exchanged_for_tokens_and_revoked(projects):
    region = await seed_region(projects.client)
    department = await seed_department(projects.client, region)
    created = ok(
        await projects.client.post(
            f"{API}/api-keys",
            json={
                "name": "Учётная система",
                "role": "department",
                "department_id": department["id"],
            },
        ),
        201,
    )
    secret = created["secret"]
    assert secret.startswith(created["prefix"]) and len(secret) > 40
    assert created["last_used_at"] is None and created["revoked_at"] is None

    listed = ok(await projects.client.get(f"{API}/api-keys", params={"revoked": "false"}))
    mine = next(k for k in listed["items"] if k["id"] == created["id"])
    assert "secret" not in mine and secret not in str(listed)

    async with projects.service.client(principal=None) as machine:
        issued = ok(await key_grant(machine, created["id"], secret))
        claims = claims_of(issued["access_token"])
        assert claims["sub"] == f"api-key:{created['id']}" == created["subject"]
        assert claims["role"] == "department" and claims["department_id"] == department["id"]
        altered_last = "B" if secret.endswith("A") else "A"
        wrong_secret = await key_grant(machine, created["id"], secret[:-1] + altered_last)
        unknown_key = await key_grant(machine, str(uuid4()), secret)
        not_an_id = await key_grant(machine, "not-a-key-id", secret)

        used = ok(await projects.client.get(f"{API}/api-keys/{created['id']}"))
        assert used["last_used_at"] is not None

        revoked = await projects.client.delete(f"{API}/api-keys/{created['id']}")
        assert revoked.status_code == 204
        after_revocation = await key_grant(machine, created["id"], secret)
    for response in (wrong_secret, unknown_key, not_an_id, after_revocation):
        assert response.status_code == 401, response.text
    shown = ok(await projects.client.get(f"{API}/api-keys/{created['id']}"))
    assert shown["revoked_at"] is not None


async def test_users_and_api_keys_are_for_admins_only(projects):
    region = await seed_region(projects.client)
    coordinator = Principal(subject=f"user:{uuid4()}", role=Role.coordinator, region=region)
    async with projects.service.client(principal=coordinator) as client:
        for response in (
            await client.get(f"{API}/users"),
            await client.post(f"{API}/api-keys", json={"name": "x", "role": "admin"}),
            await client.get(f"{API}/api-keys"),
        ):
            assert response.status_code == 403
            assert response.headers["content-type"] == "application/problem+json"


async def test_a_scope_that_does_not_fit_the_role_names_the_field(projects):
    region = await seed_region(projects.client)
    base = {"email": unique_email(), "name": "Иванова Мария", "password": PASSWORD}
    cases = [
        ({"role": "department"}, "department_id"),
        ({"role": "coordinator"}, "region"),
        ({"role": "coordinator", "region": "atlantis"}, "region"),
        ({"role": "coordinator", "region": region, "sector_numbers": [9]}, "sector_numbers"),
        ({"role": "admin", "region": region}, "region"),
        ({"role": "department", "department_id": str(uuid4())}, "department_id"),
    ]
    for fields, field in cases:
        response = await projects.client.post(f"{API}/users", json={**base, **fields})
        assert response.status_code == 422, (fields, response.text)
        assert response.json()["errors"][0]["field"] == field, fields
    short = await projects.client.post(
        f"{API}/users", json={**base, "role": "admin", "password": "short"}
    )
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "password"
    listed = ok(await projects.client.get(f"{API}/users", params={"role": "coordinator"}))
    assert listed["total"] == 0


async def test_a_principal_change_is_published_once_keyed_by_its_subject(projects, tap):
    region = await seed_region(projects.client)
    body = {
        "email": unique_email(),
        "name": "Иванова Мария",
        "password": PASSWORD,
        "role": "coordinator",
        "region": region,
        "sector_numbers": [2],
    }
    user = ok(await projects.client.post(f"{API}/users", json=body), 201)
    subject = user["subject"]
    (created,) = await tap.wait_for(of_type("principal.upserted", subject=subject))
    assert created.key == subject.encode()
    assert created.envelope.data.model_dump(mode="json") == {
        "subject": subject,
        "kind": "user",
        "role": "coordinator",
        "region": region,
        "department_id": None,
        "sector_numbers": [2],
        "active": True,
        "coordinator_id": None,
    }
    assert PASSWORD not in created.value.decode() and "argon2" not in created.value.decode()

    # A new name or password is not part of the principal: no event.
    ok(
        await projects.client.patch(
            f"{API}/users/{user['id']}", json={"name": "Иванова М. П.", "password": PASSWORD * 2}
        )
    )
    ok(await projects.client.patch(f"{API}/users/{user['id']}", json={"active": False}))
    await tap.wait_for(of_type("principal.upserted", subject=subject), count=2)
    await tap.settle()
    events = tap.matching(about(subject))
    assert [e.envelope.data.active for e in events] == [True, False]


async def seed_coordinator(client: httpx.AsyncClient, region: str) -> dict:
    """A new coordinator record of a region."""
    body = {
        "region": region,
        "name": "Иванова Мария Петровна",
        "email": f"coord-{uuid4().hex[:10]}@gov.example.ru",
    }
    return ok(await client.post(f"{API}/coordinators", json=body), 201)


def coordinator_user(region: str, **fields) -> dict:
    """The body of a new coordinator user of a region."""
    return {
        "email": unique_email(),
        "name": "Иванова Мария Петровна",
        "password": PASSWORD,
        "role": "coordinator",
        "region": region,
        **fields,
    }


async def test_a_coordinator_user_linked_to_its_coordinator_gets_the_claim(projects, tap):
    region = await seed_region(projects.client)
    coordinator = await seed_coordinator(projects.client, region)
    linked = ok(
        await projects.client.post(
            f"{API}/users", json=coordinator_user(region, coordinator_id=coordinator["id"])
        ),
        201,
    )
    desk = ok(await projects.client.post(f"{API}/users", json=coordinator_user(region)), 201)
    async with projects.service.client(principal=None) as anonymous:
        linked_token = ok(await password_grant(anonymous, linked["email"], PASSWORD))
        desk_token = ok(await password_grant(anonymous, desk["email"], PASSWORD))
        headers = {"Authorization": f"Bearer {linked_token['access_token']}"}
        regions = await anonymous.get(f"{API}/regions", headers=headers)
    assert linked["coordinator_id"] == coordinator["id"]
    assert (
        ok(await projects.client.get(f"{API}/users/{linked['id']}"))["coordinator_id"]
        == (coordinator["id"])
    )
    assert claims_of(linked_token["access_token"])["coordinator_id"] == coordinator["id"]
    assert desk["coordinator_id"] is None
    assert "coordinator_id" not in claims_of(desk_token["access_token"])
    assert regions.status_code == 200
    event = await only_event(tap, "principal.upserted", linked["subject"])
    assert str(event.coordinator_id) == coordinator["id"]


async def test_a_coordinator_link_must_name_a_coordinator_of_the_users_region(projects):
    region, elsewhere = await seed_region(projects.client), await seed_region(projects.client)
    department = await seed_department(projects.client, region)
    foreign = await seed_coordinator(projects.client, elsewhere)
    own = await seed_coordinator(projects.client, region)
    cases = [
        coordinator_user(region, coordinator_id=str(uuid4())),
        coordinator_user(region, coordinator_id=foreign["id"]),
        {
            **coordinator_user(region, coordinator_id=own["id"]),
            "role": "department",
            "region": None,
            "department_id": department["id"],
        },
        {**coordinator_user(region, coordinator_id=own["id"]), "role": "admin", "region": None},
    ]
    for body in cases:
        response = await projects.client.post(f"{API}/users", json=body)
        assert response.status_code == 422, (body, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["coordinator_id"], body
    # An API key is a machine, never a coordinator's own login.
    key = await projects.client.post(
        f"{API}/api-keys",
        json={"name": "x", "role": "coordinator", "region": region, "coordinator_id": own["id"]},
    )
    assert key.status_code == 422 and key.json()["errors"][0]["field"] == "coordinator_id"
    listed = ok(await projects.client.get(f"{API}/users"))
    assert listed["total"] == 0


async def test_changing_a_users_link_or_region_keeps_the_link_consistent(projects, tap):
    region, elsewhere = await seed_region(projects.client), await seed_region(projects.client)
    here, there = (
        await seed_coordinator(projects.client, region),
        await seed_coordinator(projects.client, elsewhere),
    )
    department = await seed_department(projects.client, elsewhere)
    user = ok(await projects.client.post(f"{API}/users", json=coordinator_user(region)), 201)
    path = f"{API}/users/{user['id']}"

    linked = ok(await projects.client.patch(path, json={"coordinator_id": here["id"]}))
    foreign = await projects.client.patch(path, json={"coordinator_id": there["id"]})
    # A kept link is checked against a new region: the move must name a coordinator there.
    moved_alone = await projects.client.patch(path, json={"region": elsewhere})
    unchanged = ok(await projects.client.get(path))
    moved = ok(
        await projects.client.patch(path, json={"region": elsewhere, "coordinator_id": there["id"]})
    )
    unlinked = ok(await projects.client.patch(path, json={"coordinator_id": None}))
    relinked = ok(await projects.client.patch(path, json={"coordinator_id": there["id"]}))
    demoted = ok(
        await projects.client.patch(
            path, json={"role": "department", "department_id": department["id"]}
        )
    )
    async with projects.service.client(principal=None) as anonymous:
        token = ok(await password_grant(anonymous, user["email"], PASSWORD))["access_token"]

    assert linked["coordinator_id"] == here["id"]
    for refused in (foreign, moved_alone):
        assert refused.status_code == 422, refused.text
        assert refused.json()["errors"][0]["field"] == "coordinator_id"
    assert (unchanged["region"], unchanged["coordinator_id"]) == (region, here["id"])
    assert (moved["region"], moved["coordinator_id"]) == (elsewhere, there["id"])
    assert unlinked["coordinator_id"] is None and relinked["coordinator_id"] == there["id"]
    assert demoted["role"] == "department" and demoted["coordinator_id"] is None
    assert "coordinator_id" not in claims_of(token)
    await tap.wait_for(of_type("principal.upserted", subject=user["subject"]), count=6)
    await tap.settle()
    published = [e.envelope.data.coordinator_id for e in tap.matching(about(user["subject"]))]
    as_text = [str(c) if c else None for c in published]
    assert as_text == [None, here["id"], there["id"], None, there["id"], None]


async def test_the_bootstrap_admin_is_created_once_and_can_sign_in(database_factory, tap):
    url = await database_factory("projects")
    email = unique_email()
    settings = projects_settings(
        url, bootstrap_admin_email=email, bootstrap_admin_password=PASSWORD
    )
    await ensure_bootstrap_admin(settings)
    await ensure_bootstrap_admin(settings)
    changed = projects_settings(
        url, bootstrap_admin_email=email, bootstrap_admin_password=PASSWORD + "-new"
    )
    await ensure_bootstrap_admin(changed)

    service = await RunningService(
        lambda: build_app(changed, ManualClock(datetime.now(UTC)))
    ).start()
    try:
        async with service.client(principal=None) as anonymous:
            old = await password_grant(anonymous, email, PASSWORD)
            issued = ok(await password_grant(anonymous, email, PASSWORD + "-new"))
        async with service.client() as admin:
            users = ok(await admin.get(f"{API}/users", params={"role": "admin"}))
    finally:
        await service.stop()
    assert old.status_code == 401
    assert claims_of(issued["access_token"])["role"] == "admin"
    assert [u["email"] for u in users["items"]] == [email]
    subject = users["items"][0]["subject"]
    await tap.wait_for(of_type("principal.upserted", subject=subject))
    await tap.settle()
    assert len(tap.matching(about(subject))) == 1


async def test_the_jwks_publishes_the_key_tokens_are_signed_with(projects):
    async with projects.service.client(principal=None) as anonymous:
        jwks = ok(await anonymous.get("/.well-known/jwks.json"))
        user, _ = await create_department_user(projects)
        token = ok(await password_grant(anonymous, user["email"], PASSWORD))["access_token"]
    assert jwks["keys"] == [public_jwk(SIGNING_KEY.public_key())]
    (jwk,) = jwks["keys"]
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    verified = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]], audience=AUDIENCE, issuer=ISSUER
    )
    assert verified["sub"] == user["subject"]


async def test_the_token_endpoint_spends_the_address_budget_whatever_headers_it_gets(
    database_factory,
):
    url = await database_factory("projects")
    service = await running_projects(
        url, ManualClock(START), anonymous_rate_limit_per_second=0.01, anonymous_rate_limit_burst=4
    ).start()
    try:
        # Calls with a valid token spend nothing of the address budget while they succeed.
        async with service.client() as admin:
            region = await seed_region(admin)
            department = await seed_department(admin, region)
            user = ok(
                await admin.post(
                    f"{API}/users",
                    json={
                        "email": unique_email(),
                        "name": "Петров Иван Сергеевич",
                        "password": PASSWORD,
                        "role": "department",
                        "department_id": department["id"],
                    },
                ),
                201,
            )
            async with service.client(principal=None) as anonymous:
                without_credentials = await password_grant(anonymous, user["email"], PASSWORD)
                # The token endpoint ignores a bearer token, so sending one buys no free call.
                with_a_token = await password_grant(admin, user["email"], PASSWORD)
                anonymous.headers["Authorization"] = "Bearer not.a.token"
                with_garbage = await password_grant(anonymous, user["email"], PASSWORD)
                del anonymous.headers["Authorization"]
                last = await password_grant(anonymous, user["email"], PASSWORD)
                limited = await password_grant(anonymous, user["email"], PASSWORD)
                limited_with_a_token = await password_grant(admin, user["email"], PASSWORD)
    finally:
        await service.stop()
    for granted in (without_credentials, with_a_token, with_garbage, last):
        assert granted.status_code == 200, granted.text
    for refused in (limited, limited_with_a_token):
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1


def bad_credentials() -> dict[str, dict[str, str]]:
    """Authorization headers every service must refuse, by what is wrong with them."""
    now = datetime.now(UTC)
    return {
        "none": {},
        "not a bearer": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "garbage": {"Authorization": "Bearer not.a.token"},
        "expired": auth_headers(
            ADMIN, now=now - timedelta(hours=1), expires_in=timedelta(minutes=5)
        ),
        "forged": auth_headers(ADMIN, key=Ed25519PrivateKey.generate()),
        "wrong audience": auth_headers(ADMIN, audience="someone-else"),
        "wrong issuer": auth_headers(ADMIN, issuer="someone-else"),
        "unsigned": {
            "Authorization": "Bearer "
            + jwt.encode(
                {"sub": "x", "role": "admin", "aud": AUDIENCE, "iss": ISSUER}, None, "none"
            )
        },
    }


async def assert_token_enforced(client: httpx.AsyncClient, path: str) -> None:
    for case, headers in bad_credentials().items():
        response = await client.get(path, headers=headers)
        assert response.status_code == 401, (case, response.text)
        assert response.headers["content-type"] == "application/problem+json", case
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"', case
    assert (await client.get(path, headers=auth_headers(ADMIN))).status_code == 200
    for open_path in ("/health/live", "/metrics", "/openapi.json", "/docs"):
        assert (await client.get(open_path)).status_code == 200, open_path
    schemes = (await client.get("/openapi.json")).json()["components"]["securitySchemes"]
    assert schemes == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token from `POST /api/v1/auth/token` of the projects service.",
        }
    }


async def test_projects_refuses_missing_expired_forged_and_foreign_tokens(projects):
    async with projects.service.client(principal=None) as client:
        await assert_token_enforced(client, f"{API}/regions")


async def test_indicators_refuses_missing_expired_forged_and_foreign_tokens(database_factory):
    url = await database_factory("indicators")
    service = await indicators_service(url, ManualClock(datetime.now(UTC))).start()
    try:
        async with service.client(principal=None) as client:
            await assert_token_enforced(client, f"{API}/indicators")
    finally:
        await service.stop()


async def test_notifications_refuses_missing_expired_forged_and_foreign_tokens(database_factory):
    url = await database_factory("notifications")
    async with notifications_service(service_settings(url)) as service:
        async with service.client(principal=None) as client:
            await assert_token_enforced(client, f"{API}/alerts")


@pytest.mark.parametrize(
    "settings_class", [ProjectsSettings, IndicatorsSettings, NotificationsSettings]
)
def test_settings_refuse_a_missing_or_development_key_outside_development(
    settings_class, monkeypatch
):
    monkeypatch.delenv("JWT_PUBLIC_KEY")
    monkeypatch.delenv("JWT_PRIVATE_KEY")
    with pytest.raises(ValidationError, match="JWT_PUBLIC_KEY is required in the production"):
        settings_class(environment="production")
    development_key = DEVELOPMENT_PUBLIC_KEY_FILE.read_text()
    with pytest.raises(ValidationError, match="JWT_PUBLIC_KEY is the committed development key"):
        settings_class(environment="production", jwt_public_key=development_key)
    assert settings_class(environment="development").jwt_public_key == development_key


async def test_a_service_refuses_to_start_in_production_with_the_development_key():
    env = {
        **os.environ,
        "ENVIRONMENT": "production",
        "JWT_PUBLIC_KEY": str(DEVELOPMENT_PUBLIC_KEY_FILE),
        "DATABASE_URL": "postgresql+asyncpg://strategy:strategy@127.0.0.1:1/none",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uvicorn",
        "indicators.main:app",
        "--port",
        "0",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode != 0
    assert b"JWT_PUBLIC_KEY is the committed development key" in output
