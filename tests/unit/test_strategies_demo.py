"""The demo's values: on track where the story says so, behind beyond the tolerance where it
says behind, exactly one report left out, nothing reported twice."""

from decimal import Decimal
from pathlib import Path

import pytest

from strategies.demo import BEHIND, BEHIND_YEARS, OVERDUE, behind_value, plan_rows, reported_value
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
