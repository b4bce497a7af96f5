"""Digest preview."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from common.authorization import role_required, scoped_region
from common.security import PrincipalDep, Role
from common.web import UnitOfWorkDep
from notifications.digests import service
from notifications.digests.schemas import DigestLinePublic, DigestPreview, DigestSectorPublic

router = APIRouter(prefix="/digests", tags=["digests"])


@router.get(
    "/preview",
    summary="What the next daily digests of a region would say",
    dependencies=[role_required(Role.coordinator)],
)
async def preview_digests(
    uow: UnitOfWorkDep,
    principal: PrincipalDep,
    request: Request,
    region: Annotated[str, Query(min_length=1, examples=["leningrad-oblast"])],
    recipient: Annotated[str | None, Query(description="Only this address")] = None,
) -> list[DigestPreview]:
    """Every recipient's next digest for the region, as if it were built now; nothing is sent.

    Coordinators preview their own region's digests; admins any region's.
    """
    region = scoped_region(principal, region) or region
    settings = request.app.state.settings
    previews = await service.preview(
        uow.session,
        request.app.state.policy,
        settings.digest_time_utc,
        region=region,
        recipient=recipient,
    )
    return [
        DigestPreview(
            recipient=target.recipient,
            coordinator_id=target.coordinator_id,
            region=content.region,
            region_name=content.region_name,
            day=content.day,
            window_start=window.start,
            window_end=window.end,
            subject=email.subject,
            new=content.new,
            still_open=content.still_open,
            resolved=content.resolved,
            deferred_items=len(target.deferred),
            sectors=[
                DigestSectorPublic(
                    number=sector.number,
                    name=sector.name,
                    lines=[
                        DigestLinePublic(
                            alert_id=line.alert.id,
                            status=line.status,
                            kind=line.alert.kind,
                            headline=line.headline,
                            title=line.alert.title,
                            period=line.alert.period,
                            facts=line.facts,
                            gap=line.gap,
                            gap_percent=line.alert.gap_percent,
                            department_name=line.alert.department_name,
                        )
                        for line in sector.lines
                    ],
                )
                for sector in content.sectors
            ],
            text=email.text,
        )
        for target, window, content, email in previews
    ]
