"""Input rules of the projects API that need no database: due dates, emails, periods, PATCH nulls."""

from datetime import date

import pytest
from pydantic import ValidationError

from common.problems import Unprocessable
from projects.catalogue.schemas import RegionCreate, RegionWrite
from projects.departments.schemas import CoordinatorCreate, DepartmentCreate
from projects.milestones.schemas import MilestoneCreate
from projects.portfolio.schemas import NULLABLE_PROJECT_FIELDS, ProjectUpdate
from projects.validation import patch_values


def failing_fields(error: ValidationError) -> set[str]:
    return {".".join(str(part) for part in e["loc"]) for e in error.errors()}


def test_a_year_means_the_last_day_of_that_year():
    assert MilestoneCreate(title="Этап", year=2024).resolved_due_date == date(2024, 12, 31)
    dated = MilestoneCreate(title="Этап", due_date=date(2023, 6, 30))
    assert dated.resolved_due_date == date(2023, 6, 30)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Этап"}, "year"),
        ({"title": "Этап", "year": 2024, "due_date": "2024-12-31"}, "year"),
        ({"title": "Этап", "year": 1999}, "year"),
        ({"title": "Этап", "due_date": "2101-01-01"}, "due_date"),
        ({"title": "   ", "year": 2024}, "title"),
    ],
)
def test_a_milestone_needs_exactly_one_sane_due_date_and_a_title(body, field):
    with pytest.raises(ValidationError) as raised:
        MilestoneCreate.model_validate(body)
    assert failing_fields(raised.value) == {field}


def test_an_invalid_due_date_is_reported_alone_not_as_a_missing_one():
    with pytest.raises(ValidationError) as raised:
        MilestoneCreate.model_validate({"title": "Этап", "due_date": "конец года"})
    assert failing_fields(raised.value) == {"due_date"}


def test_department_emails_are_trimmed_lower_cased_and_distinct_in_order():
    department = DepartmentCreate(
        region="leningrad-oblast",
        full_name="  Комитет цифрового развития  ",
        short_name="КЦР",
        emails=[" B@Lenreg.ru", "a@lenreg.ru", "b@lenreg.ru"],
    )
    assert department.full_name == "Комитет цифрового развития"
    assert department.emails == ["b@lenreg.ru", "a@lenreg.ru"]


@pytest.mark.parametrize("email", ["no-at-sign", "two@@lenreg.ru", "a@nodot", "a b@lenreg.ru"])
def test_malformed_emails_are_refused(email):
    with pytest.raises(ValidationError) as raised:
        CoordinatorCreate(region="nenets-ao", name="Иванова", email=email)
    assert failing_fields(raised.value) == {"email"}


def test_coordinator_sectors_are_a_sorted_set():
    coordinator = CoordinatorCreate(
        region="nenets-ao", name="Иванова", email="i@adm.ru", sector_numbers=[3, 1, 3]
    )
    assert coordinator.sector_numbers == [1, 3]


@pytest.mark.parametrize("slug", ["Leningrad", "nenets_ao", "-nao", "nao-", "a", "нао"])
def test_region_slugs_are_lower_case_words_joined_by_hyphens(slug):
    with pytest.raises(ValidationError) as raised:
        RegionCreate(slug=slug, name="Регион")
    assert failing_fields(raised.value) == {"slug"}


def test_a_strategy_period_cannot_end_before_it_starts():
    with pytest.raises(ValidationError) as raised:
        RegionCreate(slug="nenets-ao", name="НАО", period_start=2024, period_end=2022)
    assert failing_fields(raised.value) == {"period_end"}


def test_patch_may_clear_optional_fields_but_not_required_ones():
    cleared = ProjectUpdate.model_validate({"goal": None, "responsible_department_id": None})
    assert patch_values(cleared, nullable=NULLABLE_PROJECT_FIELDS) == {
        "goal": None,
        "responsible_department_id": None,
    }
    with pytest.raises(Unprocessable) as raised:
        patch_values(
            ProjectUpdate.model_validate({"name": None, "tasks": None}),
            nullable=NULLABLE_PROJECT_FIELDS,
        )
    assert raised.value.extensions["errors"] == [
        {"field": "name", "message": "cannot be null"},
        {"field": "tasks", "message": "cannot be null"},
    ]


def test_a_region_period_starting_after_the_default_end_is_refused_on_period_end() -> None:
    with pytest.raises(ValidationError) as refused:
        RegionWrite(name="Ленинградская область", period_start=2073)
    assert refused.value.errors()[0]["loc"] == ("period_end",)
