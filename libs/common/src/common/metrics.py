"""Prometheus metrics shared by every service; each process exposes them on /metrics."""

from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Histogram(
    "http_request_duration_seconds",
    "HTTP requests by route template, method and status",
    ["method", "route", "status"],
)
OUTBOX_BACKLOG = Gauge("outbox_backlog", "Outbox rows not yet published to Kafka")
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when empty)"
)
OUTBOX_PUBLISHED = Counter("outbox_published_total", "Outbox rows published to Kafka", ["topic"])
OUTBOX_FAILURES = Counter("outbox_publish_failures_total", "Failed outbox publish batches")
CONSUMER_LAG = Gauge(
    "consumer_lag",
    "Records behind the partition's high watermark",
    ["consumer", "topic", "partition"],
)
CONSUMED = Counter(
    "consumer_events_total",
    "Consumed records by outcome (applied, duplicate, ignored, retried, dead_lettered)",
    ["consumer", "type", "outcome"],
)
DEAD_LETTERED = Counter(
    "consumer_dead_lettered_total", "Records sent to a dead-letter topic", ["consumer", "topic"]
)
