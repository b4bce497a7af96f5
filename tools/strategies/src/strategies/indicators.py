"""Section 7, «Показатели развития отрасли»: the indicators of every project.

Each table row is a project: its number, its name, the responsible department
(«Ответственный РОИВ») and one or more indicators, each with a unit and the
targets for 2022, 2023 and 2024. When a row runs over a page, every column of
it continues on the next page in turn: first the rest of the project name, then
the rest of the department, then the rest of the indicator, then the next
indicators. The departments are what tells those pieces apart: their full
names are learnt from the rows where they are whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .layout import Layout, Unit, flat_heading_end
from .numbers import NumberError, is_number, split_numbers
from .text import join_pieces, key_words, word_prefix_length

YEARS = (2022, 2023, 2024)

# Words that open a department's name in the «Ответственный РОИВ» column.
DEPARTMENT_HEADS = ("Комитет", "Департамент", "Управление", "Министерство")

# Units as the flat layout prints them (punctuation gone); the line layout's
# units are recognised by their shape (short, lower-case, before the values).
_FLAT_UNITS = frozenset({"шт", "ед", "тысчел", "услед", "балл"})
_LINE_UNIT = re.compile(r"^[а-яё]+\.?(?: ?[а-яё]+\.?)?$")
_NUMERIC_LINE = re.compile(r"^[\d .,]+$")
_SECTOR = re.compile(r"^(\d{1,2})\.?\s*([А-ЯЁ].*)$")


class IndicatorTableError(ValueError):
    """Section 7 does not read as expected; the message says where."""


@dataclass
class Values:
    """A unit cell and the three target cells after an indicator's name."""

    unit: str  # as printed; "" when the cell lost its text (mostly a "%")
    targets: list[str]  # as printed; "" when the extraction lost the value
    page: int | None


@dataclass
class Sector:
    """A sector heading of a table: «1. Образование и наука»."""

    number: int
    name: str


@dataclass
class RowStart:
    """The start of a table row; ``number`` is None where the number was lost."""

    number: int | None
    page: int | None


@dataclass
class Indicator:
    """One indicator row as printed."""

    name: str
    unit: str
    targets: list[str]
    page: int | None
    continued: bool = False  # its name runs over a page break


@dataclass
class ProjectRow:
    """A project's row of section 7 with its department and indicators."""

    sector: int
    number: int | None
    project: str
    department: str
    indicators: list[Indicator] = field(default_factory=list)
    page: int | None = None
    notes: list[str] = field(default_factory=list)


Event = Sector | RowStart | Values | Unit


def line_events(units: Sequence[Unit]) -> list[Event]:
    """Events of section 7 in the line layout: sectors, rows, text and values."""
    events: list[Event] = []
    sector = 0
    row = 0
    index = 0
    while index < len(units):
        unit = units[index]
        values = _line_values(units, index)
        if values is not None:
            events.append(values[0])
            index = values[1]
            continue
        heading = _SECTOR.match(unit.text)
        if heading and int(heading.group(1)) == sector + 1 and _is_sector_heading(heading):
            sector += 1
            row = 0
            events.append(Sector(sector, heading.group(2).strip()))
            index += 1
            continue
        if unit.text == str(row + 1):
            row += 1
            events.append(RowStart(row, unit.page))
        elif not unit.empty:
            events.append(unit)
        index += 1
    return events


def _is_sector_heading(heading: re.Match[str]) -> bool:
    """A sector heading names a sector; a numbered line of text would go on."""
    name = heading.group(2)
    return len(name) <= 60 and not any(char.isdigit() for char in name)


def _line_values(units: Sequence[Unit], index: int) -> tuple[Values, int] | None:
    """A unit cell at ``index`` followed by three targets, and where they end."""
    unit = units[index]
    if not (unit.empty or (_LINE_UNIT.match(unit.text) and len(unit.text) <= 10)):
        return None
    following = index + 1
    lines: list[str] = []
    while following < len(units) and len(lines) < len(YEARS):
        text = units[following].text
        if not _NUMERIC_LINE.match(text) or not text.strip():
            break
        lines.append(text)
        following += 1
        try:
            if len(lines) == 1 and len(split_numbers(text, len(YEARS))) == len(YEARS):
                return Values(unit.text, _split_printed(text), unit.page), following
        except NumberError:
            pass
    if len(lines) == len(YEARS) and all(is_number(line) for line in lines):
        return Values(unit.text, lines, unit.page), following
    return None


def _split_printed(text: str) -> list[str]:
    """The printed form of each of three numbers written on one line."""
    tokens = text.split()
    numbers = split_numbers(text, len(YEARS))
    printed: list[str] = []
    position = 0
    for number in numbers:
        for end in range(position + 1, len(tokens) + 1):
            candidate = " ".join(tokens[position:end])
            if is_number(candidate) and split_numbers(candidate, 1) == [number]:
                printed.append(candidate)
                position = end
                break
    return printed


def flat_events(units: Sequence[Unit]) -> list[Event]:
    """Events of section 7 in the flat layout, where row numbers 1–9 were lost.

    Outside the value cells an empty unit is mostly a lost row number; the few
    others are lines of a cell that lost all their words.
    """
    events: list[Event] = []
    sector = 0
    index = 0
    while index < len(units):
        unit = units[index]
        if _flat_values_at(units, index):
            events.append(
                Values(unit.text, [u.text for u in units[index + 1 : index + 4]], unit.page)
            )
            index += 4
            continue
        heading = flat_heading_end(units, index, sector + 1)
        if heading is not None:
            sector += 1
            events.append(Sector(sector, " ".join(u.text for u in units[index + 1 : heading])))
            index = heading
            continue
        if not unit.empty:
            events.append(unit)
        elif _opens_row(units, index):
            events.append(RowStart(None, unit.page))
        index += 1
    return events


def _opens_row(units: Sequence[Unit], index: int) -> bool:
    """Whether an empty unit is a lost row number rather than a lost line of a cell.

    A row opens with a project name (or the department, when the name went to
    the next page), which starts with a capital or a quote.
    """
    following = units[index + 1].text if index + 1 < len(units) else ""
    return following[:1].isupper() or following.startswith("«")


def _flat_values_at(units: Sequence[Unit], index: int) -> bool:
    """Whether a unit cell and three target cells start at ``index``."""
    if index == 0 or index + 4 > len(units) or units[index - 1].empty:
        return False
    if units[index - 1].text.isdigit():
        return False
    cell = units[index].text
    if cell and cell not in _FLAT_UNITS:
        return False
    return all(u.empty or u.text.isdigit() for u in units[index + 1 : index + 4])


def events_for(layout: Layout, units: Sequence[Unit]) -> list[Event]:
    """The events of section 7 for a document's layout."""
    if layout is Layout.LINES:
        return line_events(units)
    return flat_events(units)


def learn_departments(events: Sequence[Event], genitive: str) -> list[str]:
    """Department names seen whole in section 7, in order of first appearance.

    A name is taken as whole when it opens with a department word, contains
    the region's name in the genitive («Ленинградской области») and is
    followed, before the values, by the indicator (which opens with a capital).
    """
    learnt: list[str] = []
    for chunk in _leading_chunks(events):
        texts = [unit.text for unit in chunk]
        starts = [i for i, text in enumerate(texts) if text.split()[0] in DEPARTMENT_HEADS]
        for start in reversed(starts):
            end = _department_end(texts, start, genitive)
            if end is None:
                continue
            name = join_pieces(texts[start:end])
            if name not in learnt:
                learnt.append(name)
            break
    return learnt


def _department_end(texts: Sequence[str], start: int, genitive: str) -> int | None:
    """Where a whole department name that starts at ``start`` ends, if it is whole."""
    target = key_words(genitive)
    for index in range(start, len(texts)):
        seen = key_words(join_pieces(texts[start : index + 1]))
        has_genitive = any(seen[i : i + len(target)] == target for i in range(len(seen)))
        if not has_genitive:
            continue
        following = texts[index + 1] if index + 1 < len(texts) else ""
        opens_next = bool(following) and (following[0].isupper() or following[0].isdigit())
        if opens_next and not following.startswith(genitive.split()[0]):
            return index + 1
    return None


def _leading_chunks(events: Sequence[Event]) -> list[list[Unit]]:
    """The text of each row before its first values, if all on one page."""
    chunks: list[list[Unit]] = []
    current: list[Unit] | None = None
    for event in events:
        if isinstance(event, RowStart):
            current = []
        elif isinstance(event, Unit) and current is not None:
            if current and current[-1].page != event.page:
                current = None
            else:
                current.append(event)
        elif isinstance(event, (Values, Sector)):
            if current:
                chunks.append(current)
            current = None
    return chunks


def parse_rows(events: Sequence[Event], departments: Sequence[str]) -> list[ProjectRow]:
    """Assemble the rows of section 7 from its events."""
    rows: list[ProjectRow] = []
    sector = 0
    openers = _openers(events, departments)
    row_events: list[Event] = []
    row_start: RowStart | None = None

    def flush() -> None:
        if row_start is not None:
            rows.append(_assemble(sector, row_start, row_events, departments, openers))

    for event in events:
        if isinstance(event, Sector):
            flush()
            row_start = None
            row_events = []
            sector = event.number
        elif isinstance(event, RowStart):
            flush()
            row_start = event
            row_events = []
        elif row_start is None:
            raise IndicatorTableError(f"text outside a row: {event}")
        else:
            row_events.append(event)
    flush()
    return rows


def _openers(events: Sequence[Event], departments: Sequence[str]) -> set[str]:
    """First words of indicator names where nothing else can stand.

    That is right after values on the same page, and right after a whole
    department name at the start of a row.
    """
    openers: set[str] = set()
    previous: Event | None = None
    for event in events:
        if isinstance(event, Unit) and isinstance(previous, Values) and event.page == previous.page:
            openers.add(_opener_key(event.text))
        previous = event
    for chunk in _leading_chunks(events):
        texts = [unit.text for unit in chunk]
        match = _department_match(texts, departments)
        if match and match[1] < len(texts) and match[2] == join_pieces(texts[match[0] : match[1]]):
            openers.add(_opener_key(texts[match[1]]))
    return openers


def _opener_key(text: str) -> str:
    """The first word of a text, with any number standing for all numbers."""
    first = text.split()[0]
    return "#" if first.isdigit() else first


def _department_match(
    texts: Sequence[str], departments: Sequence[str]
) -> tuple[int, int, str] | None:
    """Where a department's name (or the start of one) begins and ends in ``texts``.

    Returns the start, the end and the department. The match must cover the
    whole name or, when the cell was cut by the values or a page break, at
    least its first two words up to the end of ``texts`` or to the indicator.
    """
    for start in range(len(texts)):
        if texts[start].split()[0] not in DEPARTMENT_HEADS:
            continue
        best: tuple[int, int, str] | None = None
        for department in departments:
            target = key_words(department)
            for end in range(start, len(texts)):
                joined = join_pieces(texts[start : end + 1])
                if joined.endswith("-"):
                    continue
                seen = key_words(joined)
                if seen == target:
                    return start, end + 1, department
                if target[: len(seen)] != seen:
                    break
                if len(seen) >= 2 and (best is None or end + 1 > best[1]):
                    best = (start, end + 1, department)
        if best is not None:
            return best
    return None


def _assemble(
    sector: int,
    start: RowStart,
    events: Sequence[Event],
    departments: Sequence[str],
    openers: set[str],
) -> ProjectRow:
    """One row: project, department and indicators, across page breaks."""
    segments = _segments(events)
    lead = _lead_texts(segments[0])
    match = _department_match(lead, departments)
    if match is None:
        raise IndicatorTableError(f"row {sector}.{start.number} (page {start.page}): no department")
    dept_start, dept_end, department = match
    project_pieces = lead[:dept_start]
    department_pieces = lead[dept_start:dept_end]
    row = ProjectRow(sector, start.number, "", department, page=start.page)
    carry = _read_indicators(row, segments[0][len(lead) :], lead[dept_end:])

    for segment in segments[1:]:
        lead = _lead_texts(segment)
        position = 0
        department_rest = _rest(department_pieces, department)
        if department_rest:
            found = _find_rest(lead, department_rest, project_pieces)
            if found is None:
                raise IndicatorTableError(
                    f"row {sector}.{start.number}: the rest of «{department}» is not in {lead}"
                )
            project_pieces.extend(lead[: found[0]])
            department_pieces.extend(lead[found[0] : found[1]])
            position = found[1]
        remaining = lead[position:]
        if carry or not row.indicators:
            # The open indicator has no values yet: all of this is its name.
            carry.extend(remaining)
        else:
            values_follow = len(segment) > len(lead)
            rest, carry = (
                _split_continuation(remaining, row, openers)
                if values_follow
                else (
                    remaining,
                    [],
                )
            )
            if rest:
                last = row.indicators[-1]
                last.name = join_pieces([last.name, *rest])
                last.continued = True
        carry = _read_indicators(row, segment[len(lead) :], carry)

    if carry:
        raise IndicatorTableError(f"row {sector}.{start.number}: no values for {carry}")
    if not row.indicators:
        raise IndicatorTableError(f"row {sector}.{start.number} has no indicators")
    row.project = join_pieces(project_pieces)
    return row


def _lead_texts(segment: Sequence[Event]) -> list[str]:
    """The texts of a page segment before its first values."""
    lead: list[str] = []
    for event in segment:
        if isinstance(event, Values):
            break
        if isinstance(event, Unit):
            lead.append(event.text)
    return lead


def _rest(pieces: Sequence[str], whole: str) -> list[str]:
    """Key words of ``whole`` not yet covered by ``pieces``."""
    seen = key_words(join_pieces(pieces))
    return key_words(whole)[len(seen) :]


def _find_rest(
    texts: Sequence[str], rest: Sequence[str], project: Sequence[str]
) -> tuple[int, int] | None:
    """Where a cut department's remaining words stand in the continuation.

    The project's rest comes first; when the department's words could start at
    several places («… Ленинградской» / «области» / «области»), the first place
    that leaves the project's quotes and brackets balanced wins.
    """
    found: list[tuple[int, int]] = []
    for start in range(len(texts)):
        length = word_prefix_length(texts[start:], rest)
        if length:
            found.append((start, start + length))
    for start, end in found:
        if _balanced(join_pieces([*project, *texts[:start]])):
            return start, end
    return found[0] if found else None


def _balanced(text: str) -> bool:
    """Whether every opening quote and bracket of a text is closed."""
    return text.count("«") == text.count("»") and text.count("(") == text.count(")")


def _split_continuation(
    texts: list[str], row: ProjectRow, openers: set[str]
) -> tuple[list[str], list[str]]:
    """Split a page's leading text into the rest of the last indicator and a new one."""
    for index, text in enumerate(texts):
        broken = index > 0 and texts[index - 1].endswith("-")
        if _opener_key(text) in openers and not broken:
            return texts[:index], texts[index:]
    raise IndicatorTableError(f"row {row.sector}.{row.number}: no new indicator opens in {texts}")


def _read_indicators(row: ProjectRow, events: Sequence[Event], name: list[str]) -> list[str]:
    """Indicators from values and the names before them; returns a name left open."""
    current = list(name)
    for event in events:
        if isinstance(event, Values):
            row.indicators.append(
                Indicator(join_pieces(current), event.unit, event.targets, event.page)
            )
            current = []
        elif isinstance(event, Unit):
            current.append(event.text)
    return current


def _segments(events: Sequence[Event]) -> list[list[Event]]:
    """A row's events cut where the page changes."""
    segments: list[list[Event]] = [[]]
    page: int | None = None
    for event in events:
        event_page = event.page if isinstance(event, (Unit, Values)) else page
        if page is not None and event_page != page and segments[-1]:
            segments.append([])
        page = event_page
        segments[-1].append(event)
    return segments
