"""Measured values, their revisions and evaluations, single and bulk."""
