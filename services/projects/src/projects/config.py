"""Settings of the projects service."""

from common.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment of the projects service; defaults suit the local stack."""

    service_name: str = "projects"
    database_url: str = "postgresql+asyncpg://strategy:strategy@127.0.0.1:5432/projects"
