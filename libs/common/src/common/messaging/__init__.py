"""Kafka plumbing: CloudEvents encoding, the transactional outbox and the consumer runner."""
