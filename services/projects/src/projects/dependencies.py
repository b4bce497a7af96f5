"""Request dependencies shared by the routers of the service."""

from typing import Annotated

from fastapi import Depends, Request

from common.clock import Clock


def get_clock(request: Request) -> Clock:
    """The application's clock (a manual one in tests)."""
    return request.app.state.clock


ClockDep = Annotated[Clock, Depends(get_clock)]
