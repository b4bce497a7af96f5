"""Regions and sectors: creation, idempotent upserts by natural key, lookups."""

from sqlalchemy import select
from sqlmodel.ext.asyncio.session import AsyncSession

from common.db import UnitOfWork
from common.events import RegionSector, RegionUpserted
from common.logging import get_logger
from common.pagination import PageParams
from common.problems import Conflict, NotFound, Unprocessable
from projects.catalogue.models import Region, Sector
from projects.catalogue.schemas import RegionCreate, RegionWrite, SectorCreate, SectorWrite
from projects.persistence import Upserted, apply_changes, flush_or_conflict, paginate

log = get_logger(__name__)


async def get_region(session: AsyncSession, slug: str, *, lock: bool = False) -> Region:
    """The region with this slug, or 404."""
    region = await session.get(Region, slug, with_for_update=lock)
    if region is None:
        raise NotFound(f"Region {slug!r} does not exist")
    return region


async def require_region(session: AsyncSession, slug: str, *, field: str = "region") -> Region:
    """The region a request body names, or 422 naming the field."""
    region = await session.get(Region, slug)
    if region is None:
        raise Unprocessable(
            f"Unknown region {slug!r}",
            errors=[{"field": field, "message": f"unknown region {slug!r}"}],
        )
    return region


async def require_sector(
    session: AsyncSession, region: str, number: int, *, field: str = "sector_number"
) -> Sector:
    """The sector a request body names, or 422 naming the field."""
    sector = await session.get(Sector, (region, number))
    if sector is None:
        raise Unprocessable(
            f"Region {region!r} has no sector {number}",
            errors=[{"field": field, "message": f"region {region!r} has no sector {number}"}],
        )
    return sector


async def require_sectors(
    session: AsyncSession, region: str, numbers: list[int], *, field: str = "sector_numbers"
) -> None:
    """Check that every number names a sector of the region, or 422 naming the field."""
    if not numbers:
        return
    known = set(
        (
            await session.exec(
                select(Sector.number).where(Sector.region == region, Sector.number.in_(numbers))
            )
        ).scalars()
    )
    missing = sorted(set(numbers) - known)
    if missing:
        raise Unprocessable(
            f"Region {region!r} has no sectors {missing}",
            errors=[{"field": field, "message": f"unknown sector numbers {missing}"}],
        )


async def list_regions(
    session: AsyncSession, page: PageParams, only: str | None = None
) -> tuple[list[Region], int]:
    """Regions by slug (or just the region `only`), one page, with the total."""
    query = select(Region) if only is None else select(Region).where(Region.slug == only)
    return await paginate(session, query, page, Region.slug)


async def announce_region(uow: UnitOfWork, region: Region) -> None:
    """Stage region.upserted with the region and all its sectors, as they stand now."""
    sectors = await uow.session.exec(
        select(Sector).where(Sector.region == region.slug).order_by(Sector.number)
    )
    uow.publish(
        RegionUpserted(
            slug=region.slug,
            name=region.name,
            period_start=region.period_start,
            period_end=region.period_end,
            sectors=[RegionSector(number=s.number, name=s.name) for s in sectors.scalars()],
        )
    )


async def create_region(uow: UnitOfWork, data: RegionCreate) -> Region:
    """A new region, announced; 409 if the slug is taken."""
    session = uow.session
    if await session.get(Region, data.slug) is not None:
        raise Conflict(
            f"Region {data.slug!r} already exists",
            errors=[{"field": "slug", "message": "already exists"}],
        )
    region = Region(**data.model_dump())
    session.add(region)
    await flush_or_conflict(session, f"Region {data.slug!r} already exists", "slug")
    await announce_region(uow, region)
    log.info("region created", region=data.slug)
    return region


async def upsert_region(uow: UnitOfWork, slug: str, data: RegionWrite) -> Upserted[Region]:
    """Create the region or bring it to `data`, announcing a change; unchanged data is silent."""
    region = await uow.session.get(Region, slug, with_for_update=True)
    if region is None:
        region = await create_region(uow, RegionCreate(slug=slug, **data.model_dump()))
        return Upserted(region, created=True, changed=True)
    old_name = region.name
    changed = apply_changes(region, data.model_dump())
    if changed:
        await uow.session.flush()
        await announce_region(uow, region)
        log.info("region updated", region=slug)
    return Upserted(region, created=False, changed=changed, renamed=region.name != old_name)


async def get_sector(session: AsyncSession, region: str, number: int) -> Sector:
    """A sector of a region, or 404."""
    await get_region(session, region)
    sector = await session.get(Sector, (region, number))
    if sector is None:
        raise NotFound(f"Region {region!r} has no sector {number}")
    return sector


async def list_sectors(
    session: AsyncSession, region: str, page: PageParams
) -> tuple[list[Sector], int]:
    """A region's sectors by number, one page, with the total."""
    await get_region(session, region)
    return await paginate(
        session, select(Sector).where(Sector.region == region), page, Sector.number
    )


async def create_sector(uow: UnitOfWork, region: str, data: SectorCreate) -> Sector:
    """A new sector of a region, announced with its region; 409 if the number is taken."""
    session = uow.session
    # Sector writes of one region take turns, so each announcement lists every sector.
    parent = await get_region(session, region, lock=True)
    detail = f"Region {region!r} already has sector {data.number}"
    if await session.get(Sector, (region, data.number)) is not None:
        raise Conflict(detail, errors=[{"field": "number", "message": "already exists"}])
    sector = Sector(region=region, **data.model_dump())
    session.add(sector)
    await flush_or_conflict(session, detail, "number")
    await announce_region(uow, parent)
    log.info("sector created", region=region, sector=data.number)
    return sector


async def upsert_sector(
    uow: UnitOfWork, region: str, number: int, data: SectorWrite
) -> Upserted[Sector]:
    """Create the sector or rename it, announcing its region; unchanged data is silent."""
    parent = await get_region(uow.session, region, lock=True)
    sector = await uow.session.get(Sector, (region, number), with_for_update=True)
    if sector is None:
        sector = await create_sector(uow, region, SectorCreate(number=number, name=data.name))
        return Upserted(sector, created=True, changed=True)
    changed = apply_changes(sector, data.model_dump())
    if changed:
        await uow.session.flush()
        await announce_region(uow, parent)
        log.info("sector renamed", region=region, sector=number)
    return Upserted(sector, created=False, changed=changed, renamed=changed)
