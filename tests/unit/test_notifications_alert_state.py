"""Alert state decisions: one alert per key, escalation, the flapping guard."""

import pytest

from notifications.alerts.models import FAMILY, PROBLEM_KINDS, AlertKind
from notifications.alerts.service import Effect, notification_for, problem_effect
from notifications.deliveries.models import NotificationKind
from tests.unit.notifications_samples import sample_alert


def test_a_first_problem_opens_an_alert():
    assert problem_effect(None, None, AlertKind.behind, can_withdraw=False) == Effect.opened


def test_a_repeated_problem_updates_the_same_alert():
    current = sample_alert(kind="behind", family="status")
    assert problem_effect(current, None, AlertKind.behind, can_withdraw=False) == Effect.updated


def test_at_risk_to_behind_escalates_and_back_does_not():
    at_risk = sample_alert(kind="at_risk", family="status")
    behind = sample_alert(kind="behind", family="status")
    assert problem_effect(at_risk, None, AlertKind.behind, can_withdraw=False) == Effect.escalated
    assert problem_effect(behind, None, AlertKind.at_risk, can_withdraw=False) == Effect.updated


def test_a_relapse_within_the_flap_window_reopens_the_alert():
    resolved = sample_alert(kind="behind", family="status", state="resolved")
    assert problem_effect(None, resolved, AlertKind.behind, can_withdraw=True) == Effect.reopened


def test_a_relapse_after_the_resolution_was_announced_is_a_new_alert():
    resolved = sample_alert(kind="behind", family="status", state="resolved")
    assert problem_effect(None, resolved, AlertKind.behind, can_withdraw=False) == Effect.opened


@pytest.mark.parametrize(
    ("effect", "notification"),
    [
        (Effect.opened, NotificationKind.opened),
        (Effect.escalated, NotificationKind.escalated),
        (Effect.updated, None),
        (Effect.reopened, None),
        (Effect.recorded, None),
    ],
)
def test_only_openings_and_escalations_send_an_email(effect, notification):
    assert notification_for(effect) == notification


def test_every_kind_has_a_family_and_statuses_share_one():
    assert set(FAMILY) == set(AlertKind)
    assert FAMILY[AlertKind.at_risk] == FAMILY[AlertKind.behind]
    assert len({FAMILY[k] for k in PROBLEM_KINDS}) == len(PROBLEM_KINDS) - 1
