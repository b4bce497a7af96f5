"""`strategy-demo`: the departments report their values, the system reacts, a person watches.

Run after `load-strategy` (as `make demo` does). Through the public APIs only, it reports the
values of both regions for 2022–2024 — most on track, a few behind, one report left out — adds
one quarterly indicator of the current year whose trend misses its target, marks one milestone
reached, waits until the emails about these events are in the SMTP server and prints what
happened.

The strategy period is over (today is past 2024), so every year 2022–2024 is past its reporting
deadline: a year left without a value is an overdue report. That is why the demo reports 2024 as
well, leaving out exactly one report. It is listed overdue, but raises no alert: the loader
records the plan's past deadlines as history, as it does for milestones. Re-running it reports
nothing twice: indicators that already have values are left as they are.
"""

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx

from strategies.access import AccessError, PasswordAuth
from strategies.load_plan import read_dataset
from strategies.loader import REPO_ROOT, LoadError, list_all, problem_text, request

REGIONS = ("leningrad-oblast", "nenets-ao")
SOURCE = "демонстрационные данные (make demo)"
# Indicators that fall behind: reported this share of their 2023 and 2024 targets
# (the inverse for lower-is-better ones) — far beyond the 5 % tolerance.
BEHIND = {
    ("leningrad-oblast", "1.1.1"): Decimal("0.82"),
    ("leningrad-oblast", "4.1.1"): Decimal("0.85"),
    ("nenets-ao", "2.1.1"): Decimal("0.82"),
}
BEHIND_YEARS = (2023, 2024)
# The one report the department does not file: this indicator's 2024 value (listed overdue; no
# alert, since its deadline passed before the indicator was loaded).
OVERDUE = ("nenets-ao", "5.1.1", 2024)
# The milestone reported reached: «Цифровое портфолио ученика», due at the end of 2024.
MILESTONE = ("leningrad-oblast", "1.2", 2024)
MILESTONE_EVIDENCE = "Акт ввода в эксплуатацию регионального сервиса «Цифровое портфолио»"
MILESTONE_REACHED_AT = "2024-12-20T12:00:00+03:00"
# A quarterly indicator of the current year: every quarter on its line, yet slowing down, so
# the trend ends the year short of the target (a forecast miss while the year still runs).
FORECAST_PROJECT = ("leningrad-oblast", "5.1")
FORECAST_NAME = "Доля заявлений на получение услуг, поданных в электронном виде (демонстрационный)"
FORECAST_BASELINE = Decimal(60)
FORECAST_TARGET = Decimal(100)
FORECAST_QUARTERS = (Decimal(75), Decimal(82), Decimal(90))
# Who signs in after the demo (development passwords, printed): a department of one region and
# the coordinator of the other.
DEMO_DEPARTMENT = ("leningrad-oblast", "demo-department@lenreg.ru", "demo-department-password")
DEMO_COORDINATOR = ("nenets-ao", "demo-coordinator@adm-nao.ru", "demo-coordinator-password")
WAIT_POLL_SECONDS = 2.0
MAIL_UI = "http://127.0.0.1:8025"
# Page size of the mail server's message list (Mailpit API: `start`, `limit`, newest first).
MAIL_PAGE = 200
# Exit code of `--no-wait` when some expected alert or email did not arrive in time.
EXIT_INCOMPLETE = 2

KIND_NAMES = {
    "behind": "отставание от плана",
    "at_risk": "риск отставания",
    "target_missed": "цель года не достигнута",
    "forecast_miss": "прогноз: цель года не будет достигнута",
    "report_overdue": "значение не представлено в срок",
    "milestone_overdue": "контрольная точка просрочена",
    "milestone_reached": "контрольная точка достигнута",
    "back_on_track": "показатель вернулся к плану",
    "target_met": "цель года достигнута",
}


@dataclass
class Clients:
    """The three services and the mail server's API."""

    projects: httpx.Client
    indicators: httpx.Client
    notifications: httpx.Client
    mail: httpx.Client

    def close(self) -> None:
        """Close every client."""
        for client in (self.projects, self.indicators, self.notifications, self.mail):
            client.close()


@dataclass
class Expectation:
    """An alert the demo's data should raise, and what the demo says about it."""

    region: str
    subject_id: str
    kinds: tuple[str, ...]
    story: str


def reported_value(target: Decimal, unit: str | None, direction: str) -> Decimal:
    """An on-track value: a little better than the target, never beyond 100 %."""
    better = target * (Decimal("1.02") if direction == "higher_is_better" else Decimal("0.98"))
    if unit == "%":
        better = min(better, Decimal(100))
    return _tidy(max(better, target) if direction == "higher_is_better" else min(better, target))


def behind_value(target: Decimal, share: Decimal, direction: str) -> Decimal:
    """A value short of the target by (1 − share) of it, in the indicator's direction."""
    return _tidy(target * share if direction == "higher_is_better" else target / share)


def _tidy(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()


def plan_rows(
    dataset: Mapping[str, Any], served: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Import rows for a region's indicators that have no value yet; `served` by dataset id."""
    slug = dataset["region"]["slug"]
    departments = {d["id"]: d["short_name"] for d in dataset["departments"]}
    rows = []
    for ind in dataset["indicators"]:
        indicator = served.get(ind["id"])
        if indicator is None or indicator["current"] is not None:
            continue  # not loaded, or its values were reported by an earlier run
        share = BEHIND.get((slug, ind["id"]))
        for target in ind["targets"]:
            year = target["year"]
            if target["value"] is None or (slug, ind["id"], year) == OVERDUE:
                continue
            planned = Decimal(str(target["value"]))
            if share is not None and year in BEHIND_YEARS:
                value = behind_value(planned, share, ind["direction"])
            else:
                value = reported_value(planned, ind["unit"], ind["direction"])
            rows.append(
                {
                    "indicator_id": indicator["id"],
                    "period": str(year),
                    "value": format(value, "f"),
                    "as_of": f"{year}-12-31",
                    "reported_by": departments[ind["department"]],
                    "source": SOURCE,
                }
            )
    return rows


def served_by_dataset_id(
    clients: Clients, dataset: Mapping[str, Any]
) -> tuple[dict[str, dict], dict[str, str]]:
    """The region's indicators as served, by dataset id; and project ids by dataset id."""
    slug = dataset["region"]["slug"]
    projects = {
        (p["sector_number"], p["number"]): p["id"]
        for p in list_all(clients.projects, "/api/v1/projects", {"region": slug})
    }
    project_ids = {
        p["id"]: projects[(p["sector"], p["number"])]
        for p in dataset["projects"]
        if (p["sector"], p["number"]) in projects
    }
    indicators = {
        (i["project_id"], i["name"]): i
        for i in list_all(clients.indicators, "/api/v1/indicators", {"region": slug})
    }
    served = {}
    for ind in dataset["indicators"]:
        row = indicators.get((project_ids.get(ind["project"]), ind["name"]))
        if row is not None:
            served[ind["id"]] = row
    return served, project_ids


def post(client: httpx.Client, url: str, what: str, **kwargs: Any) -> httpx.Response:
    """A write that must succeed; otherwise a LoadError naming it and the server's answer."""
    response = request(client, "POST", url, **kwargs)
    if response.status_code not in (200, 201):
        raise LoadError(f"{what}: {problem_text(response)}")
    return response


def import_rows(clients: Clients, rows: list[dict], what: str) -> int:
    """Post rows in one all-or-nothing import; how many were written."""
    if not rows:
        return 0
    post(clients.indicators, "/api/v1/measurements:import", what, json=rows)
    return len(rows)


def forecast_indicator(clients: Clients, project_id: str, slug: str) -> tuple[dict, int]:
    """The demo's quarterly indicator of the current year, and how many values were reported."""
    year = datetime.now(UTC).year
    body = {
        "project_id": project_id,
        "name": FORECAST_NAME,
        "unit": "%",
        "direction": "higher_is_better",
        "frequency": "quarterly",
        "targets": {str(year): str(FORECAST_TARGET)},
        "baseline": {"value": str(FORECAST_BASELINE), "year": year - 1},
        "region": slug,
    }
    indicator = post(clients.indicators, "/api/v1/indicators", FORECAST_NAME, json=body).json()
    if indicator["current"] is not None:
        return indicator, 0
    rows = [
        {
            "indicator_id": indicator["id"],
            "period": f"{year}-Q{quarter}",
            "value": format(value, "f"),
            "as_of": f"{year}-{quarter * 3:02d}-28",
            "reported_by": "Комитет цифрового развития",
            "source": SOURCE,
        }
        for quarter, value in enumerate(FORECAST_QUARTERS, start=1)
    ]
    return indicator, import_rows(clients, rows, FORECAST_NAME)


def reach_milestone(clients: Clients, project_id: str) -> tuple[dict, bool]:
    """Mark the demo's milestone reached (once); the milestone and whether this run did it."""
    year = MILESTONE[2]
    milestones = list_all(clients.projects, f"/api/v1/projects/{project_id}/milestones")
    milestone = next((m for m in milestones if m["due_date"] == f"{year}-12-31"), None)
    if milestone is None:
        raise LoadError(
            f"{MILESTONE[0]} {MILESTONE[1]}: no milestone due {year}-12-31 is loaded; "
            f"run `load-strategy {MILESTONE[0]}` and see what it refused"
        )
    if milestone["status"] == "reached":
        return milestone, False
    body = {"evidence": MILESTONE_EVIDENCE, "reached_at": MILESTONE_REACHED_AT}
    url = f"/api/v1/milestones/{milestone['id']}/reach"
    return post(clients.projects, url, f"milestone {milestone['title']}", json=body).json(), True


def alerts_of(clients: Clients, region: str) -> list[dict]:
    """Every alert of a region."""
    return list_all(clients.notifications, "/api/v1/alerts", {"region": region})


def mailbox_messages(client: httpx.Client) -> dict[str, str]:
    """Every email in the mail server, read page by page: its server-side ID by Message-ID."""
    ids: dict[str, str] = {}
    start = 0
    while True:
        params = {"start": start, "limit": MAIL_PAGE}
        response = request(client, "GET", "/api/v1/messages", params=params)
        if response.status_code != 200:
            raise LoadError(f"GET {client.base_url}/api/v1/messages: {problem_text(response)}")
        page = response.json()
        messages = page["messages"]
        ids.update((bare_message_id(m["MessageID"]), m["ID"]) for m in messages)
        # Newest first: mail arriving meanwhile shifts older ones onto the next page, where
        # they are read twice, never skipped.
        start += len(messages)
        if not messages or start >= page["total"]:
            return ids


def bare_message_id(message_id: str) -> str:
    """A Message-ID without its angle brackets: the notifications service keeps them, the mail
    server's API does not."""
    return message_id.strip().removeprefix("<").removesuffix(">")


def matching_alerts(expectation: Expectation, alerts: Sequence[Mapping[str, Any]]) -> list:
    """The alerts an expectation is about: its subject, opened as or resolved by its kinds."""
    return [
        a
        for a in alerts
        if a["subject_id"] == expectation.subject_id
        and (a["kind"] in expectation.kinds or a.get("resolved_by") in expectation.kinds)
    ]


def delivery_gap(
    delivery: Mapping[str, Any], mailbox: Mapping[str, str], now: datetime
) -> str | None:
    """Why a delivery is not in the mail server although it should be by now; None if fine.

    Held back for the daily digest (the recipient's hourly cap), carried by a digest or
    withdrawn are decisions of the notifications service, not emails still to wait for.
    """
    status = delivery["status"]
    recipient = delivery["recipient"]
    if status == "sent":
        if bare_message_id(delivery["message_id"]) in mailbox:
            return None
        return f"письмо для {recipient} отправлено, но его нет на почтовом сервере"
    if status == "failed":
        answer = (delivery["last_smtp_code"], delivery["last_smtp_reply"])
        reply = " ".join(str(part) for part in answer if part)
        return f"письмо для {recipient} не принято почтовым сервером ({reply or 'без ответа'})"
    if status == "pending" and delivery["channel"] == "immediate":
        if datetime.fromisoformat(delivery["due_at"]) <= now:
            return f"письмо для {recipient} ещё не отправлено"
    return None


def _held_for_digest(delivery: Mapping[str, Any]) -> bool:
    return delivery["status"] == "digested" or delivery["channel"] == "digest"


def missing_emails(
    expected: Sequence[Expectation],
    alerts: Mapping[str, Sequence[Mapping[str, Any]]],
    deliveries: Mapping[str, Sequence[Mapping[str, Any]]],
    mailbox: Mapping[str, str],
    now: datetime,
) -> list[str]:
    """What of the expected has not happened yet: an alert not raised, no email to its
    department in the mail server, or an email not delivered. `alerts` by region, `deliveries`
    by alert id, `mailbox` the mail server's emails by bare Message-ID."""
    missing = []
    for expectation in expected:
        found = matching_alerts(expectation, alerts.get(expectation.region, ()))
        if not found:
            missing.append(f"{expectation.story}: оповещение не создано")
            continue
        emails = [d for alert in found for d in deliveries.get(alert["id"], ())]
        gaps = [gap for d in emails if (gap := delivery_gap(d, mailbox, now)) is not None]
        to_department = any(
            d["recipient_type"] == "department"
            and d["status"] == "sent"
            and bare_message_id(d["message_id"]) in mailbox
            for d in emails
        )
        held = any(d["recipient_type"] == "department" and _held_for_digest(d) for d in emails)
        if not to_department and not gaps:
            gaps.append(
                "письмо отделу отложено в ежедневную сводку (лимит писем в час)"
                if held
                else "письма отделу на почтовом сервере нет"
            )
        missing.extend(f"{expectation.story}: {gap}" for gap in gaps)
    return missing


def wait_for_emails(clients: Clients, expected: list[Expectation], timeout: float) -> list[str]:
    """Wait until the expected alerts exist and their emails are in the mail server; what is
    still missing when the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        alerts = {r: alerts_of(clients, r) for r in {e.region for e in expected}}
        deliveries = {
            alert["id"]: list_all(
                clients.notifications, "/api/v1/deliveries", {"alert_id": alert["id"]}
            )
            for expectation in expected
            for alert in matching_alerts(expectation, alerts[expectation.region])
        }
        mailbox = mailbox_messages(clients.mail)
        missing = missing_emails(expected, alerts, deliveries, mailbox, datetime.now(UTC))
        if not missing or time.monotonic() > deadline:
            return missing
        time.sleep(WAIT_POLL_SECONDS)


def _number(value: Any, places: str = "0.01") -> str:
    if value is None:
        return "—"
    number = Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP).normalize()
    return format(number, "f").replace(".", ",")


def report_lines(
    clients: Clients,
    dataset: Mapping[str, Any],
    demo_subjects: set[str],
    mailbox: Mapping[str, str],
) -> Iterator[str]:
    """What a person wants to see about a region: behind plan, overdue reports, alerts, emails."""
    slug = dataset["region"]["slug"]
    yield ""
    yield f"=== {dataset['region']['name']} ({slug}) ==="
    behind = list_all(clients.indicators, "/api/v1/behind", {"region": slug})
    yield f"Показатели ниже плана: {len(behind)}"
    for ind in behind:
        current = ind["current"] or {}
        yield (
            f"  • {ind['name'][:110]} — {current.get('period')}: план {_number(current.get('expected'))}"
            f" {ind['unit']}, факт {_number(current.get('actual'))} {ind['unit']}"
            f" (отклонение {_number(current.get('gap_percent'), places='0.1')} %)"
        )
    # Only the strategy's own projects: the stack may hold other data under the same region.
    project_ids = {
        p["id"] for p in list_all(clients.projects, "/api/v1/projects", {"region": slug})
    }
    names = {
        i["id"]: i["name"]
        for i in list_all(clients.indicators, "/api/v1/indicators", {"region": slug})
        if i["project_id"] in project_ids
    }
    overdue = [
        o
        for o in list_all(clients.indicators, "/api/v1/overdue", {"region": slug})
        if o["indicator_id"] in names
    ]
    yield f"Отчёты не представлены в срок: {len(overdue)}"
    for report in overdue:
        yield f"  • {names[report['indicator_id']][:110]} — {report['period']} (срок {report['deadline']})"
    alerts = [a for a in alerts_of(clients, slug) if a["project_id"] in project_ids]
    open_counts = Counter(a["kind"] for a in alerts if a["state"] != "resolved")
    yield "Оповещения (открытые по видам): " + (
        ", ".join(f"{KIND_NAMES.get(k, k)} — {n}" for k, n in sorted(open_counts.items())) or "нет"
    )
    for alert in alerts:
        if alert["subject_id"] in demo_subjects:
            state = {"open": "открыто", "acknowledged": "принято", "resolved": "закрыто"}.get(
                alert["state"], alert["state"]
            )
            yield f"  • [{KIND_NAMES.get(alert['kind'], alert['kind'])}, {state}] {alert['title'][:110]} ({alert['period']})"
    sent = [
        d
        for d in list_all(clients.notifications, "/api/v1/deliveries", {"status": "sent"})
        if d["region"] == slug
    ]
    yield f"Письма отправлены: {len(sent)} (о событиях демонстрации — ниже)"
    for alert in alerts:
        if alert["subject_id"] not in demo_subjects:
            continue
        for delivery in list_all(
            clients.notifications, "/api/v1/deliveries", {"alert_id": alert["id"]}
        ):
            where = _whereabouts(delivery, mailbox, str(clients.mail.base_url).rstrip("/"))
            yield f"  • {delivery['recipient']}: {delivery['subject']}\n    {where}"


def ensure_demo_user(
    projects: httpx.Client, email: str, name: str, password: str, scope: dict[str, Any]
) -> None:
    """Create a demo user, or bring the one an earlier run created to this run's scope."""
    body = {"email": email, "name": name, "password": password, **scope}
    response = request(projects, "POST", "/api/v1/users", json=body)
    if response.status_code == 201:
        return
    if response.status_code != 409:
        raise LoadError(f"POST /api/v1/users ({email}): {problem_text(response)}")
    # An earlier run created it (same password), perhaps before its coordinator could be linked.
    existing = next(
        (
            u
            for u in list_all(projects, "/api/v1/users", {"role": scope["role"]})
            if u["email"] == email
        ),
        None,
    )
    if existing is None or all(existing.get(key) == value for key, value in scope.items()):
        return
    response = request(projects, "PATCH", f"/api/v1/users/{existing['id']}", json=scope)
    if response.status_code != 200:
        raise LoadError(f"PATCH /api/v1/users/{existing['id']} ({email}): {problem_text(response)}")


def sign_in_lines(clients: Clients, args: argparse.Namespace) -> Iterator[str]:
    """Create the demo department user and coordinator (once); how each gets a token."""
    region, email, password = DEMO_DEPARTMENT
    departments = list_all(clients.projects, "/api/v1/departments", {"region": region})
    if not departments:
        raise LoadError(f"{region}: no departments loaded; run `load-strategy {region}` first")
    department = departments[0]
    coordinator_region = DEMO_COORDINATOR[0]
    coordinators = list_all(
        clients.projects, "/api/v1/coordinators", {"region": coordinator_region}
    )
    coordinator_scope: dict[str, Any] = {"role": "coordinator", "region": coordinator_region}
    if coordinators:
        # The login acts for the region's (first) coordinator: its own subscriptions, its name.
        coordinator_scope["coordinator_id"] = coordinators[0]["id"]
    users = [
        (
            f"отдел «{department['short_name']}»",
            email,
            password,
            {"role": "department", "department_id": department["id"]},
        ),
        (
            f"координатор {DEMO_COORDINATOR[0]}",
            DEMO_COORDINATOR[1],
            DEMO_COORDINATOR[2],
            coordinator_scope,
        ),
    ]
    yield "\nВход для демонстрационных пользователей (пароль → токен доступа на 15 минут):"
    for who, login, secret, scope in users:
        ensure_demo_user(clients.projects, login, f"Демонстрация: {who}", secret, scope)
        yield (
            f"  {who}: curl -s -X POST {args.projects_url}/api/v1/auth/token "
            f"-d grant_type=password -d username={login} -d password={secret}"
        )
    yield (
        f"  затем, например: curl -s -H 'Authorization: Bearer <access_token>' "
        f"'{args.indicators_url}/api/v1/behind?region={coordinator_region}'"
    )
    if coordinators:
        yield (
            f"  подписки координатора «{coordinators[0]['name']}» (токен координатора): "
            f"curl -s -H 'Authorization: Bearer <access_token>' "
            f"'{args.notifications_url}/api/v1/subscriptions'"
        )


def _whereabouts(delivery: Mapping[str, Any], mailbox: Mapping[str, str], mail_url: str) -> str:
    if delivery["status"] == "sent":
        server_id = mailbox.get(bare_message_id(delivery["message_id"]))
        if server_id is None:
            return "[нет на почтовом сервере]"
        return f"{mail_url}/api/v1/message/{server_id}"
    if _held_for_digest(delivery):
        return "[в ежедневной сводке: лимит писем в час]"
    return {
        "pending": "[ожидает отправки]",
        "failed": "[не доставлено]",
        "cancelled": "[отменено]",
    }.get(delivery["status"], f"[{delivery['status']}]")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `strategy-demo`."""
    parser = argparse.ArgumentParser(prog="strategy-demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--projects-url", default=os.environ.get("PROJECTS_URL", "http://127.0.0.1:8001")
    )
    parser.add_argument(
        "--indicators-url", default=os.environ.get("INDICATORS_URL", "http://127.0.0.1:8002")
    )
    parser.add_argument(
        "--notifications-url",
        default=os.environ.get("NOTIFICATIONS_URL", "http://127.0.0.1:8003"),
    )
    parser.add_argument("--mail-url", default=os.environ.get("MAIL_UI_URL", MAIL_UI))
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the emails"
    )
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help=f"print and exit instead of staying in the foreground (exit {EXIT_INCOMPLETE} if "
        "something did not arrive in time)",
    )
    args = parser.parse_args(argv)
    admin = PasswordAuth.admin(args.projects_url)
    clients = Clients(
        projects=httpx.Client(base_url=args.projects_url, timeout=30, auth=admin),
        indicators=httpx.Client(base_url=args.indicators_url, timeout=60, auth=admin),
        notifications=httpx.Client(base_url=args.notifications_url, timeout=30, auth=admin),
        mail=httpx.Client(base_url=args.mail_url, timeout=30),
    )
    try:
        missing = run(clients, args)
        if args.no_wait:
            return EXIT_INCOMPLETE if missing else 0
        print("\nДемонстрация работает; Ctrl-C — выход (make down остановит стенд).")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nДемонстрация остановлена.")
        return 0
    except (LoadError, AccessError) as exc:
        print(f"strategy-demo: error: {exc}", file=sys.stderr)
        return 1
    finally:
        clients.close()


def run(clients: Clients, args: argparse.Namespace) -> list[str]:
    """Report, reach, wait, print; what did not happen in time."""
    datasets = {
        slug: read_dataset(REPO_ROOT / "data" / "strategies" / f"{slug}.yaml") for slug in REGIONS
    }
    expected: list[Expectation] = []
    demo_subjects: set[str] = set()
    unannounced: list[str] = []
    print("Отделы сообщают значения показателей за 2022–2024 годы…")
    for slug, dataset in datasets.items():
        served, project_ids = served_by_dataset_id(clients, dataset)
        if not served:
            raise LoadError(f"{slug}: no indicators loaded; run `load-strategy {slug}` first")
        rows = plan_rows(dataset, served)
        written = import_rows(clients, rows, f"{slug}: measurements")
        print(
            f"  {dataset['region']['name']}: {written} значений"
            + ("" if written else " (уже были представлены)")
        )
        by_id = {i["id"]: i for i in dataset["indicators"]}
        for (region, ind_id), share in BEHIND.items():
            if region == slug and ind_id in served:
                subject = served[ind_id]["id"]
                demo_subjects.add(subject)
                story = f"{slug} {ind_id} «{by_id[ind_id]['name'][:60]}…» отстаёт: {int((1 - share) * 100)} % от цели 2023 и 2024 гг."
                expected.append(Expectation(slug, subject, ("behind",), story))
                expected.append(
                    Expectation(slug, subject, ("target_missed",), story + " (цель года)")
                )
        if OVERDUE[0] == slug and OVERDUE[1] in served:
            unannounced.append(
                f"{slug} {OVERDUE[1]}: значение за {OVERDUE[2]} год не представлено (срок — 30 "
                "дней после конца года); отчёт в списке просроченных, но без оповещения: срок "
                "прошёл до загрузки стратегии"
            )
        if FORECAST_PROJECT[0] == slug and FORECAST_PROJECT[1] in project_ids:
            indicator, reported = forecast_indicator(
                clients, project_ids[FORECAST_PROJECT[1]], slug
            )
            demo_subjects.add(indicator["id"])
            story = (
                f"{slug}: квартальный демонстрационный показатель {datetime.now(UTC).year} года — "
                f"кварталы {', '.join(map(str, FORECAST_QUARTERS))} % в плане, но тренд ведёт к "
                f"значению ниже цели {FORECAST_TARGET} %"
            )
            expected.append(Expectation(slug, indicator["id"], ("forecast_miss",), story))
        if MILESTONE[0] == slug and MILESTONE[1] in project_ids:
            milestone, reached_now = reach_milestone(clients, project_ids[MILESTONE[1]])
            demo_subjects.add(milestone["id"])
            story = f"{slug} {MILESTONE[1]}: контрольная точка {MILESTONE[2]} года достигнута"
            expected.append(Expectation(slug, milestone["id"], ("milestone_reached",), story))
    print("\nЧто должно произойти:")
    for story in [e.story for e in expected] + unannounced:
        print(f"  • {story}")
    print(
        "  Все остальные значения в плане. Годы 2022–2024 давно закрыты, поэтому любой год без "
        "значения — просроченный отчёт; демонстрация пропускает ровно один. Сроки отчётов и "
        "контрольные точки 2021–2024 годов прошли до загрузки стратегии, поэтому они загружены "
        "без писем: об истории не оповещают, письмо уходит, когда срок проходит после загрузки "
        "или когда точку отмечают достигнутой."
    )
    print(f"\nЖдём оповещения и письма (до {int(args.timeout)} с)…")
    missing = wait_for_emails(clients, expected, args.timeout)
    mailbox = mailbox_messages(clients.mail)
    for dataset in datasets.values():
        for line in report_lines(clients, dataset, demo_subjects, mailbox):
            print(line)
    if missing:
        print("\nНе дождались:")
        for story in missing:
            print(f"  • {story}")
    mail_url = args.mail_url.rstrip("/")
    print(
        f"\nПисьма на почтовом сервере: {mail_url}/api/v1/messages (у каждого письма выше — его "
        f"адрес); под docker-compose Mailpit показывает их и в веб-интерфейсе {mail_url}"
    )
    for line in sign_in_lines(clients, args):
        print(line)
    return missing
