"""Russian-style numbers as the strategy documents print them."""

import pytest

from strategies.numbers import (
    Bounded,
    NumberError,
    is_number,
    parse_bounded,
    parse_number,
    split_numbers,
)


@pytest.mark.parametrize(
    ("printed", "value"),
    [
        ("98,5", 98.5),
        ("5 766", 5766),
        ("27,5", 27.5),
        ("17.49", 17.49),
        ("100", 100),
        ("0", 0),
        (" 1 469 ", 1469),
    ],
)
def test_parse_number(printed: str, value: float) -> None:
    assert parse_number(printed) == value
    assert type(parse_number(printed)) is type(value)


@pytest.mark.parametrize("printed", ["", "ед.", "5 76", "98,", "12 3456", "не более 24"])
def test_parse_number_rejects_what_is_not_one_number(printed: str) -> None:
    assert not is_number(printed)
    with pytest.raises(NumberError):
        parse_number(printed)


@pytest.mark.parametrize(
    ("printed", "bounded"),
    [
        ("не более 24", Bounded(24, "max")),
        ("Не  более 24", Bounded(24, "max")),
        ("не менее 40", Bounded(40, "min")),
        ("до 250", Bounded(250, "max")),
        ("98,5", Bounded(98.5, "exact")),
    ],
)
def test_parse_bounded(printed: str, bounded: Bounded) -> None:
    assert parse_bounded(printed) == bounded


@pytest.mark.parametrize(
    ("printed", "values"),
    [
        ("5 766 6 291 7 339", [5766, 6291, 7339]),
        ("1 469 1 583 1 696", [1469, 1583, 1696]),
        ("17.49 16.21 15.3", [17.49, 16.21, 15.3]),
        ("100 100 100", [100, 100, 100]),
        ("98 98,5 99", [98, 98.5, 99]),
    ],
)
def test_split_numbers_reads_a_line_of_targets(printed: str, values: list[float]) -> None:
    assert split_numbers(printed, 3) == values


def test_split_numbers_refuses_to_guess() -> None:
    # "100 200 300 400" could be 100 200 | 300 | 400 or 100 | 200 300 | 400 …
    with pytest.raises(NumberError):
        split_numbers("100 200 300 400", 3)
    with pytest.raises(NumberError):
        split_numbers("1 2", 3)
