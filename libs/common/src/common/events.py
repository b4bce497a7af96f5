"""Integration event contracts: the only shapes that cross service boundaries.

Every event is a versioned pydantic model of its data. The CloudEvents attributes (id, source,
type, time, subject) travel beside it in Kafka headers (binary content mode); the Kafka key and
the CloudEvents subject are the aggregate id, so events of one project or indicator stay ordered.
Adding an optional field keeps a version; anything else is a new `.vN` type on a new topic.
"""

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

TYPE_PREFIX = "ru.strategy"

PROJECTS_TOPIC = "projects.events.v1"
INDICATORS_TOPIC = "indicators.events.v1"


class IntegrationEvent(BaseModel):
    """Base of every contract: subclasses name their CloudEvents type, topic and aggregate."""

    # Consumers must tolerate fields added by a newer producer of the same version.
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: ClassVar[str]
    topic: ClassVar[str]
    aggregate_field: ClassVar[str]

    @property
    def aggregate_id(self) -> str:
        """The Kafka key and CloudEvents subject."""
        return str(getattr(self, self.aggregate_field))


EVENT_TYPES: dict[str, type[IntegrationEvent]] = {}


def contract(name: str, topic: str, aggregate: str):
    """Register a contract under `ru.strategy.<name>.v1` on a topic, keyed by one of its fields."""

    def register(cls: type[IntegrationEvent]) -> type[IntegrationEvent]:
        cls.type = f"{TYPE_PREFIX}.{name}.v1"
        cls.topic = topic
        cls.aggregate_field = aggregate
        if cls.type in EVENT_TYPES:
            raise ValueError(f"duplicate event type {cls.type}")
        EVENT_TYPES[cls.type] = cls
        return cls

    return register


# --- projects service -------------------------------------------------------------------------


class Stage(StrEnum):
    """Project lifecycle stage."""

    planned = "planned"
    launched = "launched"
    in_progress = "in_progress"
    completed = "completed"
    suspended = "suspended"
    cancelled = "cancelled"


class RegionSector(BaseModel):
    """A sector (отрасль) of a region's strategy, numbered as in the document."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    number: int
    name: str


@contract("region.upserted", PROJECTS_TOPIC, "slug")
class RegionUpserted(IntegrationEvent):
    """A region or one of its sectors was created or changed; carries the whole region."""

    slug: str = Field(description="Region slug, e.g. leningrad-oblast")
    name: str
    period_start: int = Field(description="First year of the strategy period")
    period_end: int = Field(description="Last year of the strategy period")
    sectors: list[RegionSector] = Field(default_factory=list, description="By number")


@contract("department.upserted", PROJECTS_TOPIC, "department_id")
class DepartmentUpserted(IntegrationEvent):
    """A department (РОИВ) was created or changed."""

    department_id: UUID
    region: str = Field(description="Region slug, e.g. leningrad-oblast")
    full_name: str
    short_name: str
    emails: list[str]
    active: bool = True


@contract("coordinator.upserted", PROJECTS_TOPIC, "coordinator_id")
class CoordinatorUpserted(IntegrationEvent):
    """A coordinator who receives a region's alerts was created or changed."""

    coordinator_id: UUID
    region: str
    name: str
    email: str
    sector_numbers: list[int] = Field(
        default_factory=list, description="Empty means the whole region"
    )
    active: bool = True


class ProjectSnapshot(BaseModel):
    """What consumers need to know about a project without calling the projects service."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    project_id: UUID
    region: str
    region_name: str
    sector_number: int
    sector_name: str
    number: int = Field(description="Number of the project within its sector")
    name: str
    federal_recommended: bool
    responsible_department_id: UUID | None
    stage: Stage


@contract("project.created", PROJECTS_TOPIC, "project_id")
class ProjectCreated(ProjectSnapshot, IntegrationEvent):
    """A project entered the catalogue."""


@contract("project.updated", PROJECTS_TOPIC, "project_id")
class ProjectUpdated(ProjectSnapshot, IntegrationEvent):
    """A project's catalogue data changed."""


@contract("project.stage_changed", PROJECTS_TOPIC, "project_id")
class ProjectStageChanged(IntegrationEvent):
    """A project moved to another lifecycle stage."""

    project_id: UUID
    region: str
    responsible_department_id: UUID | None
    from_stage: Stage
    to_stage: Stage
    changed_at: datetime
    changed_by: str
    comment: str | None = None


class MilestoneStatus(StrEnum):
    """Where a milestone stands."""

    pending = "pending"
    reached = "reached"
    missed = "missed"


class MilestoneSnapshot(BaseModel):
    """A dated milestone of a project, with what a recipient needs to read it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    milestone_id: UUID
    project_id: UUID
    project_name: str
    region: str
    sector_number: int
    responsible_department_id: UUID | None
    title: str
    due_date: date


@contract("project.milestone_reached", PROJECTS_TOPIC, "project_id")
class MilestoneReached(MilestoneSnapshot, IntegrationEvent):
    """A milestone («stage» in the strategy documents) was reached."""

    reached_at: datetime
    evidence: str | None = None


@contract("project.milestone_overdue", PROJECTS_TOPIC, "project_id")
class MilestoneOverdue(MilestoneSnapshot, IntegrationEvent):
    """A pending milestone's due date passed."""


@contract("project.milestone_scheduled", PROJECTS_TOPIC, "project_id")
class MilestoneScheduled(MilestoneSnapshot, IntegrationEvent):
    """A milestone was added, or its title, due date, evidence or status was edited."""

    status: MilestoneStatus
    evidence: str | None = None


@contract("project.milestone_removed", PROJECTS_TOPIC, "project_id")
class MilestoneRemoved(IntegrationEvent):
    """A milestone was deleted from its project."""

    milestone_id: UUID
    project_id: UUID
    region: str


class PrincipalKind(StrEnum):
    """How a principal signs in."""

    user = "user"
    api_key = "api_key"


@contract("principal.upserted", PROJECTS_TOPIC, "subject")
class PrincipalUpserted(IntegrationEvent):
    """A user or API key was created or its role, scope or activity changed (never a secret)."""

    subject: str = Field(description="The `sub` of the principal's tokens, e.g. user:<uuid>")
    kind: PrincipalKind
    role: str = Field(description="admin, coordinator or department")
    region: str | None = Field(None, description="Region slug of a coordinator or department")
    department_id: UUID | None = Field(None, description="The department a department acts for")
    sector_numbers: list[int] = Field(
        default_factory=list, description="A coordinator's sectors; empty means the whole region"
    )
    active: bool = Field(True, description="False once the user is deactivated or the key revoked")
    coordinator_id: UUID | None = Field(
        None,
        description=(
            "The coordinator record a coordinator user is (the `coordinator_id` claim of its "
            "tokens); none for other principals and for a coordinator login shared by a desk"
        ),
    )


# --- indicators service -----------------------------------------------------------------------


class Direction(StrEnum):
    """Whether a larger measured value is an improvement."""

    higher_is_better = "higher_is_better"
    lower_is_better = "lower_is_better"


class Status(StrEnum):
    """How an indicator stands against its plan for a period."""

    on_track = "on_track"
    at_risk = "at_risk"
    behind = "behind"


class Frequency(StrEnum):
    """How often an indicator is reported; also the granularity of a period."""

    annual = "annual"
    quarterly = "quarterly"
    monthly = "monthly"


class IndicatorSnapshot(BaseModel):
    """What consumers need to know about an indicator."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    indicator_id: UUID
    project_id: UUID
    region: str
    sector_number: int | None = None
    responsible_department_id: UUID | None
    name: str
    unit: str
    direction: Direction
    targets: dict[int, Decimal] = Field(description="Year → target value")
    frequency: Frequency | None = None
    active: bool = Field(True, description="False once the indicator is archived")


@contract("indicator.created", INDICATORS_TOPIC, "indicator_id")
class IndicatorCreated(IndicatorSnapshot, IntegrationEvent):
    """An indicator with its yearly targets was defined."""


@contract("indicator.updated", INDICATORS_TOPIC, "indicator_id")
class IndicatorUpdated(IndicatorSnapshot, IntegrationEvent):
    """An indicator or its targets changed."""


class PeriodFacts(BaseModel):
    """An indicator-period with its plan and fact, carried by every evaluation event."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    indicator_id: UUID
    region: str
    responsible_department_id: UUID | None
    period: str = Field(description="2023, 2023-Q2 or 2023-05")
    expected: Decimal | None
    actual: Decimal | None
    gap: Decimal | None = Field(None, description="actual − expected, sign-adjusted: < 0 is short")
    gap_percent: Decimal | None = None


@contract("indicator.measurement_recorded", INDICATORS_TOPIC, "indicator_id")
class MeasurementRecorded(IntegrationEvent):
    """A department reported a value (a revision if the period already had one)."""

    measurement_id: UUID
    indicator_id: UUID
    region: str
    period: str
    value: Decimal
    revision: int
    as_of: date
    reported_by: str


@contract("indicator.status_changed", INDICATORS_TOPIC, "indicator_id")
class IndicatorStatusChanged(PeriodFacts, IntegrationEvent):
    """An indicator-period's status changed."""

    from_status: Status | None
    to_status: Status


@contract("indicator.target_missed", INDICATORS_TOPIC, "indicator_id")
class TargetMissed(PeriodFacts, IntegrationEvent):
    """A full-year value fell short of that year's target."""


@contract("indicator.target_met", INDICATORS_TOPIC, "indicator_id")
class TargetMet(PeriodFacts, IntegrationEvent):
    """A full-year value met that year's target."""


@contract("indicator.back_on_track", INDICATORS_TOPIC, "indicator_id")
class BackOnTrack(PeriodFacts, IntegrationEvent):
    """An indicator-period that was at risk or behind is on track again."""


@contract("indicator.forecast_miss", INDICATORS_TOPIC, "indicator_id")
class ForecastMiss(PeriodFacts, IntegrationEvent):
    """The year-end projection of the trend misses the year's target."""

    projected: Decimal


@contract("indicator.report_overdue", INDICATORS_TOPIC, "indicator_id")
class ReportOverdue(PeriodFacts, IntegrationEvent):
    """No value was reported for a period by its deadline."""

    deadline: date
