"""Shared event backbone of the strategy monitoring platform."""
