"""Reading measurement rows (CSV or JSON) and checking them against their indicator; pure.

Both the single POST and the bulk import go through `check_value`, so they refuse the same
input with the same words; the definitions' schemas use `number_problem` and `text_problem`
for their numbers and texts.
"""

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from uuid import UUID

from common.events import Frequency
from indicators.catalogue.models import VALUE_DIGITS, VALUE_PLACES
from indicators.periods import InvalidPeriod, Period

COLUMNS = ("indicator_id", "period", "value", "as_of", "reported_by", "comment", "source")
REQUIRED = ("indicator_id", "period", "value", "reported_by")
# A department's rows take reported_by from its credentials, so only these must be present.
REQUIRED_OF_DEPARTMENTS = ("indicator_id", "period", "value")
SET_FROM_CREDENTIALS = "set from your credentials, not the request"
PERCENT = "%"
# Units that count things: a negative value is a typing error, never a measurement.
COUNT_UNITS = frozenset({"ед.", "ед", "шт", "шт.", "тыс. ед.", "раз", "часов", "чел.", "тыс. чел."})
MAX_TEXT = {"reported_by": 200, "comment": 2000, "source": 500}
# PostgreSQL's text cannot hold NUL; sent on, it fails the whole write statement.
NUL = "\x00"
# Spaces that Russian spreadsheets put between thousands.
_THOUSANDS = str.maketrans("", "", " \u00a0\u202f")


@dataclass(frozen=True, slots=True)
class RowError:
    """Why one row of an import cannot be written."""

    row: int
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class MeasurementRow:
    """A well-formed measurement, not yet checked against its indicator."""

    indicator_id: UUID
    period: Period
    value: Decimal
    as_of: date
    reported_by: str
    comment: str | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class IndicatorRules:
    """What a value must respect to be accepted for an indicator."""

    unit: str
    frequency: Frequency
    target_years: frozenset[int]
    # A «%» indicator with a target above 100 is an index (percent of a base), not a share.
    percent_index: bool = False


def is_percent_index(unit: str, targets: Iterable[Decimal]) -> bool:
    """Whether a «%» indicator is an index: one of its targets lies above 100."""
    return unit == PERCENT and any(target > 100 for target in targets)


class ImportFormatError(ValueError):
    """The body as a whole is unreadable (no header, not a list, bad encoding)."""


def parse_decimal(text: str) -> Decimal:
    """A number as departments write it: '1 234,5', '1234.5', '-0,25'; finite only."""
    cleaned = text.strip().translate(_THOUSANDS).replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"{text!r} is not a number") from exc
    if not number.is_finite():
        raise ValueError("must be a finite number")
    return number


def number_problem(
    value: Decimal, digits: int = VALUE_DIGITS, places: int = VALUE_PLACES
) -> str | None:
    """Why a NUMERIC(digits, places) column cannot hold `value` exactly, or None if it can."""
    if not value.is_finite():
        return "must be a finite number"
    whole_digits = digits - places
    # Compared before rounding: quantizing a number this large overflows the decimal context.
    if abs(value) >= Decimal(10) ** whole_digits:
        return f"at most {whole_digits} digits before the decimal point"
    # Refused, not rounded: the answer would show the value unrounded but store it rounded.
    if value != round(value, places):
        return f"at most {places} digits after the decimal point"
    return None


def text_problem(text: str) -> str | None:
    """Why a text cannot be stored, or None if it can."""
    return "must not contain NUL characters" if NUL in text else None


def check_value(rules: IndicatorRules, period: Period, value: Decimal) -> list[tuple[str, str]]:
    """(field, message) pairs for a value the indicator cannot accept for a period."""
    errors = []
    if not period.reportable_at(rules.frequency):
        errors.append(
            (
                "period",
                f"the indicator is reported {rules.frequency.value}; {period} is coarser than that",
            )
        )
    if period.year not in rules.target_years:
        years = ", ".join(str(y) for y in sorted(rules.target_years)) or "none"
        errors.append(
            ("period", f"the indicator has no target for {period.year} (targets: {years})")
        )
    unstorable = number_problem(value)
    if unstorable:
        errors.append(("value", unstorable))
    elif rules.unit == PERCENT and value < 0:
        errors.append(("value", "a value in % cannot be negative"))
    elif rules.unit == PERCENT and not rules.percent_index and value > 100:
        errors.append(
            ("value", "a share in % must lie between 0 and 100 (every target of it does)")
        )
    elif rules.unit in COUNT_UNITS and value < 0:
        errors.append(("value", f"a count in «{rules.unit}» cannot be negative"))
    return errors


def read_csv(body: bytes, required: tuple[str, ...] = REQUIRED) -> list[dict[str, Any]]:
    """Rows of a UTF-8 CSV with a header naming the `required` columns, separated by ';' or ','."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFormatError(f"the CSV is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") >= header_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportFormatError(
            f"the CSV header must name the columns {', '.join(required)} "
            f"(optional: {', '.join(c for c in COLUMNS if c not in required)}); "
            f"missing: {', '.join(missing)}"
        )
    reader.fieldnames = header
    return [
        row for row in reader if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]


def read_json(body: bytes) -> list[dict[str, Any]]:
    """Rows of a JSON array of objects (numbers kept exact)."""

    def refuse_constant(name: str) -> Any:
        raise ImportFormatError(f"{name} is not a number JSON allows")

    try:
        data = json.loads(body, parse_float=Decimal, parse_constant=refuse_constant)
    except ValueError as exc:
        raise ImportFormatError(f"the body is not JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        data = data["rows"]
    if not isinstance(data, list):
        raise ImportFormatError('expected a JSON array of rows (or {"rows": [...]})')
    return data


def _text(raw: Any) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


# An import names a few hundred indicators and periods across its rows: each text is read once.
# Both are immutable, and a failed parse raises every time (lru_cache keeps no exceptions).
_indicator_id = lru_cache(maxsize=65536)(UUID)
_period = lru_cache(maxsize=4096)(Period.parse)


def parse_row(
    number: int, raw: Any, today: date, *, reporter: str | None = None
) -> tuple[MeasurementRow | None, list[RowError]]:
    """A MeasurementRow from a CSV/JSON row, or the errors naming each bad field.

    With `reporter` (a department's import), reported_by comes from it and a row must leave
    the column empty. Fields outside COLUMNS are refused, never silently dropped.
    """
    if not isinstance(raw, dict):
        return None, [RowError(number, "row", "must be an object")]
    errors: list[RowError] = [
        RowError(number, str(name), "unknown field") for name in raw if name not in COLUMNS
    ]
    values: dict[str, Any] = {}
    text = {name: _text(raw.get(name)) for name in COLUMNS}
    for name in REQUIRED if reporter is None else REQUIRED_OF_DEPARTMENTS:
        if text[name] is None:
            errors.append(RowError(number, name, "required"))
    if reporter is not None:
        if text["reported_by"] is not None:
            errors.append(RowError(number, "reported_by", SET_FROM_CREDENTIALS))
        text["reported_by"] = reporter
    if text["indicator_id"]:
        try:
            values["indicator_id"] = _indicator_id(text["indicator_id"])
        except ValueError:
            errors.append(RowError(number, "indicator_id", "not a UUID"))
    if text["period"]:
        try:
            values["period"] = _period(text["period"])
        except InvalidPeriod as exc:
            errors.append(RowError(number, "period", str(exc)))
    value = raw.get("value")
    if isinstance(value, bool):
        errors.append(RowError(number, "value", "must be a number"))
    elif isinstance(value, int | Decimal):
        if isinstance(value, Decimal) and not value.is_finite():
            errors.append(RowError(number, "value", "must be a finite number"))
        else:
            values["value"] = Decimal(value)
    elif text["value"]:
        try:
            values["value"] = parse_decimal(text["value"])
        except ValueError as exc:
            errors.append(RowError(number, "value", str(exc)))
    values["as_of"] = today
    if text["as_of"]:
        try:
            values["as_of"] = date.fromisoformat(text["as_of"])
        except ValueError:
            errors.append(RowError(number, "as_of", "not a date (YYYY-MM-DD)"))
    for name, limit in MAX_TEXT.items():
        if not text[name]:
            continue
        unstorable = text_problem(text[name])
        if unstorable:
            errors.append(RowError(number, name, unstorable))
        elif len(text[name]) > limit:
            errors.append(RowError(number, name, f"longer than {limit} characters"))
    if errors:
        return None, errors
    return (
        MeasurementRow(
            reported_by=text["reported_by"],
            comment=text["comment"],
            source=text["source"],
            **values,
        ),
        [],
    )
