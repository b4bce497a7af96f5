"""Issue 5 end to end: the three services in-process, real Kafka, real PostgreSQL and the real
SMTP sink, driven only through the public HTTP APIs; what reaches the inboxes is asserted."""

import asyncio
from datetime import timedelta

import pytest

from common.messaging.models import OutboxMessage
from tests.e2e.pipeline_fixtures import (
    API,
    INDICATOR_NAME,
    REGION_NAME,
    SETTLE_SECONDS,
    create_indicator,
    indicators_know_project,
    ok,
    pipeline,
    seed_strategy,
    subjects,
)
from tests.integration.notifications_fixtures import eventually, header, known_to, redeliver

pytestmark = pytest.mark.e2e


async def test_a_missed_target_is_told_once_per_recipient_and_its_resolution_once(
    database_factory,
):
    async with pipeline(database_factory) as services:
        mailbox = services.mailbox
        async with (
            services.projects.client() as projects,
            services.indicators.client() as indicators,
        ):
            strategy = await seed_strategy(projects)
            await indicators_know_project(indicators, strategy)
            await create_indicator(indicators, strategy)
            # No API lists the notifications read models of projects and indicators.
            await known_to(services.notifications, strategy)
            recipients = (strategy.department_email, strategy.coordinator_email)
            measurements = f"{API}/indicators/{strategy.indicator_id}/measurements"

            # 1. A full-year value under the year's target: one email to each recipient.
            below = {"period": "2023", "value": 41, "reported_by": "КЦР ЛО"}
            ok(await indicators.post(measurements, json=below), 201)
            opened = {r: await mailbox.wait_for(r, 1) for r in recipients}
            await asyncio.sleep(SETTLE_SECONDS)
            for recipient in recipients:
                assert subjects(await mailbox.messages_to(recipient)) == [
                    f"[{REGION_NAME}] Показатель отстаёт от плана: {INDICATOR_NAME} — 2023: "
                    "факт 41 %, план 50 %"
                ]
            [department_opening] = opened[strategy.department_email]
            assert "Проект: Цифровая школа" in department_opening["Text"]
            assert "Ответственный орган: КЦР ЛО" in department_opening["Text"]

            # 2. The same value again, every record about the indicator redelivered byte for byte,
            # then a restart of the notifications service: nothing more.
            ok(await indicators.post(measurements, json=below), 201)
            redelivered = await redeliver(
                services.indicators.app.state.sessions,
                OutboxMessage.key == str(strategy.indicator_id),
            )
            await services.restart_notifications()
            await asyncio.sleep(SETTLE_SECONDS)
            assert redelivered >= 4  # created, value recorded, behind, target missed …
            for recipient in recipients:
                assert len(await mailbox.messages_to(recipient)) == 1

            # 3. Back on target: one resolution notice per recipient, in the same thread.
            on_target = {"period": "2023", "value": 52, "reported_by": "КЦР ЛО"}
            ok(await indicators.post(measurements, json=on_target), 201)
            for recipient in recipients:
                await mailbox.wait_for(recipient, 2)
            await asyncio.sleep(SETTLE_SECONDS)
            for recipient in recipients:
                first, resolution = await mailbox.messages_to(recipient)
                assert resolution["Subject"] == (
                    f"[{REGION_NAME}] Показатель вернулся к плану: {INDICATOR_NAME} — 2023: "
                    "факт 52 %, план 50 %"
                )
                assert header(resolution, "References") == header(first, "Message-Id")


async def test_milestones_reached_and_overdue_reach_the_department(database_factory):
    async with pipeline(database_factory) as services:
        mailbox = services.mailbox
        async with services.projects.client() as projects:
            strategy = await seed_strategy(projects)
            milestones = f"{API}/projects/{strategy.project_id}/milestones"
            late = ok(
                await projects.post(
                    milestones,
                    json={"title": "Подключение 120 школ к ЕСПД", "due_date": "2024-06-30"},
                ),
                201,
            )
            on_time = ok(
                await projects.post(
                    milestones, json={"title": "Закупка оборудования", "due_date": "2024-06-20"}
                ),
                201,
            )
            ok(await projects.post(f"{API}/milestones/{on_time['id']}/reach", json={}))
            department = strategy.department_email
            [reached] = await mailbox.wait_for(department, 1)
            assert reached["Subject"] == (
                f"[{REGION_NAME}] Этап проекта выполнен: Закупка оборудования — срок 20.06.2024"
            )

            services.projects_clock.advance(timedelta(days=31))

            async def missed() -> bool:
                found = ok(await projects.get(f"{API}/milestones/{late['id']}"))
                return found["status"] == "missed"

            await eventually(missed, "the projects service to mark the milestone missed")
            messages = await mailbox.wait_for(department, 2)
            await asyncio.sleep(SETTLE_SECONDS)
            messages = await mailbox.messages_to(department)
            assert subjects(messages)[1:] == [
                f"[{REGION_NAME}] Просрочен этап проекта: Подключение 120 школ к ЕСПД — "
                "срок 30.06.2024"
            ]
            assert "Проект: Цифровая школа" in messages[1]["Text"]
