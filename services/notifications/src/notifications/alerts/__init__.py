"""Alerts: one per indicator-or-milestone, period and kind family, open → acknowledged → resolved."""
