"""The rules an indicator definition must respect."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from indicators.catalogue.schemas import IndicatorCreate, check_percent_targets


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
