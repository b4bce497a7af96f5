"""Kafka subscriptions of the notifications service: event contract → handler, listed explicitly."""

from common.db import UnitOfWork
from common.events import (
    BackOnTrack,
    CoordinatorUpserted,
    DepartmentUpserted,
    ForecastMiss,
    IndicatorCreated,
    IndicatorStatusChanged,
    IndicatorUpdated,
    MeasurementRecorded,
    MilestoneOverdue,
    MilestoneReached,
    MilestoneRemoved,
    MilestoneScheduled,
    MilestoneSnapshot,
    MilestoneStatus,
    PeriodFacts,
    ProjectCreated,
    ProjectStageChanged,
    ProjectUpdated,
    ReportOverdue,
    Status,
    TargetMet,
    TargetMissed,
)
from common.messaging.cloudevents import Envelope
from common.messaging.consumer import Subscription
from notifications.alerts import service as alerts
from notifications.alerts.models import AlertKind, Resolution, SubjectType
from notifications.directory import service as directory
from notifications.policy import Policy
from notifications.subscriptions import service as subscriptions

PROBLEM_STATUSES = {Status.behind: AlertKind.behind, Status.at_risk: AlertKind.at_risk}


def indicator_facts(event: PeriodFacts, kind: AlertKind, **extra) -> alerts.AlertFacts:
    """The alert-relevant part of an indicator evaluation event."""
    return alerts.AlertFacts(
        subject_type=SubjectType.indicator,
        subject_id=event.indicator_id,
        period=event.period,
        kind=kind,
        region=event.region,
        department_id=event.responsible_department_id,
        expected=event.expected,
        actual=event.actual,
        gap=event.gap,
        gap_percent=event.gap_percent,
        **extra,
    )


def milestone_facts(event: MilestoneSnapshot, kind: AlertKind) -> alerts.AlertFacts:
    """The alert-relevant part of a milestone event; the period is the due date."""
    return alerts.AlertFacts(
        subject_type=SubjectType.milestone,
        subject_id=event.milestone_id,
        period=event.due_date.isoformat(),
        kind=kind,
        region=event.region,
        department_id=event.responsible_department_id,
        deadline=event.due_date,
        title=event.title,
        project_id=event.project_id,
        project_name=event.project_name,
        sector_number=event.sector_number,
    )


class Handlers:
    """Event handlers bound to the service's policy and clock."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def _now(self):
        return self.policy.clock.now()

    async def department(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """Keep the department and its addresses."""
        await directory.upsert_department(uow.session, envelope.data, self._now())

    async def coordinator(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """Keep the coordinator; a new one is subscribed to everything, immediately."""
        if await directory.upsert_coordinator(uow.session, envelope.data, self._now()):
            await uow.session.flush()
            await subscriptions.ensure_default(
                uow.session, envelope.data.coordinator_id, self._now()
            )

    async def project(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """Keep the project's names and responsible department."""
        await directory.upsert_project(uow.session, envelope.data, self._now())

    async def project_stage(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """Keep the project's stage."""
        await directory.change_project_stage(uow.session, envelope.data, self._now())

    async def indicator(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """Keep the indicator's name, unit and targets; close the alerts of what it no longer
        plans (a year without a target, everything once it is archived)."""
        await directory.upsert_indicator(uow.session, envelope.data, self._now())
        await alerts.close_unplanned(uow.session, envelope, envelope.data, self.policy)

    async def measurement(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """Keep the value for the trend; a reported value settles an overdue report."""
        event: MeasurementRecorded = envelope.data
        if not await directory.record_value(uow.session, event, self._now()):
            return
        facts = alerts.AlertFacts(
            subject_type=SubjectType.indicator,
            subject_id=event.indicator_id,
            period=event.period,
            kind=AlertKind.report_overdue,
            region=event.region,
            department_id=None,
            actual=event.value,
        )
        await alerts.resolve(
            uow.session,
            envelope,
            facts,
            self.policy,
            resolved_by=None,
            families=frozenset({"report"}),
        )

    async def status_changed(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """Behind or at risk raises a problem; back on track from either resolves it."""
        event: IndicatorStatusChanged = envelope.data
        kind = PROBLEM_STATUSES.get(event.to_status)
        if kind is not None:
            await alerts.raise_problem(
                uow.session, envelope, indicator_facts(event, kind), self.policy
            )
        elif event.from_status in PROBLEM_STATUSES:
            facts = indicator_facts(event, AlertKind.back_on_track)
            await alerts.resolve(
                uow.session, envelope, facts, self.policy, resolved_by=AlertKind.back_on_track
            )

    async def target_missed(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """A year's target was missed; told only if no behind/at-risk alert told it already.

        The indicators service announces a year-end value below target twice (status changed,
        target missed); the recipients hear of it once.
        """
        event: TargetMissed = envelope.data
        facts = indicator_facts(event, AlertKind.target_missed)
        told = await alerts.year_end_status_alert(uow.session, event.indicator_id, event.period)
        await alerts.raise_problem(uow.session, envelope, facts, self.policy, announce=not told)

    async def forecast_miss(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """The trend will miss the year's target."""
        event: ForecastMiss = envelope.data
        facts = indicator_facts(event, AlertKind.forecast_miss, projected=event.projected)
        await alerts.raise_problem(uow.session, envelope, facts, self.policy)

    async def report_overdue(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """No value was reported by the deadline."""
        event: ReportOverdue = envelope.data
        facts = indicator_facts(event, AlertKind.report_overdue, deadline=event.deadline)
        await alerts.raise_problem(uow.session, envelope, facts, self.policy)

    async def target_met(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """A year's target was met: its problems are resolved."""
        facts = indicator_facts(envelope.data, AlertKind.target_met)
        await alerts.resolve(
            uow.session, envelope, facts, self.policy, resolved_by=AlertKind.target_met
        )

    async def back_on_track(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """An indicator-period is on track again: its problems are resolved."""
        facts = indicator_facts(envelope.data, AlertKind.back_on_track)
        await alerts.resolve(
            uow.session, envelope, facts, self.policy, resolved_by=AlertKind.back_on_track
        )

    async def milestone_overdue(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """A milestone's due date passed."""
        facts = milestone_facts(envelope.data, AlertKind.milestone_overdue)
        await alerts.raise_problem(uow.session, envelope, facts, self.policy)

    async def milestone_reached(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """A milestone was reached: its overdue alert is resolved, or it is good news."""
        facts = milestone_facts(envelope.data, AlertKind.milestone_reached)
        await alerts.resolve(
            uow.session, envelope, facts, self.policy, resolved_by=AlertKind.milestone_reached
        )

    async def milestone_scheduled(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """A milestone pending again (its due date moved past today) is no longer overdue.

        Its overdue alerts close without reminders or notice; if the new date passes too, the
        projects service reports it overdue again, under the new date.
        """
        event: MilestoneScheduled = envelope.data
        if event.status is not MilestoneStatus.pending:
            return
        await self._close_milestone_alerts(
            envelope,
            uow,
            milestone_facts(event, AlertKind.milestone_overdue),
            Resolution.milestone_rescheduled,
        )

    async def milestone_removed(self, envelope: Envelope, uow: UnitOfWork) -> None:
        """A milestone taken out of its project can no longer be late: its alerts close."""
        event: MilestoneRemoved = envelope.data
        facts = alerts.AlertFacts(
            subject_type=SubjectType.milestone,
            subject_id=event.milestone_id,
            period="",
            kind=AlertKind.milestone_overdue,
            region=event.region,
            department_id=None,
            project_id=event.project_id,
        )
        await self._close_milestone_alerts(envelope, uow, facts, Resolution.milestone_removed)

    async def _close_milestone_alerts(
        self, envelope: Envelope, uow: UnitOfWork, facts: alerts.AlertFacts, why: Resolution
    ) -> None:
        await alerts.resolve(
            uow.session, envelope, facts, self.policy, resolved_by=why, announce=False
        )


def status_change_is_told(event: IndicatorStatusChanged) -> bool:
    """Whether a status change raises or resolves a problem, and so may email someone."""
    return event.to_status in PROBLEM_STATUSES or event.from_status in PROBLEM_STATUSES


def subscriptions_for(policy: Policy) -> list[Subscription]:
    """Every event the service consumes, with its handler; the urgent ones may email someone at
    once (a met target, sent for every year on target, resolves problems only now and then)."""
    on = Handlers(policy)
    return [
        Subscription(DepartmentUpserted, on.department),
        Subscription(CoordinatorUpserted, on.coordinator),
        Subscription(ProjectCreated, on.project),
        Subscription(ProjectUpdated, on.project),
        Subscription(ProjectStageChanged, on.project_stage),
        Subscription(MilestoneOverdue, on.milestone_overdue, urgent=True),
        Subscription(MilestoneReached, on.milestone_reached, urgent=True),
        Subscription(MilestoneScheduled, on.milestone_scheduled),
        Subscription(MilestoneRemoved, on.milestone_removed),
        Subscription(IndicatorCreated, on.indicator),
        Subscription(IndicatorUpdated, on.indicator),
        Subscription(MeasurementRecorded, on.measurement),
        Subscription(IndicatorStatusChanged, on.status_changed, urgent=status_change_is_told),
        Subscription(TargetMissed, on.target_missed, urgent=True),
        Subscription(TargetMet, on.target_met),
        Subscription(BackOnTrack, on.back_on_track, urgent=True),
        Subscription(ForecastMiss, on.forecast_miss, urgent=True),
        Subscription(ReportOverdue, on.report_overdue, urgent=True),
    ]
