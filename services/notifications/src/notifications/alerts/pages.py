"""The pages an emailed acknowledgement link opens: HTML for people, beside the JSON API."""

from jinja2 import Environment, PackageLoader, StrictUndefined

from notifications.alerts.models import Alert, AlertState
from notifications.alerts.schemas import ACK_COMMENT_MAX_LENGTH
from notifications.deliveries.email import (
    STATE_LABELS,
    facts_phrase,
    figures_kind,
    format_date,
    headline,
)
from notifications.deliveries.models import NotificationKind

_templates = Environment(
    loader=PackageLoader("notifications.alerts", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def ack_page(
    title: str,
    *,
    message: str | None = None,
    alert: Alert | None = None,
    form: bool = False,
    comment: str = "",
    error: str | None = None,
) -> str:
    """A page about an alert (if known), with the acknowledgement form when it can be taken up."""
    context: dict = {
        "title": title,
        "message": message,
        "alert": alert,
        "form": form,
        "comment": comment,
        "error": error,
        "comment_limit": ACK_COMMENT_MAX_LENGTH,
    }
    if alert is not None:
        notification = (
            NotificationKind.resolved
            if alert.state == AlertState.resolved.value
            else NotificationKind.opened
        )
        milestone = alert.subject_type == "milestone"
        context |= {
            "headline": headline(alert, notification),
            "period": format_date(alert.deadline) if milestone else alert.period,
            "facts": None if milestone else facts_phrase(alert, figures_kind(alert, notification)),
            "state": STATE_LABELS[AlertState(alert.state)],
            "acknowledged_at": format_date(alert.acknowledged_at),
        }
    return _templates.get_template("ack_page.html.j2").render(context)
