"""Access tokens for the tools: the admin's credentials exchanged at the projects service.

The credentials come from STRATEGY_ADMIN_EMAIL and STRATEGY_ADMIN_PASSWORD; their defaults are
the bootstrap admin the local stack (deploy/local/stack.sh) and docker-compose.yml create.
"""

import os
import time
from collections.abc import Generator

import httpx

DEFAULT_ADMIN_EMAIL = "admin@strategy.example.ru"
DEFAULT_ADMIN_PASSWORD = "development-admin-password"
TOKEN_PATH = "/api/v1/auth/token"
# A token this close to its expiry is replaced before a request, not after a refusal.
RENEW_BEFORE_SECONDS = 60


class AccessError(RuntimeError):
    """The projects service did not issue a token (unreachable, or wrong credentials)."""


def admin_credentials() -> tuple[str, str]:
    """The admin's email and password from the environment (development defaults)."""
    return (
        os.environ.get("STRATEGY_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL),
        os.environ.get("STRATEGY_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD),
    )


def request_token(projects_url: str, form: dict[str, str], timeout: float = 30.0) -> dict:
    """The token response of the projects service for an OAuth2 grant form."""
    url = projects_url.rstrip("/") + TOKEN_PATH
    try:
        response = httpx.post(url, data=form, timeout=timeout)
    except httpx.TransportError as exc:
        raise AccessError(f"{url} is unreachable: {exc}") from exc
    if response.status_code != 200:
        raise AccessError(
            f"{url} refused the {form['grant_type']} grant: HTTP {response.status_code} {response.text[:300]}"
        )
    return response.json()


def password_token(projects_url: str, email: str, password: str) -> dict:
    """The token response for a person's email and password."""
    form = {"grant_type": "password", "username": email, "password": password}
    return request_token(projects_url, form)


class PasswordAuth(httpx.Auth):
    """Bearer authentication as one user; the token is renewed before it expires or once refused."""

    def __init__(self, projects_url: str, email: str, password: str) -> None:
        self._projects_url = projects_url
        self._email = email
        self._password = password
        self._token = ""
        self._renew_at = 0.0

    @classmethod
    def admin(cls, projects_url: str) -> "PasswordAuth":
        """Authentication as the admin named by the environment."""
        return cls(projects_url, *admin_credentials())

    def token(self) -> str:
        """A token valid for at least another minute."""
        if time.monotonic() >= self._renew_at:
            issued = password_token(self._projects_url, self._email, self._password)
            self._token = issued["access_token"]
            self._renew_at = time.monotonic() + issued["expires_in"] - RENEW_BEFORE_SECONDS
        return self._token

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Send the request with the token; on 401 (it expired meanwhile) renew it and resend once."""
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            self._renew_at = 0.0
            request.headers["Authorization"] = f"Bearer {self.token()}"
            yield request
