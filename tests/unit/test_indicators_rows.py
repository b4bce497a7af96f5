"""Reading import rows and checking values against an indicator's rules."""

from datetime import date
from decimal import Decimal
from uuid import uuid4

import pytest

from common.events import Frequency
from indicators.measurements.rows import (
    ImportFormatError,
    IndicatorRules,
    check_value,
    is_percent_index,
    number_problem,
    parse_decimal,
    parse_row,
    read_csv,
    read_json,
)
from indicators.periods import Period

TODAY = date(2023, 7, 10)
SHARE = IndicatorRules(unit="%", frequency=Frequency.quarterly, target_years=frozenset({2023}))
COUNT = IndicatorRules(unit="шт", frequency=Frequency.annual, target_years=frozenset({2023}))
INDEX = IndicatorRules(
    unit="%", frequency=Frequency.annual, target_years=frozenset({2023}), percent_index=True
)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12,5", "12.5"),
        ("1 234,75", "1234.75"),
        ("1\u00a0234", "1234"),
        (" -0,25 ", "-0.25"),
        ("7", "7"),
    ],
)
def test_numbers_as_departments_write_them(text, number):
    assert parse_decimal(text) == Decimal(number)


@pytest.mark.parametrize("text", ["NaN", "inf", "-Infinity", "12,5,1", "abc", ""])
def test_numbers_that_are_not(text):
    with pytest.raises(ValueError):
        parse_decimal(text)


def test_csv_with_semicolons_a_bom_and_blank_lines():
    body = "\ufeffindicator_id;period;value;reported_by\n1;2023;12,5;КЦР\n\n2;2023-Q1;3;КЦР\n"
    rows = read_csv(body.encode())
    assert [r["value"] for r in rows] == ["12,5", "3"]


def test_csv_with_commas_and_a_quoted_decimal_comma():
    rows = read_csv(b'indicator_id,period,value,reported_by\n1,2023,"12,5",X\n')
    assert rows[0]["value"] == "12,5"


def test_csv_without_the_required_columns_is_refused():
    with pytest.raises(ImportFormatError, match="missing: value, reported_by"):
        read_csv(b"indicator_id;period\n1;2023\n")
    with pytest.raises(ImportFormatError, match="UTF-8"):
        read_csv("indicator_id;period;value;reported_by\n1;2023;1;Комитет".encode("cp1251"))


def test_json_rows_keep_exact_numbers_and_refuse_nan():
    assert read_json(b'[{"value": 0.1}]')[0]["value"] == Decimal("0.1")
    assert read_json(b'{"rows": [{"value": 1}]}') == [{"value": 1}]
    with pytest.raises(ImportFormatError):
        read_json(b'[{"value": NaN}]')
    with pytest.raises(ImportFormatError):
        read_json(b'{"value": 1}')


def test_a_good_row():
    indicator_id = uuid4()
    row, errors = parse_row(
        1,
        {
            "indicator_id": str(indicator_id),
            "period": "2023-Q2",
            "value": "57,5",
            "reported_by": "КЦР",
        },
        TODAY,
    )
    assert errors == []
    assert (row.indicator_id, row.period, row.value, row.as_of) == (
        indicator_id,
        Period.parse("2023-Q2"),
        Decimal("57.5"),
        TODAY,
    )
    assert row.comment is None and row.source is None


def test_a_bad_row_names_every_bad_field():
    _, errors = parse_row(
        7,
        {"indicator_id": "x", "period": "2023-Q9", "value": True, "as_of": "10.07.2023"},
        TODAY,
    )
    assert {(e.row, e.field) for e in errors} == {
        (7, "indicator_id"),
        (7, "period"),
        (7, "value"),
        (7, "as_of"),
        (7, "reported_by"),
    }
    _, errors = parse_row(8, ["not", "an", "object"], TODAY)
    assert [(e.row, e.field) for e in errors] == [(8, "row")]
    _, errors = parse_row(
        9,
        {"indicator_id": str(uuid4()), "period": "2023", "value": 1, "reported_by": "x" * 201},
        TODAY,
    )
    assert [e.field for e in errors] == ["reported_by"]


@pytest.mark.parametrize(
    ("rules", "period", "value", "fields"),
    [
        (SHARE, "2023-Q2", "0", []),
        (SHARE, "2023-Q2", "100", []),
        (SHARE, "2023-05", "50", []),  # finer than quarterly is fine
        (SHARE, "2023", "50", ["period"]),  # coarser is not
        (SHARE, "2024-Q1", "50", ["period"]),  # no target for 2024
        (SHARE, "2023-Q2", "100.000001", ["value"]),
        (SHARE, "2023-Q2", "-0.1", ["value"]),
        (SHARE, "2023-Q2", "NaN", ["value"]),
        (INDEX, "2023", "104.5", []),  # an index has no ceiling
        (INDEX, "2023", "250", []),
        (INDEX, "2023", "0", []),
        (INDEX, "2023", "-0.1", ["value"]),
        (COUNT, "2023", "-1", ["value"]),
        (COUNT, "2023", "1000", []),
        (IndicatorRules("балл", Frequency.annual, frozenset({2023})), "2023", "-1", []),
        (COUNT, "2023", "1e30", ["value"]),  # beyond the column, and beyond rounding
        (COUNT, "2023", "1e19", ["value"]),
        (SHARE, "2023-Q2", "0.1234567", ["value"]),
        (COUNT, "2024", "1e30", ["period", "value"]),  # every bad field at once
    ],
)
def test_values_are_checked_against_the_indicator(rules, period, value, fields):
    errors = check_value(rules, Period.parse(period), Decimal(value))
    assert [field for field, _ in errors] == fields


@pytest.mark.parametrize(
    ("unit", "targets", "index"),
    [
        ("%", ["103", "105", "107"], True),  # «Индекс вовлеченности …» of leningrad-oblast
        ("%", ["99", "100.5"], True),  # one target above 100 is enough
        ("%", ["0", "40", "100"], False),  # all within 0–100: a share
        ("%", [], False),
        ("шт", ["500"], False),  # only «%» has a ceiling to lift
    ],
)
def test_a_percent_indicator_with_a_target_above_100_is_an_index(unit, targets, index):
    assert is_percent_index(unit, [Decimal(t) for t in targets]) is index


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("999999999999999999.999999", None),  # the largest NUMERIC(24, 6) holds
        ("-999999999999999999.999999", None),
        ("1.500000000", None),  # trailing zeros are no digits of the value
        ("1E+2", None),
        ("0", None),
        ("1000000000000000000", "at most 18 digits before the decimal point"),
        ("-1e19", "at most 18 digits before the decimal point"),
        ("1e30", "at most 18 digits before the decimal point"),
        ("1E+999999", "at most 18 digits before the decimal point"),
        ("0.1234567", "at most 6 digits after the decimal point"),
        ("1E-7", "at most 6 digits after the decimal point"),
        ("NaN", "must be a finite number"),
        ("-Infinity", "must be a finite number"),
    ],
)
def test_a_value_must_fit_its_column_exactly(value, problem):
    assert number_problem(Decimal(value)) == problem


def test_a_column_of_other_digits_has_its_own_limits():
    assert number_problem(Decimal("5.1234"), 9, 4) is None
    assert number_problem(Decimal("5.12345"), 9, 4) == "at most 4 digits after the decimal point"
    assert number_problem(Decimal("100000"), 9, 4) == "at most 5 digits before the decimal point"


@pytest.mark.parametrize("field", ["reported_by", "comment", "source"])
def test_a_text_with_a_nul_character_is_refused_naming_its_field(field):
    raw = {"indicator_id": str(uuid4()), "period": "2023", "value": 1, "reported_by": "КЦР"}
    row, errors = parse_row(4, {**raw, field: "по данным\x00 мониторинга"}, TODAY)
    assert row is None
    assert [(e.row, e.field, e.message) for e in errors] == [
        (4, field, "must not contain NUL characters")
    ]


def test_a_nul_character_in_a_csv_reaches_the_row_check():
    [raw] = read_csv(
        "indicator_id;period;value;reported_by;comment\n1;2023;5;КЦР;a\x00b\n".encode()
    )
    _, errors = parse_row(1, {**raw, "indicator_id": str(uuid4())}, TODAY)
    assert [(e.field, e.message) for e in errors] == [
        ("comment", "must not contain NUL characters")
    ]
