"""problem+json answers, retry policy and process tuning of the shared web and messaging layers."""

import gc

import asyncpg
import httpx
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError

from common.messaging.consumer import TransientError, is_transient
from common.messaging.kafka import backoff_seconds
from common.problems import Conflict, install_problem_handlers
from common.web import GC_YOUNG_THRESHOLD, tune_garbage_collection


class Body(BaseModel):
    name: str = Field(min_length=1)
    year: int


def app() -> FastAPI:
    application = FastAPI()
    install_problem_handlers(application)

    @application.post("/things")
    async def create(body: Body) -> Body:
        if body.name == "taken":
            raise Conflict("name already taken", allowed=["other"])
        if body.name == "boom":
            raise RuntimeError("secret internals")
        return body

    return application


async def post(json: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.post("/things", json=json)


async def test_validation_error_names_the_field():
    response = await post({"name": "", "year": "soon"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"name", "year"}


async def test_domain_problem_keeps_status_and_extensions():
    response = await post({"name": "taken", "year": 2023})
    assert response.status_code == 409
    body = response.json()
    assert body["detail"] == "name already taken" and body["allowed"] == ["other"]


async def test_unexpected_error_hides_internals():
    response = await post({"name": "boom", "year": 2023})
    assert response.status_code == 500
    assert "secret" not in response.text


def test_backoff_grows_and_is_capped():
    assert [backoff_seconds(n, cap=5) for n in range(1, 6)] == [0.5, 1, 2, 4, 5]


def test_transient_errors_are_told_apart_from_bad_messages():
    assert is_transient(TransientError("smtp down"))
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(ValueError("bad payload"))


def test_a_deadlock_or_serialization_failure_is_retried_not_dead_lettered():
    class AdaptedError(Exception):
        def __init__(self, sqlstate: str) -> None:
            self.sqlstate = sqlstate

    assert is_transient(DBAPIError("UPDATE alerts", {}, AdaptedError("40P01")))
    assert is_transient(DBAPIError("UPDATE alerts", {}, AdaptedError("40001")))
    assert is_transient(asyncpg.exceptions.DeadlockDetectedError("deadlock detected"))
    assert not is_transient(DBAPIError("INSERT", {}, AdaptedError("23505")))


def test_a_started_service_freezes_its_start_up_heap_and_collects_young_objects_less_often():
    tune_garbage_collection.cache_clear()
    tune_garbage_collection()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
