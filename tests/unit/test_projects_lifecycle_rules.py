"""The lifecycle rules of projects, without I/O."""

import pytest

from common.events import Stage
from projects.portfolio.lifecycle import (
    TransitionNotAllowed,
    allowed_transitions,
    check_transition,
)

ACTIVE = [Stage.planned, Stage.launched, Stage.in_progress]


@pytest.mark.parametrize(
    ("current", "allowed"),
    [
        (Stage.planned, [Stage.launched, Stage.suspended, Stage.cancelled]),
        (Stage.launched, [Stage.in_progress, Stage.suspended, Stage.cancelled]),
        (Stage.in_progress, [Stage.completed, Stage.suspended, Stage.cancelled]),
        (Stage.completed, []),
        (Stage.cancelled, []),
    ],
)
def test_each_active_stage_moves_forward_or_pauses_or_stops(current, allowed):
    assert allowed_transitions(current) == allowed


@pytest.mark.parametrize("paused_in", ACTIVE)
def test_a_suspended_project_resumes_to_where_it_was_or_is_cancelled(paused_in):
    assert allowed_transitions(Stage.suspended, paused_in) == [paused_in, Stage.cancelled]


@pytest.mark.parametrize("remembered", [None, Stage.completed, Stage.cancelled, Stage.suspended])
def test_a_suspended_project_must_remember_an_active_stage(remembered):
    with pytest.raises(ValueError):
        allowed_transitions(Stage.suspended, remembered)


@pytest.mark.parametrize("current", ACTIVE)
def test_suspending_remembers_the_stage_to_resume_to(current):
    assert check_transition(current, Stage.suspended) == current


def test_resuming_and_other_moves_remember_nothing():
    assert check_transition(Stage.suspended, Stage.launched, Stage.launched) is None
    assert check_transition(Stage.planned, Stage.launched) is None
    assert check_transition(Stage.in_progress, Stage.cancelled) is None


@pytest.mark.parametrize(
    ("current", "requested", "suspended_from"),
    [
        (Stage.planned, Stage.completed, None),
        (Stage.planned, Stage.in_progress, None),
        (Stage.planned, Stage.planned, None),
        (Stage.launched, Stage.planned, None),
        (Stage.in_progress, Stage.launched, None),
        (Stage.completed, Stage.in_progress, None),
        (Stage.cancelled, Stage.planned, None),
        (Stage.suspended, Stage.in_progress, Stage.launched),
        (Stage.suspended, Stage.suspended, Stage.planned),
    ],
)
def test_forbidden_moves_name_the_allowed_ones(current, requested, suspended_from):
    with pytest.raises(TransitionNotAllowed) as raised:
        check_transition(current, requested, suspended_from)
    assert raised.value.current is current
    assert raised.value.requested is requested
    assert raised.value.allowed == allowed_transitions(current, suspended_from)
