"""Section 2, «Карточка стратегии»: the strategy's numbered results up to 2024."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .layout import Unit
from .numbers import parse_bounded
from .text import join_pieces

_ITEM = re.compile(r"^(\d{1,2})\.(?:\s+(.*))?$")
# A result that carries a number states it first: «Не менее 40 …», «95 …».
_LEADING_NUMBER = re.compile(
    r"^((?:не\s+более|не\s+менее|более|менее|до)\s+)?(\d+(?:[.,]\d+)?)\s+(\S+)", re.IGNORECASE
)
# Units of measurement a result may state after its number.
_UNITS = {"часов": "ч", "часа": "ч", "час": "ч", "дней": "дн.", "дня": "дн."}
_DOWNTIME = re.compile(r"простоя|ожидания|срок", re.IGNORECASE)


@dataclass
class Result:
    """A region-level result of the strategy that states a number."""

    number: int
    text: str
    value: int | float
    bound: str
    unit: str | None
    direction: str


def results(units: Sequence[Unit]) -> list[Result]:
    """The numbered «Результаты стратегии» that open with a number."""
    texts = [unit.text for unit in units]
    start = next((i for i, text in enumerate(texts) if text.startswith("Результаты")), None)
    if start is None:
        return []
    end = next(
        (i for i in range(start, len(texts)) if texts[i].startswith("Бенефициары")), len(texts)
    )
    items: list[tuple[int, list[str]]] = []
    for text in texts[start + 1 : end]:
        match = _ITEM.match(text)
        if match and int(match.group(1)) == len(items) + 1:
            items.append((int(match.group(1)), [match.group(2) or ""]))
        elif items:
            items[-1][1].append(text)
    found: list[Result] = []
    for number, pieces in items:
        text = join_pieces(pieces).rstrip(".")
        match = _LEADING_NUMBER.match(text)
        if match is None:
            continue
        bounded = parse_bounded(f"{match.group(1) or ''}{match.group(2)}")
        unit = _UNITS.get(match.group(3).lower())
        lower = bounded.bound == "max" or bool(unit and _DOWNTIME.search(text))
        found.append(
            Result(
                number=number,
                text=text,
                value=bounded.value,
                bound=bounded.bound,
                unit=unit,
                direction="lower_is_better" if lower else "higher_is_better",
            )
        )
    return found
