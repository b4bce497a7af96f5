"""Indicators and their yearly targets."""
