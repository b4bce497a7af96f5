"""Request and response shapes of projects, transitions and their history."""

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from common.events import Stage
from projects.portfolio.lifecycle import allowed_transitions
from projects.validation import LongText, Name, PositiveNumber, Slug

Task = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]

PROJECT_EXAMPLE = {
    "region": "leningrad-oblast",
    "sector_number": 1,
    "number": 3,
    "name": "Цифровая образовательная среда",
    "federal_recommended": True,
    "goal": "Повышение качества и доступности образования",
    "timeline": "До 2030 года, далее постоянно",
    "description": "К концу 2024 года: все школы подключены к ЕСПД",
    "financing": "Федеральное финансирование",
    "region_role": "Организация внедрения",
    "beneficiaries": "Обучающиеся, педагоги",
    "tasks": ["Обеспечение высокоскоростным доступом к сети Интернет"],
    "responsible_department_id": None,
}


class ProjectFields(BaseModel):
    """The catalogue data of a project that may change after it is created."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    federal_recommended: bool = Field(False, description="«Рекомендовано ФОИВ»")
    goal: LongText | None = None
    timeline: LongText | None = Field(None, examples=["До 2030 года, далее постоянно"])
    description: LongText | None = None
    financing: LongText | None = None
    region_role: LongText | None = None
    beneficiaries: LongText | None = None
    benefits: LongText | None = Field(None, description="What the beneficiaries gain (section 5)")
    tasks: list[Task] = Field([], max_length=100, description="Tasks of section 5 it serves")
    responsible_department_id: UUID | None = Field(
        None, description="A department of the same region"
    )


class ProjectCreate(ProjectFields):
    """A project; POST creates it, PUT /projects upserts it by (region, sector_number, number)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PROJECT_EXAMPLE]})

    region: Slug
    sector_number: PositiveNumber
    number: PositiveNumber = Field(description="Number of the project within its sector")


class ProjectUpdate(BaseModel):
    """The fields PATCH /projects/{id} may change; the stage changes only through transitions."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"federal_recommended": True, "timeline": "2024"}]},
    )

    name: Name | None = None
    federal_recommended: bool | None = None
    goal: LongText | None = None
    timeline: LongText | None = None
    description: LongText | None = None
    financing: LongText | None = None
    region_role: LongText | None = None
    beneficiaries: LongText | None = None
    benefits: LongText | None = None
    tasks: list[Task] | None = Field(None, max_length=100)
    responsible_department_id: UUID | None = None


# PATCH may clear these; the rest must keep a value.
NULLABLE_PROJECT_FIELDS = frozenset(
    {
        "goal",
        "timeline",
        "description",
        "financing",
        "region_role",
        "beneficiaries",
        "benefits",
        "responsible_department_id",
    }
)


class ProjectPublic(BaseModel):
    """A project as the API shows it, with the stages it may move to next."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    region: str
    sector_number: int
    number: int
    name: str
    federal_recommended: bool
    goal: str | None
    timeline: str | None
    description: str | None
    financing: str | None
    region_role: str | None
    beneficiaries: str | None
    benefits: str | None
    tasks: list[str]
    responsible_department_id: UUID | None
    stage: Stage
    suspended_from: Stage | None
    allowed_transitions: list[Stage]
    created_at: datetime
    updated_at: datetime


class TransitionCreate(BaseModel):
    """A request to move a project to another stage."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"to_stage": "launched", "comment": "Контракт заключён"}]},
    )

    to_stage: Stage
    comment: Comment | None = None


class TransitionPublic(BaseModel):
    """One entry of a project's stage history."""

    model_config = ConfigDict(from_attributes=True)

    id: UUID
    project_id: UUID
    from_stage: Stage
    to_stage: Stage
    changed_at: datetime
    changed_by: str
    comment: str | None


def project_public(project: Any) -> ProjectPublic:
    """The API view of a project row, with the transitions its stage allows."""
    stage = Stage(project.stage)
    suspended_from = Stage(project.suspended_from) if project.suspended_from else None
    fields = {
        name: getattr(project, name)
        for name in ProjectPublic.model_fields
        if name != "allowed_transitions"
    }
    return ProjectPublic.model_validate(
        {**fields, "allowed_transitions": allowed_transitions(stage, suspended_from)}
    )
