"""The two text layouts of the source documents, cut into sections of units.

A *unit* is the smallest piece of text the layout keeps apart: a line in the
line-per-cell layout (Leningrad Oblast), a word in the flat one-line layout
(Nenets AO). Each unit remembers the page it is printed on; the page numbers
and the repeated table headers themselves are removed, so a table row that
continues on the next page shows up as a change of page between its units.

An *empty* unit is a cell or line that lost all its text in the extraction:
the `%` of a unit cell, a stripped one-digit value or row number, a bullet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

_SECTION_TITLE = re.compile(r"(?:^|(?<=\s))([1-8])\.?\s*Раздел\s")


class Layout(Enum):
    """How a document's text was laid out by the PDF extraction."""

    LINES = "lines"  # roughly one table cell (or wrapped line of it) per line
    FLAT = "flat"  # the whole document on one line, short words stripped


@dataclass(frozen=True)
class Unit:
    """A line or a word of a section, with the page it is printed on."""

    text: str
    page: int | None

    @property
    def empty(self) -> bool:
        """Whether the extraction left nothing of this unit's text."""
        return not self.text


class LayoutError(ValueError):
    """The document does not have the structure the layout expects."""


def section_spans(text: str) -> dict[int, tuple[int, int]]:
    """Character spans of the numbered sections (the body's, not the contents')."""
    starts: dict[int, int] = {}
    for match in _SECTION_TITLE.finditer(text):
        # The table of contents names every section first; the body comes last.
        starts[int(match.group(1))] = match.start()
    numbers = sorted(starts)
    if numbers != list(range(1, 9)):
        raise LayoutError(f"section titles found: {numbers}")
    spans = {}
    for number in numbers:
        end = starts[number + 1] if number + 1 in starts else len(text)
        spans[number] = (starts[number], end)
    return spans


def _start_page(text: str, start: int) -> int | None:
    """The page number printed just before a section title (a section opens a page)."""
    before = text[max(0, start - 12) : start].split()
    if before and before[-1].isdigit():
        return int(before[-1])
    return None


def section_units(text: str, layout: Layout, number: int) -> list[Unit]:
    """The units of one section, page numbers and repeated table headers removed."""
    start, end = section_spans(text)[number]
    page = _start_page(text, start)
    body = text[start:end]
    if layout is Layout.LINES:
        return _line_units(body, page)
    return _word_units(body, page)


def _title_and_header(lines: list[str]) -> int:
    """How many leading lines are the section title and the table header."""
    for index, line in enumerate(lines):
        if index > 0 and re.match(r"^1\.\s*\S", line):
            return index
    return 1


def _line_units(body: str, page: int | None) -> list[Unit]:
    raw = body.split("\n")
    lines = [line.strip() for line in raw]
    # A table section repeats its header (from "№" to the column titles) on
    # every page; the first "1. …" line is the first sector's heading.
    head = _title_and_header(lines) if "№" in lines[1:3] else 1
    header = lines[1:head]
    units: list[Unit] = []
    index = head
    expected = page + 1 if page is not None else None
    while index < len(lines):
        line = lines[index]
        if expected is not None and line == str(expected) and _header_follows(lines, index, header):
            page = expected
            expected += 1
            index += 1 + (len(header) if header and lines[index + 1] == header[0] else 0)
            continue
        if line or raw[index] == " ":
            # A line of a single space is a cell whose text was lost (the unit
            # cell that said "%"); a truly empty line is only a paragraph gap.
            units.append(Unit(line, page))
        index += 1
    return units


def _header_follows(lines: list[str], index: int, header: list[str]) -> bool:
    """Whether a number line is a page number: tables repeat their header after it."""
    if not header:
        return True
    following = lines[index + 1 : index + 1 + len(header)]
    return following == header or index + 1 >= len(lines) or not following[0]


def _word_units(body: str, page: int | None) -> list[Unit]:
    tokens = body.split(" ")
    title_end = next(i for i, token in enumerate(tokens) if token.endswith("»")) + 1
    header = _flat_header(tokens)
    pages = _flat_page_positions(tokens, page)
    units: list[Unit] = []
    index = title_end
    current = page
    while index < len(tokens):
        if index in pages:
            current = pages[index]
            index += 1
            continue
        if header and tokens[index : index + len(header)] == header:
            index += len(header)
            continue
        units.append(Unit(tokens[index], current))
        index += 1
    return units


def _flat_header(tokens: list[str]) -> list[str]:
    """The table header ("№ пп Наименование … проекта"), if the section has tables.

    The "№" is lost (an empty token) and the header is followed by the empty
    token of the first row number, which is where it ends.
    """
    for index, token in enumerate(tokens[:80]):
        if token == "пп":
            start = index - 1 if index and not tokens[index - 1] else index
            end = tokens.index("", index)
            return tokens[start:end]
    return []


def _flat_page_positions(tokens: list[str], page: int | None) -> dict[int, int]:
    """Token positions of the page numbers in a flat section.

    Page numbers are the only sequence 1, 2, 3 … printed in order; a number in
    the text that happens to equal the next page number is told apart by where
    it falls: a real page number sits about midway between its neighbours.
    """
    if page is None:
        return {}
    candidates: dict[int, list[int]] = {}
    for index, token in enumerate(tokens):
        if token.isdigit():
            candidates.setdefault(int(token), []).append(index)
    chosen: dict[int, int] = {}
    previous = 0
    number = page + 1
    while number in candidates:
        later = [index for index in candidates[number] if index > previous]
        if not later:
            break
        chosen[number] = later[0]
        previous = later[0]
        number += 1
    for number in list(chosen):
        before = chosen.get(number - 1)
        after = chosen.get(number + 1)
        if before is None or after is None:
            continue
        between = [index for index in candidates[number] if before < index < after]
        if len(between) > 1:
            middle = (before + after) / 2
            chosen[number] = min(between, key=lambda index: abs(index - middle))
    return {position: number for number, position in chosen.items()}


def flat_heading_end(units: Sequence[Unit], index: int, number: int) -> int | None:
    """End of a table's sector heading («6 Социальная сфера») at ``index`` in the flat layout.

    The heading is followed by the table header (removed with the page
    furniture) and by the lost number of the sector's first row, an empty unit.
    """
    if units[index].text != str(number) or index + 1 >= len(units):
        return None
    if not units[index + 1].text[:1].isupper():
        return None
    for end in range(index + 1, min(index + 6, len(units))):
        if units[end].empty:
            return end
        if units[end].text.isdigit():
            return None
    return None
