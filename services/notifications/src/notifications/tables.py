"""The base of every table of the notifications service: its own registry and metadata."""

from common.db import table_base

TableBase = table_base()
