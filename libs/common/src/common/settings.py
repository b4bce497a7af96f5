"""Settings shared by every service, read from environment variables."""

from typing import Literal, Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.security import DEVELOPMENT_PUBLIC_KEY_FILE, checked_key_pem, load_public_key


class ServiceSettings(BaseSettings):
    """What every service needs: identity, database, Kafka, logging and the outbox/consumer knobs."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None)

    service_name: str
    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        description="SQLAlchemy async URL of the service's own database",
    )
    database_pool_size: int = Field(
        10,
        ge=1,
        le=200,
        description="Database connections kept open; as many again are opened (and closed) "
        "for bursts, and each opening costs a TLS handshake and authentication",
    )
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_consumer_group: str | None = Field(
        None, description="Consumer group of the service's consumer; defaults to the service name"
    )
    kafka_auto_offset_reset: Literal["earliest", "latest"] = Field(
        "earliest", description="Where a new consumer group starts reading"
    )
    kafka_fetch_max_wait_ms: int = Field(
        20,
        ge=0,
        le=500,
        description=(
            "How long the broker may hold a fetch that found nothing new. While one topic's "
            "records wait to be applied, the consumer fetches its other (often idle) topics "
            "alone, and no further fetch leaves until that one returns: Kafka's default, 500, "
            "held every event a few hundred milliseconds behind"
        ),
    )
    kafka_consumer_batch_max: int = Field(
        200,
        ge=1,
        le=1000,
        description=(
            "The most records the consumer applies in one transaction. Each record waits for "
            "its batch to commit, but a busy consumer keeps up by committing many at once: at "
            "100 measurements/s on two CPUs, a limit of 50 let the notifications consumer fall "
            "behind more often than one of 200"
        ),
    )
    log_level: str = "INFO"
    log_json: bool = True

    outbox_poll_interval_seconds: float = Field(
        1.0, gt=0, description="Polling fallback when no NOTIFY arrives"
    )
    outbox_batch_size: int = Field(500, ge=1, le=10_000)
    outbox_linger_seconds: float = Field(
        0.0,
        ge=0,
        le=1,
        description=(
            "When a commit wakes the relay within this long of its last publish, wait this long "
            "so that a stream of commits leaves as one batch; after a quiet spell, publish at once"
        ),
    )
    outbox_max_backoff_seconds: float = Field(30.0, gt=0)

    consumer_max_attempts: int = Field(
        3, ge=1, description="Attempts for a failing (non-transient) message before the DLT"
    )
    consumer_max_backoff_seconds: float = Field(30.0, gt=0)

    rate_limit_per_second: float = Field(
        500.0,
        ge=0,
        description="Requests a principal may make per second on average (0 switches limits off)",
    )
    rate_limit_burst: int = Field(
        1000, ge=1, description="Requests a principal may make at once before the average applies"
    )
    anonymous_rate_limit_per_second: float = Field(
        10.0,
        ge=0,
        description="Requests without credentials, and answers 401, per client address per second",
    )
    anonymous_rate_limit_burst: int = Field(100, ge=1)
    trust_forwarded_for: bool = Field(
        False,
        description="Take the client address from X-Forwarded-For (only behind a proxy that sets it)",
    )
    cors_allowed_origins: list[str] = Field(
        default_factory=list,
        description='Origins browsers may call the API from, as JSON (["https://a.example"]); '
        "none by default, which sends no CORS headers at all",
    )

    max_body_bytes: int = Field(
        32 * 1024 * 1024, ge=1024, description="Larger request bodies are refused with 413"
    )

    jwt_public_key: str | None = Field(
        None,
        description="Ed25519 public key verifying access tokens: PEM text or the path of a PEM "
        "file; required outside development, where the committed development key is refused",
    )
    jwt_issuer: str = Field("strategy-monitor", min_length=1, description="Expected `iss`")
    jwt_audience: str = Field("strategy-monitor", min_length=1, description="Expected `aud`")

    @model_validator(mode="after")
    def _verification_key(self) -> Self:
        # Resolved here so a service with an unusable key refuses to start, naming the setting.
        self.jwt_public_key = checked_key_pem(
            self.jwt_public_key,
            setting="JWT_PUBLIC_KEY",
            environment=self.environment,
            development_file=DEVELOPMENT_PUBLIC_KEY_FILE,
            public_part=load_public_key,
        )
        return self

    @property
    def kafka_servers(self) -> list[str]:
        """Bootstrap servers as a list."""
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]

    @property
    def asyncpg_dsn(self) -> str:
        """The database URL in the plain form asyncpg and libpq understand."""
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


class SmtpSettings(BaseSettings):
    """Outgoing mail server."""

    model_config = SettingsConfigDict(extra="ignore", env_prefix="SMTP_")

    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    use_tls: bool = False
    timeout_seconds: float = 10.0
    sender: str = "Мониторинг стратегий <monitoring@strategy.example.ru>"
