"""Acknowledgement links: genuine, for one alert and one recipient, until they expire."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest
from pydantic import ValidationError

from common.clock import ManualClock
from notifications.alerts.ack_links import (
    DEVELOPMENT_ACK_LINK_SECRET,
    AckGrant,
    AckLinkSigner,
    ExpiredAckLink,
    InvalidAckLink,
)
from notifications.config import Settings

SECRET = "unit-test-ack-link-secret-of-32-characters"
START = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)


def signer(clock: ManualClock, secret: str = SECRET) -> AckLinkSigner:
    return AckLinkSigner(secret, timedelta(days=30), clock)


def test_a_link_grants_its_alert_to_its_recipient_until_it_expires():
    clock = ManualClock(START)
    alert_id = uuid4()
    token = signer(clock).token(alert_id, "kcr@lenreg.example.ru")
    clock.advance(timedelta(days=30) - timedelta(seconds=1))
    assert signer(clock).grant(token) == AckGrant(alert_id, "kcr@lenreg.example.ru")
    clock.advance(timedelta(seconds=1))
    with pytest.raises(ExpiredAckLink):
        signer(clock).grant(token)


def test_altered_foreign_or_unrelated_tokens_are_refused():
    clock = ManualClock(START)
    token = signer(clock).token(uuid4(), "kcr@lenreg.example.ru")
    header, claims, signature = token.split(".")
    altered_signature = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
    other_claims = jwt.encode(
        {"purpose": "alert-ack", "alert": str(uuid4()), "rcpt": "x@example.ru", "exp": 2**31},
        SECRET,
    ).split(".")[1]
    refused = [
        f"{header}.{claims}.{altered_signature}",
        f"{header}.{other_claims}.{signature}",
        signer(clock, "another-secret-of-thirty-two-characters!").token(uuid4(), "x@example.ru"),
        jwt.encode({"alert": str(uuid4()), "rcpt": "x@example.ru", "exp": 2**31}, SECRET),
        jwt.encode(
            {"purpose": "other", "alert": str(uuid4()), "rcpt": "x@example.ru", "exp": 2**31},
            SECRET,
        ),
        jwt.encode({"purpose": "alert-ack", "alert": "42", "rcpt": "x", "exp": 2**31}, SECRET),
        "not-a-token",
        "",
    ]
    for token in refused:
        with pytest.raises(InvalidAckLink):
            signer(clock).grant(token)


def test_outside_development_a_secret_of_its_own_is_required():
    base = {"database_url": "postgresql+asyncpg://u:p@127.0.0.1/n"}
    assert (
        Settings(**base, environment="development").ack_link_secret.get_secret_value()
        == DEVELOPMENT_ACK_LINK_SECRET
    )
    with pytest.raises(ValidationError, match="ACK_LINK_SECRET is required in the production"):
        Settings(**base, environment="production")
    with pytest.raises(ValidationError, match="ACK_LINK_SECRET is the development key"):
        Settings(**base, environment="production", ack_link_secret=DEVELOPMENT_ACK_LINK_SECRET)
    with pytest.raises(ValidationError, match="at least 32 items"):
        Settings(**base, environment="production", ack_link_secret="short")
    own = Settings(**base, environment="production", ack_link_secret=SECRET)
    assert own.ack_link_secret.get_secret_value() == SECRET
