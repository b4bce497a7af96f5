"""Users, API keys and the credentials exchanged for access tokens; every change is an event."""

import asyncio
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from common.db import UnitOfWork
from common.events import PrincipalKind, PrincipalUpserted
from common.logging import get_logger
from common.pagination import PageParams
from common.problems import Conflict, NotFound, Unprocessable
from common.security import Principal, Role, issue_token
from projects.catalogue.service import require_region, require_sectors
from projects.departments.models import Coordinator, Department
from projects.identity.models import ApiKey, User
from projects.identity.schemas import ApiKeyCreate, Scope, UserCreate, UserUpdate
from projects.persistence import apply_changes, find_by, flush_or_conflict, paginate
from projects.validation import patch_values

log = get_logger(__name__)

# The secret is random enough (256 bits) that a plain SHA-256 is a safe way to store it.
API_KEY_SECRET_PREFIX = "smk_"
API_KEY_SHOWN_PREFIX_LENGTH = len(API_KEY_SECRET_PREFIX) + 8
_hasher = PasswordHasher()
# Verified against when the email is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
# A user's fields that decide the principal its tokens name; a change re-checks them together.
USER_SCOPE_FIELDS = frozenset({*Scope.model_fields, "coordinator_id"})


class BadCredentials(Exception):
    """The credentials do not identify an active user or a live key (which part is not said)."""


@dataclass(frozen=True)
class SignedToken:
    """An issued access token and its lifetime in seconds."""

    access_token: str
    expires_in: int


def user_subject(user_id: UUID) -> str:
    """The `sub` of a user's tokens."""
    return f"user:{user_id}"


def api_key_subject(key_id: UUID) -> str:
    """The `sub` of an API key's tokens."""
    return f"api-key:{key_id}"


def hash_password(password: str) -> str:
    """An argon2id hash of a password."""
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Whether the password is the one hashed (argon2 compares in constant time)."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def secret_hash(secret: str) -> str:
    """The stored form of an API key secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_api_key_secret() -> str:
    """A fresh API key secret: a recognisable prefix and 256 random bits."""
    return API_KEY_SECRET_PREFIX + secrets.token_urlsafe(32)


def principal_of(row: User | ApiKey) -> Principal:
    """The principal a user or API key acts as."""
    subject = user_subject(row.id) if isinstance(row, User) else api_key_subject(row.id)
    return Principal(
        subject=subject,
        role=Role(row.role),
        region=row.region,
        department_id=row.department_id,
        sector_numbers=list(row.sector_numbers),
        coordinator_id=row.coordinator_id if isinstance(row, User) else None,
    )


def principal_event(row: User | ApiKey) -> PrincipalUpserted:
    """The principal.upserted event carrying a user's or key's role, scope and activity."""
    principal = principal_of(row)
    if isinstance(row, User):
        kind, active = PrincipalKind.user, row.active
    else:
        kind, active = PrincipalKind.api_key, row.revoked_at is None
    return PrincipalUpserted(
        subject=principal.subject,
        kind=kind,
        role=principal.role.value,
        region=principal.region,
        department_id=principal.department_id,
        sector_numbers=principal.sector_numbers,
        active=active,
        coordinator_id=principal.coordinator_id,
    )


def _refuse(field: str, message: str) -> Unprocessable:
    return Unprocessable(f"{field}: {message}", errors=[{"field": field, "message": message}])


async def resolve_scope(session: AsyncSession, scope: Scope) -> dict[str, Any]:
    """Role, region, department and sectors as stored; 422 naming a field that does not fit."""
    if scope.role is Role.admin:
        for field in ("region", "department_id"):
            if getattr(scope, field) is not None:
                raise _refuse(field, "an admin has no scope")
        if scope.sector_numbers:
            raise _refuse("sector_numbers", "an admin has no scope")
        region, department_id = None, None
    elif scope.role is Role.coordinator:
        if scope.region is None:
            raise _refuse("region", "a coordinator needs a region")
        if scope.department_id is not None:
            raise _refuse("department_id", "a coordinator acts for a region, not a department")
        await require_region(session, scope.region)
        await require_sectors(session, scope.region, scope.sector_numbers)
        region, department_id = scope.region, None
    else:
        if scope.department_id is None:
            raise _refuse("department_id", "a department principal needs its department")
        if scope.sector_numbers:
            raise _refuse("sector_numbers", "a department principal has no sectors")
        department = await session.get(Department, scope.department_id)
        if department is None:
            raise _refuse("department_id", f"no department {scope.department_id}")
        if scope.region is not None and scope.region != department.region:
            raise _refuse("region", f"the department belongs to region {department.region!r}")
        region, department_id = department.region, department.id
    return {
        "role": scope.role.value,
        "region": region,
        "department_id": department_id,
        "sector_numbers": list(scope.sector_numbers),
    }


async def resolve_coordinator_link(
    session: AsyncSession, scope: dict[str, Any], coordinator_id: UUID | None
) -> UUID | None:
    """The coordinator record a user with this resolved scope is; 422 on coordinator_id otherwise."""
    if coordinator_id is None:
        return None
    if scope["role"] != Role.coordinator:
        raise _refuse("coordinator_id", "only a coordinator user is a coordinator record")
    coordinator = await session.get(Coordinator, coordinator_id)
    if coordinator is None:
        raise _refuse("coordinator_id", f"no coordinator {coordinator_id}")
    if coordinator.region != scope["region"]:
        raise _refuse(
            "coordinator_id",
            f"the coordinator belongs to region {coordinator.region!r}, "
            f"not the user's {scope['region']!r}",
        )
    return coordinator.id


def _duplicate_email(email: str) -> Conflict:
    return Conflict(
        f"A user with email {email!r} already exists",
        errors=[{"field": "email", "message": "already exists"}],
    )


async def get_user(session: AsyncSession, user_id: UUID) -> User:
    """The user, or 404."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} does not exist")
    return user


async def list_users(
    session: AsyncSession, page: PageParams, *, role: Role | None, active: bool | None
) -> tuple[list[User], int]:
    """Users by email, optionally of one role or activity, one page, with the total."""
    query = select(User)
    if role is not None:
        query = query.where(User.role == role.value)
    if active is not None:
        query = query.where(User.active == active)
    return await paginate(session, query, page, User.email)


async def create_user(uow: UnitOfWork, data: UserCreate) -> User:
    """A new user; 409 when the email is taken."""
    session = uow.session
    scope = await resolve_scope(session, data)
    coordinator_id = await resolve_coordinator_link(session, scope, data.coordinator_id)
    if await find_by(session, User, email=data.email) is not None:
        raise _duplicate_email(data.email)
    password_hash = await asyncio.to_thread(hash_password, data.password)
    user = User(
        email=data.email,
        name=data.name,
        password_hash=password_hash,
        active=data.active,
        coordinator_id=coordinator_id,
        **scope,
    )
    session.add(user)
    await flush_or_conflict(session, f"A user with email {data.email!r} already exists", "email")
    uow.publish(principal_event(user))
    log.info("user created", user_id=str(user.id), role=user.role)
    return user


async def update_user(uow: UnitOfWork, user_id: UUID, update: UserUpdate) -> User:
    """Change a user; role and scope are re-checked together; an event when they changed."""
    session = uow.session
    values = patch_values(update, nullable=frozenset({"coordinator_id"}))
    user = await session.get(User, user_id, with_for_update=True)
    if user is None:
        raise NotFound(f"User {user_id} does not exist")
    password = values.pop("password", None)
    if USER_SCOPE_FIELDS & values.keys():
        role = values.pop("role", user.role)
        # A new role starts from an empty scope; the same role keeps what the body leaves out
        # (a kept link is checked again against a new region, never silently dropped).
        kept = (
            {}
            if role != user.role
            else {
                "region": user.region if user.role == Role.coordinator else None,
                "department_id": user.department_id,
                "sector_numbers": list(user.sector_numbers),
                "coordinator_id": user.coordinator_id,
            }
        )
        changed = {k: values.pop(k) for k in list(values) if k in USER_SCOPE_FIELDS}
        merged = {**kept, **changed}
        coordinator_id = merged.pop("coordinator_id", None)
        scope = await resolve_scope(session, Scope(role=role, **merged))
        values.update(scope)
        values["coordinator_id"] = await resolve_coordinator_link(session, scope, coordinator_id)
    if password is not None:
        user.password_hash = await asyncio.to_thread(hash_password, password)
        log.info("user password changed", user_id=str(user.id))
    before = principal_event(user)
    if apply_changes(user, values):
        log.info("user updated", user_id=str(user.id), fields=sorted(values))
    await session.flush()
    # Names and passwords are not part of the principal the other services know.
    if principal_event(user) != before:
        uow.publish(principal_event(user))
    return user


async def upsert_bootstrap_admin(uow: UnitOfWork, email: str, password: str) -> User:
    """Make the configured admin exist, be active and have the configured password."""
    session = uow.session
    user = await find_by(session, User, lock=True, email=email.lower())
    if user is None:
        user = User(
            email=email.lower(),
            name="Администратор",
            password_hash=await asyncio.to_thread(hash_password, password),
            role=Role.admin.value,
            sector_numbers=[],
            active=True,
        )
        session.add(user)
        await session.flush()
        uow.publish(principal_event(user))
        log.info("bootstrap admin created", user_id=str(user.id))
        return user
    if not await asyncio.to_thread(password_matches, user.password_hash, password):
        user.password_hash = await asyncio.to_thread(hash_password, password)
        log.info("bootstrap admin password reset", user_id=str(user.id))
    values = {
        "role": Role.admin.value,
        "region": None,
        "department_id": None,
        "sector_numbers": [],
        "coordinator_id": None,
    }
    if apply_changes(user, {**values, "active": True}):
        uow.publish(principal_event(user))
        log.info("bootstrap admin restored", user_id=str(user.id))
    await session.flush()
    return user


async def get_api_key(session: AsyncSession, key_id: UUID) -> ApiKey:
    """The API key, or 404."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"API key {key_id} does not exist")
    return key


async def list_api_keys(
    session: AsyncSession, page: PageParams, *, revoked: bool | None
) -> tuple[list[ApiKey], int]:
    """API keys, newest first, optionally only revoked or live ones, one page, with the total."""
    query = select(ApiKey)
    if revoked is not None:
        query = query.where(
            ApiKey.revoked_at.is_not(None) if revoked else ApiKey.revoked_at.is_(None)
        )
    return await paginate(session, query, page, ApiKey.created_at.desc(), ApiKey.id)


async def create_api_key(uow: UnitOfWork, data: ApiKeyCreate) -> tuple[ApiKey, str]:
    """A new key and its secret, which is returned here and never stored in the clear."""
    session = uow.session
    scope = await resolve_scope(session, data)
    secret = new_api_key_secret()
    key = ApiKey(
        name=data.name,
        prefix=secret[:API_KEY_SHOWN_PREFIX_LENGTH],
        secret_hash=secret_hash(secret),
        **scope,
    )
    session.add(key)
    await session.flush()
    uow.publish(principal_event(key))
    log.info("api key created", api_key_id=str(key.id), role=key.role)
    return key, secret


async def revoke_api_key(uow: UnitOfWork, key_id: UUID, now: datetime) -> ApiKey:
    """Revoke a key for good; revoking it again changes nothing."""
    key = await uow.session.get(ApiKey, key_id, with_for_update=True)
    if key is None:
        raise NotFound(f"API key {key_id} does not exist")
    if key.revoked_at is None:
        key.revoked_at = now
        await uow.session.flush()
        uow.publish(principal_event(key))
        log.info("api key revoked", api_key_id=str(key.id))
    return key


async def authenticate_user(session: AsyncSession, email: str, password: str) -> User:
    """The active user with this email and password; BadCredentials otherwise."""
    user = await find_by(session, User, email=email.strip().lower())
    stored = user.password_hash if user is not None else _DUMMY_HASH
    matches = await asyncio.to_thread(password_matches, stored, password)
    if user is None or not matches or not user.active:
        raise BadCredentials
    return user


async def authenticate_api_key(
    session: AsyncSession, client_id: str, client_secret: str, now: datetime
) -> ApiKey:
    """The live key with this id and secret, its last use stamped; BadCredentials otherwise."""
    try:
        key_id = UUID(client_id)
    except ValueError:
        raise BadCredentials from None
    key = await session.get(ApiKey, key_id, with_for_update=True)
    stored = key.secret_hash if key is not None else secret_hash("")
    matches = hmac.compare_digest(stored, secret_hash(client_secret))
    if key is None or not matches or key.revoked_at is not None:
        raise BadCredentials
    key.last_used_at = now
    await session.flush()
    return key


def sign_access_token(
    row: User | ApiKey,
    *,
    private_key: Ed25519PrivateKey,
    issuer: str,
    audience: str,
    lifetime_seconds: int,
    now: datetime,
) -> SignedToken:
    """An access token for the user or key."""
    token = issue_token(
        principal_of(row),
        private_key=private_key,
        issuer=issuer,
        audience=audience,
        lifetime=timedelta(seconds=lifetime_seconds),
        now=now,
    )
    return SignedToken(access_token=token, expires_in=lifetime_seconds)
