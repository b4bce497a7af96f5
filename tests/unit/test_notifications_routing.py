"""Routing: department addresses always, coordinators by their subscriptions; the hourly cap."""

from datetime import UTC, datetime
from uuid import uuid4

import aiosmtplib
import pytest

from notifications.alerts.models import AlertKind
from notifications.deliveries.models import Channel, RecipientType
from notifications.deliveries.sender import (
    envelope_address,
    is_permanent,
    outcome_of,
    session_outcome,
)
from notifications.deliveries.service import channel_for
from notifications.directory.models import Coordinator, Department
from notifications.subscriptions.service import select_recipients

NOW = datetime(2024, 3, 1, tzinfo=UTC)


def department(*emails: str, active: bool = True) -> Department:
    return Department(
        id=uuid4(),
        region="leningrad-oblast",
        full_name="Комитет",
        short_name="КЦР",
        emails=list(emails),
        active=active,
        updated_at=NOW,
    )


def coordinator(email: str, active: bool = True) -> Coordinator:
    return Coordinator(
        id=uuid4(),
        region="leningrad-oblast",
        name="Иванова",
        email=email,
        sector_numbers=[],
        active=active,
        updated_at=NOW,
    )


def test_department_always_and_coordinators_by_their_kinds():
    dept = department("a@dep.ru", "b@dep.ru")
    wants, ignores = coordinator("c@gov.ru"), coordinator("d@gov.ru")
    recipients = select_recipients(
        dept,
        [(wants, ["target_missed", "behind"]), (ignores, ["milestone_overdue"])],
        AlertKind.target_missed,
    )
    assert [(r.address, r.type) for r in recipients] == [
        ("a@dep.ru", RecipientType.department),
        ("b@dep.ru", RecipientType.department),
        ("c@gov.ru", RecipientType.coordinator),
    ]
    assert recipients[0].department_id == dept.id and recipients[2].coordinator_id == wants.id


def test_an_address_gets_one_email_even_when_listed_twice():
    dept = department("Shared@Dep.ru", "shared@dep.ru")
    both = coordinator(" shared@dep.ru ")
    recipients = select_recipients(dept, [(both, ["behind"])], AlertKind.behind)
    assert [r.address for r in recipients] == ["Shared@Dep.ru"]


def test_inactive_recipients_and_a_missing_department_get_nothing():
    recipients = select_recipients(
        department("a@dep.ru", active=False),
        [(coordinator("c@gov.ru", active=False), ["behind"])],
        AlertKind.behind,
    )
    assert recipients == []
    assert [
        r.address
        for r in select_recipients(None, [(coordinator("c@gov.ru"), ["behind"])], AlertKind.behind)
    ] == ["c@gov.ru"]


def test_hourly_cap_turns_the_excess_into_digest_items():
    assert channel_for(0, 3) == Channel.immediate
    assert channel_for(2, 3) == Channel.immediate
    assert channel_for(3, 3) == Channel.digest


def test_smtp_replies_are_classified_by_code():
    temporary = outcome_of(
        aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(451, "later", "a@b")])
    )
    permanent = outcome_of(
        aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such", "a@b")])
    )
    refused_data = outcome_of(aiosmtplib.SMTPDataError(554, "message refused"))
    unreachable = outcome_of(ConnectionRefusedError(111, "Connection refused"))
    disconnected = outcome_of(aiosmtplib.SMTPServerDisconnected("gone"))
    assert (temporary.code, temporary.answered, is_permanent(temporary)) == (451, True, False)
    assert (permanent.code, permanent.answered, is_permanent(permanent)) == (550, True, True)
    assert (refused_data.code, is_permanent(refused_data)) == (554, True)
    assert (unreachable.code, unreachable.answered, is_permanent(unreachable)) == (
        None,
        False,
        False,
    )
    assert (disconnected.code, disconnected.answered) == (None, False)


def test_a_refused_session_is_an_outage_whatever_its_code():
    """Bad credentials or a refused envelope sender would fail every queued email alike: they
    wait for the server to be set right instead of failing for good."""
    login = session_outcome(aiosmtplib.SMTPAuthenticationError(535, "bad credentials"))
    greeting = session_outcome(aiosmtplib.SMTPConnectResponseError(554, "go away"))
    sender = outcome_of(aiosmtplib.SMTPSenderRefused(550, "sender not allowed", "m@x"))
    for outcome in (login, greeting, sender):
        assert not outcome.answered and not is_permanent(outcome)
    assert (login.code, greeting.code, sender.code) == (535, 554, 550)


def test_a_cyrillic_domain_travels_in_its_idna_form():
    assert envelope_address("info@минцифры.рф") == "info@xn--h1aakfqxm7b.xn--p1ai"
    assert envelope_address("kcr@lenreg.ru") == "kcr@lenreg.ru"
    with pytest.raises(ValueError):
        envelope_address("почта@минцифры.рф")


def test_a_message_too_large_fails_and_an_authentication_demand_waits():
    too_large = outcome_of(aiosmtplib.SMTPSenderRefused(552, "5.3.4 message too big", "m@x"))
    needs_login = outcome_of(
        aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(530, "5.7.0 authentication required", "a@b")]
        )
    )
    assert (too_large.answered, is_permanent(too_large)) == (True, True)
    assert (needs_login.answered, is_permanent(needs_login)) == (False, False)
