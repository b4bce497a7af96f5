"""HTTP API of the identity provider: the token endpoint, the JWKS, users and API keys."""

from datetime import UTC, datetime
from typing import Annotated, Literal
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Form, HTTPException, Query, Request, status

from common.authorization import ADMIN_ONLY
from common.logging import get_logger
from common.pagination import Page, PageDep
from common.problems import Unprocessable
from common.security import Role, load_private_key, public_jwk
from common.web import AnonymousRouter, UnitOfWorkDep
from projects.dependencies import ClockDep
from projects.identity import service
from projects.identity.models import ApiKey, User
from projects.identity.schemas import (
    AccessToken,
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyPublic,
    Jwks,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from projects.responses import CONFLICT, FORBIDDEN, INVALID, NOT_FOUND, UNAUTHORIZED, page_of

log = get_logger(__name__)

auth_router = AnonymousRouter(tags=["identity"])
jwks_router = APIRouter(tags=["identity"])
# Users and API keys are managed by admins only: every route of this router refuses anyone else
# before it reads the request.
router = APIRouter(tags=["identity"], dependencies=[ADMIN_ONLY])


def user_view(user: User) -> UserPublic:
    """A user as the API shows it."""
    return UserPublic.model_validate(
        {**user.model_dump(exclude={"password_hash"}), "subject": service.user_subject(user.id)}
    )


def api_key_view(key: ApiKey) -> ApiKeyPublic:
    """An API key as listed."""
    return ApiKeyPublic.model_validate(
        {**key.model_dump(exclude={"secret_hash"}), "subject": service.api_key_subject(key.id)}
    )


def signing_key(request: Request) -> Ed25519PrivateKey:
    """The application's signing key, loaded from its settings on first use."""
    key = getattr(request.app.state, "signing_key", None)
    if key is None:
        key = load_private_key(request.app.state.settings.jwt_private_key.get_secret_value())
        request.app.state.signing_key = key
    return key


def _missing(field: str, grant: str) -> Unprocessable:
    message = f"required for grant_type={grant}"
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])


@auth_router.post(
    "/auth/token",
    summary="Exchange credentials for an access token",
    responses={**UNAUTHORIZED, **INVALID},
)
async def issue_token(
    request: Request,
    uow: UnitOfWorkDep,
    clock: ClockDep,
    grant_type: Annotated[
        Literal["password", "client_credentials"],
        Form(description="`password` for people, `client_credentials` for API keys"),
    ],
    username: Annotated[str | None, Form(max_length=320, description="A user's email")] = None,
    password: Annotated[str | None, Form(max_length=256, description="A user's password")] = None,
    client_id: Annotated[str | None, Form(max_length=64, description="An API key's id")] = None,
    client_secret: Annotated[
        str | None, Form(max_length=256, description="An API key's secret")
    ] = None,
    scope: Annotated[
        str, Form(max_length=1000, description="Ignored: the scope is the principal's")
    ] = "",
) -> AccessToken:
    """OAuth2 password or client-credentials grant; 401 without saying which part was wrong."""
    del scope  # OAuth2 clients send it; a token always carries the principal's whole scope
    try:
        if grant_type == "password":
            if not username:
                raise _missing("username", grant_type)
            if not password:
                raise _missing("password", grant_type)
            row: User | ApiKey = await service.authenticate_user(uow.session, username, password)
        else:
            if not client_id:
                raise _missing("client_id", grant_type)
            if not client_secret:
                raise _missing("client_secret", grant_type)
            row = await service.authenticate_api_key(
                uow.session, client_id, client_secret, clock.now()
            )
    except service.BadCredentials:
        log.info("token refused", grant_type=grant_type)
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Wrong credentials.",
            headers={"WWW-Authenticate": 'Bearer realm="strategy-monitor"'},
        ) from None
    await uow.commit()
    settings = request.app.state.settings
    # Verifiers check expiry against their wall clock, so the token is stamped with it too.
    signed = service.sign_access_token(
        row,
        private_key=signing_key(request),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        lifetime_seconds=settings.access_token_lifetime_seconds,
        now=datetime.now(UTC),
    )
    log.info("token issued", grant_type=grant_type, subject=service.principal_of(row).subject)
    return AccessToken(access_token=signed.access_token, expires_in=signed.expires_in)


@jwks_router.get("/.well-known/jwks.json", summary="The public key that verifies access tokens")
async def jwks(request: Request) -> Jwks:
    """The JWKS other services and clients may verify access tokens with."""
    return Jwks(keys=[public_jwk(signing_key(request).public_key())])


RoleFilter = Annotated[Role | None, Query(description="Only users of this role")]
ActiveFilter = Annotated[bool | None, Query(description="Only active (true) or inactive (false)")]


@router.get("/users", summary="List users", response_model=Page[UserPublic], responses=FORBIDDEN)
async def list_users(
    uow: UnitOfWorkDep,
    page: PageDep,
    role: RoleFilter = None,
    active: ActiveFilter = None,
) -> Page[UserPublic]:
    """Users by email, optionally of one role or activity."""
    rows, total = await service.list_users(uow.session, page, role=role, active=active)
    return page_of(rows, total, page, user_view)


@router.post(
    "/users",
    summary="Create a user",
    status_code=status.HTTP_201_CREATED,
    responses={**FORBIDDEN, **CONFLICT, **INVALID},
)
async def create_user(data: UserCreate, uow: UnitOfWorkDep) -> UserPublic:
    """A new user with a role and scope; 409 when the email is taken."""
    user = await service.create_user(uow, data)
    await uow.commit()
    return user_view(user)


@router.get("/users/{user_id}", summary="Get a user", responses={**FORBIDDEN, **NOT_FOUND})
async def get_user(user_id: UUID, uow: UnitOfWorkDep) -> UserPublic:
    """One user."""
    return user_view(await service.get_user(uow.session, user_id))


@router.patch(
    "/users/{user_id}",
    summary="Change a user",
    responses={**FORBIDDEN, **NOT_FOUND, **INVALID},
)
async def update_user(user_id: UUID, data: UserUpdate, uow: UnitOfWorkDep) -> UserPublic:
    """Change name, password, role, scope or the active flag; principal.upserted when the role, scope or activity changed."""
    user = await service.update_user(uow, user_id, data)
    await uow.commit()
    return user_view(user)


RevokedFilter = Annotated[bool | None, Query(description="Only revoked (true) or live (false)")]


@router.get(
    "/api-keys",
    summary="List API keys",
    response_model=Page[ApiKeyPublic],
    responses=FORBIDDEN,
)
async def list_api_keys(
    uow: UnitOfWorkDep, page: PageDep, revoked: RevokedFilter = None
) -> Page[ApiKeyPublic]:
    """API keys with their prefix and last use, newest first; never a secret."""
    rows, total = await service.list_api_keys(uow.session, page, revoked=revoked)
    return page_of(rows, total, page, api_key_view)


@router.post(
    "/api-keys",
    summary="Create an API key",
    status_code=status.HTTP_201_CREATED,
    responses={**FORBIDDEN, **INVALID},
)
async def create_api_key(data: ApiKeyCreate, uow: UnitOfWorkDep) -> ApiKeyIssued:
    """A new key; its secret is in this answer only (exchange it at /auth/token)."""
    key, secret = await service.create_api_key(uow, data)
    await uow.commit()
    return ApiKeyIssued(**api_key_view(key).model_dump(), secret=secret)


@router.get("/api-keys/{key_id}", summary="Get an API key", responses={**FORBIDDEN, **NOT_FOUND})
async def get_api_key(key_id: UUID, uow: UnitOfWorkDep) -> ApiKeyPublic:
    """One API key, without its secret."""
    return api_key_view(await service.get_api_key(uow.session, key_id))


@router.delete(
    "/api-keys/{key_id}",
    summary="Revoke an API key",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**FORBIDDEN, **NOT_FOUND},
)
async def revoke_api_key(key_id: UUID, uow: UnitOfWorkDep, clock: ClockDep) -> None:
    """Revoke the key: it can no longer be exchanged for tokens (issued ones expire soon)."""
    await service.revoke_api_key(uow, key_id, clock.now())
    await uow.commit()
