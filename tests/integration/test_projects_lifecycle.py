"""Every lifecycle rule of projects through the running service, with history and events."""

from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from common.events import ProjectStageChanged, Stage
from tests.integration.projects_fixtures import (  # noqa: F401 (fixtures)
    API,
    about,
    assert_problem,
    ok,
    outbox_size,
    projects_fixture,
    seed_department,
    seed_project,
    seed_region,
    tap_fixture,
)
from tests.support.auth import ADMIN
from tests.support.kafka import of_type

pytestmark = pytest.mark.integration

# How a fresh project gets to each stage (suspended: while launched).
PATHS = {
    "planned": [],
    "launched": ["launched"],
    "in_progress": ["launched", "in_progress"],
    "completed": ["launched", "in_progress", "completed"],
    "suspended": ["launched", "suspended"],
    "cancelled": ["cancelled"],
}
# The rules as the issue states them, written out independently of the implementation.
ALLOWED = {
    "planned": ["launched", "suspended", "cancelled"],
    "launched": ["in_progress", "suspended", "cancelled"],
    "in_progress": ["completed", "suspended", "cancelled"],
    "completed": [],
    "suspended": ["launched", "cancelled"],
    "cancelled": [],
}


async def move(client, project_id: str, to_stage: str, comment: str | None = None):
    """POST a transition."""
    body = {"to_stage": to_stage} | ({"comment": comment} if comment else {})
    return await client.post(f"{API}/projects/{project_id}/transitions", json=body)


async def test_every_transition_is_allowed_or_refused_with_the_allowed_ones(projects):
    client = projects.client
    slug = await seed_region(client)
    numbers = iter(range(1, 1000))  # random numbers would collide across 36 projects
    for from_stage, path in PATHS.items():
        for to_stage in PATHS:
            project = await seed_project(client, slug, number=next(numbers))
            for step in path:
                ok(await move(client, project["id"], step), 201)
            history = ok(await client.get(f"{API}/projects/{project['id']}/history"))
            response = await move(client, project["id"], to_stage)
            after = ok(await client.get(f"{API}/projects/{project['id']}"))
            case = f"{from_stage} → {to_stage}"
            if to_stage in ALLOWED[from_stage]:
                assert response.status_code == 201, case
                assert after["stage"] == to_stage, case
            else:
                assert response.status_code == 409, case
                problem = response.json()
                assert problem["current_stage"] == from_stage, case
                assert problem["allowed_transitions"] == ALLOWED[from_stage], case
                assert problem["errors"] == [
                    {"field": "to_stage", "message": "not allowed from the current stage"}
                ]
                assert after["stage"] == from_stage, case
                assert ok(await client.get(f"{API}/projects/{project['id']}/history")) == history


@pytest.mark.parametrize("paused_in", ["planned", "launched", "in_progress"])
async def test_a_suspended_project_resumes_only_to_the_stage_it_was_in(projects, paused_in):
    client = projects.client
    slug = await seed_region(client)
    project = await seed_project(client, slug)
    for step in [*PATHS[paused_in], "suspended"]:
        ok(await move(client, project["id"], step), 201)
    suspended = ok(await client.get(f"{API}/projects/{project['id']}"))
    assert suspended["suspended_from"] == paused_in
    assert suspended["allowed_transitions"] == [paused_in, "cancelled"]
    for elsewhere in {"planned", "launched", "in_progress", "completed"} - {paused_in}:
        refused = await move(client, project["id"], elsewhere)
        assert refused.status_code == 409
        assert refused.json()["allowed_transitions"] == [paused_in, "cancelled"]
    ok(await move(client, project["id"], paused_in), 201)
    resumed = ok(await client.get(f"{API}/projects/{project['id']}"))
    assert (resumed["stage"], resumed["suspended_from"]) == (paused_in, None)


async def test_transitions_are_kept_in_history_and_announced_in_order(projects, tap):
    client = projects.client
    slug = await seed_region(client)
    department = await seed_department(client, slug)
    project = await seed_project(client, slug, responsible_department_id=department["id"])
    steps = [
        ("launched", "Контракт заключён"),
        ("suspended", "Нет финансирования"),
        ("launched", None),
        ("in_progress", "Идут работы"),
        ("completed", "Акт приёмки"),
    ]
    moments = []
    for to_stage, comment in steps:
        projects.clock.advance(timedelta(days=30))
        moments.append(projects.clock.now())
        ok(await move(client, project["id"], to_stage, comment), 201)
    staged = await outbox_size(projects.database_url)
    assert (await move(client, project["id"], "cancelled")).status_code == 409
    assert await outbox_size(projects.database_url) == staged

    history = ok(await client.get(f"{API}/projects/{project['id']}/history"))
    assert history["total"] == len(steps)
    froms = ["planned"] + [to for to, _ in steps[:-1]]
    assert [
        (h["from_stage"], h["to_stage"], h["comment"], h["changed_by"]) for h in history["items"]
    ] == [(f, to, comment, ADMIN.subject) for f, (to, comment) in zip(froms, steps, strict=True)]
    assert [h["changed_at"] for h in history["items"]] == [
        m.isoformat().replace("+00:00", "Z") for m in moments
    ]
    paged = ok(await client.get(f"{API}/projects/{project['id']}/history", params={"offset": 3}))
    assert paged["items"] == history["items"][3:]

    changes = await tap.wait_for(
        of_type("project.stage_changed", subject=project["id"]), count=len(steps)
    )
    await tap.settle()
    assert len(tap.matching(of_type("project.stage_changed", subject=project["id"]))) == len(steps)
    assert all(seen.key.decode() == project["id"] for seen in changes)
    assert [seen.envelope.data for seen in changes] == [
        ProjectStageChanged(
            project_id=UUID(project["id"]),
            region=slug,
            responsible_department_id=UUID(department["id"]),
            from_stage=Stage(f),
            to_stage=Stage(to),
            changed_at=moment,
            changed_by=ADMIN.subject,
            comment=comment,
        )
        for f, (to, comment), moment in zip(froms, steps, moments, strict=True)
    ]
    # The creation and the transitions, nothing else: a transition is not a catalogue update.
    assert len(tap.matching(about(project["id"]))) == 1 + len(steps)


async def test_transition_input_is_checked(projects):
    client = projects.client
    slug = await seed_region(client)
    project = await seed_project(client, slug)
    assert_problem(await move(client, project["id"], "paused"), 422, {"to_stage"})
    assert_problem(await move(client, project["id"], "launched", "Я" * 2001), 422, {"comment"})
    assert (await move(client, str(uuid4()), "launched")).status_code == 404
    assert (await client.get(f"{API}/projects/{uuid4()}/history")).status_code == 404
    assert ok(await client.get(f"{API}/projects/{project['id']}"))["stage"] == "planned"
