"""The lifecycle rules of a project, free of I/O.

planned → launched → in_progress → completed is the main line. Any stage before completion may
be suspended or cancelled; a suspended project resumes to the stage it was suspended in (or is
cancelled). completed and cancelled are terminal.
"""

from common.events import Stage

_FORWARD: dict[Stage, Stage] = {
    Stage.planned: Stage.launched,
    Stage.launched: Stage.in_progress,
    Stage.in_progress: Stage.completed,
}
TERMINAL = frozenset({Stage.completed, Stage.cancelled})


class TransitionNotAllowed(Exception):
    """A move the lifecycle forbids; carries the moves it would allow."""

    def __init__(self, current: Stage, requested: Stage, allowed: list[Stage]) -> None:
        super().__init__(f"{current} → {requested} is not allowed")
        self.current = current
        self.requested = requested
        self.allowed = allowed


def allowed_transitions(current: Stage, suspended_from: Stage | None = None) -> list[Stage]:
    """The stages a project in `current` may move to, in a stable order."""
    if current in TERMINAL:
        return []
    if current is Stage.suspended:
        if suspended_from not in _FORWARD:
            raise ValueError("a suspended project must remember an active stage to resume to")
        return [suspended_from, Stage.cancelled]
    return [_FORWARD[current], Stage.suspended, Stage.cancelled]


def check_transition(
    current: Stage, requested: Stage, suspended_from: Stage | None = None
) -> Stage | None:
    """Validate a move; returns the stage to remember for resuming (set only when suspending)."""
    allowed = allowed_transitions(current, suspended_from)
    if requested not in allowed:
        raise TransitionNotAllowed(current, requested, allowed)
    return current if requested is Stage.suspended else None
