"""Per-caller request rates: in-process token buckets, keyed by principal or by client address.

Authenticated calls are limited by principal subject in a dependency that runs after the
principal is known. Calls without credentials are limited by client address in a middleware,
and every answer 401 draws on the same address bucket, so guessing credentials is slowed too.
Anonymous routes (the token endpoint) spend from the address bucket on every call, whatever
headers it carries. Health and metrics are never limited. Each replica keeps its own buckets
(no round trips).
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from common.logging import get_logger
from common.problems import Problem, problem_response
from common.security import Principal

log = get_logger(__name__)

UNLIMITED_PATHS = ("/health", "/metrics")
CREDENTIAL_HEADERS = (b"authorization", b"x-api-key")


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets by key: `burst` requests at once, refilled at `rate` per second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    @property
    def enabled(self) -> bool:
        """A rate of zero switches limiting off."""
        return self.rate > 0

    def take(self, key: str) -> float:
        """Spend one token of `key`: 0 if allowed, else the seconds until a token is back."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), updated=now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def exhausted(self, key: str) -> float:
        """Seconds until `key` has a token again, without spending one (0 if it has one)."""
        bucket = self._buckets.get(key)
        if not self.enabled or bucket is None:
            return 0.0
        tokens = min(self.burst, bucket.tokens + (self._clock() - bucket.updated) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled completely: they hold no information."""
        refill = self.burst / self.rate
        self._buckets = {
            key: bucket for key, bucket in self._buckets.items() if now - bucket.updated < refill
        }


class TooManyRequests(Problem):
    """The caller spent its request budget; `Retry-After` says when to come back."""

    status = 429

    def __init__(self, retry_after: float) -> None:
        seconds = retry_after_header(retry_after)
        super().__init__(
            f"too many requests; retry in {seconds} s", retry_after_seconds=int(seconds)
        )
        self.headers = {"Retry-After": seconds}


def retry_after_header(seconds: float) -> str:
    """Whole seconds, at least one, as Retry-After wants them."""
    return str(max(1, math.ceil(seconds)))


def client_address(scope: Scope, *, trust_forwarded_for: bool) -> str | None:
    """The caller's address: the first X-Forwarded-For entry behind a trusted proxy, else the peer.

    X-Forwarded-For is only believed when the deployment says a proxy sets it; otherwise any
    client could claim any address.
    """
    if trust_forwarded_for:
        for name, value in scope.get("headers") or []:
            if name == b"x-forwarded-for":
                first = value.decode("latin-1").split(",")[0].strip()
                try:
                    return str(ip_address(first))
                except ValueError:
                    break
    client = scope.get("client")
    return client[0] if client else None


def carries_credentials(scope: Scope) -> bool:
    """Whether the request sends a bearer token or an API key header."""
    headers = dict(scope.get("headers") or [])
    return any(h in headers for h in CREDENTIAL_HEADERS)


def address_key(scope: Scope, *, trust_forwarded_for: bool) -> str:
    """The anonymous budget a request spends from: its client address's."""
    return f"address:{client_address(scope, trust_forwarded_for=trust_forwarded_for)}"


def _spend(buckets: TokenBuckets, key: str) -> None:
    """Take one request from `key`'s budget; 429 when it is spent."""
    wait = buckets.take(key)
    if wait:
        log.warning("rate limited", client=key, retry_after=round(wait, 2))
        raise TooManyRequests(wait)


def limit_principal_rate(request: Request, principal: Principal) -> None:
    """Refuse with 429 a principal that spent its request budget (keyed by subject)."""
    _spend(request.app.state.principal_rate, f"principal:{principal.subject}")


async def limit_address_rate(request: Request) -> None:
    """Refuse with 429 a client address that spent its anonymous budget (anonymous routes only).

    The middleware below already charged a call without credentials. A call that carries some is
    charged here: an anonymous route ignores them, so sending a header must not buy a free call.
    """
    if not carries_credentials(request.scope):
        return
    trust_forwarded_for = request.app.state.settings.trust_forwarded_for
    _spend(
        request.app.state.anonymous_rate,
        address_key(request.scope, trust_forwarded_for=trust_forwarded_for),
    )


class AnonymousRateLimitMiddleware:
    """Limits calls without credentials, and answers 401, per client address."""

    def __init__(self, app: ASGIApp, *, buckets: TokenBuckets, trust_forwarded_for: bool) -> None:
        self.app = app
        self.buckets = buckets
        self.trust_forwarded_for = trust_forwarded_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not self.buckets.enabled
            or scope["path"].startswith(UNLIMITED_PATHS)
        ):
            await self.app(scope, receive, send)
            return
        key = address_key(scope, trust_forwarded_for=self.trust_forwarded_for)
        if not carries_credentials(scope):
            wait = self.buckets.take(key)
        else:
            # Credentialed calls spend from the address only when they fail (below), but a
            # spent address waits whatever it sends.
            wait = self.buckets.exhausted(key)
        if wait:
            log.warning("rate limited", client=key, retry_after=round(wait, 2))
            seconds = retry_after_header(wait)
            response = problem_response(
                429,
                f"too many requests; retry in {seconds} s",
                headers={"Retry-After": seconds},
                retry_after_seconds=int(seconds),
            )
            await response(scope, receive, send)
            return

        async def charge_failed_authentication(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.buckets.take(key)
            await send(message)

        await self.app(scope, receive, charge_failed_authentication)
