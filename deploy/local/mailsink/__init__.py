"""A development SMTP sink that keeps every message and serves it through a Mailpit-shaped API."""
