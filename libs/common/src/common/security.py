"""The caller's identity: a short-lived bearer JWT signed by the projects service.

Every service verifies tokens locally with the issuer's public key (Ed25519, `EdDSA`), checking
signature, expiry, issuer and audience; no request ever calls the projects service back.
"""

import base64
import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID, uuid4

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, ValidationError, model_validator

from common.logging import get_logger

if TYPE_CHECKING:
    from common.settings import ServiceSettings

ALGORITHM = "EdDSA"
# Tolerated clock difference between the issuer and a verifier, for exp, nbf and iat.
LEEWAY_SECONDS = 10
# Verified tokens a service remembers (see TokenVerifier); far more than its active clients.
VERIFIED_TOKENS_KEPT = 4096
# The committed keypair, for development only: any other environment refuses to start with it.
DEV_KEYS = Path(__file__).parent / "dev_keys"
DEVELOPMENT_PRIVATE_KEY_FILE = DEV_KEYS / "dev-jwt-private.pem"
DEVELOPMENT_PUBLIC_KEY_FILE = DEV_KEYS / "dev-jwt-public.pem"
INVALID_TOKEN_CHALLENGE = {"WWW-Authenticate": 'Bearer error="invalid_token"'}

log = get_logger(__name__)


class Role(StrEnum):
    """What kind of principal is calling."""

    admin = "admin"
    coordinator = "coordinator"
    department = "department"


class Principal(BaseModel):
    """Who is calling and the scope they act in."""

    subject: str
    role: Role
    region: str | None = None
    department_id: UUID | None = None
    sector_numbers: list[int] = []
    coordinator_id: UUID | None = Field(
        None,
        description=(
            "The coordinator record a coordinator's login is; it then manages only that "
            "coordinator's subscriptions. None for other roles and for a shared desk."
        ),
    )

    @model_validator(mode="after")
    def _coordinator_link_needs_the_role(self) -> "Principal":
        # A department or admin naming a coordinator would be acting as someone it is not.
        if self.coordinator_id is not None and self.role is not Role.coordinator:
            raise ValueError("only a coordinator may name the coordinator it is")
        return self


class InvalidToken(Exception):
    """A bearer token that is malformed, forged, expired or meant for someone else."""


def read_pem(value: str) -> str:
    """PEM text as given, or the contents of the file the value names."""
    if value.lstrip().startswith("-----BEGIN"):
        # Environment files often carry a PEM on one line with escaped newlines.
        return value.replace("\\n", "\n")
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValueError(f"neither PEM text nor a readable file: {value!r}")
    return path.read_text(encoding="ascii")


def load_public_key(pem: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM text; ValueError otherwise."""
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the token verification key must be an Ed25519 public key")
    return key


def load_private_key(pem: str) -> Ed25519PrivateKey:
    """An unencrypted Ed25519 private key from PEM text; ValueError otherwise."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the token signing key must be an Ed25519 private key")
    return key


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's RFC 7638 JWK thumbprint, used as `kid` in token headers and the JWKS."""
    canonical = json.dumps(
        {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw(public_key))},
        separators=(",", ":"),
        sort_keys=True,
    )
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    """The public key as a JWK (RFC 8037), for a JWKS document."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(_raw(public_key)),
        "kid": key_id(public_key),
        "use": "sig",
        "alg": ALGORITHM,
    }


def is_development_key(public_key: Ed25519PublicKey) -> bool:
    """True for the committed development key (or the public half of its private key)."""
    development = load_public_key(DEVELOPMENT_PUBLIC_KEY_FILE.read_text(encoding="ascii"))
    return _raw(public_key) == _raw(development)


def checked_key_pem(
    value: str | None,
    *,
    setting: str,
    environment: str,
    development_file: Path,
    public_part: Callable[[str], Ed25519PublicKey],
) -> str:
    """The PEM a key setting names; outside development a missing or the committed key is refused."""
    if value is None:
        if environment != "development":
            raise ValueError(f"{setting} is required in the {environment} environment")
        value = development_file.read_text(encoding="ascii")
    try:
        pem = read_pem(value)
        public = public_part(pem)
    except ValueError as exc:
        raise ValueError(f"{setting} is unusable: {exc}") from exc
    if environment != "development" and is_development_key(public):
        raise ValueError(
            f"{setting} is the committed development key, refused in the {environment} environment"
        )
    return pem


def issue_token(
    principal: Principal,
    *,
    private_key: Ed25519PrivateKey,
    issuer: str,
    audience: str,
    lifetime: timedelta,
    now: datetime,
) -> str:
    """A signed access token carrying the principal and its scope."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "sub": principal.subject,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid4().hex,
        "role": principal.role.value,
        "region": principal.region,
        "department_id": str(principal.department_id) if principal.department_id else None,
        "sectors": list(principal.sector_numbers),
    }
    # Only a linked coordinator's token has the claim: every other token stays as it was.
    if principal.coordinator_id is not None:
        claims["coordinator_id"] = str(principal.coordinator_id)
    headers = {"kid": key_id(private_key.public_key())}
    return jwt.encode(claims, private_key, algorithm=ALGORITHM, headers=headers)


def _own_copy(principal: Principal) -> Principal:
    """A copy the caller may change without touching the remembered one.

    Its only mutable field is the sector list; a deep copy took five times as long.
    """
    return principal.model_copy(update={"sector_numbers": list(principal.sector_numbers)})


class TokenVerifier:
    """Checks a bearer token's signature, expiry, issuer and audience; maps its claims."""

    def __init__(
        self,
        public_key: Ed25519PublicKey,
        *,
        issuer: str,
        audience: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._public_key = public_key
        self._issuer = issuer
        self._audience = audience
        self._clock = clock
        # A client sends one token with every request until it expires; checking its signature
        # and claims again each time cost more than the rest of authenticating a request. Only
        # tokens that passed are kept, each until its expiry plus the leeway verification allows.
        self._verified: dict[str, tuple[Principal, float]] = {}

    @classmethod
    def from_settings(cls, settings: "ServiceSettings") -> "TokenVerifier":
        """The verifier a service's settings describe."""
        return cls(
            load_public_key(settings.jwt_public_key),
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )

    def verify(self, token: str) -> Principal:
        """The principal the token names; InvalidToken when it cannot be trusted."""
        cached = self._verified.get(token)
        if cached is not None:
            principal, valid_until = cached
            if self._clock() < valid_until:
                return _own_copy(principal)
            del self._verified[token]
        principal, expires_at = self._check(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            # Dicts keep insertion order: the oldest entry makes room.
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, expires_at + LEEWAY_SECONDS)
        return _own_copy(principal)

    def _check(self, token: str) -> tuple[Principal, float]:
        """The principal and expiry (epoch seconds) of a token whose signature and claims hold."""
        try:
            claims = jwt.decode(
                token,
                self._public_key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The access token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("The access token is not valid.") from exc
        try:
            principal = Principal(
                subject=claims["sub"],
                role=claims.get("role"),
                region=claims.get("region"),
                department_id=claims.get("department_id"),
                sector_numbers=claims.get("sectors") or [],
                coordinator_id=claims.get("coordinator_id"),
            )
        except ValidationError as exc:
            raise InvalidToken("The access token does not name a valid principal.") from exc
        return principal, float(claims["exp"])


bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="An access token from `POST /api/v1/auth/token` of the projects service.",
)


def token_verifier(request: Request) -> TokenVerifier:
    """The application's verifier, built from its settings on first use."""
    verifier = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        verifier = TokenVerifier.from_settings(request.app.state.settings)
        request.app.state.token_verifier = verifier
    return verifier


def unauthorized(detail: str) -> HTTPException:
    """401 problem+json with the RFC 6750 challenge."""
    return HTTPException(401, detail, headers=INVALID_TOKEN_CHALLENGE)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    """The caller named by the bearer token; 401 without a trustworthy one."""
    if credentials is None:
        raise unauthorized("An access token is required: Authorization: Bearer <token>.")
    try:
        return token_verifier(request).verify(credentials.credentials)
    except InvalidToken as exc:
        log.info("access token refused", reason=str(exc), path=request.url.path)
        raise unauthorized(str(exc)) from exc


PrincipalDep = Annotated[Principal, Depends(current_principal)]
