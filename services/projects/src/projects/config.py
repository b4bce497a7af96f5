"""Settings of the projects service."""

from typing import Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator

from common.security import (
    DEVELOPMENT_PRIVATE_KEY_FILE,
    checked_key_pem,
    load_private_key,
    load_public_key,
)
from common.settings import ServiceSettings


class Settings(ServiceSettings):
    """Environment of the projects service; defaults suit the local stack."""

    service_name: str = "projects"
    database_url: str = "postgresql+asyncpg://strategy:strategy@127.0.0.1:5432/projects"

    milestone_overdue_interval_seconds: float = Field(
        60.0, gt=0, description="How often pending milestones are checked for a passed due date"
    )
    milestone_overdue_batch_size: int = Field(
        100, ge=1, le=10_000, description="Milestones marked missed per transaction"
    )
    milestone_timezone: str = Field(
        "Europe/Moscow",
        description="Time zone whose calendar decides when a due date has passed",
    )

    jwt_private_key: SecretStr | None = Field(
        None,
        description="Ed25519 private key signing access tokens: PEM text or the path of a PEM "
        "file; required outside development, where the committed development key is refused",
    )
    access_token_lifetime_seconds: int = Field(
        900, ge=60, le=86_400, description="How long an issued access token is valid"
    )
    bootstrap_admin_email: str | None = Field(
        None, description="An admin created (or updated) by prestart, so a fresh stack has one"
    )
    bootstrap_admin_password: SecretStr | None = Field(
        None, description="The bootstrap admin's password; set together with the email"
    )

    @model_validator(mode="after")
    def _signing_key(self) -> Self:
        pem = checked_key_pem(
            self.jwt_private_key.get_secret_value() if self.jwt_private_key else None,
            setting="JWT_PRIVATE_KEY",
            environment=self.environment,
            development_file=DEVELOPMENT_PRIVATE_KEY_FILE,
            public_part=lambda text: load_private_key(text).public_key(),
        )
        # The service verifies the tokens it issues, so both halves must belong together.
        if load_private_key(pem).public_key() != load_public_key(self.jwt_public_key):
            raise ValueError("JWT_PRIVATE_KEY does not belong to JWT_PUBLIC_KEY")
        self.jwt_private_key = SecretStr(pem)
        if (self.bootstrap_admin_email is None) != (self.bootstrap_admin_password is None):
            raise ValueError("BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD go together")
        return self

    @field_validator("milestone_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value
