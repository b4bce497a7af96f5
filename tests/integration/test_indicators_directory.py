"""The directory read model fed by real project and department events from a projects outbox."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from common.events import (
    INDICATORS_TOPIC,
    DepartmentUpserted,
    ProjectCreated,
    ProjectStageChanged,
    ProjectUpdated,
    Stage,
)
from tests.integration.indicators_fixtures import (
    clock_at,
    consumer_ready,
    indicator_body,
    indicators_service,
    projects_producer,
    started,
    wait_until,
)
from tests.support.infra import KAFKA_BOOTSTRAP_SERVERS
from tests.support.kafka import EventTap, of_type

pytestmark = pytest.mark.integration


def department(name: str) -> DepartmentUpserted:
    return DepartmentUpserted(
        department_id=uuid4(),
        region="leningrad-oblast",
        full_name=f"Комитет {name} {uuid4().hex[:6]}",
        short_name=name,
        emails=[f"{uuid4().hex[:6]}@example.ru"],
    )


def project(department_id, **fields) -> dict:
    return {
        "project_id": uuid4(),
        "region": "leningrad-oblast",
        "region_name": "Ленинградская область",
        "sector_number": 3,
        "sector_name": "Здравоохранение",
        "number": 2,
        "name": f"Электронная медицинская карта {uuid4().hex[:6]}",
        "federal_recommended": True,
        "responsible_department_id": department_id,
        "stage": Stage.launched,
        **fields,
    }


async def test_indicators_follow_their_project_as_its_events_arrive(database_factory):
    url = await database_factory("indicators")
    projects_db = await database_factory("projects")
    health, digital = department("КЗ"), department("КЦР")
    snapshot = project(health.department_id)
    project_id = str(snapshot["project_id"])
    async with (
        EventTap(INDICATORS_TOPIC, bootstrap_servers=KAFKA_BOOTSTRAP_SERVERS) as tap,
        started(indicators_service(url, clock_at(2023, 3, 1))) as svc,
        svc.client() as client,
        projects_producer(projects_db) as producer,
    ):
        await consumer_ready(svc)
        early = await client.post("/api/v1/indicators", json=indicator_body(project_id=project_id))
        assert early.status_code == 201
        early = early.json()
        assert early["project_known"] is False and early["responsible_department_id"] is None

        await producer.publish(health, digital, ProjectCreated(**snapshot))
        [filled] = await tap.wait_for(of_type("indicator.updated", early["id"]))
        assert filled.envelope.data.responsible_department_id == health.department_id
        assert filled.envelope.data.sector_number == 3
        known = (await client.get(f"/api/v1/indicators/{early['id']}")).json()
        assert known["project_known"] is True and known["sector_number"] == 3

        late = await client.post(
            "/api/v1/indicators", json=indicator_body(project_id=project_id, region=None)
        )
        assert late.status_code == 201
        assert late.json()["responsible_department_id"] == str(health.department_id)

        async def departments_known() -> bool:
            listed = await client.get("/api/v1/directory/departments", params={"limit": 200})
            ids = {d["department_id"] for d in listed.json()["items"]}
            return {str(health.department_id), str(digital.department_id)} <= ids

        await wait_until(departments_known)
        by_department = (
            await client.get("/api/v1/summary", params={"group_by": "department"})
        ).json()
        [group] = by_department["groups"]
        assert (group["key"], group["name"]) == (str(health.department_id), "КЗ")
        assert group["counts"]["no_data"] == 2

        # The same snapshot again changes nothing; a new department moves both indicators.
        await producer.publish(ProjectUpdated(**snapshot))
        await producer.publish(
            ProjectStageChanged(
                project_id=snapshot["project_id"],
                region="leningrad-oblast",
                responsible_department_id=digital.department_id,
                from_stage=Stage.launched,
                to_stage=Stage.in_progress,
                changed_at=datetime(2023, 3, 1, tzinfo=UTC),
                changed_by="coordinator",
            )
        )
        await tap.wait_for(of_type("indicator.updated", early["id"]), count=2)
        await tap.wait_for(of_type("indicator.updated", late.json()["id"]))
        await tap.settle()
        by_department = (
            await client.get(
                "/api/v1/indicators", params={"department_id": str(digital.department_id)}
            )
        ).json()
        projects = (await client.get("/api/v1/directory/projects")).json()

    updates = tap.matching(of_type("indicator.updated", early["id"]))
    assert [u.envelope.data.responsible_department_id for u in updates] == [
        health.department_id,
        digital.department_id,
    ]
    assert len(tap.matching(of_type("indicator.updated", late.json()["id"]))) == 1
    assert by_department["total"] == 2
    [stored] = [p for p in projects["items"] if p["project_id"] == project_id]
    assert stored["stage"] == "in_progress"
    assert stored["responsible_department_id"] == str(digital.department_id)
