"""HTTP API of regions and their sectors."""

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from common.authorization import ADMIN_ONLY, ensure_visible, scoped_region
from common.pagination import Page, PageDep
from common.security import PrincipalDep
from common.web import UnitOfWorkDep
from projects.catalogue import service
from projects.catalogue.schemas import (
    RegionCreate,
    RegionPublic,
    RegionWrite,
    SectorCreate,
    SectorPublic,
    SectorWrite,
)
from projects.portfolio.service import announce_projects
from projects.responses import CONFLICT, INVALID, NOT_FOUND, page_of, upsert_status
from projects.validation import SLUG_PATTERN

router = APIRouter(tags=["catalogue"])

SlugPath = Annotated[
    str, Path(pattern=SLUG_PATTERN, min_length=2, max_length=64, examples=["leningrad-oblast"])
]
SectorNumberPath = Annotated[int, Path(ge=1, le=10_000, examples=[1])]


@router.get("/regions", summary="List regions", response_model=Page[RegionPublic])
async def list_regions(
    uow: UnitOfWorkDep, principal: PrincipalDep, page: PageDep
) -> Page[RegionPublic]:
    """Every region by slug (a coordinator's or department's own region only)."""
    rows, total = await service.list_regions(uow.session, page, scoped_region(principal, None))
    return page_of(rows, total, page, RegionPublic.model_validate)


@router.post(
    "/regions",
    summary="Create a region",
    status_code=status.HTTP_201_CREATED,
    responses={**CONFLICT, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def create_region(data: RegionCreate, uow: UnitOfWorkDep) -> RegionPublic:
    """A new region; 409 when the slug is taken."""
    region = await service.create_region(uow, data)
    uow.audit_object(region.slug)
    await uow.commit()
    return RegionPublic.model_validate(region)


@router.get("/regions/{slug}", summary="Get a region", responses=NOT_FOUND)
async def get_region(slug: SlugPath, uow: UnitOfWorkDep, principal: PrincipalDep) -> RegionPublic:
    """One region."""
    ensure_visible(principal, slug, what=f"Region {slug!r}")
    return RegionPublic.model_validate(await service.get_region(uow.session, slug))


@router.put(
    "/regions/{slug}",
    summary="Create or update a region",
    responses={201: {"description": "Created"}, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def upsert_region(
    slug: SlugPath,
    data: RegionWrite,
    response: Response,
    uow: UnitOfWorkDep,
) -> RegionPublic:
    """Idempotent: 201 when created, 200 otherwise; a rename re-announces the region's projects."""
    result = await service.upsert_region(uow, slug, data)
    if result.renamed:
        await announce_projects(uow, slug)
    await uow.commit()
    upsert_status(response, result.created)
    return RegionPublic.model_validate(result.row)


@router.get(
    "/regions/{slug}/sectors",
    summary="List the sectors of a region",
    response_model=Page[SectorPublic],
    responses=NOT_FOUND,
)
async def list_sectors(
    slug: SlugPath, uow: UnitOfWorkDep, principal: PrincipalDep, page: PageDep
) -> Page[SectorPublic]:
    """A region's sectors by number."""
    ensure_visible(principal, slug, what=f"Region {slug!r}")
    rows, total = await service.list_sectors(uow.session, slug, page)
    return page_of(rows, total, page, SectorPublic.model_validate)


@router.post(
    "/regions/{slug}/sectors",
    summary="Create a sector",
    status_code=status.HTTP_201_CREATED,
    responses={**NOT_FOUND, **CONFLICT, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def create_sector(slug: SlugPath, data: SectorCreate, uow: UnitOfWorkDep) -> SectorPublic:
    """A new sector; 409 when the region already has that number."""
    sector = await service.create_sector(uow, slug, data)
    uow.audit_object(sector.number)
    await uow.commit()
    return SectorPublic.model_validate(sector)


@router.get("/regions/{slug}/sectors/{number}", summary="Get a sector", responses=NOT_FOUND)
async def get_sector(
    slug: SlugPath, number: SectorNumberPath, uow: UnitOfWorkDep, principal: PrincipalDep
) -> SectorPublic:
    """One sector of a region."""
    ensure_visible(principal, slug, what=f"Region {slug!r}")
    return SectorPublic.model_validate(await service.get_sector(uow.session, slug, number))


@router.put(
    "/regions/{slug}/sectors/{number}",
    summary="Create or rename a sector",
    responses={201: {"description": "Created"}, **NOT_FOUND, **INVALID},
    dependencies=[ADMIN_ONLY],
)
async def upsert_sector(
    slug: SlugPath,
    number: SectorNumberPath,
    data: SectorWrite,
    response: Response,
    uow: UnitOfWorkDep,
) -> SectorPublic:
    """Idempotent: 201 when created, 200 otherwise; a rename re-announces the sector's projects."""
    result = await service.upsert_sector(uow, slug, number, data)
    if result.renamed:
        await announce_projects(uow, slug, number)
    await uow.commit()
    upsert_status(response, result.created)
    return SectorPublic.model_validate(result.row)
