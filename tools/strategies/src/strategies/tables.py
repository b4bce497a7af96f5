"""Rows of the project tables (sections 5 and 6), cut out of a section's units.

Both tables list projects sector by sector. In the line layout every row
starts with its printed number; in the flat layout row numbers 1–9 were lost,
so a row is found where an empty unit is followed by the next project's name
(the names come from section 7, in the same order).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .layout import Layout, Unit, flat_heading_end
from .text import join_pieces, key_words

_LINE_SECTOR = re.compile(r"^(\d{1,2})\.\s*([А-ЯЁ][^\d]{0,60})$")

# Key words of a project's name that must follow an empty unit to open its row.
_NAME_LEAD = 2


class TableError(ValueError):
    """A table does not read as expected; the message says where."""


@dataclass
class Row:
    """A table row: its sector, its number within the sector and its units."""

    sector: int
    number: int
    units: list[Unit] = field(default_factory=list)

    @property
    def pages(self) -> list[int]:
        """The pages the row is printed on, in order."""
        pages: list[int] = []
        for unit in self.units:
            if unit.page is not None and unit.page not in pages:
                pages.append(unit.page)
        return pages

    def segments(self) -> list[list[Unit]]:
        """The row's units page by page."""
        segments: list[list[Unit]] = []
        page: int | None = -1
        for unit in self.units:
            if unit.page != page:
                segments.append([])
                page = unit.page
            segments[-1].append(unit)
        return segments


@dataclass
class SectorHeading:
    """A sector heading as printed in a table."""

    number: int
    name: str


def split_rows(
    units: Sequence[Unit], layout: Layout, names: dict[int, list[str]]
) -> tuple[list[SectorHeading], list[Row]]:
    """Sector headings and rows of a project table.

    ``names`` gives, per sector, the projects' names in order (from section 7);
    the flat layout needs them to find where rows start.
    """
    if layout is Layout.LINES:
        return _line_rows(units)
    return _flat_rows(units, names)


def _line_rows(units: Sequence[Unit]) -> tuple[list[SectorHeading], list[Row]]:
    headings: list[SectorHeading] = []
    rows: list[Row] = []
    sector = 0
    index = 0
    while index < len(units):
        unit = units[index]
        expected = rows[-1].number + 1 if rows and rows[-1].sector == sector else 1
        if sector and unit.text in (str(expected), f"{expected}."):
            rows.append(Row(sector, expected))
            index += 1
            continue
        heading = _line_heading(units, index, sector)
        if heading is not None:
            sector = heading[0].number
            headings.append(heading[0])
            index = heading[1]
            continue
        if rows and not unit.empty:
            rows[-1].units.append(unit)
        index += 1
    return headings, rows


def _line_heading(
    units: Sequence[Unit], index: int, sector: int
) -> tuple[SectorHeading, int] | None:
    """A sector heading and where it ends: «2. Здравоохранение», or «6.» then its name.

    The sector numbers of a table are consecutive, but one may be misprinted
    (section 5 of the Leningrad Oblast text numbers its last sector 11 after
    9), so a heading may skip a number; it is renumbered in sequence.
    """
    text = units[index].text
    match = _LINE_SECTOR.match(text)
    end = index + 1
    if match is None:
        bare = re.fullmatch(r"(\d{1,2})\.", text)
        following = units[index + 1].text if index + 1 < len(units) else ""
        match = _LINE_SECTOR.match(f"{bare.group(1)}. {following}") if bare else None
        end = index + 2
    if match is None:
        return None
    number, name = int(match.group(1)), match.group(2).strip()
    if number in (sector + 1, sector + 2) and len(name.split()) <= 5:
        return SectorHeading(sector + 1, name), end
    return None


def _flat_rows(
    units: Sequence[Unit], names: dict[int, list[str]]
) -> tuple[list[SectorHeading], list[Row]]:
    headings: list[SectorHeading] = []
    rows: list[Row] = []
    sector = 0
    index = 0
    while index < len(units):
        heading_end = flat_heading_end(units, index, sector + 1)
        if heading_end is not None:
            sector += 1
            headings.append(
                SectorHeading(sector, " ".join(u.text for u in units[index + 1 : heading_end]))
            )
            index = heading_end
            continue
        expected = rows[-1].number + 1 if rows and rows[-1].sector == sector else 1
        sector_names = names.get(sector, [])
        if units[index].empty and expected <= len(sector_names):
            if _name_follows(units, index + 1, sector_names[expected - 1]):
                rows.append(Row(sector, expected))
                index += 1
                continue
        if rows and rows[-1].sector == sector:
            rows[-1].units.append(units[index])
        index += 1
    for sector_number, sector_names in names.items():
        found = sum(1 for row in rows if row.sector == sector_number)
        if found != len(sector_names):
            raise TableError(
                f"sector {sector_number}: found {found} of {len(sector_names)} project rows"
            )
    return headings, rows


def _name_follows(units: Sequence[Unit], index: int, name: str) -> bool:
    """Whether the units from ``index`` open with the first words of ``name``."""
    target = key_words(name)[:_NAME_LEAD]
    seen = key_words(join_pieces(unit.text for unit in units[index : index + 8]))
    return seen[: len(target)] == target
