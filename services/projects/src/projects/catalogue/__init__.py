"""Regions (tenants) and the sectors of their strategies."""
