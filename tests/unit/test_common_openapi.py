"""The OpenAPI document lists every error a route can answer, as problem+json."""

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from common.openapi import install_problem_documentation
from common.problems import PROBLEM_JSON
from common.security import bearer_scheme


class Thing(BaseModel):
    name: str


def documented_app() -> FastAPI:
    router = APIRouter()

    @router.get("/api/v1/things/{thing_id}")
    async def get_thing(thing_id: int) -> Thing:
        return Thing(name=str(thing_id))

    @router.post(
        "/api/v1/things",
        status_code=201,
        responses={
            409: {
                "description": "Taken",
                "content": {"application/json": {"example": {"status": 409}}},
            }
        },
    )
    async def create_thing(thing: Thing) -> Thing:
        return thing

    # Anonymous: no bearer token, so neither 401 nor 403 is added for it.
    anonymous = APIRouter()

    @anonymous.post("/api/v1/auth/token")
    async def token(name: str) -> dict[str, str]:
        return {"access_token": name}

    @anonymous.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    app = FastAPI()
    app.include_router(router, dependencies=[Depends(bearer_scheme)])
    app.include_router(anonymous)
    install_problem_documentation(app)
    return app


def test_every_error_status_is_problem_json_with_the_problem_schema() -> None:
    document = documented_app().openapi()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert list(response["content"]) == [PROBLEM_JSON], (path, status)
                    schema = response["content"][PROBLEM_JSON]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Problem"}
    assert "Problem" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_standard_statuses_follow_what_the_route_takes() -> None:
    paths = documented_app().openapi()["paths"]
    read = paths["/api/v1/things/{thing_id}"]["get"]["responses"]
    write = paths["/api/v1/things"]["post"]["responses"]
    login = paths["/api/v1/auth/token"]["post"]["responses"]
    assert {"401", "403", "404", "422", "429"} <= set(read)
    assert "413" not in read and "400" not in read
    assert {"400", "401", "403", "409", "413", "415", "422", "429"} <= set(write)
    assert "404" not in write
    assert "401" not in login and "403" not in login
    assert {"400", "413", "415", "422", "429"} <= set(login)
    assert "Retry-After" in read["429"]["headers"]


def test_a_declared_example_survives_and_routes_outside_the_api_are_left_alone() -> None:
    paths = documented_app().openapi()["paths"]
    conflict = paths["/api/v1/things"]["post"]["responses"]["409"]
    assert conflict["description"] == "Taken"
    assert conflict["content"][PROBLEM_JSON]["example"] == {"status": 409}
    assert set(paths["/health"]["get"]["responses"]) == {"200"}
