"""The two strategy documents and how each is laid out."""

from __future__ import annotations

from dataclasses import dataclass

from .layout import Layout


@dataclass(frozen=True)
class Region:
    """A region's strategy document and what the extraction needs to know about it."""

    slug: str
    name: str
    genitive: str  # how department names end: «… Ленинградской области»
    source: str  # file name under data/sources/
    layout: Layout
    period: tuple[int, int] = (2022, 2024)


LENINGRAD = Region(
    slug="leningrad-oblast",
    name="Ленинградская область",
    genitive="Ленинградской области",
    source="000_183b9c6fafed5155.txt",
    layout=Layout.LINES,
)
NENETS = Region(
    slug="nenets-ao",
    name="Ненецкий автономный округ",
    genitive="Ненецкого автономного округа",
    source="003_d72a3ffb3a16c57b.txt",
    layout=Layout.FLAT,
)
REGIONS = (LENINGRAD, NENETS)
