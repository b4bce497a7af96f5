"""The daily digest: one email per recipient and region summarising the day's alerts."""
