"""The shared role and scope rules every service applies."""

from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from common.authorization import (
    ensure_visible,
    may_write_for_department,
    refuse_server_owned_fields,
    region_scope,
    require_admin,
    require_role,
    role_required,
    scoped_region,
    scoped_sector,
)
from common.problems import Forbidden, NotFound, Unprocessable, install_problem_handlers
from common.security import Principal, Role, current_principal

ADMIN = Principal(subject="admin", role=Role.admin)
DEPARTMENT_ID = uuid4()
DEPARTMENT = Principal(
    subject="dept", role=Role.department, region="leningrad-oblast", department_id=DEPARTMENT_ID
)
COORDINATOR = Principal(subject="coord", role=Role.coordinator, region="leningrad-oblast")
SECTOR_COORDINATOR = Principal(
    subject="coord-2", role=Role.coordinator, region="leningrad-oblast", sector_numbers=[2, 5]
)
REGIONLESS = Principal(subject="broken", role=Role.coordinator)


def test_admin_passes_every_role_check():
    require_role(ADMIN, Role.coordinator)
    require_admin(ADMIN)


def test_other_roles_are_refused_with_403_naming_the_roles():
    with pytest.raises(Forbidden) as refused:
        require_role(DEPARTMENT, Role.coordinator)
    assert "admin, coordinator" in refused.value.detail
    with pytest.raises(Forbidden):
        require_admin(COORDINATOR)
    require_role(COORDINATOR, Role.coordinator)


def test_admin_lists_whatever_region_it_asks_for():
    assert scoped_region(ADMIN, None) is None
    assert scoped_region(ADMIN, "moscow") == "moscow"


def test_a_coordinators_lists_are_narrowed_to_its_region():
    assert scoped_region(COORDINATOR, None) == "leningrad-oblast"
    assert scoped_region(COORDINATOR, "leningrad-oblast") == "leningrad-oblast"


def test_asking_for_another_region_is_403_naming_the_filter():
    with pytest.raises(Forbidden) as refused:
        scoped_region(DEPARTMENT, "moscow")
    assert refused.value.extensions == {"field": "region"}


def test_a_principal_without_its_region_sees_no_region():
    region = scoped_region(REGIONLESS, None)
    assert region is not None and not region_scope(REGIONLESS).covers("leningrad-oblast")


def test_sectors_narrow_a_coordinator_but_not_a_department():
    assert scoped_sector(SECTOR_COORDINATOR, None) == [2, 5]
    assert scoped_sector(SECTOR_COORDINATOR, 5) == [5]
    with pytest.raises(Forbidden):
        scoped_sector(SECTOR_COORDINATOR, 3)
    assert scoped_sector(COORDINATOR, None) is None
    assert scoped_sector(DEPARTMENT.model_copy(update={"sector_numbers": [1]}), None) is None


def test_objects_outside_the_scope_are_not_found():
    ensure_visible(COORDINATOR, "leningrad-oblast", 7, what="indicator")
    ensure_visible(SECTOR_COORDINATOR, "leningrad-oblast", None, what="project")
    ensure_visible(ADMIN, "moscow", what="indicator")
    with pytest.raises(NotFound):
        ensure_visible(COORDINATOR, "moscow", what="indicator")
    with pytest.raises(NotFound):
        ensure_visible(SECTOR_COORDINATOR, "leningrad-oblast", 3, what="indicator")


def test_only_the_responsible_department_or_an_admin_writes_its_data():
    assert may_write_for_department(ADMIN, uuid4())
    assert may_write_for_department(DEPARTMENT, DEPARTMENT_ID)
    assert not may_write_for_department(DEPARTMENT, uuid4())
    assert not may_write_for_department(DEPARTMENT, None)
    assert not may_write_for_department(COORDINATOR, DEPARTMENT_ID)


def test_server_owned_fields_sent_by_a_non_admin_are_named():
    refuse_server_owned_fields(ADMIN, {"reported_by"}, {"reported_by"})
    refuse_server_owned_fields(DEPARTMENT, {"value", "period"}, {"reported_by"})
    with pytest.raises(Unprocessable) as refused:
        refuse_server_owned_fields(DEPARTMENT, {"value", "reported_by"}, {"reported_by"})
    assert refused.value.extensions["errors"] == [
        {"field": "reported_by", "message": "set from your credentials, not the request"}
    ]


class Reading(BaseModel):
    value: int


def guarded_app(caller: Principal) -> FastAPI:
    """A route for departments, called by `caller`."""
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/readings/{reading_id}", dependencies=[role_required(Role.department)])
    async def record(reading_id: int, reading: Reading) -> dict[str, int]:
        return {"id": reading_id, "value": reading.value}

    app.dependency_overrides[current_principal] = lambda: caller
    return app


async def post_reading(caller: Principal, path: str, body: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=guarded_app(caller))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post(path, json=body)


@pytest.mark.parametrize(
    ("path", "body"),
    [("/readings/1", {"value": "много"}), ("/readings/x", {}), ("/readings/1", [1, 2])],
)
async def test_role_required_refuses_before_the_input_is_validated(path, body) -> None:
    refused = await post_reading(COORDINATOR, path, body)
    invalid = await post_reading(DEPARTMENT, path, body)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "errors" not in refused.json()
    assert invalid.status_code == 422 and invalid.json()["errors"]


async def test_role_required_lets_the_role_and_admins_through() -> None:
    for caller in (DEPARTMENT, ADMIN):
        response = await post_reading(caller, "/readings/7", {"value": 3})
        assert response.status_code == 200 and response.json() == {"id": 7, "value": 3}
