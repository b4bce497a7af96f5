"""Field types the request schemas share: trimmed non-empty texts, emails, slugs, years."""

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from common.problems import Unprocessable

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_YEAR = 2000
MAX_YEAR = 2100

Slug = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=64, pattern=SLUG_PATTERN),
    Field(examples=["leningrad-oblast"]),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Year = Annotated[int, Field(ge=MIN_YEAR, le=MAX_YEAR)]
PositiveNumber = Annotated[int, Field(ge=1, le=10_000)]


def _email(value: str) -> str:
    # Addresses are compared case-insensitively everywhere, so they are stored lower-cased.
    if not EMAIL_PATTERN.match(value):
        raise ValueError("not an email address")
    return value.lower()


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=3, max_length=320),
    AfterValidator(_email),
    Field(examples=["kcr@lenreg.ru"]),
]


def patch_values(update: BaseModel, *, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields a PATCH body sets; an explicit null is refused unless the field may be empty."""
    values = update.model_dump(exclude_unset=True)
    nulls = [name for name, value in values.items() if value is None and name not in nullable]
    if nulls:
        raise Unprocessable(
            f"{', '.join(nulls)} cannot be null",
            errors=[{"field": name, "message": "cannot be null"} for name in nulls],
        )
    return values
