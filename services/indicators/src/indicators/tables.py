"""The base of every table of the indicators service: its own registry and metadata."""

from common.db import table_base

TableBase = table_base()
