"""Access token verification: signature, expiry, issuer, audience and claims."""

import base64
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError

from common.security import (
    DEVELOPMENT_PRIVATE_KEY_FILE,
    DEVELOPMENT_PUBLIC_KEY_FILE,
    InvalidToken,
    Principal,
    Role,
    TokenVerifier,
    is_development_key,
    issue_token,
    key_id,
    load_private_key,
    load_public_key,
    read_pem,
)
from common.settings import ServiceSettings
from tests.support.auth import AUDIENCE, ISSUER, PRIVATE_KEY_PEM, PUBLIC_KEY_PEM, SIGNING_KEY

DEPARTMENT = Principal(
    subject="api-key:1", role=Role.department, region="nenets-ao", department_id=uuid4()
)


def verifier() -> TokenVerifier:
    return TokenVerifier(SIGNING_KEY.public_key(), issuer=ISSUER, audience=AUDIENCE)


def token(principal: Principal = DEPARTMENT, **overrides) -> str:
    options = {
        "private_key": SIGNING_KEY,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "lifetime": timedelta(minutes=15),
        "now": datetime.now(UTC),
    }
    return issue_token(principal, **{**options, **overrides})


def test_a_token_round_trips_the_principal_and_its_scope():
    coordinator = Principal(
        subject="user:7", role=Role.coordinator, region="leningrad-oblast", sector_numbers=[1, 3]
    )
    assert verifier().verify(token(coordinator)) == coordinator
    assert verifier().verify(token()) == DEPARTMENT


@pytest.mark.parametrize(
    "overrides",
    [
        {"now": datetime.now(UTC) - timedelta(hours=1)},
        {"private_key": Ed25519PrivateKey.generate()},
        {"issuer": "elsewhere"},
        {"audience": "elsewhere"},
    ],
    ids=["expired", "other key", "other issuer", "other audience"],
)
def test_a_token_that_cannot_be_trusted_is_refused(overrides):
    with pytest.raises(InvalidToken):
        verifier().verify(token(**overrides))


def test_a_token_within_the_leeway_of_its_expiry_is_still_accepted():
    almost = token(now=datetime.now(UTC) - timedelta(minutes=15, seconds=5))
    assert verifier().verify(almost).subject == DEPARTMENT.subject


def test_claims_that_name_no_valid_principal_are_refused():
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "x", "iat": int(now.timestamp())}
    expires = {"exp": int((now + timedelta(minutes=5)).timestamp())}
    for extra in ({"role": "superuser", **expires}, {"role": "admin"}):
        forged = jwt.encode({**claims, **extra}, SIGNING_KEY, algorithm="EdDSA")
        with pytest.raises(InvalidToken):
            verifier().verify(forged)
    unsigned = jwt.encode({**claims, **expires, "role": "admin"}, None, "none")
    with pytest.raises(InvalidToken):
        verifier().verify(unsigned)


def signed(**claims) -> str:
    """A token signed with the test key carrying a coordinator's claims and the given ones."""
    now = datetime.now(UTC)
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user:coordinator",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "role": "coordinator",
        "region": "leningrad-oblast",
    }
    return jwt.encode({**base, **claims}, SIGNING_KEY, algorithm="EdDSA")


def test_a_linked_coordinator_token_carries_and_yields_its_coordinator_id():
    coordinator_id = uuid4()
    linked = Principal(
        subject="user:8",
        role=Role.coordinator,
        region="leningrad-oblast",
        coordinator_id=coordinator_id,
    )
    issued = token(linked)
    assert jwt.decode(issued, options={"verify_signature": False})["coordinator_id"] == str(
        coordinator_id
    )
    assert verifier().verify(issued).coordinator_id == coordinator_id
    assert verifier().verify(signed(coordinator_id=str(coordinator_id))) == Principal(
        subject="user:coordinator",
        role=Role.coordinator,
        region="leningrad-oblast",
        coordinator_id=coordinator_id,
    )


def test_tokens_without_the_claim_name_no_coordinator_and_do_not_carry_it():
    shared_desk = Principal(subject="user:9", role=Role.coordinator, region="leningrad-oblast")
    for principal in (shared_desk, DEPARTMENT):
        issued = token(principal)
        assert "coordinator_id" not in jwt.decode(issued, options={"verify_signature": False})
        assert verifier().verify(issued).coordinator_id is None
    # Tokens issued before the claim existed, and ones with an explicit null, work as before.
    assert verifier().verify(signed()).coordinator_id is None
    assert verifier().verify(signed(coordinator_id=None)).coordinator_id is None


@pytest.mark.parametrize(
    "claims",
    [
        {"coordinator_id": "not-a-uuid"},
        {"coordinator_id": 42},
        {"role": "department", "department_id": str(uuid4()), "coordinator_id": str(uuid4())},
        {"role": "admin", "region": None, "coordinator_id": str(uuid4())},
    ],
    ids=["not a uuid", "a number", "a department", "an admin"],
)
def test_a_coordinator_id_that_is_malformed_or_not_a_coordinators_is_refused(claims):
    with pytest.raises(InvalidToken, match="does not name a valid principal"):
        verifier().verify(signed(**claims))


def test_only_a_coordinator_principal_may_name_a_coordinator():
    with pytest.raises(ValidationError, match="only a coordinator"):
        Principal(subject="user:1", role=Role.department, coordinator_id=uuid4())


def test_the_key_id_is_the_rfc_8037_thumbprint():
    # RFC 8037, appendix A.2 and A.3.
    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "="))
    assert key_id(public) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    assert jwt.get_unverified_header(token())["kid"] == key_id(SIGNING_KEY.public_key())


def test_pem_is_read_inline_with_escaped_newlines_or_from_a_file(tmp_path):
    path = tmp_path / "public.pem"
    path.write_text(PUBLIC_KEY_PEM)
    assert read_pem(str(path)) == PUBLIC_KEY_PEM
    assert read_pem(PUBLIC_KEY_PEM.replace("\n", "\\n")) == PUBLIC_KEY_PEM
    with pytest.raises(ValueError, match="neither PEM text nor a readable file"):
        read_pem(str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="Ed25519 public key"):
        load_public_key(
            "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE"
            "8xOUetsCa8EfOlDEBAfREhJqspDoyEh6Szz2in47Tv5n52m9dLYyPCbqZkOB5nTS"
            "qtscpkQD/HpykCggvx09iQ==\n-----END PUBLIC KEY-----\n"
        )


def test_the_development_keypair_is_recognised_by_either_half():
    private = load_private_key(DEVELOPMENT_PRIVATE_KEY_FILE.read_text())
    assert is_development_key(private.public_key())
    assert is_development_key(load_public_key(DEVELOPMENT_PUBLIC_KEY_FILE.read_text()))
    assert not is_development_key(load_private_key(PRIVATE_KEY_PEM).public_key())


def settings(**values) -> ServiceSettings:
    return ServiceSettings(service_name="x", database_url="postgresql+asyncpg://h/x", **values)


def test_settings_refuse_an_unusable_key_naming_the_setting(monkeypatch):
    monkeypatch.delenv("JWT_PUBLIC_KEY")
    with pytest.raises(ValidationError, match="JWT_PUBLIC_KEY is unusable"):
        settings(jwt_public_key=PRIVATE_KEY_PEM)
    with pytest.raises(ValidationError, match="JWT_PUBLIC_KEY is required in the test"):
        settings(environment="test")
    assert settings(environment="production", jwt_public_key=PUBLIC_KEY_PEM).jwt_public_key == (
        PUBLIC_KEY_PEM
    )
