"""Access tokens for tests: a keypair made once per test session, and tokens signed with it.

tests/conftest.py puts the public key (and issuer, audience, the projects service's private key)
into the environment before any settings are built, so every in-process service verifies these
tokens. The running stack has keys of its own: `stack_admin_headers` asks its projects service.
"""

from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.security import Principal, Role, issue_token
from strategies.access import admin_credentials, password_token

ISSUER = "strategy-monitor-tests"
AUDIENCE = "strategy-monitor-tests"
SIGNING_KEY = Ed25519PrivateKey.generate()
PRIVATE_KEY_PEM = SIGNING_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode("ascii")
PUBLIC_KEY_PEM = (
    SIGNING_KEY.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode("ascii")
)
TEST_ENVIRONMENT = {
    "JWT_PUBLIC_KEY": PUBLIC_KEY_PEM,
    "JWT_PRIVATE_KEY": PRIVATE_KEY_PEM,
    "JWT_ISSUER": ISSUER,
    "JWT_AUDIENCE": AUDIENCE,
}

ADMIN = Principal(subject="user:tests-admin", role=Role.admin)


def token_for(
    principal: Principal,
    *,
    expires_in: timedelta = timedelta(minutes=15),
    key: Ed25519PrivateKey = SIGNING_KEY,
    issuer: str = ISSUER,
    audience: str = AUDIENCE,
    now: datetime | None = None,
) -> str:
    """A token for the principal; a past `now`, another key or audience make it invalid."""
    return issue_token(
        principal,
        private_key=key,
        issuer=issuer,
        audience=audience,
        lifetime=expires_in,
        now=now or datetime.now(UTC),
    )


def auth_headers(principal: Principal = ADMIN, **token_options) -> dict[str, str]:
    """The Authorization header carrying a token for the principal."""
    return {"Authorization": f"Bearer {token_for(principal, **token_options)}"}


def stack_admin_headers(projects_url: str) -> dict[str, str]:
    """The Authorization header for the running stack's admin (STRATEGY_ADMIN_* credentials)."""
    token = password_token(projects_url, *admin_credentials())["access_token"]
    return {"Authorization": f"Bearer {token}"}
