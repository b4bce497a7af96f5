"""Verified tokens are remembered until they expire, so a client's repeated token is checked once."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest

from common import security
from common.security import LEEWAY_SECONDS, InvalidToken, Principal, Role, TokenVerifier
from tests.support.auth import AUDIENCE, ISSUER, SIGNING_KEY, token_for

DEPARTMENT = Principal(
    subject="api-key:7", role=Role.department, region="leningrad-oblast", department_id=uuid4()
)


class Clock:
    """Epoch seconds the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """Every token that reaches signature and claim checking."""
    seen: list[str] = []
    decode = jwt.decode

    def counting(token, *args, **kwargs):
        seen.append(token)
        return decode(token, *args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting)
    return seen


def verifier(clock: Clock) -> TokenVerifier:
    return TokenVerifier(SIGNING_KEY.public_key(), issuer=ISSUER, audience=AUDIENCE, clock=clock)


def test_a_repeated_token_is_checked_once_and_each_caller_gets_its_own_principal(decodes):
    check = verifier(Clock())
    token = token_for(DEPARTMENT)
    first, second = check.verify(token), check.verify(token)
    assert first == second == DEPARTMENT
    assert first is not second
    first.sector_numbers.append(9)
    assert check.verify(token) == DEPARTMENT
    assert decodes == [token]


def test_a_remembered_token_is_checked_again_once_past_its_expiry_and_leeway(decodes):
    clock = Clock()
    check = verifier(clock)
    token = token_for(DEPARTMENT, expires_in=timedelta(minutes=5))
    check.verify(token)
    clock.now += 5 * 60 + LEEWAY_SECONDS - 1
    check.verify(token)
    assert decodes == [token]
    clock.now += 2
    check.verify(token)
    assert decodes == [token, token]


def test_a_refused_token_is_not_remembered(decodes):
    check = verifier(Clock())
    expired = token_for(DEPARTMENT, now=datetime.now(UTC) - timedelta(hours=1))
    for _ in range(2):
        with pytest.raises(InvalidToken):
            check.verify(expired)
    assert decodes == [expired, expired]


def test_the_oldest_token_makes_room_when_the_memory_is_full(decodes, monkeypatch):
    monkeypatch.setattr(security, "VERIFIED_TOKENS_KEPT", 2)
    check = verifier(Clock())
    tokens = [token_for(DEPARTMENT, now=datetime.now(UTC) - timedelta(seconds=n)) for n in range(3)]
    for token in tokens:
        check.verify(token)
    check.verify(tokens[2])
    check.verify(tokens[0])
    assert decodes == [*tokens, tokens[0]]
