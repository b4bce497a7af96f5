"""Section 5, «Взаимосвязь задач и проектов стратегии»: what each project is for.

A row has four cells: the sector's tasks it serves, the project's name, its
beneficiaries and their benefits. The tasks are the sector's challenges
(«Вызовы развития отрасли») listed in section 4, so they are found by those
texts; the name by section 7's; beneficiaries are short category names
(«Жители регионов», «Организации - Образование общее») told apart from the
benefits, which are sentences, by a list of categories (the flat layout's
section 2 prints one) or, in the line layout, by their narrow column.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .layout import Layout, Unit
from .tables import Row, TableError
from .text import PROPER_OPENERS, join_pieces, key_words, same_words, word_prefix_length

_CHALLENGES = re.compile(r"Вызовы развития отрасли")
_RISKS = re.compile(r"Общие вызовы")
_LINE_ITEM = re.compile(r"^(\d{1,2})\.\s*(.*)$")
# The longest a name can be, in units, when looking for it in a row.
_NAME_SPAN = 40
# How many of a name's first key words find it.
_NAME_LEAD = 3
# The shortest word a comparison keeps.
_MIN_WORD = 3
# Which of the beneficiary lines' widths stands for the column, and how much a
# line may exceed it (the font is proportional).
_WIDTH_QUANTILE = 0.95
_WIDTH_SLACK = 1


@dataclass
class ProjectLinks:
    """A project's row of section 5."""

    sector: int
    number: int
    tasks: list[str]
    beneficiaries: list[str]
    benefits: str
    pages: list[int]
    notes: list[str] = field(default_factory=list)


def challenges(units: Sequence[Unit], layout: Layout) -> list[list[str]]:
    """Each sector's challenges («Вызовы развития отрасли») from section 4, in order."""
    texts = [unit.text for unit in units]

    def opens(index: int, pattern: re.Pattern[str]) -> bool:
        # A heading is a line of its own, or three words of the flat text.
        return bool(pattern.match(join_pieces(texts[index : index + 3])))

    starts = [i for i in range(len(texts)) if opens(i, _CHALLENGES)]
    lists: list[list[str]] = []
    for start in starts:
        end = next((i for i in range(start, len(texts)) if opens(i, _RISKS)), len(texts))
        body = texts[start + 1 : end]
        if layout is Layout.FLAT:
            # The heading's last words («отрасли направления») come first.
            body = body[body.index("1") :] if "1" in body else body
        lists.append(_numbered_items(body, layout))
    return lists


def _numbered_items(texts: Sequence[str], layout: Layout) -> list[str]:
    """The items of a list numbered 1, 2, 3 … (lines «1. …» or words «1»)."""
    items: list[list[str]] = []
    for text in texts:
        expected = str(len(items) + 1)
        if layout is Layout.LINES:
            match = _LINE_ITEM.match(text)
            if match and match.group(1) == expected:
                items.append([match.group(2)])
                continue
        elif text == expected:
            items.append([])
            continue
        if items:
            items[-1].append(text)
    return [join_pieces(item).rstrip(".;") for item in items]


def beneficiary_categories(units: Sequence[Unit]) -> list[str]:
    """The beneficiary categories numbered in section 2 («Бенефициары стратегии»)."""
    texts = [unit.text for unit in units]
    start = next((i for i, text in enumerate(texts) if text.startswith("Бенефициары")), None)
    if start is None:
        return []
    end = next((i for i in range(start, len(texts)) if texts[i].startswith("Ресурсы")), len(texts))
    body = [text for text in texts[start + 1 : end] if text != "стратегии"]
    items: list[list[str]] = []
    for text in body:
        number = re.match(r"^(\d{1,2})\.?(?:\s+(.*))?$", text)
        if number and int(number.group(1)) == len(items) + 1:
            items.append([number.group(2) or ""])
        elif items:
            items[-1].append(text)
    return [join_pieces(item) for item in items]


def split_flat_rows(
    units: Sequence[Unit], names: dict[int, list[str]], categories: Sequence[str]
) -> list[Row]:
    """Rows of section 5 in the flat layout.

    A row opens with its tasks, and its lost number left an empty unit before
    them. Empty units also stand inside cells (a lost dash in «Организации -
    Строительство», a lost bullet), so a row opens at the last empty unit
    before the project's name that is followed by a capital and is not inside
    a beneficiary category's name.
    """
    headings = [0]
    for index, unit in enumerate(units):
        if unit.text == str(len(headings)) and _opens_heading(units, index):
            headings.append(index)
    headings.append(len(units))
    rows: list[Row] = []
    for sector in range(1, len(headings) - 1):
        start, end = headings[sector] + 1, headings[sector + 1]
        opens = [i for i in range(start, end) if _opens_flat_row(units, i, categories)]
        starts: list[int] = []
        position = start
        for name in names.get(sector, []):
            found = _find_name(units, position, end, name)
            if found is None:
                raise TableError(f"section 5, sector {sector}: no row for «{name}»")
            starts.append(max((i for i in opens if position <= i < found), default=position))
            position = found + 1
        for number, (first, last) in enumerate(zip(starts, [*starts[1:], end], strict=True), 1):
            rows.append(Row(sector, number, list(units[first + 1 : last])))
    return rows


def _opens_heading(units: Sequence[Unit], index: int) -> bool:
    """Whether a number opens a sector heading (a capitalised name follows)."""
    following = units[index + 1].text if index + 1 < len(units) else ""
    return following[:1].isupper()


def _opens_flat_row(units: Sequence[Unit], index: int, categories: Sequence[str]) -> bool:
    """Whether an empty unit may be a lost row number: a capital follows, no category goes on."""
    if not units[index].empty or index + 1 >= len(units):
        return False
    if not _opens_item(units[index + 1].text):
        return False
    for back in range(max(0, index - 6), index):
        texts = [unit.text for unit in units[back : index + 8]]
        length = _category_length(texts, categories)
        if length and back + length > index + 1:
            return False
    return True


def _find_name(units: Sequence[Unit], start: int, end: int, name: str) -> int | None:
    """Where a project's name (its first words) next stands between ``start`` and ``end``."""
    target = key_words(name)[:_NAME_LEAD]
    for index in range(start, end):
        if units[index].empty:
            continue
        seen = key_words(join_pieces(unit.text for unit in units[index : index + 8]))
        if same_words(seen[: len(target)], target):
            return index
    return None


def read_links(
    rows: Sequence[Row],
    names: dict[tuple[int, int], str],
    tasks: list[list[str]],
    categories: Sequence[str],
    layout: Layout,
) -> list[ProjectLinks]:
    """Read every row of section 5; ``names`` are section 7's by (sector, number)."""
    width = _beneficiary_width(rows, names, categories) if layout is Layout.LINES else None
    return [
        _read(row, names[(row.sector, row.number)], tasks[row.sector - 1], categories, width)
        for row in rows
    ]


def _read(
    row: Row, name: str, tasks: Sequence[str], categories: Sequence[str], width: int | None
) -> ProjectLinks:
    segments = [[unit.text for unit in segment] for segment in row.segments()]
    first = segments[0]
    name_start, name_end = _name_span(first, name)
    found_tasks = _tasks_in(_sentences(first[:name_start]), tasks)
    items = _items(first[name_end:], categories, width)
    beneficiaries, benefits = _beneficiaries(items, categories, width)
    notes: list[str] = []
    name_seen = key_words(join_pieces(first[name_start:name_end]))
    for segment in segments[1:]:
        position = 0
        if found_tasks and found_tasks[-1][1]:
            task_rest = found_tasks[-1][1]
            length = word_prefix_length(segment, task_rest)
            if length:
                position = length
                found_tasks[-1] = (found_tasks[-1][0], [])
        name_words = key_words(name)
        if not same_words(name_seen, name_words):
            rest = name_words[len(name_seen) :]
            length = word_prefix_length(segment[position:], rest)
            if length:
                position += length
                name_seen = name_words
        more = _items(segment[position:], categories, width)
        if more and not _opens_item(more[0][0]):
            # A cut cell goes on: the last beneficiary's, unless that one is a
            # whole category already, if it fits their column.
            carried = more.pop(0)
            last_whole = bool(beneficiaries) and _is_category(beneficiaries[-1], categories)
            if (
                beneficiaries
                and not last_whole
                and _is_beneficiary(carried, categories, width, True)
            ):
                beneficiaries[-1].extend(carried)
            else:
                benefits.extend(carried)
        extra_beneficiaries, extra_benefits = _beneficiaries(more, categories, width)
        beneficiaries.extend(extra_beneficiaries)
        benefits.extend(extra_benefits)
        notes.append(f"continued on page {row.pages[segments.index(segment)]}")
    return ProjectLinks(
        sector=row.sector,
        number=row.number,
        tasks=[task for task, _ in found_tasks],
        beneficiaries=[join_pieces(item) for item in beneficiaries],
        benefits=join_pieces(benefits),
        pages=row.pages,
        notes=notes,
    )


def _name_span(texts: Sequence[str], name: str) -> tuple[int, int]:
    """Where the project's name stands among a row's first units.

    The span that best matches section 7's name; only spans that start with
    the name's first word are tried, unless none does.
    """
    target = key_words(name)
    starts = [i for i, text in enumerate(texts) if target and key_words(text)[:1] == target[:1]]
    best = (0, 0, -1.0)
    for start in starts or range(len(texts)):
        for end in range(start + 1, min(len(texts), start + _NAME_SPAN) + 1):
            seen = key_words(join_pieces(texts[start:end]))
            if len(seen) > 2 * len(target) + 2:
                break
            score = difflib.SequenceMatcher(None, seen, target, autojunk=False).ratio()
            if score > best[2]:
                best = (start, end, score)
    return best[0], best[1]


def _sentences(texts: Sequence[str]) -> list[str]:
    """Units cut where a sentence ends inside one, so that each task starts a unit."""
    return [piece for text in texts for piece in re.split(r"(?<=[.;])\s+(?=[А-ЯЁ])", text)]


def _tasks_in(texts: Sequence[str], tasks: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The tasks a row's task cell names, each with the words a page break cut off.

    A cell may name several tasks one after another. Text that is no known
    task is kept as it stands.
    """
    found: list[tuple[str, list[str]]] = []
    position = 0
    while position < len(texts):
        match = _longest_task(texts[position:], tasks)
        if match is None:
            # Text that is no known task runs up to where a known one opens.
            end = next(
                (i for i in range(position + 1, len(texts)) if _longest_task(texts[i:], tasks)),
                len(texts),
            )
            found.append((join_pieces(texts[position:end]).rstrip(".;"), []))
            position = end
            continue
        task, length, rest = match
        # Words too short to compare («ИИ») still belong to the task they end.
        while position + length < len(texts) and not key_words(texts[position + length]):
            length += 1
        found.append((task, rest))
        position += length
    return found


def _longest_task(texts: Sequence[str], tasks: Sequence[str]) -> tuple[str, int, list[str]] | None:
    """The task that opens ``texts``: whole, or cut off at the end of ``texts``."""
    best: tuple[str, int, list[str]] | None = None
    for task in tasks:
        target = key_words(task)
        length = word_prefix_length(texts, target)
        if length and (best is None or length > best[1]):
            best = (task, length, [])
            continue
        seen = key_words(join_pieces(texts))
        if seen and len(seen) < len(target) and same_words(target[: len(seen)], seen):
            if best is None or len(texts) > best[1]:
                best = (task, len(texts), target[len(seen) :])
    return best


def _items(texts: Sequence[str], categories: Sequence[str], width: int | None) -> list[list[str]]:
    """Units grouped into items, each opened by a capital (or by a category name)."""
    items: list[list[str]] = []
    index = 0
    after_category = False
    while index < len(texts):
        text = texts[index]
        if width is None:
            length = _category_length(texts[index:], categories)
            if length:
                items.append(list(texts[index : index + length]))
                index += length
                after_category = True
                continue
        previous = items[-1][-1] if items and items[-1] else ""
        opens = _opens_item(text) and not previous.endswith("-")
        if not items or opens or after_category:
            after_category = False
            items.append([text])
        elif width and _leaves_beneficiary(items[-1], text, width, categories):
            items.append([text])
        else:
            items[-1].append(text)
        index += 1
    return items


def _leaves_beneficiary(
    item: Sequence[str], text: str, width: int, categories: Sequence[str]
) -> bool:
    """Whether a line that carries on a beneficiary's item belongs to the benefits instead.

    Nothing carries on a whole category; a beneficiary's name is no
    sentence, so a line ending one is the rest of a benefit cut by the page.
    (A wide line carries on the item, which is then a benefit itself.)
    """
    if any(len(line) > width for line in item):
        return False
    return _is_category(item, categories) or text.endswith(".")


def _is_category(item: Sequence[str], categories: Sequence[str]) -> bool:
    """Whether an item names one of the known beneficiary categories, whole."""
    return _category_length(item, categories) == len(item)


def _opens_item(text: str) -> bool:
    """Whether a unit opens a new item: a capital, but not a repeated proper name."""
    first_word = text.split()[0] if text.split() else ""
    return (text[:1].isupper() or text[:1] == "«") and first_word not in PROPER_OPENERS


def _category_length(texts: Sequence[str], categories: Sequence[str]) -> int | None:
    """How many leading units name one of the beneficiary categories (the longest)."""
    best = None
    present = [text for text in texts if text]
    for category in categories:
        words = key_words(category)
        length = word_prefix_length(present, words)
        if not length and words and len(words[-1]) == _MIN_WORD:
            # The flat text lost the last letter before a bracket: «газ)» → «га»,
            # too short to compare as a word.
            length = word_prefix_length(present, words[:-1])
            cut = present[length] if length and length < len(present) else ""
            length = length + 1 if cut and words[-1].startswith(cut.lower()) else None
        if length and (best is None or length > best):
            best = length
    if best is None:
        return None
    # Empty units (a lost dash) inside the category count towards its length.
    counted = 0
    for index, text in enumerate(texts):
        counted += 1 if text else 0
        if counted == best:
            return index + 1
    return best


def _beneficiaries(
    items: list[list[str]], categories: Sequence[str], width: int | None
) -> tuple[list[list[str]], list[str]]:
    """Split items into beneficiaries and the benefits that follow them."""
    for index, item in enumerate(items):
        if not _is_beneficiary(item, categories, width):
            return items[:index], [text for rest in items[index:] for text in rest]
    return items, []


def _is_beneficiary(
    item: Sequence[str], categories: Sequence[str], width: int | None, part: bool = False
) -> bool:
    """Whether an item names a beneficiary (or, with ``part``, ends one) rather than a benefit."""
    if width is not None:
        opens = part or _opens_item(item[0])
        return opens and all(len(text) <= width for text in item)
    if _is_category(item, categories):
        return True
    words = key_words(join_pieces(item))
    return part and any(
        same_words(key_words(category)[-len(words) :], words) for category in categories
    )


def _beneficiary_width(
    rows: Sequence[Row], names: dict[tuple[int, int], str], categories: Sequence[str]
) -> int:
    """The width of the beneficiaries' column, from the item right after each name.

    That item is always a beneficiary, so its lines show how wide the column
    is; the widest few are left out, as a line may carry a piece of the next
    column too (the extraction sometimes glues two cells into one line).
    """
    widths: list[int] = []
    for row in rows:
        texts = [unit.text for unit in row.segments()[0]]
        _, end = _name_span(texts, names[(row.sector, row.number)])
        items = _items(texts[end:], categories, 0)
        if items:
            widths.append(max(len(text) for text in items[0]))
    widths.sort()
    return widths[int(len(widths) * _WIDTH_QUANTILE)] + _WIDTH_SLACK
