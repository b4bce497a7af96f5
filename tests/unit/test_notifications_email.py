"""Email rendering: numbers the Russian way, subjects, autoescaped HTML, threading headers."""

import email
import email.policy
import re
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID

import pytest

from notifications.alerts.ack_links import AckGrant
from notifications.deliveries.email import (
    BUILD_POLICY,
    TrendPoint,
    build_message,
    format_number,
    headline,
    message_id_for,
    one_line,
    render_alert,
    shorten,
    wire_bytes,
)
from notifications.deliveries.models import NotificationKind
from tests.unit.notifications_samples import SIGNER, milestone_alert, sample_alert, sample_links

LINKS = sample_links("https://notify.example.ru", "https://indicators.example.ru")
RECIPIENT = "kcr@lenreg.example.ru"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (Decimal("41"), "%", "41 %"),
        (Decimal("41.50"), "%", "41,5 %"),
        (Decimal("-9.000"), None, "−9"),
        (Decimal("0.125"), "шт.", "0,13 шт."),
        (Decimal("1234567"), "руб.", "1\u00a0234\u00a0567 руб."),
        (Decimal("1200"), "процент", "1200 %"),
        (None, "%", "—"),
    ],
)
def test_numbers_are_written_the_russian_way(value, unit, expected):
    assert format_number(value, unit) == expected


def test_long_names_are_cut_at_a_word_with_an_ellipsis():
    name = "Доля учащихся, обеспеченных доступом к высокоскоростному интернету в школах"
    assert shorten(name, 30) == "Доля учащихся, обеспеченных…"
    assert shorten("Короткое имя", 30) == "Короткое имя"


def test_subject_names_region_what_happened_and_the_numbers():
    alert = sample_alert(kind="behind", family="status", period="2023-Q2")
    email = render_alert(alert, NotificationKind.opened, trend=[], links=LINKS, recipient=RECIPIENT)
    assert email.subject == (
        "[Ленинградская область] Показатель отстаёт от плана: "
        "Доля учащихся с доступом к интернету — 2023-Q2: факт 41 %, план 50 %"
    )


def test_reminder_and_resolution_subjects():
    alert = sample_alert()
    reminder = render_alert(
        alert, NotificationKind.reminder, trend=[], links=LINKS, recipient=RECIPIENT
    )
    assert reminder.subject.startswith(
        "[Ленинградская область] Напоминание: Целевое значение не достигнуто:"
    )
    alert.state, alert.resolved_by, alert.actual = "resolved", "target_met", Decimal("52")
    resolved = render_alert(
        alert, NotificationKind.resolved, trend=[], links=LINKS, recipient=RECIPIENT
    )
    assert resolved.subject.endswith(
        "Целевое значение достигнуто: "
        "Доля учащихся с доступом к интернету — 2023: факт 52 %, план 50 %"
    )
    alert.resolved_by = None
    reported = render_alert(
        alert, NotificationKind.resolved, trend=[], links=LINKS, recipient=RECIPIENT
    )
    assert "Значение показателя представлено" in reported.subject


def test_milestone_subject_and_body():
    email = render_alert(
        milestone_alert(), NotificationKind.opened, trend=[], links=LINKS, recipient=RECIPIENT
    )
    assert email.subject == (
        "[Ленинградская область] Просрочен этап проекта: "
        "Подключение 120 школ к ЕСПД — срок 31.12.2023"
    )
    assert "Этап: Подключение 120 школ к ЕСПД" in email.text
    assert "Отметить выполнение этапа" in email.html


def test_body_shows_facts_gap_trend_and_what_to_do():
    alert = sample_alert()
    trend = [TrendPoint("2022", "38 %"), TrendPoint("2023", "41 %")]
    email = render_alert(
        alert, NotificationKind.opened, trend=trend, links=LINKS, recipient=RECIPIENT
    )
    for expected in (
        "Проект: Цифровая школа",
        "Ответственный орган: КЦР ЛО",
        "План: 50 %",
        "Факт: 41 %",
        "Отклонение: −9 п. п. (−18 % от плана)",
        "Последние значения: 2022: 38 % → 2023: 41 %",
        f"https://indicators.example.ru/api/v1/indicators/{alert.subject_id}/measurements",
    ):
        assert expected in email.text
    ack_page = "https://notify.example.ru/api/v1/ack/"
    [ack_link] = [word for word in email.text.split() if word.startswith(ack_page)]
    assert SIGNER.grant(ack_link.removeprefix(ack_page)) == AckGrant(alert.id, RECIPIENT)
    assert f'<a href="{ack_link}">' in email.html
    assert "<td>Факт</td><td><strong>41 %</strong></td>" in email.html


def test_html_is_autoescaped_and_text_is_not():
    alert = sample_alert(title='Показатель <script>alert("x")</script> & Co')
    email = render_alert(alert, NotificationKind.opened, trend=[], links=LINKS, recipient=RECIPIENT)
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html and "&amp; Co" in email.html
    assert '<script>alert("x")</script> & Co' in email.text


def test_message_threads_under_the_first_email_with_both_bodies_and_typed_headers():
    first = message_id_for(UUID(int=1), "Мониторинг <monitoring@strategy.example.ru>")
    later = message_id_for(UUID(int=2), "Мониторинг <monitoring@strategy.example.ru>")
    message = build_message(
        sender="Мониторинг <monitoring@strategy.example.ru>",
        recipient="kcr@lenreg.example.ru",
        subject="[Ленинградская область] Напоминание",
        text="текст",
        html="<p>текст</p>",
        message_id=later,
        thread_message_id=first,
        date_sent=datetime(2024, 3, 1, tzinfo=UTC),
    )
    assert first == "<00000000-0000-0000-0000-000000000001@strategy.example.ru>"
    assert message["Message-ID"] == later
    assert message["In-Reply-To"] == first and message["References"] == first
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    # Each header is parsed by its kind, with one class per name (BUILD_POLICY's registry).
    assert message["From"].addresses[0].display_name == "Мониторинг"
    assert message["To"].addresses[0].addr_spec == "kcr@lenreg.example.ru"
    assert message["Date"].datetime == datetime(2024, 3, 1, tzinfo=UTC)
    registry = BUILD_POLICY.header_factory
    assert registry["To"] is registry["to"] and registry["To"] is not registry["Subject"]


def test_the_first_email_has_no_thread_headers():
    own = message_id_for(UUID(int=3), "monitoring@strategy.example.ru")
    message = build_message(
        sender="monitoring@strategy.example.ru",
        recipient="kcr@lenreg.example.ru",
        subject="s",
        text="t",
        html="<p>t</p>",
        message_id=own,
        thread_message_id=own,
        date_sent=datetime(2024, 3, 1, tzinfo=UTC),
    )
    assert message["In-Reply-To"] is None and message["References"] is None


def plain_message(subject: str):
    """A first email with one-letter bodies, to look at its headers on the wire."""
    return build_message(
        sender="monitoring@strategy.example.ru",
        recipient="kcr@lenreg.example.ru",
        subject=subject,
        text="t",
        html="<p>t</p>",
        message_id="<1@strategy.example.ru>",
        thread_message_id=None,
        date_sent=datetime(2024, 3, 1, tzinfo=UTC),
    )


def test_a_long_russian_subject_keeps_every_space_on_the_wire():
    subject = (
        "[Ленинградская область] Целевое значение не достигнуто: Доля школ, подключённых к "
        "высокоскоростному интернету — 2023: факт 41 %, план 50 %"
    )
    message = plain_message(subject)
    received = email.message_from_bytes(wire_bytes(message), policy=email.policy.default)
    assert received["Subject"] == subject
    # RFC 2047: encoded words of at most 75 characters, on lines of at most 78.
    lines = wire_bytes(message).split(b"\r\n")
    start = next(n for n, line in enumerate(lines) if line.startswith(b"Subject: "))
    end = next(n for n in range(start + 1, len(lines)) if not lines[n].startswith(b" "))
    words = re.findall(rb"=\?utf-8\?b\?[^?]*\?=", b"".join(lines[start:end]))
    assert len(words) == end - start > 1
    assert all(len(word) <= 75 for word in words)
    assert all(len(line) <= 78 for line in lines[start:end])


def test_headers_read_back_as_written_whichever_way_they_are_folded():
    message = build_message(
        sender="Мониторинг стратегий <monitoring@strategy.example.ru>",
        recipient="kcr@минцифры.рф",
        subject="Короткая тема",
        text="Текст",
        html="<p>Текст</p>",
        message_id="<2@strategy.example.ru>",
        thread_message_id="<1@strategy.example.ru>",
        date_sent=datetime(2024, 3, 1, tzinfo=UTC),
    )
    wire = wire_bytes(message)
    received = email.message_from_bytes(wire, policy=email.policy.default)

    assert wire.isascii()
    assert b"\r\nReferences: <1@strategy.example.ru>\r\n" in wire
    assert str(received["From"]) == "Мониторинг стратегий <monitoring@strategy.example.ru>"
    assert received["To"].addresses[0].domain == "минцифры.рф"
    assert received["Subject"] == "Короткая тема"
    assert received.get_body(("plain",)).get_content() == "Текст\n"
    assert received.get_body(("html",)).get_content() == "<p>Текст</p>\n"


def test_a_name_typed_with_line_breaks_gives_a_one_line_subject_that_can_be_sent():
    alert = sample_alert(title="Доля учащихся\r\nс доступом\tк интернету")
    subject = render_alert(
        alert, NotificationKind.opened, trend=[], links=LINKS, recipient=RECIPIENT
    ).subject
    received = email.message_from_bytes(
        wire_bytes(plain_message(subject)), policy=email.policy.default
    )
    assert "Доля учащихся с доступом к интернету — 2023" in subject
    assert received["Subject"] == subject


@pytest.mark.parametrize(
    ("resolved_by", "said"),
    [
        ("milestone_rescheduled", "Срок этапа проекта перенесён"),
        ("milestone_removed", "Этап исключён из проекта"),
        ("milestone_reached", "Этап проекта выполнен"),
    ],
)
def test_a_closed_milestone_alert_says_what_closed_it(resolved_by, said):
    alert = milestone_alert(state="resolved", resolved_by=resolved_by)
    assert headline(alert, NotificationKind.resolved) == said


def test_a_forecast_closed_by_good_news_shows_the_fact_not_the_old_projection():
    alert = sample_alert(
        kind="forecast_miss",
        family="forecast",
        projected=Decimal("44"),
        actual=Decimal("52"),
        state="resolved",
        resolved_by="back_on_track",
    )
    subject = render_alert(
        alert, NotificationKind.resolved, trend=[], links=LINKS, recipient=RECIPIENT
    ).subject
    assert subject.endswith("— 2023: факт 52 %, план 50 %")
    assert "прогноз" not in subject


def test_every_line_break_the_email_library_refuses_becomes_a_space_and_no_break_spaces_stay():
    assert (
        one_line("Доля\u2028школ\r\n  с\x85доступом\u00a0100 %")
        == "Доля школ с доступом\u00a0100 %"
    )
