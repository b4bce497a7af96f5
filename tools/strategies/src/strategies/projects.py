"""Section 6, «Проекты развития отрасли»: what each project is.

A row has six cells side by side: name, goal, timeline, description,
financing and the region's role. Within a page they come one after the
other; a row that runs over a page continues on the next one with the rest of
each unfinished cell, again in that order. The cells are told apart by:

- the name, which section 7 gives (the two tables name projects alike);
- the timeline, which has a fixed shape («До 2030 года», «2024», «постоянно»);
- the financing, which opens with one of a few fixed phrases;
- the role, the first cell after the financing to open with a capital.

On a continuation page the rest of the name is known from section 7, the rest
of a financing or role cell from the cells printed whole elsewhere, and the
rest of a goal from texts that repeat it (sections 2–5 of the same strategy,
the other strategy); what remains is the description's.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .tables import Row
from .text import PROPER_OPENERS, join_pieces, key_words, same_words, word_prefix_length

_TIMELINE_TEXT = (
    r"(?:(?:[Дд]о\s+)?20\d\d(?:\s+года?)?(?:,?\s+далее\s+постоянно)?"
    r"|(?:[Кк]\s+)?20\d\d\s+году|[Пп]остоянно"
    # A date, which the flat layout prints without its dots: «31122024».
    r"|(?:[Дд]о\s+)?\d\d\.?\d\d\.?20\d\d)"
)
_TIMELINE = re.compile(rf"^{_TIMELINE_TEXT}$")
# A timeline the extraction glued to the description's first words.
_GLUED_TIMELINE = re.compile(rf"^({_TIMELINE_TEXT})\s+([А-ЯЁ«].*)$")
_FINANCING_OPENERS = (
    "Внедрение пилотного",
    "Проект реализуется",
    "Проект не требует",
    # The flat layout lost the «не» of the phrase above.
    "Проект требует",
    "Федеральное финансирование",
    "Рекомендованный федеральный проект",
    "Привлечение инвесторов",
    # The flat layout's transport projects, whose cell lost its first word.
    "финансирование обеспечено",
)
# How many words a known financing cell must have to be trusted to end where
# it ends even when the role after it lost its capital (the flat layout's
# roles often open with a stripped dash: «- заказчик, пользователь продукта»).
_TRUSTED_FINANCING = 4
# Capitalised words that go on inside a financing cell rather than open the
# role («Рекомендованный федеральный проект, не обеспеченный фед. Финансированием»).
_FINANCING_CAPITALS = frozenset({"Финансированием"})
_RECOMMENDED = ("рекомендовано", "фоив", "фои")
# The font is proportional, so character counts only approximate a column's
# width: a line may run a character longer than the widest line seen elsewhere.
_WIDTH_SLACK = 1
# How many words in a row must occur in a reference text for a goal's
# continuation to count as repeating it: enough to be specific, few enough to
# step over the places where the references differ.
_REFERENCE_RUN = 6
_WRAP_SLACK = 0
# «К концу 2024 года: …», «До конца 2022 года …», «К 2030 г.: …» open a dated
# milestone; so does «к концу 2021 г.:» right after a colon. The flat layout
# may glue the year to the next number («К 202470 обращений» for «К 2024 г.:
# 70 обращений»), so nothing is required after the year's four digits.
_MILESTONE = re.compile(
    r"(?:(?<!\w)К концу|(?<!\w)До конца|(?<=:\s)к концу|(?<!\w)К)\s+(20\d\d)"
    r"(?:\s*(?:года|году|год|г)(?!\w)\.?)?\s*:?\s*"
)


@dataclass
class Milestone:
    """A dated milestone of a project's description («К концу 2024 года: …»)."""

    year: int
    title: str


@dataclass
class ProjectText:
    """A project as section 6 describes it."""

    sector: int
    number: int
    name: str
    federal_recommended: bool
    goal: str
    timeline: str
    description: str
    financing: str
    region_role: str
    pages: list[int]
    milestones: list[Milestone] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class ProjectTableError(ValueError):
    """A row of section 6 does not read as expected; the message says which."""


@dataclass
class Cells:
    """The pieces of one row's six cells, page by page."""

    name: list[str] = field(default_factory=list)
    goal: list[str] = field(default_factory=list)
    timeline: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)
    financing: list[str] = field(default_factory=list)
    role: list[str] = field(default_factory=list)


class References:
    """Texts that repeat a project's goal elsewhere, for telling where a cut goal ends."""

    def __init__(self, texts: Iterable[str]) -> None:
        self._corpus = " " + " ".join(" ".join(key_words(text)) for text in texts) + " "

    def continues(self, head: Sequence[str], tail: Sequence[str]) -> bool:
        """Whether every run of words across ``head`` + ``tail`` occurs in some reference.

        Runs, not the whole: the references repeat the goal in pieces (the other
        strategy cuts it at its own page breaks and spells some words apart).
        """
        words = [*head, *tail]
        for end in range(len(head) + 1, len(words) + 1):
            run = words[max(0, end - _REFERENCE_RUN) : end]
            if f" {' '.join(run)} " not in self._corpus:
                return False
        return bool(tail)


@dataclass
class Templates:
    """Financing and role cells seen whole, to finish the ones a page break cut."""

    financing: list[str] = field(default_factory=list)
    role: list[str] = field(default_factory=list)


def first_pages(
    rows: Sequence[Row], names: dict[tuple[int, int], str], known_financing: Sequence[str] = ()
) -> dict[tuple[int, int], Cells]:
    """Each row's cells as far as its first page has them, by (sector, number).

    ``known_financing`` are financing cells read whole elsewhere (in the other
    strategy), which tell where a financing cell ends where punctuation does not.
    """
    return {(row.sector, row.number): _first_page(row, names, known_financing) for row in rows}


def templates_from(*documents: dict[tuple[int, int], Cells]) -> Templates:
    """Financing and role cells of the rows' first pages, of one or more documents.

    The two strategies share the federal projects' wording, so a cell one of
    them cuts may be printed whole in the other.
    """
    firsts = [cells for document in documents for cells in document.values()]
    return Templates(
        financing=_first_page_cells(firsts, "financing"),
        role=_first_page_cells(firsts, "role"),
    )


def read_projects(
    rows: Sequence[Row],
    names: dict[tuple[int, int], str],
    firsts: dict[tuple[int, int], Cells],
    templates: Templates,
    references: References,
    by_lines: bool,
) -> list[ProjectText]:
    """Read every row of section 6; ``names`` are section 7's, by (sector, number).

    ``by_lines`` says the layout keeps lines, whose widths then help to tell
    where a goal cut by a page break ends.
    """
    widths = _column_widths(firsts.values()) if by_lines else None
    return [
        _read(row, names, firsts[(row.sector, row.number)], templates, references, widths)
        for row in rows
    ]


def _column_widths(firsts: Iterable[Cells]) -> dict[str, int]:
    """The widest line of each column as the rows' first pages print them."""
    widths: dict[str, int] = {}
    for cells in firsts:
        for column, pieces in vars(cells).items():
            for piece in pieces:
                widths[column] = max(widths.get(column, 0), len(piece))
    return widths


def _goal_reaches_page_end(cells: Cells) -> bool:
    """Whether the goal fills its column to the foot of the page, as a cut cell does.

    The cells of a row start level, so the ones cut by the page break are the
    longest of the page (give or take a line of different height).
    """
    longest = max(len(pieces) for pieces in vars(cells).values())
    return len(cells.goal) >= longest - 1


def _first_page_cells(firsts: Iterable[Cells], cell: str) -> list[str]:
    """The financing or role cells as the rows' first pages print them.

    A cell cut by a page break is finished by a longer one that starts alike.
    """
    found: list[str] = []
    for cells in firsts:
        text = join_pieces(getattr(cells, cell))
        if text and text not in found:
            found.append(text)
    return found


def _first_page(
    row: Row, names: dict[tuple[int, int], str], known_financing: Sequence[str]
) -> Cells:
    """The cells as far as the row's first page has them."""
    texts = _unglue_timeline([unit.text for unit in row.segments()[0]])
    name = names[(row.sector, row.number)]
    cells = Cells()
    name_end = _name_end(texts, name)
    while name_end < len(texts) and _is_marker(texts[name_end]):
        name_end += 1
    cells.name = texts[:name_end]
    timeline = _timeline(texts, name_end)
    if timeline is None:
        raise ProjectTableError(
            f"project {row.sector}.{row.number}: no timeline on page {row.pages[0]}"
        )
    cells.goal = texts[name_end : timeline[0]]
    cells.timeline = texts[timeline[0] : timeline[1]]
    financing = _financing_start(texts, timeline[1])
    if financing is None:
        cells.description = texts[timeline[1] :]
        return cells
    role = _role_start(texts, financing, known_financing)
    cells.description = texts[timeline[1] : financing]
    cells.financing = texts[financing:role]
    cells.role = texts[role:]
    return cells


def _name_end(texts: Sequence[str], name: str) -> int:
    """Where the name cell ends: the cut that best matches section 7's name."""
    target = key_words(name)
    best, best_score = 1, -1.0
    for end in range(1, min(len(texts), 60) + 1):
        seen = key_words(join_pieces(texts[:end]))
        if len(seen) > 2 * len(target) + 2:
            break
        score = difflib.SequenceMatcher(None, seen, target, autojunk=False).ratio()
        if score > best_score:
            best, best_score = end, score
    return best


def _timeline(texts: Sequence[str], start: int) -> tuple[int, int] | None:
    """The span of the timeline cell: the first text from ``start`` shaped like one."""
    for begin in range(start, len(texts)):
        for end in range(min(begin + 5, len(texts)), begin, -1):
            candidate = join_pieces(texts[begin:end])
            if not _TIMELINE.match(candidate):
                continue
            # A year with «года» or a date is a timeline whatever follows; a
            # bare year only where a cell opens after it (not «к 2024 году»).
            spelt_out = re.search(r"года?$|\d{6}|\.", candidate)
            previous = texts[begin - 1] if begin else ""
            if (spelt_out and not previous.lower().startswith("конц")) or _opens_cell(texts, end):
                return begin, end
    return None


def _unglue_timeline(texts: list[str]) -> list[str]:
    """Split a line that has the timeline and the description's opening words."""
    for index, text in enumerate(texts):
        glued = _GLUED_TIMELINE.match(text)
        if glued and not _TIMELINE.match(text):
            return [*texts[:index], glued.group(1), glued.group(2), *texts[index + 1 :]]
    return texts


def _opens_cell(texts: Sequence[str], index: int) -> bool:
    """Whether a text can open a cell (a capital, a digit, a quote or a dash)."""
    if index >= len(texts):
        return True
    first = texts[index][:1]
    return first.isupper() or first.isdigit() or first in "«-("


def _financing_start(texts: Sequence[str], start: int) -> int | None:
    """Where the financing cell opens, after the description."""
    for index in range(start, len(texts)):
        if not texts[index]:
            continue
        following = join_pieces(texts[index : index + 4])
        if any(following.startswith(opener) for opener in _FINANCING_OPENERS):
            return index
    return None


def _role_start(texts: Sequence[str], financing: int, known: Sequence[str]) -> int:
    """Where the role cell opens, after the financing cell that opens at ``financing``.

    Right after a ``known`` financing cell the text spells out whole (the
    longest), if that one says enough to trust it or a capital follows it;
    otherwise at the first capital that is neither part of the opening phrase
    nor an abbreviation.
    """
    complete = _known_financing(texts, financing, known)
    if complete is not None:
        end, words = complete
        if words >= _TRUSTED_FINANCING or _opens_cell(texts, end):
            return end
    for index in range(financing + 1, len(texts)):
        first_word = texts[index].split()[0] if texts[index] else ""
        so_far = join_pieces(texts[financing:index])
        if not texts[index][:1].isupper() or first_word in _FINANCING_CAPITALS:
            continue
        # An abbreviation carries on the financing's sentence («… до регионов
        # и ОМСУ)», «… регулируемых федеральными НПА»).
        if first_word.strip("()«»,.;").isupper():
            continue
        if any(opener.startswith(so_far) and opener != so_far for opener in _FINANCING_OPENERS):
            continue
        return index
    return len(texts)


def _known_financing(
    texts: Sequence[str], financing: int, known: Sequence[str]
) -> tuple[int, int] | None:
    """Where a known financing cell that the text spells out whole ends, and its length in words.

    None if a longer known cell goes on further than any whole one (the text
    then breaks off it, cut by the page: «… федерального бюджета
    (предоставлена федеральная субсидия) и регионального бюджета»).
    """
    whole: tuple[int, int] | None = None
    furthest = 0
    for cell in known:
        words = key_words(cell)
        length = word_prefix_length(texts[financing:], words)
        if length and (whole is None or len(words) > whole[1]):
            end = financing + length
            # An abbreviation too short to compare («ГЧ» of «ГЧП») ends the cell too.
            while end < len(texts) and texts[end].isupper() and not key_words(texts[end]):
                end += 1
            whole = (end, len(words))
        furthest = max(furthest, _agreed_words(texts[financing:], words))
    if whole is None or furthest > whole[1]:
        return None
    return whole


def _agreed_words(texts: Sequence[str], words: Sequence[str]) -> int:
    """How many of ``words`` the leading units spell, in order."""
    agreed = 0
    for count in range(1, len(texts) + 1):
        joined = join_pieces(texts[:count])
        if joined.endswith("-"):
            continue
        seen = key_words(joined)
        if len(seen) > len(words) or not same_words(seen, words[: len(seen)]):
            break
        agreed = len(seen)
    return agreed


def _read(
    row: Row,
    names: dict[tuple[int, int], str],
    first: Cells,
    templates: Templates,
    references: References,
    widths: dict[str, int] | None,
) -> ProjectText:
    """A whole project: its first page's cells and their continuations."""
    cells = Cells(**{key: list(value) for key, value in vars(first).items()})
    notes: list[str] = []
    name7 = key_words(names[(row.sector, row.number)])
    goal_cut = widths is not None and _goal_reaches_page_end(first)
    for number, segment in enumerate(row.segments()[1:]):
        texts = [unit.text for unit in segment]
        page = segment[0].page
        position = _continue_name(cells, texts, 0, name7)
        position = _continue_marker(cells, texts, position)
        goal_end = _continue_goal(cells, texts, position, references, widths)
        if (goal_end > position or goal_cut) and widths is not None and number == 0:
            # Where the references stop (or never start) the widths may go on.
            by_width = _continue_goal_by_width(cells, texts, goal_end, widths)
            if by_width > goal_end:
                notes.append(f"the goal's rest on page {page} was told by the column's width")
            goal_end = by_width
        position = goal_end
        # A cut financing cell's rest is followed by the role's; the role is the
        # last cell, so what follows its rest is its own. Before either, the
        # page continues the description.
        for column, then in (("financing", "role"), ("role", "role")):
            rest = _template_rest(
                getattr(cells, column),
                getattr(templates, column),
                texts,
                position,
                last=column == "role",
            )
            if rest is not None:
                cells.description.extend(texts[position : rest[0]])
                getattr(cells, column).extend(texts[rest[0] : rest[1]])
                getattr(cells, then).extend(texts[rest[1] :])
                break
        else:
            cells.description.extend(texts[position:])
            if texts[position:]:
                notes.append(f"the text continued on page {page} is read as the description's")
    name = join_pieces(cells.name)
    return ProjectText(
        sector=row.sector,
        number=row.number,
        name=strip_marker(name),
        federal_recommended=has_marker(name),
        goal=join_pieces(cells.goal),
        timeline=join_pieces(cells.timeline),
        description=join_pieces(cells.description),
        financing=join_pieces(cells.financing),
        region_role=join_pieces(cells.role),
        pages=row.pages,
        milestones=milestones(join_pieces(cells.description)),
        notes=notes,
    )


def _continue_name(cells: Cells, texts: Sequence[str], position: int, name7: list[str]) -> int:
    """Take the rest of a cut name, as far as it agrees with section 7's."""
    seen = key_words(join_pieces(cells.name))
    if same_words(seen, name7) or not same_words(name7[: len(seen)], seen):
        return position
    end = position
    for index in range(position, len(texts)):
        joined = join_pieces(texts[position : index + 1])
        if joined.endswith("-"):
            continue
        grown = seen + key_words(joined)
        if not same_words(name7[: len(grown)], grown):
            break
        end = index + 1
        if same_words(grown, name7):
            break
    cells.name.extend(texts[position:end])
    return end


def _continue_marker(cells: Cells, texts: Sequence[str], position: int) -> int:
    """Take the rest of a «(рекомендовано ФОИВ)» the page break cut off the name."""
    index = position
    while index < len(texts) and _is_marker(texts[index]):
        cells.name.append(texts[index])
        index += 1
    return index


def _is_marker(text: str) -> bool:
    """Whether a text is (a piece of) «(рекомендовано ФОИВ)»."""
    found = key_words(text)
    return bool(found) and all(word in _RECOMMENDED for word in found)


def _continue_goal(
    cells: Cells,
    texts: Sequence[str],
    position: int,
    references: References,
    widths: dict[str, int] | None,
) -> int:
    """Take as much of the page as goes on repeating a known text of the goal."""
    head = key_words(join_pieces(cells.goal))
    end = position
    for index in range(position, len(texts)):
        if widths is not None and len(texts[index]) > widths["goal"] + _WIDTH_SLACK:
            break
        joined = join_pieces(texts[position : index + 1])
        if joined.endswith("-"):
            continue
        tail = key_words(joined)
        if not references.continues(head, tail):
            break
        # A unit with no words to compare («4» of a numbered list) joins the
        # goal only if the goal goes on after it.
        if len(tail) > len(key_words(join_pieces(texts[position:end]))):
            end = index + 1
    cells.goal.extend(texts[position:end])
    return end


def _continue_goal_by_width(
    cells: Cells, texts: Sequence[str], position: int, widths: dict[str, int]
) -> int:
    """Take the lines that fit the goal's column and wrap on from its last line.

    In the line layout every column has its own width. A line wider than the
    goal's column, or whose first word would have fitted on the line before
    (so that line did not wrap but ended the cell), belongs to the next
    column; so does one that opens like a cell (a capital, a dash, a
    financing phrase).
    """
    width = widths["goal"]
    end = position
    previous = cells.goal[-1] if cells.goal else ""
    for index in range(position, len(texts)):
        line = texts[index]
        first_word = line.split()[0] if line.split() else ""
        fits_before = len(previous) + 1 + len(first_word) <= width - _WRAP_SLACK
        if len(line) > width + _WIDTH_SLACK or fits_before or line.startswith("-"):
            break
        if line[:1].isupper() and first_word not in PROPER_OPENERS:
            break
        if any(line.startswith(opener.split()[0]) for opener in _FINANCING_OPENERS):
            break
        end = index + 1
        previous = line
    cells.goal.extend(texts[position:end])
    return end


def _template_rest(
    pieces: Sequence[str],
    templates: Sequence[str],
    texts: Sequence[str],
    position: int,
    last: bool = False,
) -> tuple[int, int] | None:
    """Where the rest of a cut cell stands on this page, if a whole one says how it goes on.

    The ``last`` cell of a row may go on past the template's end within a unit.
    """
    seen = key_words(join_pieces(pieces))
    if not seen:
        return None
    # The longest first: a template may itself be a cell cut by a page break.
    for template in sorted(templates, key=len, reverse=True):
        whole = key_words(template)
        if len(whole) <= len(seen) or not same_words(whole[: len(seen)], seen):
            continue
        rest = whole[len(seen) :]
        for start in range(position, len(texts)):
            length = word_prefix_length(texts[start:], rest, overshoot=last)
            if length:
                return start, start + length
    return None


def has_marker(name: str) -> bool:
    """Whether a name carries «(рекомендовано ФОИВ)»."""
    return "рекомендовано" in key_words(name)


def strip_marker(name: str) -> str:
    """A name without «(рекомендовано ФОИВ)» (or the flat text's «рекомендовано ФОИ»)."""
    stripped = re.sub(r"\(?\s*рекомендовано\s*(?:ФОИВ?)?\)?", " ", name)
    return " ".join(stripped.split())


def milestones(description: str) -> list[Milestone]:
    """The dated milestones of a description: «К концу 2024 года: …» up to the next one."""
    found: list[Milestone] = []
    matches = list(_MILESTONE.finditer(description))
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(description)
        # A numbered list may put the next item's number before the next date.
        title = re.sub(r"\s+\d{1,2}\.?$", "", description[match.end() : end].strip()).strip(" -;.:")
        if title:
            found.append(Milestone(int(match.group(1)), title))
    return found
