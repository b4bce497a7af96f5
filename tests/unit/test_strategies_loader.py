"""The loader's plan: records from a dataset, their diff against what a service holds, the
ops email mapping and coordinators, and the HTTP run against fake services."""

import copy
import io
import json
from pathlib import Path

import httpx
import pytest

from strategies.load_plan import (
    UNKNOWN_UNIT,
    DatasetError,
    Outcome,
    coordinator_records,
    department_records,
    diff,
    indicator_records,
    milestone_records,
    project_records,
    read_coordinators,
    read_email_mapping,
)
from strategies.loader import Progress, RegionLoad, Services, problem_text

DATASET = {
    "region": {
        "slug": "test-oblast",
        "name": "Тестовая область",
        "period": {"start": 2022, "end": 2024},
    },
    "sectors": [{"number": 1, "name": "Образование"}, {"number": 2, "name": "Здравоохранение"}],
    "departments": [
        {
            "id": "tsifrovogo-razvitiya",
            "name": "Комитет цифрового развития Тестовой области",
            "short_name": "Комитет цифрового развития",
            "email": "tsifrovogo-razvitiya@test-oblast.departments.example.ru",
        },
        {
            "id": "zdravookhraneniyu",
            "name": "Комитет по здравоохранению Тестовой области",
            "short_name": "Комитет по здравоохранению",
            "email": "zdravookhraneniyu@test-oblast.departments.example.ru",
        },
    ],
    "projects": [
        {
            "id": "1.1",
            "sector": 1,
            "number": 1,
            "name": "Цифровая школа",
            "federal_recommended": True,
            "department": "tsifrovogo-razvitiya",
            "goal": "Цель",
            "timeline": "До 2030 года",
            "description": "Описание",
            "financing": "Бюджет",
            "region_role": "Внедрение",
            "tasks": ["Задача"],
            "beneficiaries": ["Школьники", "Учителя"],
            "benefits": "Польза",
            "milestones": [{"year": 2024, "due": "2024-12-31", "title": "школы подключены"}],
        }
    ],
    "indicators": [
        {
            "id": "1.1.1",
            "project": "1.1",
            "department": "tsifrovogo-razvitiya",
            "name": "Доля школ",
            "unit": "%",
            "direction": "higher_is_better",
            "targets": [
                {"year": 2022, "printed": "98,5", "value": 98.5},
                {"year": 2023, "printed": None, "value": None},
                {"year": 2024, "printed": "100", "value": 100},
            ],
        },
        {
            "id": "1.1.2",
            "project": "1.1",
            "department": "tsifrovogo-razvitiya",
            "name": "Число сервисов",
            "unit": None,
            "direction": "higher_is_better",
            "targets": [{"year": y, "printed": None, "value": None} for y in (2022, 2023, 2024)],
        },
        {
            "id": "1.1.3",
            "project": "1.1",
            "department": "tsifrovogo-razvitiya",
            "name": "Число обращений",
            "unit": None,
            "direction": "lower_is_better",
            "targets": [{"year": 2024, "printed": "5", "value": 5}],
        },
    ],
}


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_mapping_by_id_or_full_name_replaces_placeholders(tmp_path):
    csv = write(
        tmp_path,
        "emails.csv",
        "department;email\n"
        "tsifrovogo-razvitiya;KCR@Lenreg.ru\n"
        "Комитет по здравоохранению Тестовой области;health@lenreg.ru\n",
    )
    mapping = read_email_mapping(csv, [DATASET])
    assert mapping == {
        "test-oblast": {
            "tsifrovogo-razvitiya": "kcr@lenreg.ru",
            "zdravookhraneniyu": "health@lenreg.ru",
        }
    }
    emails = {
        r.body["full_name"]: r.body["emails"]
        for r in department_records(DATASET, mapping["test-oblast"])
    }
    assert emails["Комитет цифрового развития Тестовой области"] == ["kcr@lenreg.ru"]


def test_unmapped_departments_keep_their_placeholder(tmp_path):
    csv = write(tmp_path, "emails.csv", "department,email\ntsifrovogo-razvitiya,kcr@lenreg.ru\n")
    records = department_records(DATASET, read_email_mapping(csv, [DATASET])["test-oblast"])
    assert records[1].body["emails"] == ["zdravookhraneniyu@test-oblast.departments.example.ru"]


def test_mapping_row_naming_an_unknown_department_is_refused_with_its_line(tmp_path):
    csv = write(
        tmp_path,
        "emails.csv",
        "department,email\ntsifrovogo-razvitiya,kcr@lenreg.ru\nКомитет по туризму,t@lenreg.ru\n",
    )
    with pytest.raises(
        DatasetError, match=r"emails.csv:3: unknown department 'Комитет по туризму'"
    ):
        read_email_mapping(csv, [DATASET])


def test_mapping_refuses_a_bad_address_a_missing_column_and_an_ambiguous_id(tmp_path):
    bad = write(tmp_path, "bad.csv", "department,email\nzdravookhraneniyu,not-an-address\n")
    with pytest.raises(DatasetError, match="not an email address"):
        read_email_mapping(bad, [DATASET])
    headless = write(tmp_path, "headless.csv", "name,email\nzdravookhraneniyu,a@b.ru\n")
    with pytest.raises(DatasetError, match="department and email"):
        read_email_mapping(headless, [DATASET])
    other = copy.deepcopy(DATASET)
    other["region"]["slug"] = "other-oblast"
    other["departments"][1]["name"] = "Комитет по здравоохранению Другой области"
    shared = write(tmp_path, "shared.csv", "department,email\nzdravookhraneniyu,a@b.ru\n")
    with pytest.raises(DatasetError, match="several regions"):
        read_email_mapping(shared, [DATASET, other])


def test_coordinators_file_is_checked_and_filtered_by_region(tmp_path):
    path = write(
        tmp_path,
        "coordinators.yaml",
        "coordinators:\n"
        "  - {region: test-oblast, name: Иванова, email: C@demo.example.ru, sectors: [2, 1]}\n"
        "  - {region: other-oblast, name: Петров, email: p@demo.example.ru}\n",
    )
    records = coordinator_records(DATASET, read_coordinators(path))
    assert [r.body for r in records] == [
        {
            "region": "test-oblast",
            "name": "Иванова",
            "email": "c@demo.example.ru",
            "sector_numbers": [1, 2],
            "active": True,
        }
    ]
    broken = write(tmp_path, "broken.yaml", "coordinators:\n  - {region: test-oblast, name: X}\n")
    with pytest.raises(DatasetError, match="coordinator 1 needs region, name and email"):
        read_coordinators(broken)


def test_indicators_keep_printed_targets_and_those_without_any_are_still_catalogued():
    records, skipped = indicator_records(DATASET, {"1.1": "p-1"})
    assert [r.body["name"] for r in records] == ["Доля школ", "Число сервисов", "Число обращений"]
    assert records[0].body["targets"] == {"2022": "98.5", "2024": "100"}
    assert records[0].body["frequency"] == "annual"
    assert records[1].body["targets"] == {}
    assert records[2].body["unit"] == UNKNOWN_UNIT
    assert records[2].body["direction"] == "lower_is_better"
    assert skipped == []


def test_indicators_are_loaded_as_a_plan_whose_past_reports_are_history_not_news():
    records, _ = indicator_records(DATASET, {"1.1": "p-1"})
    assert [r.body["announce_overdue"] for r in records] == [False, False, False]


def test_indicators_of_a_project_not_loaded_are_skipped_naming_it():
    records, skipped = indicator_records(DATASET, {})
    assert records == []
    assert ("indicator test-oblast/1.1.1", "its project 1.1 was not loaded") in skipped


def served_indicator(record, **changes):
    """The indicator as the service lists it: decimals as strings, ints as keys, extra fields."""
    body = record.body
    return {
        "id": "i-1",
        "project_id": body["project_id"],
        "name": body["name"],
        "unit": body["unit"],
        "direction": body["direction"],
        "frequency": "annual",
        "targets": {int(y): v for y, v in body["targets"].items()},
        "baseline": None,
        "tolerance_percent": "5",
        "region": "test-oblast",
        **changes,
    }


def test_diff_classifies_created_unchanged_and_updated():
    records, _ = indicator_records(DATASET, {"1.1": "p-1"})
    first, _without_targets, last = records
    same = served_indicator(first, targets={2022: "98.50", 2024: 100})
    changed = served_indicator(last, targets={2024: "6"})
    changes = diff([first, last], [same, changed])
    assert [c.outcome for c in changes] == [Outcome.unchanged, Outcome.updated]
    assert [c.outcome for c in diff(records, [])] == [Outcome.created] * 3


@pytest.mark.parametrize(
    "field, value",
    [("goal", "Другая цель"), ("tasks", []), ("responsible_department_id", None), ("name", "Иное")],
)
def test_a_project_differing_in_any_loaded_field_is_updated(field, value):
    (record,) = project_records(DATASET, {"tsifrovogo-razvitiya": "d-1"})
    served = {**record.body, "id": "x", "stage": "planned"}
    assert diff([record], [served])[0].outcome is Outcome.unchanged
    assert diff([record], [{**served, field: value}])[0].outcome is Outcome.updated


def test_milestones_compare_by_title_and_due_date():
    (record,) = milestone_records(DATASET["projects"][0], "test-oblast")
    served = {"title": "школы подключены", "due_date": "2024-12-31", "status": "missed"}
    assert diff([record], [served])[0].outcome is Outcome.unchanged
    moved = {**served, "due_date": "2025-06-30"}
    assert diff([record], [moved])[0].outcome is Outcome.updated


def test_department_emails_compare_case_insensitively():
    records = department_records(DATASET, {})
    served = [
        {**r.body, "id": f"d-{n}", "emails": [e.upper() for e in r.body["emails"]]}
        for n, r in enumerate(records)
    ]
    assert {c.outcome for c in diff(records, served)} == {Outcome.unchanged}


class FakeCatalogue:
    """The two services in memory: list endpoints, upserts answering 201/200, a % rule."""

    def __init__(self):
        self.items: dict[str, dict[tuple, dict]] = {}
        self.writes: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if method == "GET":
            return self._list(path, request)
        data = json.loads(request.content)
        self.writes.append(f"{method} {path}")
        if (
            path.endswith("/indicators")
            and data["unit"] == "%"
            and any(float(v) > 100 for v in data["targets"].values())
        ):
            return httpx.Response(
                422,
                json={
                    "title": "Invalid",
                    "detail": "targets: out of range",
                    "errors": [{"field": "targets", "message": "out of range"}],
                },
            )
        collection, key = self._key(path, data)
        existing = self.items.setdefault(collection, {}).get(key)
        row = {
            **(existing or {}),
            **data,
            "id": (existing or {}).get("id", f"{collection}-{len(self.items[collection])}"),
        }
        if collection.endswith("/milestones"):
            row["due_date"] = f"{data['year']}-12-31"
        if collection == "regions":
            row["slug"] = path.rsplit("/", 1)[-1]
        if collection.endswith("/sectors"):
            row["number"] = int(path.rsplit("/", 1)[-1])
        self.items[collection][key] = row
        return httpx.Response(200 if existing else 201, json=row)

    def _key(self, path, data):
        if path.startswith("/api/v1/regions/") and "/sectors/" in path:
            return path.rsplit("/", 1)[0], path
        if path.startswith("/api/v1/regions/"):
            return "regions", path
        if path.endswith("/milestones"):
            return path, data["title"]
        key = {
            "/api/v1/departments": ("full_name",),
            "/api/v1/coordinators": ("email",),
            "/api/v1/projects": ("sector_number", "number"),
            "/api/v1/indicators": ("project_id", "name"),
        }[path]
        return path, tuple(data[k] for k in key)

    def _list(self, path, request):
        collection = path.lstrip("/") if path == "/api/v1/regions" else path
        collection = "regions" if path == "/api/v1/regions" else collection
        rows = list(self.items.get(collection, {}).values())
        region = request.url.params.get("region")
        if region:
            rows = [r for r in rows if r.get("region") == region]
        offset, limit = int(request.url.params["offset"]), int(request.url.params["limit"])
        return httpx.Response(
            200,
            json={
                "items": rows[offset : offset + limit],
                "total": len(rows),
                "limit": limit,
                "offset": offset,
            },
        )


def load_into(fake: FakeCatalogue, dataset: dict):
    transport = httpx.MockTransport(fake.handler)
    services = Services(
        projects=httpx.Client(base_url="http://projects", transport=transport),
        indicators=httpx.Client(base_url="http://indicators", transport=transport),
    )
    return RegionLoad(dataset, services).run(Progress("test-oblast", stream=io.StringIO()))


def test_a_second_run_writes_nothing_and_a_changed_dataset_updates_only_what_changed():
    fake = FakeCatalogue()
    first = load_into(fake, DATASET)
    assert first.counts["projects"][Outcome.created] == 1
    assert first.counts["indicators"] == {
        **dict.fromkeys(Outcome, 0),
        Outcome.created: 3,
    }
    writes = len(fake.writes)

    second = load_into(fake, DATASET)
    assert len(fake.writes) == writes
    assert second.writes() == 0

    changed = copy.deepcopy(DATASET)
    changed["indicators"][0]["targets"][2]["value"] = 99
    changed["sectors"][1]["name"] = "Здравоохранение и медицина"
    third = load_into(fake, changed)
    assert fake.writes[writes:] == [
        "PUT /api/v1/regions/test-oblast/sectors/2",
        "POST /api/v1/indicators",
    ]
    assert third.counts["indicators"][Outcome.updated] == 1
    assert third.counts["sectors"][Outcome.updated] == 1


def test_a_rejected_record_is_counted_with_the_servers_problem_and_the_rest_loads():
    fake = FakeCatalogue()
    broken = copy.deepcopy(DATASET)
    broken["indicators"][0]["targets"][0]["value"] = 103
    tally = load_into(fake, broken)
    assert tally.rejected() == 1
    assert (
        "indicator test-oblast/1.1.1",
        Outcome.rejected,
        "HTTP 422: targets: out of range",
    ) in tally.problems
    assert tally.counts["indicators"][Outcome.created] == 2


def test_problem_text_names_fields_the_detail_does_not():
    response = httpx.Response(
        422,
        json={"detail": "Invalid request", "errors": [{"field": "unit", "message": "too long"}]},
    )
    assert problem_text(response) == "HTTP 422: Invalid request (unit: too long)"
    assert problem_text(httpx.Response(502, text="bad gateway")) == "HTTP 502: bad gateway"


def test_milestones_are_loaded_as_a_plan_whose_past_is_history_not_news():
    (record,) = milestone_records(DATASET["projects"][0], "test-oblast")
    assert record.body == {"title": "школы подключены", "year": 2024, "announce_overdue": False}
