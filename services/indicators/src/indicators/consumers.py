"""Kafka subscriptions of the indicators service: event contract → handler, listed explicitly.

Only the projects service's project and department events feed the directory read model;
coordinators and milestones are of no use here.
"""

from common.events import DepartmentUpserted, ProjectCreated, ProjectStageChanged, ProjectUpdated
from common.messaging.consumer import Subscription
from indicators.directory.service import on_department, on_project, on_stage_changed

SUBSCRIPTIONS: list[Subscription] = [
    Subscription(ProjectCreated, on_project),
    Subscription(ProjectUpdated, on_project),
    Subscription(ProjectStageChanged, on_stage_changed),
    Subscription(DepartmentUpserted, on_department),
]
