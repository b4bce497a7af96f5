"""Russian-style numbers as printed in the strategy documents."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import combinations

# A printed number: an optional group of 1-3 digits followed by space-separated
# groups of exactly three ("5 766"), or a plain run of digits; then an optional
# decimal part with a comma ("98,5") or, as some cells have it, a dot ("17.49").
_NUMBER = re.compile(r"^(?:\d{1,3}(?: \d{3})+|\d+)(?:[.,]\d+)?$")
_BOUND = re.compile(r"^(не\s+более|не\s+менее|до|более|менее)\s+(.+)$", re.IGNORECASE)

_BOUNDS = {
    "не более": "max",
    "до": "max",
    "менее": "max",
    "не менее": "min",
    "более": "min",
}


class NumberError(ValueError):
    """A text that should hold a number (or numbers) does not."""


@dataclass(frozen=True)
class Bounded:
    """A number with the bound printed before it («не более 24» is at most 24)."""

    value: float | int
    bound: str  # "max", "min" or "exact"


def is_number(text: str) -> bool:
    """Whether ``text`` is exactly one printed number."""
    return bool(_NUMBER.match(text.strip()))


def parse_number(text: str) -> int | float:
    """Parse one printed number: ``98,5`` → 98.5, ``5 766`` → 5766, ``17.49`` → 17.49."""
    cleaned = text.strip().replace("\u00a0", " ")
    if not _NUMBER.match(cleaned):
        raise NumberError(f"not a number: {text!r}")
    digits = cleaned.replace(" ", "").replace(",", ".")
    if "." in digits:
        return float(digits)
    return int(digits)


def parse_bounded(text: str) -> Bounded:
    """Parse a number with an optional bound: ``не более 24`` → Bounded(24, "max")."""
    cleaned = " ".join(text.split())
    match = _BOUND.match(cleaned)
    if match is None:
        return Bounded(parse_number(cleaned), "exact")
    bound = _BOUNDS[" ".join(match.group(1).lower().split())]
    return Bounded(parse_number(match.group(2)), bound)


def split_numbers(text: str, count: int) -> list[int | float]:
    """Split a run of printed numbers into exactly ``count`` numbers.

    A space both separates numbers and groups thousands, so "5 766 6 291 7 339"
    could be read several ways; the only reading accepted is the one in which
    every part is a well-formed number. Anything else is an error, never a guess.
    """
    tokens = text.split()
    if not tokens:
        raise NumberError("no numbers")
    readings: list[list[int | float]] = []
    for cuts in combinations(range(1, len(tokens)), count - 1):
        bounds = (0, *cuts, len(tokens))
        parts = [" ".join(tokens[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
        if all(is_number(part) for part in parts):
            readings.append([parse_number(part) for part in parts])
    if len(readings) != 1:
        raise NumberError(f"{text!r} reads as {len(readings)} ways of {count} numbers")
    return readings[0]
