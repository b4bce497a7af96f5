"""Coordinators' subscriptions: which alert kinds, immediately or in the daily digest."""
