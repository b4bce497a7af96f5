"""The base of every table of the notifications service (its own registry and metadata), and the
column type of the figures it keeps."""

from sqlalchemy import Numeric

from common.db import table_base

TableBase = table_base()

# A measured or computed figure, as the indicators service sent it: its values have up to 18
# digits before the point, and a gap in % of a tiny plan more still.
FIGURE = Numeric()
