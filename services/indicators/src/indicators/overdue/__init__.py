"""Indicator-periods whose report is past its deadline."""
