"""From the two source texts to one curated dataset per region."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import card, indicators, links, projects, tables
from .indicators import DEPARTMENT_HEADS
from .layout import Layout, section_spans, section_units
from .numbers import NumberError, parse_number
from .overrides import Applied, apply, load
from .regions import REGIONS, Region
from .text import same_text, slugify

SCHEMA_VERSION = 1
DEFAULT_EMAIL_DOMAIN = "departments.example.ru"

# Indicators whose targets are maxima: the lower the better.
_LOWER_IS_BETTER = re.compile(r"не более|простоя|ожидания|погибш", re.IGNORECASE)
# How many words of a department's short name make its slug.
_SLUG_WORDS = 3


@dataclass
class Document:
    """A region's source text, read section by section."""

    region: Region
    text: str
    rows7: list[indicators.ProjectRow]
    departments: list[str]
    names: dict[tuple[int, int], str]
    sector_names: dict[int, str]
    rows6: list[tables.Row]
    firsts: dict[tuple[int, int], projects.Cells]


@dataclass
class Extraction:
    """A region's dataset and the overrides applied to it."""

    region: Region
    dataset: dict[str, Any]
    applied: list[Applied]


def read_document(region: Region, sources: Path, known_financing: list[str]) -> Document:
    """Read a region's text as far as sections 6 and 7 go on their own.

    ``known_financing`` are the financing cells of the documents read before.
    """
    text = (sources / region.source).read_text(encoding="utf-8")
    events = indicators.events_for(region.layout, section_units(text, region.layout, 7))
    departments = indicators.learn_departments(events, region.genitive)
    rows7 = indicators.parse_rows(events, departments)
    by_sector: dict[int, list[str]] = {}
    for row in rows7:
        by_sector.setdefault(row.sector, []).append(row.project)
    names = {
        (sector, number): name
        for sector, sector_names in by_sector.items()
        for number, name in enumerate(sector_names, start=1)
    }
    headings, rows6 = tables.split_rows(
        section_units(text, region.layout, 6), region.layout, by_sector
    )
    return Document(
        region=region,
        text=text,
        rows7=rows7,
        departments=departments,
        names=names,
        sector_names={heading.number: heading.name for heading in headings},
        rows6=rows6,
        firsts=projects.first_pages(rows6, names, known_financing),
    )


def extract(
    sources: Path, overrides: Path, email_domain: str = DEFAULT_EMAIL_DOMAIN
) -> list[Extraction]:
    """Build every region's dataset from the source texts and the reviewed overrides.

    The documents are read in turn, each with the financing cells of the ones
    read before it: the flat layout lost the brackets that show where such a
    cell ends, the line layout kept them.
    """
    documents: list[Document] = []
    alone: list[list[projects.ProjectText]] = []
    known_financing: list[str] = []
    for region in REGIONS:
        document = read_document(region, sources, known_financing)
        documents.append(document)
        alone.append(_describe(document, [document]))
        known_financing.extend(text.financing for text in alone[-1] if text.financing)
    extractions = []
    for document in documents:
        others = [other for other in documents if other is not document]
        # What the other strategies' projects came to, read on their own.
        finished = [
            text
            for other, texts in zip(documents, alone, strict=True)
            if other is not document
            for text in texts
        ]
        dataset = build(document, others, email_domain, finished)
        applied = apply(dataset, load(overrides / f"{document.region.slug}.yaml"))
        extractions.append(Extraction(document.region, dataset, applied))
    return extractions


def _describe(
    document: Document, documents: list[Document], finished: Sequence[projects.ProjectText] = ()
) -> list[projects.ProjectText]:
    """Section 6 of a document, read with what ``documents`` (it among them) print.

    ``finished`` are projects of other documents already read, whose cells
    show how cut ones go on.
    """
    others = [other for other in documents if other is not document]
    references = projects.References(
        [_section_text(document.text, number) for number in (2, 3, 4, 5)]
        + [_section_text(other.text, number) for other in others for number in (2, 3, 4, 5, 6)]
    )
    templates = projects.templates_from(*(each.firsts for each in documents))
    templates.financing.extend(text.financing for text in finished if text.financing)
    templates.role.extend(text.region_role for text in finished if text.region_role)
    described: list[projects.ProjectText] = []
    # Twice: a cell the first reading finished (from a first page's template)
    # may in turn show how another row's cut cell goes on.
    for _ in range(2):
        described = projects.read_projects(
            document.rows6,
            document.names,
            document.firsts,
            templates,
            references,
            by_lines=document.region.layout is Layout.LINES,
        )
        templates = projects.Templates(
            financing=templates.financing
            + [text.financing for text in described if text.financing],
            role=templates.role + [text.region_role for text in described if text.region_role],
        )
    return described


def build(
    document: Document,
    others: list[Document],
    email_domain: str,
    finished: Sequence[projects.ProjectText] = (),
) -> dict[str, Any]:
    """A region's dataset as it will be written (before overrides)."""
    region = document.region
    described = _describe(document, [document, *others], finished)
    linked = _links(document, [document, *others])
    departments = _departments(document, email_domain)
    department_ids = {department["name"]: department["id"] for department in departments}
    return {
        "schema_version": SCHEMA_VERSION,
        "region": {
            "slug": region.slug,
            "name": region.name,
            "period": {"start": region.period[0], "end": region.period[1]},
            "source": {
                "file": f"data/sources/{region.source}",
                "sha256": hashlib.sha256(document.text.encode("utf-8")).hexdigest(),
            },
        },
        "results": [
            _result(result)
            for result in card.results(section_units(document.text, region.layout, 2))
        ],
        "sectors": [
            {"number": number, "name": name}
            for number, name in sorted(document.sector_names.items())
        ],
        "departments": departments,
        "projects": [
            _project(text, linked[(text.sector, text.number)], document, department_ids)
            for text in described
        ],
        "indicators": [
            indicator
            for number, row in _numbered_rows(document)
            for indicator in _indicators(row, number, department_ids[row.department])
        ],
    }


def _section_text(text: str, number: int) -> str:
    start, end = section_spans(text)[number]
    return text[start:end]


def _links(
    document: Document, documents: list[Document]
) -> dict[tuple[int, int], links.ProjectLinks]:
    """Section 5 of a document (one of ``documents``), by (sector, number)."""
    region = document.region
    tasks = links.challenges(section_units(document.text, region.layout, 4), region.layout)
    # Both strategies draw their beneficiaries from the federal list of
    # categories; the flat one prints it in section 2.
    categories = [
        category
        for each in documents
        for category in links.beneficiary_categories(
            section_units(each.text, each.region.layout, 2)
        )
    ]
    units = section_units(document.text, region.layout, 5)
    by_sector: dict[int, list[str]] = {}
    for (sector, _), name in sorted(document.names.items()):
        by_sector.setdefault(sector, []).append(name)
    if region.layout is Layout.LINES:
        rows = tables.split_rows(units, region.layout, by_sector)[1]
    else:
        rows = links.split_flat_rows(units, by_sector, categories)
    found = links.read_links(rows, document.names, tasks, categories, region.layout)
    return {(link.sector, link.number): link for link in found}


def _numbered_rows(document: Document) -> list[tuple[int, indicators.ProjectRow]]:
    """Section 7's rows with their number within the sector (printed or counted)."""
    numbered = []
    counts: dict[int, int] = {}
    for row in document.rows7:
        counts[row.sector] = counts.get(row.sector, 0) + 1
        numbered.append((row.number or counts[row.sector], row))
    return numbered


def _departments(document: Document, email_domain: str) -> list[dict[str, Any]]:
    """Every responsible department of section 7, in order of first appearance."""
    region = document.region
    seen: list[str] = []
    for row in document.rows7:
        if row.department not in seen:
            seen.append(row.department)
    departments = []
    for name in seen:
        short = short_name(name, region.genitive)
        slug = department_slug(short)
        departments.append(
            {
                "id": slug,
                "name": name,
                "short_name": short,
                "email": f"{slug}@{region.slug}.{email_domain}",
            }
        )
    if len({department["id"] for department in departments}) != len(departments):
        raise ValueError(f"{region.slug}: two departments share a slug")
    return departments


def short_name(name: str, genitive: str) -> str:
    """A department's name without the region's: «Комитет по культуре и туризму»."""
    return " ".join(name.replace(genitive, " ").split())


def department_slug(short: str) -> str:
    """A stable ASCII slug of a department's short name: its first significant words."""
    words = [word for word in short.split() if word not in DEPARTMENT_HEADS]
    significant = [word for word in slugify(" ".join(words)).split("-") if len(word) > 2]
    return "-".join(significant[:_SLUG_WORDS])


def _result(result: card.Result) -> dict[str, Any]:
    return {
        "number": result.number,
        "text": result.text,
        "value": result.value,
        "bound": result.bound,
        "unit": result.unit,
        "direction": result.direction,
    }


def _project(
    text: projects.ProjectText,
    link: links.ProjectLinks,
    document: Document,
    department_ids: dict[str, str],
) -> dict[str, Any]:
    row7 = next(
        row
        for number, row in _numbered_rows(document)
        if (row.sector, number) == (text.sector, text.number)
    )
    notes = list(text.notes) + [f"section 5: {note}" for note in link.notes]
    name7 = projects.strip_marker(row7.project)
    record: dict[str, Any] = {
        "id": f"{text.sector}.{text.number}",
        "sector": text.sector,
        "number": text.number,
        "name": text.name,
    }
    if not same_text(name7, text.name):
        record["name_in_indicators"] = name7
    recommended7 = projects.has_marker(row7.project)
    if recommended7 != text.federal_recommended:
        notes.append(
            "section 7 "
            + ("marks" if recommended7 else "does not mark")
            + " the project «рекомендовано ФОИВ», section 6 "
            + ("does" if text.federal_recommended else "does not")
        )
    record.update(
        {
            "federal_recommended": text.federal_recommended,
            "department": department_ids[row7.department],
            "goal": text.goal,
            "timeline": text.timeline,
            "description": text.description,
            "financing": text.financing,
            "region_role": text.region_role,
            "tasks": link.tasks,
            "beneficiaries": link.beneficiaries,
            "benefits": link.benefits,
            "milestones": [
                {"year": milestone.year, "due": f"{milestone.year}-12-31", "title": milestone.title}
                for milestone in text.milestones
            ],
            "provenance": _provenance(
                {"section_5": link.pages, "section_6": text.pages, "section_7": [row7.page]}, notes
            ),
        }
    )
    return record


def _indicators(row: indicators.ProjectRow, number: int, department: str) -> list[dict[str, Any]]:
    found = []
    for index, indicator in enumerate(row.indicators, start=1):
        notes = []
        unit: str | None = indicator.unit
        if not unit and not any(indicator.targets):
            # Nothing of the row's cells survived, so the empty unit cell could as
            # well have been «раз» or a dash, which the flat text strips too.
            unit = None
            notes.append("the unit cell and every target were lost in the text; unit unknown")
        elif not unit:
            unit = "%"
            notes.append("the unit cell is empty in the text; read as its lost «%»")
        if indicator.continued:
            notes.append("the name continues on the next page")
        targets = []
        for year, printed in zip(indicators.YEARS, indicator.targets, strict=True):
            targets.append({"year": year, "printed": printed or None, "value": _value(printed)})
            if not printed:
                notes.append(f"the {year} target was lost in the text (a one-character cell)")
        found.append(
            {
                "id": f"{row.sector}.{number}.{index}",
                "project": f"{row.sector}.{number}",
                "department": department,
                "name": indicator.name,
                "unit": unit,
                "direction": _direction(indicator.name, [t["value"] for t in targets]),
                "targets": targets,
                "provenance": _provenance({"section_7": [indicator.page]}, notes),
            }
        )
    return found


def _value(printed: str) -> int | float | None:
    if not printed:
        return None
    try:
        return parse_number(printed)
    except NumberError:
        return None


def _direction(name: str, values: list[int | float | None]) -> str:
    """Lower is better for maxima: «не более», downtime, waiting, deaths; or falling targets."""
    known = [value for value in values if value is not None]
    falling = len(known) == len(values) and all(
        a > b for a, b in zip(known, known[1:], strict=False)
    )
    if _LOWER_IS_BETTER.search(name) or falling:
        return "lower_is_better"
    return "higher_is_better"


def _provenance(pages: dict[str, list[int | None]], notes: list[str]) -> dict[str, Any]:
    provenance: dict[str, Any] = {
        "pages": {key: [p for p in value if p is not None] for key, value in pages.items()}
    }
    if notes:
        provenance["notes"] = notes
    return provenance
