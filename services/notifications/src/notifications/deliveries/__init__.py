"""Deliveries: one row per email to one recipient, sent by the SMTP sender worker."""
