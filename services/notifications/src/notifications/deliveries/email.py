"""Rendering notifications: Russian subjects, Jinja2 bodies (HTML and plain text), MIME messages."""

import email.policy
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from email.header import Header
from email.headerregistry import BaseHeader, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from uuid import UUID

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifications.alerts.ack_links import AckLinkSigner
from notifications.alerts.models import Alert, AlertKind, AlertState, Resolution
from notifications.deliveries.models import NotificationKind

TITLE_LIMIT = 60
PERCENT_UNITS = {"%", "процент", "проценты", "процентов"}

HEADLINES: dict[AlertKind, str] = {
    AlertKind.target_missed: "Целевое значение не достигнуто",
    AlertKind.behind: "Показатель отстаёт от плана",
    AlertKind.at_risk: "Показатель под угрозой отставания",
    AlertKind.forecast_miss: "Прогноз: целевое значение не будет достигнуто",
    AlertKind.report_overdue: "Не представлено значение показателя",
    AlertKind.milestone_overdue: "Просрочен этап проекта",
    AlertKind.back_on_track: "Показатель вернулся к плану",
    AlertKind.target_met: "Целевое значение достигнуто",
    AlertKind.milestone_reached: "Этап проекта выполнен",
}
# What a resolution says when the alert was closed by something other than good news: a
# reported value (no `resolved_by`), or a change to the milestone.
RESOLVED_BY_REPORT = "Значение показателя представлено"
RESOLUTION_HEADLINES: dict[Resolution, str] = {
    Resolution.milestone_rescheduled: "Срок этапа проекта перенесён",
    Resolution.milestone_removed: "Этап исключён из проекта",
    Resolution.target_withdrawn: "Плановое значение на год исключено из показателя",
    Resolution.indicator_archived: "Показатель снят с мониторинга",
}
STATE_LABELS = {
    AlertState.open: "открыто",
    AlertState.acknowledged: "принято в работу",
    AlertState.resolved: "решено",
}

_templates = Environment(
    loader=PackageLoader("notifications.deliveries", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class RenderedEmail:
    """A subject with its two bodies."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Links:
    """Where a recipient acts on an alert."""

    notifications_url: str
    indicators_url: str
    ack_signer: AckLinkSigner

    def acknowledge(self, alert_id: UUID, recipient: str) -> str:
        """The recipient's one-click acknowledgement page of an alert."""
        token = self.ack_signer.token(alert_id, recipient)
        return f"{self.notifications_url.rstrip('/')}/api/v1/ack/{token}"

    def alert(self, alert_id: UUID) -> str:
        """The alert with its history."""
        return f"{self.notifications_url.rstrip('/')}/api/v1/alerts/{alert_id}"

    def post_value(self, indicator_id: UUID) -> str:
        """Where the department reports a value of the indicator."""
        return f"{self.indicators_url.rstrip('/')}/api/v1/indicators/{indicator_id}/measurements"


def format_number(value: Decimal | None, unit: str | None = None) -> str:
    """A value the Russian way: comma decimals, no trailing zeros, unit after a space."""
    if value is None:
        return "—"
    quantized = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    if quantized == quantized.to_integral_value():
        quantized = quantized.quantize(Decimal(1))
    sign = "−" if quantized < 0 else ""
    integral, _, fraction = f"{abs(quantized):f}".partition(".")
    grouped = f"{int(integral):,}".replace(",", "\u00a0") if len(integral) > 4 else integral
    number = f"{sign}{grouped}{',' + fraction if fraction else ''}"
    if not unit:
        return number
    return f"{number} %" if unit.strip().lower() in PERCENT_UNITS else f"{number} {unit}"


def format_gap(alert: Alert) -> str:
    """The shortfall in the indicator's units (percentage points for percentages)."""
    if alert.gap is None:
        return "—"
    unit = alert.unit or ""
    gap_unit = "п. п." if unit.strip().lower() in PERCENT_UNITS else unit
    text = format_number(alert.gap, None) + (f" {gap_unit}" if gap_unit else "")
    if alert.gap_percent is not None:
        text += f" ({format_number(alert.gap_percent, '%')} от плана)"
    return text


def format_date(value: date | datetime | None) -> str:
    """DD.MM.YYYY."""
    return value.strftime("%d.%m.%Y") if value else "—"


def one_line(text: str) -> str:
    """Text fit for a header: line breaks and tabs, with the spaces around them, one space.

    Names come from the catalogues as their authors typed them; a line break in a Subject
    would make the message impossible to build. No-break spaces (thousands) stay.
    """
    return _BREAKS.sub(" ", text)


# Every character str.splitlines() breaks at (the email library refuses a header with any of
# them), and tabs.
_BREAKS = re.compile(
    r" *[\t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]+[ \t\n\v\f\r\x1c-\x1e\x85\u2028\u2029]*"
)


def shorten(text: str, limit: int = TITLE_LIMIT) -> str:
    """Cut a long name at a word boundary, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:—-")
    return f"{cut}…"


def facts_phrase(alert: Alert, kind: AlertKind) -> str:
    """The numbers a subject line ends with."""
    if alert.subject_type == "milestone":
        return f"срок {format_date(alert.deadline)}"
    if kind == AlertKind.report_overdue:
        return f"срок {format_date(alert.deadline)}" if alert.deadline else "значение не внесено"
    if kind == AlertKind.forecast_miss:
        return (
            f"прогноз {format_number(alert.projected, alert.unit)}, "
            f"план {format_number(alert.expected, alert.unit)}"
        )
    return (
        f"факт {format_number(alert.actual, alert.unit)}, "
        f"план {format_number(alert.expected, alert.unit)}"
    )


def figures_kind(alert: Alert, notification: NotificationKind) -> AlertKind:
    """Whose figures an email shows: the good news that resolved the alert (a forecast closed by
    the indicator back on track shows its fact, not the old projection), else the alert's."""
    if notification == NotificationKind.resolved and alert.resolved_by in AlertKind.__members__:
        return AlertKind(alert.resolved_by)
    return AlertKind(alert.kind)


def headline(alert: Alert, notification: NotificationKind) -> str:
    """What happened, in a few words."""
    if notification == NotificationKind.resolved:
        if alert.resolved_by is None:
            return RESOLVED_BY_REPORT
        if alert.resolved_by in RESOLUTION_HEADLINES:
            return RESOLUTION_HEADLINES[Resolution(alert.resolved_by)]
        return HEADLINES[AlertKind(alert.resolved_by)]
    return HEADLINES[AlertKind(alert.kind)]


def alert_subject(alert: Alert, notification: NotificationKind) -> str:
    """«[Регион] Что случилось: Показатель… — период: факт X, план Y»."""
    kind = figures_kind(alert, notification)
    prefix = "Напоминание: " if notification == NotificationKind.reminder else ""
    what = headline(alert, notification)
    if alert.subject_type == "milestone":
        about = f"{shorten(one_line(alert.title))} — {facts_phrase(alert, kind)}"
    else:
        about = f"{shorten(one_line(alert.title))} — {alert.period}: {facts_phrase(alert, kind)}"
    return one_line(f"[{alert.region_name}] {prefix}{what}: {about}")


@dataclass(frozen=True)
class TrendPoint:
    """One reported value of the indicator."""

    period: str
    value: str


def render_alert(
    alert: Alert,
    notification: NotificationKind,
    *,
    trend: Sequence[TrendPoint],
    links: Links,
    recipient: str,
) -> RenderedEmail:
    """The email about one alert to one recipient: opening, escalation, reminder, resolution
    or good news."""
    is_problem = notification in (
        NotificationKind.opened,
        NotificationKind.escalated,
        NotificationKind.reminder,
    )
    context = {
        "alert": alert,
        "notification": notification.value,
        "headline": headline(alert, notification),
        "is_problem": is_problem,
        "actual": format_number(alert.actual, alert.unit),
        "expected": format_number(alert.expected, alert.unit),
        "projected": format_number(alert.projected, alert.unit),
        "gap": format_gap(alert),
        "deadline": format_date(alert.deadline),
        "opened": format_date(alert.opened_at),
        "state": STATE_LABELS[AlertState(alert.state)],
        "trend": list(trend),
        "ack_url": links.acknowledge(alert.id, recipient) if is_problem else None,
        "alert_url": links.alert(alert.id),
        "post_value_url": links.post_value(alert.subject_id)
        if alert.subject_type == "indicator"
        else None,
    }
    return RenderedEmail(
        subject=alert_subject(alert, notification),
        text=_templates.get_template("alert.txt.j2").render(context),
        html=_templates.get_template("alert.html.j2").render(context),
    )


@dataclass(frozen=True)
class DigestLine:
    """One alert in a digest."""

    alert: Alert
    status: str  # new, open or resolved within the digest's day
    headline: str
    facts: str
    gap: str


@dataclass
class DigestSector:
    """The digest lines of one sector, worst gap first."""

    number: int | None
    name: str
    lines: list[DigestLine] = field(default_factory=list)


@dataclass(frozen=True)
class DigestContent:
    """What one recipient's daily digest for one region says."""

    region: str
    region_name: str
    day: date
    sectors: list[DigestSector]
    new: int
    still_open: int
    resolved: int


def digest_subject(content: DigestContent) -> str:
    """«[Регион] Сводка за ДД.ММ.ГГГГ: новых N, открытых M, решённых K»."""
    return one_line(
        f"[{content.region_name}] Сводка уведомлений за {format_date(content.day)}: "
        f"новых {content.new}, открытых {content.still_open}, решённых {content.resolved}"
    )


def render_digest(content: DigestContent, *, links: Links, recipient: str) -> RenderedEmail:
    """The daily digest email to one recipient; each open problem with its acknowledgement
    link."""
    context = {
        "digest": content,
        "day": format_date(content.day),
        "labels": {"new": "новое", "open": "открыто", "resolved": "решено"},
        "links": links,
        "ack_urls": {
            line.alert.id: links.acknowledge(line.alert.id, recipient)
            for sector in content.sectors
            for line in sector.lines
            if line.alert.state == AlertState.open.value
        },
    }
    return RenderedEmail(
        subject=digest_subject(content),
        text=_templates.get_template("digest.txt.j2").render(context),
        html=_templates.get_template("digest.html.j2").render(context),
    )


def message_id_for(delivery_id: UUID, sender: str) -> str:
    """A Message-ID that names the delivery, so a resend carries the same one."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "notifications.local"
    return f"<{delivery_id}@{domain}>"


# Folded lines short enough that each encoded word stays within RFC 2047's 75 characters.
RFC2047_LINE = 76


class WirePolicy(email.policy.EmailPolicy):
    """The SMTP policy with a folder that keeps every space and costs little.

    Python's header folder (3.11) drops a space that falls between two encoded words, which
    turns «высокоскоростному интернету» into «высокоскоростномуинтернету» in long Russian
    subjects, and it took most of a message's build time. So: a header that is ASCII and fits
    on a line is written as it is; a non-ASCII Subject becomes encoded words of UTF-8 that carry
    their spaces inside them (`email.header`); any other header goes to the library's folder,
    which folds only past the RFC 5322 hard limit, and is remembered, as it is the sender's or a
    recipient's address.
    """

    def _fold(self, name, value, refold_binary=False):
        text = str(value)
        if "\r" not in text and "\n" not in text:
            if text.isascii() and len(name) + 2 + len(text) <= self.max_line_length:
                return f"{name}: {text}{self.linesep}"
            if name.lower() == "subject":
                words = Header(text, "utf-8", RFC2047_LINE, name).encode(linesep=self.linesep)
                return f"{name}: {words}{self.linesep}"
        return _library_fold(self, name, text)


@functools.lru_cache(maxsize=1024)
def _library_fold(policy: WirePolicy, name: str, text: str) -> str:
    return policy.header_factory(name, text).fold(policy=policy)


WIRE_POLICY = WirePolicy(linesep="\r\n", max_line_length=998)


class ClassCachingHeaderRegistry(HeaderRegistry):
    """The library's header registry, which makes each header's class once per name.

    Python's (3.11) builds a new class for every header set on a message, and that took more
    than half of a message's build time. The classes hold no state, so one per name serves all.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made


# The library's default policy (lines of 78, base64 bodies in lines of 76) but for the registry.
BUILD_POLICY = email.policy.default.clone(header_factory=ClassCachingHeaderRegistry())


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as sent over SMTP, headers intact."""
    return message.as_bytes(policy=WIRE_POLICY)


def build_message(
    *,
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    thread_message_id: str | None,
    date_sent: datetime,
) -> EmailMessage:
    """A multipart/alternative message; replies thread under the alert's first email."""
    message = EmailMessage(policy=BUILD_POLICY)
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(date_sent)
    message["Message-ID"] = message_id
    if thread_message_id and thread_message_id != message_id:
        message["In-Reply-To"] = thread_message_id
        message["References"] = thread_message_id
    message["Auto-Submitted"] = "auto-generated"
    # Base64 outright: for Russian text it is what the library would pick after encoding
    # both ways to compare.
    message.set_content(text, cte="base64")
    message.add_alternative(html, subtype="html", cte="base64")
    return message
