"""Settings of the indicators service."""

from common.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment of the indicators service; defaults suit the local stack."""

    service_name: str = "indicators"
    database_url: str = "postgresql+asyncpg://strategy:strategy@127.0.0.1:5432/indicators"
