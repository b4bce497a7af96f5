"""Alert lifecycle: opening, updating, escalating, reopening (flapping), resolving, acknowledging."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import bindparam, event, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

from common.authorization import ensure_visible, may_write_for_department
from common.clock import SystemClock
from common.events import IndicatorSnapshot
from common.logging import get_logger
from common.messaging.cloudevents import Envelope
from common.messaging.consumer import TransientError
from common.problems import Conflict, Forbidden, NotFound
from common.security import Principal, Role
from notifications.alerts.ack_links import AckGrant
from notifications.alerts.models import (
    FAMILY,
    SEVERITY,
    Alert,
    AlertEvent,
    AlertKind,
    AlertState,
    Resolution,
    SubjectType,
)
from notifications.alerts.schemas import AckRequest
from notifications.deliveries import service as deliveries
from notifications.deliveries.models import NotificationKind
from notifications.directory.models import Department, Indicator, Project
from notifications.directory.service import read_model, region_name
from notifications.paging import fetch_page
from notifications.policy import Policy
from notifications.subscriptions.service import Recipient, route

log = get_logger(__name__)


@dataclass(frozen=True)
class AlertFacts:
    """What an integration event says about an indicator-period or a milestone."""

    subject_type: SubjectType
    subject_id: UUID
    period: str
    kind: AlertKind
    region: str
    department_id: UUID | None
    expected: Decimal | None = None
    actual: Decimal | None = None
    gap: Decimal | None = None
    gap_percent: Decimal | None = None
    projected: Decimal | None = None
    deadline: date | None = None
    # Milestone events carry their own names; indicator events get them from the read models.
    title: str | None = None
    project_id: UUID | None = None
    project_name: str | None = None
    sector_number: int | None = None


class Effect(StrEnum):
    """What an event did to an alert."""

    opened = "opened"
    updated = "updated"
    escalated = "escalated"
    reopened = "reopened"
    resolved = "resolved"
    recorded = "recorded"


def problem_effect(
    current: Alert | None, relapsed: Alert | None, kind: AlertKind, *, can_withdraw: bool
) -> Effect:
    """What a problem event does: update the active alert, reopen a fresh resolution, or open one.

    `relapsed` is the alert of the same key resolved within the flap window, if any;
    `can_withdraw` says its resolution notice has not gone out yet.
    """
    if current is not None:
        if SEVERITY.get(kind, 0) > SEVERITY.get(AlertKind(current.kind), 0):
            return Effect.escalated
        return Effect.updated
    if relapsed is not None and can_withdraw:
        return Effect.reopened
    return Effect.opened


def notification_for(effect: Effect) -> NotificationKind | None:
    """Only openings and escalations of a problem are worth an immediate email."""
    return {
        Effect.opened: NotificationKind.opened,
        Effect.escalated: NotificationKind.escalated,
    }.get(effect)


def _apply_facts(alert: Alert, facts: AlertFacts) -> None:
    for name in ("expected", "actual", "gap", "gap_percent", "projected", "deadline"):
        value = getattr(facts, name)
        if value is not None:
            setattr(alert, name, value)


async def _describe(
    session: AsyncSession, facts: AlertFacts, envelope: Envelope, policy: Policy
) -> dict[str, Any]:
    """Names and scope of the alert's subject, from the read models.

    An indicator's events share its Kafka key and a milestone's its project's, so a known
    indicator (or project) always precedes them; one never seen is described by what the event
    carries. What comes under other keys or topics (an indicator's project, any department)
    may lag: then the event waits (retried) for a grace period and goes out with what it has.
    """
    # Transit lag is wall time, whatever the service clock says.
    young = SystemClock().now() - envelope.time < policy.read_model_grace
    title, unit = facts.title, None
    project_id, sector_number = facts.project_id, facts.sector_number
    department_id = facts.department_id
    if facts.subject_type == SubjectType.indicator:
        indicator = await read_model(session, Indicator, facts.subject_id)
        if indicator is None:
            young = False
        else:
            title, unit, project_id = indicator.name, indicator.unit, indicator.project_id
            sector_number = indicator.sector_number
            department_id = department_id or indicator.responsible_department_id
    project = await read_model(session, Project, project_id) if project_id else None
    if project is None and facts.subject_type == SubjectType.milestone:
        young = False
    if project is None and project_id and young:
        raise TransientError(f"project {project_id} not known yet")
    department = await read_model(session, Department, department_id) if department_id else None
    if department is None and department_id and young:
        raise TransientError(f"department {department_id} not known yet")
    if project is not None:
        sector_number = project.sector_number
        department_id = department_id or project.responsible_department_id
    return {
        "region_name": (project.region_name if project else None)
        or await region_name(session, facts.region)
        or facts.region,
        "sector_number": sector_number,
        "sector_name": project.sector_name if project else None,
        "project_id": project_id,
        "project_name": (project.name if project else None) or facts.project_name,
        "department_id": department_id,
        "department_name": department.short_name if department else None,
        "title": title or f"Показатель {facts.subject_id}",
        "unit": unit,
    }


# An alert's events are written at commit, all of a transaction's in one statement: nothing
# reads them before, and a consumer's batch touches dozens of alerts.
_PENDING_EVENTS = "pending_alert_events"
_RECORD_EVENTS = insert(AlertEvent).on_conflict_do_nothing(index_elements=["alert_id", "event_id"])


@event.listens_for(Session, "before_commit")
def _write_pending_events(session: Session) -> None:
    rows = session.info.pop(_PENDING_EVENTS, None)
    if rows:
        session.flush()  # the alerts they belong to
        session.execute(_RECORD_EVENTS, rows)


@event.listens_for(Session, "after_rollback")
def _drop_pending_events(session: Session) -> None:
    session.info.pop(_PENDING_EVENTS, None)


async def _record(
    session: AsyncSession, alert: Alert, envelope: Envelope, effect: Effect, now: datetime
) -> None:
    alert.event_count += 1
    session.add(alert)
    session.info.setdefault(_PENDING_EVENTS, []).append(
        {
            "id": uuid4(),
            "alert_id": alert.id,
            "event_id": envelope.id,
            "event_type": envelope.type,
            "effect": effect.value,
            "occurred_at": envelope.time,
            "received_at": now,
            "data": envelope.data.model_dump(mode="json"),
        }
    )


_QUIET_CLOSINGS = frozenset(Resolution)


def _same_key(facts: AlertFacts, family: str) -> tuple:
    return (
        Alert.subject_id == facts.subject_id,
        Alert.period == facts.period,
        Alert.family == family,
    )


async def _standing(
    session: AsyncSession, facts: AlertFacts, family: str, policy: Policy
) -> tuple[Alert | None, Alert | None]:
    """The key's unresolved alert, or failing that its latest resolved within the flap window.

    One locking read for both: a problem event needs the second only when the first is absent.
    """
    query = select(Alert).where(*_same_key(facts, family))
    if policy.flap_window:
        query = query.where(
            or_(
                Alert.state != AlertState.resolved.value,
                Alert.resolved_at >= policy.clock.now() - policy.flap_window,
            )
        )
    else:
        query = query.where(Alert.state != AlertState.resolved.value)
    alerts = (await session.exec(query.with_for_update())).scalars().all()
    current = next((a for a in alerts if a.state != AlertState.resolved.value), None)
    if current is not None:
        return current, None
    return None, max(alerts, key=lambda a: a.resolved_at) if alerts else None


async def _new_alert(
    session: AsyncSession,
    envelope: Envelope,
    facts: AlertFacts,
    policy: Policy,
    *,
    state: AlertState,
    **lifecycle: Any,
) -> Alert:
    now = policy.clock.now()
    return Alert(
        subject_type=facts.subject_type.value,
        subject_id=facts.subject_id,
        period=facts.period,
        family=FAMILY[facts.kind],
        kind=facts.kind.value,
        state=state.value,
        region=facts.region,
        opened_at=now,
        updated_at=now,
        **lifecycle,
        **await _describe(session, facts, envelope, policy),
    )


def periods_closing_year(year_period: str) -> list[str]:
    """The periods whose value is the year-end value: the year, its Q4 and its December."""
    return [year_period, f"{year_period}-Q4", f"{year_period}-12"]


async def year_end_status_alert(session: AsyncSession, indicator_id: UUID, year: str) -> bool:
    """Whether an unresolved behind/at-risk alert stands for the year-end value of `year`."""
    found = await session.exec(
        select(Alert.id)
        .where(
            Alert.subject_id == indicator_id,
            Alert.family == FAMILY[AlertKind.behind],
            Alert.period.in_(periods_closing_year(year)),
            Alert.state != AlertState.resolved.value,
        )
        .limit(1)
    )
    return found.first() is not None


async def raise_problem(
    session: AsyncSession,
    envelope: Envelope,
    facts: AlertFacts,
    policy: Policy,
    *,
    announce: bool = True,
) -> Alert:
    """Apply a problem event: one alert per key, however often the event comes.

    With `announce` false a new alert is kept (listed, resolvable) but told to nobody and never
    reminded of: someone was already told of the same problem by another alert.
    """
    now = policy.clock.now()
    family = FAMILY[facts.kind]
    current, relapsed = await _standing(session, facts, family, policy)
    can_withdraw = bool(relapsed) and await deliveries.withdraw_resolution(session, relapsed.id)
    effect = problem_effect(current, relapsed, facts.kind, can_withdraw=can_withdraw)

    if effect == Effect.opened:
        alert = await _new_alert(
            session,
            envelope,
            facts,
            policy,
            state=AlertState.open,
            next_reminder_at=now + policy.reminder_interval if announce else None,
        )
    else:
        alert = current or relapsed
        assert alert is not None
        if effect == Effect.reopened:
            alert.state = (
                AlertState.acknowledged if alert.acknowledged_at else AlertState.open
            ).value
            alert.resolved_at = alert.resolved_by = None
            alert.reopen_count += 1
            if alert.state == AlertState.open.value and alert.next_reminder_at is None:
                alert.next_reminder_at = now + policy.reminder_interval
            if SEVERITY.get(facts.kind, 0) > SEVERITY.get(AlertKind(alert.kind), 0):
                effect = Effect.escalated
        alert.kind = facts.kind.value
        alert.updated_at = now
    _apply_facts(alert, facts)
    session.add(alert)
    await _record(session, alert, envelope, effect, now)
    log.info("alert " + effect.value, alert_id=str(alert.id), kind=alert.kind, period=alert.period)

    notification = notification_for(effect) if announce or effect != Effect.opened else None
    if notification is not None:
        recipients = await route(session, alert, facts.kind)
        await deliveries.notify(session, alert, notification, recipients, policy)
    return alert


def _as_told_by(alert: Alert, facts: AlertFacts) -> Alert:
    """A copy of the alert, never stored, with the period and figures of the event closing it:
    a quarter's alert closed by its year's target met is told of the year, not of the quarter."""
    copy = Alert.model_validate(alert.model_dump())
    copy.period = facts.period
    _apply_facts(copy, facts)
    return copy


async def _close(
    session: AsyncSession,
    alert: Alert,
    envelope: Envelope,
    resolved_by: AlertKind | Resolution | None,
    now: datetime,
) -> None:
    alert.state = AlertState.resolved.value
    alert.resolved_at = alert.updated_at = now
    alert.resolved_by = resolved_by.value if resolved_by else None
    alert.next_reminder_at = None
    await _record(session, alert, envelope, Effect.resolved, now)


# Built once: composing a statement from the model's columns costs more CPU than running it,
# and a consumer resolves for nearly every event it applies.
_SUBJECT_ALERTS = select(Alert).where(Alert.subject_id == bindparam("subject_id")).with_for_update()
_PERIOD_ALERTS = _SUBJECT_ALERTS.where(Alert.period == bindparam("period"))
_YEAR_ALERTS = _SUBJECT_ALERTS.where(
    or_(Alert.period == bindparam("period"), Alert.period.startswith(bindparam("sub_periods")))
)


def _alerts_resolved_by(facts: AlertFacts, kind: AlertKind | Resolution | None):
    """The locking read of the alerts an event may settle, with its parameters.

    A year's target met settles that year's sub-periods too; other indicator events their own
    period; a milestone's events every alert of the milestone.
    """
    params: dict[str, Any] = {"subject_id": facts.subject_id}
    if facts.subject_type != SubjectType.indicator:
        return _SUBJECT_ALERTS, params
    params["period"] = facts.period
    if kind == AlertKind.target_met and "-" not in facts.period:
        return _YEAR_ALERTS, {**params, "sub_periods": f"{facts.period}-"}
    return _PERIOD_ALERTS, params


async def resolve(
    session: AsyncSession,
    envelope: Envelope,
    facts: AlertFacts,
    policy: Policy,
    *,
    resolved_by: AlertKind | Resolution | None,
    families: frozenset[str] | None = None,
    announce: bool = True,
) -> list[Alert]:
    """Close the open problem alerts a good-news event settles; one held notice per recipient.

    `resolved_by` is the good-news kind (None: a reported value settled an overdue report), or
    the Resolution of a milestone change, which closes its alerts without a notice (`announce`
    false): the people who moved or removed the milestone know, and the digest lists it.
    With nothing to resolve, a milestone reached is good news of its own; a target met is only
    recorded — mailing every on-plan year would bury the deviations under routine notices.
    """
    now = policy.clock.now()
    # One read serves both outcomes: the open problems to resolve, or the news already known.
    query, params = _alerts_resolved_by(facts, resolved_by)
    alerts = list((await session.exec(query, params=params)).scalars().all())
    open_alerts = [
        alert
        for alert in alerts
        if alert.state != AlertState.resolved.value
        and alert.family != "news"
        and (families is None or alert.family in families)
    ]
    # The alert of the event's own period first: it carries the event's figures, so it is the
    # one the recipients hear about when several of theirs close at once.
    open_alerts.sort(key=lambda alert: (alert.period != facts.period, alert.period))
    told: set[str] = set()
    for alert in open_alerts:
        if alert.period == facts.period:
            _apply_facts(alert, facts)
        await _close(session, alert, envelope, resolved_by, now)
        log.info("alert resolved", alert_id=str(alert.id), resolved_by=alert.resolved_by)
        if not announce:
            continue
        # One notice per recipient for one piece of good news, however many of their alerts
        # it closes (a year's target met closes its quarters' and months' too).
        recipients = [
            r
            for r in await deliveries.recipients_of(session, alert.id)
            if r.address.lower() not in told
        ]
        told.update(r.address.lower() for r in recipients)
        if not recipients:
            continue
        # Held for the flap window: a relapse within it withdraws the notice (see raise_problem).
        await deliveries.notify(
            session,
            alert,
            NotificationKind.resolved,
            recipients,
            policy,
            due_at=now + policy.flap_window,
            shown=alert if alert.period == facts.period else _as_told_by(alert, facts),
        )
    if not open_alerts and resolved_by in (AlertKind.target_met, AlertKind.milestone_reached):
        news = await good_news(
            session,
            envelope,
            replace(facts, kind=resolved_by),
            policy,
            subject_alerts=alerts,
            notify=resolved_by is AlertKind.milestone_reached,
        )
        return [news] if news else []
    return open_alerts


def _year_of(period: str) -> int:
    return int(period[:4])


async def close_unplanned(
    session: AsyncSession, envelope: Envelope, indicator: IndicatorSnapshot, policy: Policy
) -> list[Alert]:
    """Close, without a notice, the open problems of periods the indicator no longer plans.

    A year taken out of its targets expects nothing any more, and an archived indicator is not
    monitored: their alerts would otherwise be reminded of for ever. Whoever changed the plan
    knows; the digest lists the closing.
    """
    now = policy.clock.now()
    why = Resolution.target_withdrawn if indicator.active else Resolution.indicator_archived
    query = select(Alert).where(
        Alert.subject_id == indicator.indicator_id,
        Alert.subject_type == SubjectType.indicator.value,
        Alert.state != AlertState.resolved.value,
        Alert.family != "news",
    )
    candidates = (await session.exec(query.with_for_update())).scalars().all()
    unplanned = [
        alert
        for alert in candidates
        if not indicator.active or _year_of(alert.period) not in indicator.targets
    ]
    for alert in unplanned:
        await _close(session, alert, envelope, why, now)
        log.info("alert closed", alert_id=str(alert.id), period=alert.period, resolved_by=why)
    return unplanned


async def good_news(
    session: AsyncSession,
    envelope: Envelope,
    facts: AlertFacts,
    policy: Policy,
    *,
    subject_alerts: list[Alert],
    notify: bool,
) -> Alert | None:
    """Record good news once per subject, period and kind (announced if `notify`); a repeat is
    only recorded. `subject_alerts` are the subject's alerts, as `resolve` read them."""
    now = policy.clock.now()
    known = next(
        (
            alert
            for alert in subject_alerts
            # A resolved problem of the same period already had its resolution notice; one closed
            # by a change of plan (a Resolution) had none, and the good news is news again.
            if alert.period == facts.period
            and (
                alert.kind == facts.kind.value
                or (alert.resolved_by is not None and alert.resolved_by not in _QUIET_CLOSINGS)
            )
        ),
        None,
    )
    if known is not None:
        await _record(session, known, envelope, Effect.recorded, now)
        return None
    alert = await _new_alert(
        session,
        envelope,
        facts,
        policy,
        state=AlertState.resolved,
        resolved_at=now,
        resolved_by=facts.kind.value,
    )
    _apply_facts(alert, facts)
    session.add(alert)
    await _record(session, alert, envelope, Effect.opened, now)
    if notify:
        recipients = await route(session, alert, facts.kind)
        await deliveries.notify(session, alert, NotificationKind.news, recipients, policy)
    return alert


async def acknowledge(
    session: AsyncSession, alert_id: UUID, request: AckRequest, by: Principal, now: datetime
) -> Alert:
    """Stop the reminders of an open alert; its resolution notice still goes out later.

    Only an alert in the principal's region (and sectors) can be acknowledged by it; a
    department acknowledges only the alerts it is the responsible department of, which its
    emails ask it to do.
    """
    alert = await _locked(session, alert_id)
    ensure_visible(by, alert.region, alert.sector_number, what=f"Alert {alert_id}")
    if by.role is Role.department and not may_write_for_department(by, alert.department_id):
        raise Forbidden(
            f"Alert {alert_id} is acknowledged by its responsible department or a coordinator"
        )
    return _acknowledge(session, alert, request, by.subject, now)


async def acknowledge_by_link(
    session: AsyncSession, grant: AckGrant, request: AckRequest, now: datetime
) -> Alert:
    """Acknowledge as the recipient a signed link was mailed to: the link is the permission."""
    alert = await _locked(session, grant.alert_id)
    return _acknowledge(session, alert, request, f"email:{grant.recipient}", now)


async def _locked(session: AsyncSession, alert_id: UUID) -> Alert:
    alert = (
        await session.exec(select(Alert).where(Alert.id == alert_id).with_for_update())
    ).scalar_one_or_none()
    if alert is None:
        raise NotFound(f"Alert {alert_id} does not exist")
    return alert


def _acknowledge(
    session: AsyncSession, alert: Alert, request: AckRequest, by: str, now: datetime
) -> Alert:
    if alert.state != AlertState.open.value:
        raise Conflict(
            f"Only an open alert can be acknowledged; this one is {alert.state}",
            state=alert.state,
        )
    alert.state = AlertState.acknowledged.value
    alert.acknowledged_at = now
    alert.acknowledged_by = by
    alert.ack_comment = request.comment
    alert.updated_at = now
    alert.next_reminder_at = None
    session.add(alert)
    log.info("alert acknowledged", alert_id=str(alert.id), by=by)
    return alert


@dataclass(frozen=True)
class AlertFilter:
    """Which alerts a list shows."""

    region: str | None = None
    sector_numbers: list[int] | None = None
    department_id: UUID | None = None
    kind: AlertKind | None = None
    state: AlertState | None = None


async def list_page(
    session: AsyncSession, where: AlertFilter, *, limit: int, offset: int
) -> tuple[list[Alert], int]:
    """A page of alerts, most recently changed first."""
    query = select(Alert)
    if where.region:
        query = query.where(Alert.region == where.region)
    if where.sector_numbers is not None:
        query = query.where(Alert.sector_number.in_(where.sector_numbers))
    if where.department_id is not None:
        query = query.where(Alert.department_id == where.department_id)
    if where.kind is not None:
        query = query.where(Alert.kind == where.kind.value)
    if where.state is not None:
        query = query.where(Alert.state == where.state.value)
    rows, total = await fetch_page(
        session, query, Alert.updated_at.desc(), Alert.id, limit=limit, offset=offset
    )
    return list(rows.scalars().all()), total


async def get(session: AsyncSession, alert_id: UUID, principal: Principal) -> Alert:
    """One alert, if it lies in the principal's region (and sectors)."""
    alert = await session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"Alert {alert_id} does not exist")
    ensure_visible(principal, alert.region, alert.sector_number, what=f"Alert {alert_id}")
    return alert


async def events_of(session: AsyncSession, alert_id: UUID) -> list[AlertEvent]:
    """The events behind an alert, in the order they arrived."""
    rows = await session.exec(
        select(AlertEvent)
        .where(AlertEvent.alert_id == alert_id)
        .order_by(AlertEvent.received_at, AlertEvent.occurred_at)
    )
    return list(rows.scalars().all())


async def remind_due(session: AsyncSession, policy: Policy, limit: int = 100) -> int:
    """Re-send open, unacknowledged problem alerts whose reminder is due; returns how many."""
    now = policy.clock.now()
    due = (
        (
            await session.exec(
                select(Alert)
                .where(
                    Alert.state == AlertState.open.value,
                    Alert.next_reminder_at.is_not(None),
                    Alert.next_reminder_at <= now,
                )
                .order_by(Alert.next_reminder_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    for alert in due:
        recipients: list[Recipient] = await route(session, alert, AlertKind(alert.kind))
        await deliveries.notify(session, alert, NotificationKind.reminder, recipients, policy)
        alert.reminder_count += 1
        # From now, not from the due time: after downtime one reminder goes out, not a burst.
        alert.next_reminder_at = now + policy.reminder_interval
        session.add(alert)
        log.info("reminder queued", alert_id=str(alert.id), count=alert.reminder_count)
    return len(due)
