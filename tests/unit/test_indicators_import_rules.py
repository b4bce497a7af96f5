"""Import rows from a department: reported_by from its credentials, unknown fields refused."""

from datetime import date
from uuid import uuid4

import pytest

from indicators.measurements.rows import (
    REQUIRED_OF_DEPARTMENTS,
    ImportFormatError,
    parse_row,
    read_csv,
)

TODAY = date(2023, 7, 10)


def test_a_departments_row_is_reported_by_its_principal():
    raw = {"indicator_id": str(uuid4()), "period": "2023-Q1", "value": "4,5"}
    row, errors = parse_row(1, raw, TODAY, reporter="dept-42")
    assert errors == [] and row is not None and row.reported_by == "dept-42"


def test_a_department_may_not_name_the_reporter():
    raw = {"indicator_id": str(uuid4()), "period": "2023-Q1", "value": 1, "reported_by": "X"}
    row, errors = parse_row(3, raw, TODAY, reporter="dept-42")
    assert row is None
    assert [(e.row, e.field) for e in errors] == [(3, "reported_by")]


def test_an_admins_row_still_needs_a_reporter():
    raw = {"indicator_id": str(uuid4()), "period": "2023-Q1", "value": 1}
    _, errors = parse_row(1, raw, TODAY)
    assert [e.field for e in errors] == ["reported_by"]


def test_unknown_fields_are_refused_by_name():
    raw = {
        "indicator_id": str(uuid4()),
        "period": "2023-Q1",
        "value": 1,
        "status": "on_track",
        "department": "other",
    }
    _, errors = parse_row(2, raw, TODAY, reporter="dept-42")
    assert sorted(e.field for e in errors) == ["department", "status"]


def test_a_departments_csv_needs_no_reported_by_column():
    rows = read_csv(b"indicator_id;period;value\n1;2023;5\n", REQUIRED_OF_DEPARTMENTS)
    assert rows == [{"indicator_id": "1", "period": "2023", "value": "5"}]
    with pytest.raises(ImportFormatError, match="missing: reported_by"):
        read_csv(b"indicator_id;period;value\n1;2023;5\n")
