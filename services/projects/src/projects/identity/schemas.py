"""Request and response shapes of users, API keys and access tokens."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.security import Role
from projects.departments.schemas import SectorNumbers
from projects.validation import Email, Name, Slug

Password = Annotated[
    str,
    StringConstraints(min_length=12, max_length=256),
    Field(description="At least 12 characters", examples=["correct-horse-battery"]),
]

USER_EXAMPLE = {
    "email": "kcr@lenreg.ru",
    "name": "Петров Иван Сергеевич",
    "password": "correct-horse-battery",
    "role": "department",
    "department_id": "0b7c4a3e-8f51-4a8e-9d53-2f1b0c6f1a11",
}
COORDINATOR_USER_EXAMPLE = {
    "email": "digital@lenreg.ru",
    "name": "Иванова Мария Петровна",
    "password": "correct-horse-battery",
    "role": "coordinator",
    "region": "leningrad-oblast",
    "coordinator_id": "0b9c1c52-5c1f-4d0a-9a43-6f7f2b1e9a10",
}
API_KEY_EXAMPLE = {
    "name": "Учётная система КЦР ЛО",
    "role": "department",
    "department_id": "0b7c4a3e-8f51-4a8e-9d53-2f1b0c6f1a11",
}


class Scope(BaseModel):
    """Role and scope: a coordinator names a region (and maybe sectors), a department its id."""

    role: Role
    region: Slug | None = Field(
        None, description="A coordinator's region; a department's is taken from the catalogue"
    )
    department_id: UUID | None = Field(None, description="The department a department acts for")
    sector_numbers: SectorNumbers = []


def coordinator_link_field(note: str = "") -> Any:
    """The `coordinator_id` of a user: the coordinator record a coordinator's login is."""
    return Field(
        None,
        description=(
            "Coordinator users only: the coordinator record (GET /coordinators) this login is, "
            "of the user's region. Its tokens then carry a `coordinator_id` claim and it manages "
            "only that coordinator's subscriptions; without it the login is a shared desk acting "
            "for every coordinator of the region." + note
        ),
        examples=["0b9c1c52-5c1f-4d0a-9a43-6f7f2b1e9a10"],
    )


class UserCreate(Scope):
    """A new user; the email is the login."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [USER_EXAMPLE, COORDINATOR_USER_EXAMPLE]},
    )

    email: Email
    name: Name
    password: Password
    active: bool = True
    coordinator_id: UUID | None = coordinator_link_field()


class UserUpdate(BaseModel):
    """The fields PATCH /users/{id} may change; role and scope are checked together."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})

    name: Name | None = None
    password: Password | None = None
    role: Role | None = None
    region: Slug | None = None
    department_id: UUID | None = None
    sector_numbers: SectorNumbers | None = None
    active: bool | None = None
    coordinator_id: UUID | None = coordinator_link_field(
        " An explicit null removes the link; a change of region must name a coordinator of the "
        "new region or null."
    )


class UserPublic(BaseModel):
    """A user as the API shows it: never the password or its hash."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    subject: str = Field(description="The `sub` of the user's access tokens")
    email: str
    name: str
    role: Role
    region: str | None
    department_id: UUID | None
    sector_numbers: list[int]
    coordinator_id: UUID | None = coordinator_link_field()
    active: bool
    created_at: datetime
    updated_at: datetime


class ApiKeyCreate(Scope):
    """A new API key for a machine client, acting with the given role and scope."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [API_KEY_EXAMPLE]})

    name: Name


class ApiKeyPublic(BaseModel):
    """An API key as listed: its prefix identifies it, the secret is never shown again."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID = Field(description="The `client_id` of the client-credentials grant")
    subject: str = Field(description="The `sub` of the key's access tokens")
    name: str
    prefix: str
    role: Role
    region: str | None
    department_id: UUID | None
    sector_numbers: list[int]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyIssued(ApiKeyPublic):
    """A new API key with its secret, shown only in this answer."""

    secret: str = Field(description="The `client_secret`; only a hash of it is stored")


class AccessToken(BaseModel):
    """An OAuth2 token response (RFC 6749 §5.1)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"access_token": "eyJhbGciOiJFZERTQSIs…", "token_type": "bearer", "expires_in": 900}
            ]
        }
    )

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class Jwks(BaseModel):
    """A JSON Web Key Set with the public key that verifies access tokens."""

    keys: list[dict[str, str]]
