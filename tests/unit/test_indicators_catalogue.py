"""The rules an indicator definition must respect."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from indicators.catalogue.schemas import IndicatorCreate, IndicatorUpdate, check_percent_targets
from indicators.measurements.schemas import MeasurementCreate


def definition(unit: str, targets: dict[int, int]) -> dict:
    return {
        "project_id": "0b6f3c52-4d3e-4c8e-9a51-6f1d2b7c9e10",
        "name": "Индекс вовлеченности",
        "unit": unit,
        "targets": targets,
        "region": "leningrad-oblast",
    }


@pytest.mark.parametrize(
    "targets",
    [
        {2022: 103, 2023: 105, 2024: 107},  # an index, as leningrad-oblast 10.2.1 prints it
        {2023: 0, 2024: 100},  # a share
    ],
)
def test_percent_targets_may_exceed_100(targets):
    assert IndicatorCreate.model_validate(definition("%", targets)).targets == targets


def test_a_negative_percent_target_is_refused_naming_its_year():
    with pytest.raises(ValidationError, match=r"cannot be negative \(years \[2023\]\)") as caught:
        IndicatorCreate.model_validate(definition("%", {2022: 5, 2023: -1}))
    assert caught.value.errors()[0]["loc"] == ("targets",)


def test_other_units_may_have_negative_targets():
    check_percent_targets("балл", {2023: Decimal(-3)})


@pytest.mark.parametrize(
    ("fields", "location", "message"),
    [
        ({"targets": {2023: "1e30"}}, ("targets", 2023), "at most 18 digits before"),
        ({"targets": {2023: "1e19"}}, ("targets", 2023), "at most 18 digits before"),
        ({"targets": {2023: "0.1234567"}}, ("targets", 2023), "at most 6 digits after"),
        ({"baseline": {"value": "-1e19", "year": 2021}}, ("baseline", "value"), "at most 18"),
        ({"tolerance_percent": "5.12345"}, ("tolerance_percent",), "at most 4 digits after"),
        ({"name": "Индекс\x00"}, ("name",), "must not contain NUL characters"),
        ({"unit": "%\x00"}, ("unit",), "must not contain NUL characters"),
        ({"region": "\x00"}, ("region",), "must not contain NUL characters"),
    ],
)
def test_a_definition_the_database_cannot_hold_is_refused_naming_the_field(
    fields, location, message
):
    body = {**definition("балл", {2023: 1}), **fields}
    with pytest.raises(ValidationError) as caught:
        IndicatorCreate.model_validate(body)
    [error] = caught.value.errors()
    assert error["loc"] == location and error["msg"].startswith(message)
    if "region" not in fields:
        with pytest.raises(ValidationError):
            IndicatorUpdate.model_validate(fields)


def test_definitions_at_the_columns_limits_are_taken():
    body = definition("балл", {2023: "999999999999999999.999999"})
    body["baseline"] = {"value": "-999999999999999999.999999", "year": 2021}
    body["tolerance_percent"] = "99.9999"
    assert IndicatorCreate.model_validate(body).tolerance_percent == Decimal("99.9999")


@pytest.mark.parametrize("field", ["reported_by", "comment", "source"])
def test_a_measurement_text_with_a_nul_character_is_refused_naming_it(field):
    with pytest.raises(ValidationError) as caught:
        MeasurementCreate.model_validate({"period": "2023", "value": 1, field: "КЦР\x00"})
    [error] = caught.value.errors()
    assert (error["loc"], error["msg"]) == ((field,), "must not contain NUL characters")
