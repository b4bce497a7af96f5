"""The identity provider's pure parts: password and secret hashing, principals and their events."""

from datetime import UTC, datetime
from uuid import uuid4

from common.events import PrincipalKind
from common.security import Role
from projects.identity.models import ApiKey, User
from projects.identity.service import (
    API_KEY_SHOWN_PREFIX_LENGTH,
    hash_password,
    new_api_key_secret,
    password_matches,
    principal_event,
    principal_of,
    secret_hash,
)


def test_passwords_are_stored_as_argon2_hashes_that_only_the_password_matches():
    stored = hash_password("correct-horse-battery")
    assert stored.startswith("$argon2id$") and "correct-horse-battery" not in stored
    assert password_matches(stored, "correct-horse-battery")
    assert not password_matches(stored, "correct-horse-batterY")
    assert not password_matches("not a hash", "correct-horse-battery")


def test_api_key_secrets_are_random_recognisable_and_stored_hashed():
    first, second = new_api_key_secret(), new_api_key_secret()
    assert first != second and first.startswith("smk_") and len(first) >= 40
    assert secret_hash(first) != secret_hash(second)
    assert len(secret_hash(first)) == 64 and first not in secret_hash(first)
    assert API_KEY_SHOWN_PREFIX_LENGTH < len(first) // 2


def test_a_user_and_a_key_act_as_principals_with_distinct_subjects():
    department_id = uuid4()
    user = User(
        id=uuid4(),
        email="kcr@lenreg.ru",
        name="Петров",
        password_hash=hash_password("correct-horse-battery"),
        role="department",
        region="leningrad-oblast",
        department_id=department_id,
        sector_numbers=[],
        active=True,
    )
    key = ApiKey(
        id=uuid4(),
        name="КЦР",
        prefix="smk_abcdefgh",
        secret_hash="0" * 64,
        role="coordinator",
        region="nenets-ao",
        sector_numbers=[2],
        revoked_at=datetime(2024, 6, 1, tzinfo=UTC),
    )
    assert principal_of(user).subject == f"user:{user.id}"
    assert principal_of(user).department_id == department_id
    assert principal_of(key).subject == f"api-key:{key.id}"
    assert principal_of(key).role is Role.coordinator

    user_event = principal_event(user)
    assert (user_event.kind, user_event.active, user_event.aggregate_id) == (
        PrincipalKind.user,
        True,
        f"user:{user.id}",
    )
    assert "password" not in user_event.model_dump_json()
    key_event = principal_event(key)
    assert (key_event.kind, key_event.active, key_event.sector_numbers) == (
        PrincipalKind.api_key,
        False,
        [2],
    )
    assert "secret" not in key_event.model_dump_json()
