"""The daily digest: windows, grouping by sector, worst gap first."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from uuid import uuid4

from notifications.deliveries.email import render_digest
from notifications.digests.service import DigestWindow, arrange, due_window, upcoming_window
from tests.unit.notifications_samples import (
    OPENED,
    SIGNER,
    milestone_alert,
    sample_alert,
    sample_links,
)

AT = time(6, 0)
WINDOW = DigestWindow(
    date(2024, 3, 2), datetime(2024, 3, 1, 6, tzinfo=UTC), datetime(2024, 3, 2, 6, tzinfo=UTC)
)


def test_the_digest_is_due_from_its_time_on():
    assert due_window(datetime(2024, 3, 2, 5, 59, tzinfo=UTC), AT) is None
    assert due_window(datetime(2024, 3, 2, 6, 0, tzinfo=UTC), AT) == WINDOW
    assert due_window(datetime(2024, 3, 2, 23, 0, tzinfo=UTC), AT) == WINDOW


def test_the_preview_shows_the_next_digest():
    assert upcoming_window(datetime(2024, 3, 2, 5, 0, tzinfo=UTC), AT) == WINDOW
    tomorrow = upcoming_window(datetime(2024, 3, 2, 7, 0, tzinfo=UTC), AT)
    assert tomorrow.day == date(2024, 3, 3) and tomorrow.start == WINDOW.end


def test_alerts_grouped_by_sector_worst_gap_first_with_their_status():
    mild = sample_alert(gap_percent=Decimal("-5"), title="Мягкое")
    worst = sample_alert(gap_percent=Decimal("-30"), title="Худшее")
    old = sample_alert(
        gap_percent=Decimal("-10"), title="Старое", opened_at=OPENED - timedelta(days=3)
    )
    fixed = sample_alert(
        sector_number=1,
        sector_name="Здравоохранение",
        state="resolved",
        resolved_by="back_on_track",
        title="Решённое",
    )
    milestone = milestone_alert(title="Этап")
    content = arrange([mild, milestone, old, fixed, worst], WINDOW, "leningrad-oblast", "ЛО")

    assert [s.name for s in content.sectors] == ["Здравоохранение", "Образование"]
    education = content.sectors[1]
    assert [line.alert.title for line in education.lines] == ["Худшее", "Старое", "Мягкое", "Этап"]
    assert [line.status for line in education.lines] == ["new", "open", "new", "new"]
    assert content.sectors[0].lines[0].status == "resolved"
    assert content.sectors[0].lines[0].headline == "Показатель вернулся к плану"
    assert (content.new, content.still_open, content.resolved) == (3, 1, 1)

    email = render_digest(
        content, links=sample_links("http://n", "http://i"), recipient="coord@gov.example.ru"
    )
    assert email.subject == "[ЛО] Сводка уведомлений за 02.03.2024: новых 3, открытых 1, решённых 1"
    assert email.text.index("1. Здравоохранение") < email.text.index("3. Образование")
    assert email.text.index("Худшее") < email.text.index("Мягкое")
    # Each open problem can be taken up from the digest, as its recipient; the resolved cannot.
    links = [w for w in email.text.split() if w.startswith("http://n/api/v1/ack/")]
    grants = [SIGNER.grant(link.removeprefix("http://n/api/v1/ack/")) for link in links]
    assert [g.alert_id for g in grants] == [worst.id, old.id, mild.id, milestone.id]
    assert {g.recipient for g in grants} == {"coord@gov.example.ru"}
    assert all(f'<a href="{link}">Принять в работу</a>' in email.html for link in links)


def test_a_year_end_value_behind_and_below_target_is_one_line():
    indicator = uuid4()
    behind = sample_alert(subject_id=indicator, period="2023-Q4", family="status", kind="behind")
    missed = sample_alert(subject_id=indicator, period="2023")
    other_year = sample_alert(subject_id=indicator, period="2022")
    other_indicator = sample_alert(period="2023")
    content = arrange(
        [missed, behind, other_year, other_indicator], WINDOW, "leningrad-oblast", "ЛО"
    )
    listed = [line.alert for sector in content.sectors for line in sector.lines]
    assert sorted(map(id, listed)) == sorted(map(id, [behind, other_year, other_indicator]))
    assert content.new == 3
