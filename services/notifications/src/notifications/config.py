"""Settings of the notifications service."""

from common.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment of the notifications service; defaults suit the local stack."""

    service_name: str = "notifications"
    database_url: str = "postgresql+asyncpg://strategy:strategy@127.0.0.1:5432/notifications"
