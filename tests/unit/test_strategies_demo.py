"""The demo's values: on track where the story says so, behind beyond the tolerance where it
says behind, exactly one report left out, nothing reported twice. And its wait: an expected
alert counts as arrived when its department's email is in the mail server."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from strategies.demo import (
    BEHIND,
    BEHIND_YEARS,
    MAIL_PAGE,
    OVERDUE,
    Clients,
    Expectation,
    bare_message_id,
    behind_value,
    ensure_demo_user,
    mailbox_messages,
    matching_alerts,
    missing_emails,
    plan_rows,
    report_lines,
    reported_value,
)
from strategies.load_plan import read_dataset

DATA = Path(__file__).resolve().parents[2] / "data" / "strategies"
TOLERANCE = Decimal(5)


def served(dataset: dict, *, with_values: set[str] = frozenset()) -> dict[str, dict]:
    return {
        ind["id"]: {
            "id": f"uuid-{ind['id']}",
            "current": {"period": "2024"} if ind["id"] in with_values else None,
        }
        for ind in dataset["indicators"]
    }


@pytest.mark.parametrize("slug", ["leningrad-oblast", "nenets-ao"])
def test_every_printed_target_gets_a_value_but_the_one_overdue_report(slug):
    dataset = read_dataset(DATA / f"{slug}.yaml")
    rows = plan_rows(dataset, served(dataset))
    reported = {(r["indicator_id"], r["period"]) for r in rows}
    owed = {
        (f"uuid-{ind['id']}", str(t["year"]))
        for ind in dataset["indicators"]
        for t in ind["targets"]
        if t["value"] is not None
    }
    left_out = owed - reported
    expected = {(f"uuid-{OVERDUE[1]}", str(OVERDUE[2]))} if OVERDUE[0] == slug else set()
    assert left_out == expected
    assert len(rows) == len(reported)


@pytest.mark.parametrize("slug", ["leningrad-oblast", "nenets-ao"])
def test_values_are_on_track_except_the_behind_ones_which_miss_beyond_tolerance(slug):
    dataset = read_dataset(DATA / f"{slug}.yaml")
    by_id = {f"uuid-{i['id']}": i for i in dataset["indicators"]}
    for row in plan_rows(dataset, served(dataset)):
        ind = by_id[row["indicator_id"]]
        target = Decimal(
            str(next(t["value"] for t in ind["targets"] if str(t["year"]) == row["period"]))
        )
        value = Decimal(row["value"])
        gap = value - target if ind["direction"] == "higher_is_better" else target - value
        if (slug, ind["id"]) in BEHIND and int(row["period"]) in BEHIND_YEARS:
            assert -gap > abs(target) * TOLERANCE / 100, (ind["id"], row)
        else:
            assert gap >= 0, (ind["id"], row)
        if ind["unit"] == "%":
            assert value <= max(Decimal(100), target)


def test_indicators_with_values_are_not_reported_again():
    dataset = read_dataset(DATA / "nenets-ao.yaml")
    everything = {i["id"] for i in dataset["indicators"]}
    assert plan_rows(dataset, served(dataset, with_values=everything)) == []


def test_value_helpers_respect_direction_and_percent():
    assert reported_value(Decimal(99), "%", "higher_is_better") == Decimal(100)
    assert reported_value(Decimal(100), "%", "higher_is_better") == Decimal(100)
    assert reported_value(Decimal("16.21"), "ед.", "lower_is_better") == Decimal("15.89")
    assert behind_value(Decimal(50), Decimal("0.82"), "higher_is_better") == Decimal(41)
    assert behind_value(Decimal(17), Decimal("0.85"), "lower_is_better") == Decimal(20)


# ---------------------------------------------------------------- waiting for the emails

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
BEHIND_STORY = Expectation("leningrad-oblast", "ind-1", ("behind",), "1.1.1 отстаёт")


def alert(alert_id: str, subject_id: str, kind: str, resolved_by: str | None = None) -> dict:
    return {"id": alert_id, "subject_id": subject_id, "kind": kind, "resolved_by": resolved_by}


def delivery(recipient: str, kind: str = "department", **fields) -> dict:
    return {
        "recipient": recipient,
        "recipient_type": kind,
        "status": "sent",
        "channel": "immediate",
        "message_id": f"<{recipient}-msg@strategy.example.ru>",
        "due_at": (NOW - timedelta(minutes=5)).isoformat(),
        "last_smtp_code": None,
        "last_smtp_reply": None,
        **fields,
    }


def in_mailbox(*deliveries: dict) -> dict[str, str]:
    """The mail server's index of these deliveries: Message-ID without brackets → server ID."""
    return {d["message_id"].strip("<>"): f"id-{n}" for n, d in enumerate(deliveries)}


def test_emails_in_the_mail_server_satisfy_the_expectation():
    to_department, to_coordinator = delivery("kcr@lo.ru"), delivery("coord@lo.ru", "coordinator")
    missing = missing_emails(
        [BEHIND_STORY],
        {"leningrad-oblast": [alert("a-1", "ind-1", "behind")]},
        {"a-1": [to_department, to_coordinator]},
        in_mailbox(to_department, to_coordinator),
        NOW,
    )
    assert missing == []


def test_a_copy_held_for_the_daily_digest_is_not_waited_for():
    # The coordinator is over the hourly cap: the copy waits for the digest, pending, due now.
    # Only the department's email is an email to wait for, and it arrived.
    to_department = delivery("kcr@lo.ru")
    held = delivery("coord@lo.ru", "coordinator", status="pending", channel="digest")
    carried = delivery("coord@lo.ru", "coordinator", status="digested", channel="digest")
    missing = missing_emails(
        [BEHIND_STORY],
        {"leningrad-oblast": [alert("a-1", "ind-1", "behind")]},
        {"a-1": [to_department, held, carried]},
        in_mailbox(to_department),
        NOW,
    )
    assert missing == []


def test_an_email_the_service_sent_but_the_mail_server_lacks_is_missing():
    to_department, to_coordinator = delivery("kcr@lo.ru"), delivery("coord@lo.ru", "coordinator")
    missing = missing_emails(
        [BEHIND_STORY],
        {"leningrad-oblast": [alert("a-1", "ind-1", "behind")]},
        {"a-1": [to_department, to_coordinator]},
        in_mailbox(to_department),
        NOW,
    )
    assert missing == [
        "1.1.1 отстаёт: письмо для coord@lo.ru отправлено, но его нет на почтовом сервере"
    ]


def test_what_has_not_happened_is_named():
    unsent = delivery("kcr@lo.ru", status="pending")
    refused = delivery("coord@lo.ru", "coordinator", status="failed", last_smtp_code=550)
    refused["last_smtp_reply"] = "mailbox unavailable"
    later = delivery("kcr@lo.ru", status="pending", due_at=(NOW + timedelta(hours=1)).isoformat())
    overdue = Expectation("nenets-ao", "ind-2", ("report_overdue",), "5.1.1 не представлен")
    missing = missing_emails(
        [BEHIND_STORY, overdue],
        {"leningrad-oblast": [alert("a-1", "ind-1", "behind")], "nenets-ao": []},
        {"a-1": [unsent, refused, later]},
        {},
        NOW,
    )
    assert missing == [
        "1.1.1 отстаёт: письмо для kcr@lo.ru ещё не отправлено",
        "1.1.1 отстаёт: письмо для coord@lo.ru не принято почтовым сервером (550 mailbox unavailable)",
        "5.1.1 не представлен: оповещение не создано",
    ]


def test_a_coordinators_copy_alone_is_not_enough():
    to_coordinator = delivery("coord@lo.ru", "coordinator")
    missing = missing_emails(
        [BEHIND_STORY],
        {"leningrad-oblast": [alert("a-1", "ind-1", "behind")]},
        {"a-1": [to_coordinator]},
        in_mailbox(to_coordinator),
        NOW,
    )
    assert missing == ["1.1.1 отстаёт: письма отделу на почтовом сервере нет"]


def test_a_departments_email_held_for_the_digest_is_named_as_such():
    # Over its hourly cap the department gets the alert in tomorrow's digest, not now.
    held = delivery("kcr@lo.ru", status="pending", channel="digest")
    missing = missing_emails(
        [BEHIND_STORY],
        {"leningrad-oblast": [alert("a-1", "ind-1", "behind")]},
        {"a-1": [held]},
        {},
        NOW,
    )
    assert missing == [
        "1.1.1 отстаёт: письмо отделу отложено в ежедневную сводку (лимит писем в час)"
    ]


def test_alerts_match_by_subject_and_by_the_kind_that_opened_or_resolved_them():
    reached = Expectation("leningrad-oblast", "ms-1", ("milestone_reached",), "1.2 достигнута")
    alerts = [
        alert("a-1", "ms-1", "milestone_overdue", resolved_by="milestone_reached"),
        alert("a-2", "ms-1", "milestone_reached"),
        alert("a-3", "ms-2", "milestone_reached"),
        alert("a-4", "ms-1", "milestone_overdue"),
    ]
    assert [a["id"] for a in matching_alerts(reached, alerts)] == ["a-1", "a-2"]


def test_the_mail_server_is_read_to_its_last_page_even_while_mail_arrives():
    # Newest first, like Mailpit; a message arrives after the first page was read.
    messages = [
        {"ID": f"id-{n}", "MessageID": f"m{n}@strategy.example.ru"}
        for n in range(2 * MAIL_PAGE + 7)
    ]
    served_pages = []

    def mail_server(request: httpx.Request) -> httpx.Response:
        start, limit = int(request.url.params["start"]), int(request.url.params["limit"])
        if served_pages:
            arrived = f"new-{len(served_pages)}"
            messages.insert(0, {"ID": arrived, "MessageID": f"{arrived}@strategy.example.ru"})
        served_pages.append(start)
        page = messages[start : start + limit]
        return httpx.Response(200, json={"total": len(messages), "messages": page})

    with httpx.Client(base_url="http://mail", transport=httpx.MockTransport(mail_server)) as mail:
        index = mailbox_messages(mail)
    for n in range(2 * MAIL_PAGE + 7):
        assert index[f"m{n}@strategy.example.ru"] == f"id-{n}"
    assert len(served_pages) >= 3


def test_message_ids_compare_without_angle_brackets():
    assert bare_message_id("<abc@strategy.example.ru>") == "abc@strategy.example.ru"
    assert bare_message_id("abc@strategy.example.ru") == "abc@strategy.example.ru"


def test_the_region_report_lists_the_strategys_overdue_reports_by_indicator_name():
    # The stack may hold other data in the region: an overdue report of a project that is
    # not the strategy's is left out, as its alerts are.
    lists = {
        "/api/v1/behind": [],
        "/api/v1/projects": [{"id": "p-1"}],
        "/api/v1/indicators": [
            {"id": "ind-1", "project_id": "p-1", "name": "Доля школ"},
            {"id": "ind-9", "project_id": "p-other", "name": "Чужой показатель"},
        ],
        "/api/v1/overdue": [
            {"indicator_id": "ind-1", "period": "2024", "deadline": "2025-01-30"},
            {"indicator_id": "ind-9", "period": "2024", "deadline": "2025-01-30"},
        ],
        "/api/v1/alerts": [],
        "/api/v1/deliveries": [],
    }

    def service(request: httpx.Request) -> httpx.Response:
        assert request.url.params.get("region", "nenets-ao") == "nenets-ao"
        items = lists[request.url.path]
        return httpx.Response(200, json={"items": items, "total": len(items)})

    transport = httpx.MockTransport(service)
    clients = Clients(
        *(httpx.Client(base_url=f"http://{name}", transport=transport) for name in "pinm")
    )
    dataset = {"region": {"slug": "nenets-ao", "name": "Ненецкий автономный округ"}}
    with clients.projects, clients.indicators, clients.notifications, clients.mail:
        lines = list(report_lines(clients, dataset, set(), {}))

    at = lines.index("Отчёты не представлены в срок: 1")
    assert lines[at + 1] == "  • Доля школ — 2024 (срок 2025-01-30)"
    assert not any("Чужой показатель" in line for line in lines)


def _projects_api(existing: list[dict], calls: list[tuple[str, str, dict | None]]) -> httpx.Client:
    """A projects API where the demo users in `existing` already exist."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        calls.append((request.method, request.url.path, body))
        if request.method == "POST":
            taken = any(u["email"] == body["email"] for u in existing)
            return httpx.Response(409 if taken else 201, json={})
        if request.method == "GET":
            items = [u for u in existing if u["role"] == request.url.params["role"]]
            return httpx.Response(200, json={"items": items, "total": len(items)})
        return httpx.Response(200, json={})

    return httpx.Client(base_url="http://projects", transport=httpx.MockTransport(handle))


def test_a_demo_user_of_an_earlier_run_is_linked_to_its_coordinator_now():
    scope = {"role": "coordinator", "region": "nenets-ao", "coordinator_id": "c-1"}
    earlier = {
        "id": "u-1",
        "email": "demo@adm-nao.ru",
        "role": "coordinator",
        "region": "nenets-ao",
        "coordinator_id": None,
    }
    calls: list = []
    ensure_demo_user(_projects_api([earlier], calls), "demo@adm-nao.ru", "Демо", "pw", scope)
    assert calls[-1] == ("PATCH", "/api/v1/users/u-1", scope)


def test_a_new_or_current_demo_user_is_left_as_it_is():
    scope = {"role": "coordinator", "region": "nenets-ao", "coordinator_id": "c-1"}
    current = {"id": "u-1", "email": "demo@adm-nao.ru", **scope}
    for existing in ([], [current]):
        calls: list = []
        ensure_demo_user(_projects_api(existing, calls), "demo@adm-nao.ru", "Демо", "pw", scope)
        assert [method for method, _, _ in calls if method != "GET"] == ["POST"]
