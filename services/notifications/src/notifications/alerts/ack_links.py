"""One-click acknowledgement: a signed link in each email, good for one alert and one recipient.

The link is the permission: whoever was sent it may take the alert up without an account or a
token of the identity provider, as the recipient it names. Opening it only shows the alert and
a form (mail scanners follow links); the form's POST acknowledges.
"""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import jwt

from common.clock import Clock

# Fixed so links survive restarts and work on every replica of a development stack; refused
# outside development (config.Settings).
DEVELOPMENT_ACK_LINK_SECRET = "development-ack-link-secret-not-for-production-use"

_ALGORITHM = "HS256"
_PURPOSE = "alert-ack"


class InvalidAckLink(Exception):
    """The link was not signed by this service, or is not an acknowledgement link."""


class ExpiredAckLink(Exception):
    """The link is genuine but its time is over."""


@dataclass(frozen=True)
class AckGrant:
    """What a genuine, unexpired link allows: this recipient acknowledges this alert."""

    alert_id: UUID
    recipient: str


@dataclass(frozen=True)
class AckLinkSigner:
    """Signs and reads acknowledgement tokens; expiry is judged by the service clock."""

    secret: str
    lifetime: timedelta
    clock: Clock

    def token(self, alert_id: UUID, recipient: str) -> str:
        """The token of a link letting `recipient` acknowledge the alert until it expires."""
        expires = self.clock.now() + self.lifetime
        claims = {
            "purpose": _PURPOSE,
            "alert": str(alert_id),
            "rcpt": recipient,
            "exp": int(expires.timestamp()),
        }
        return jwt.encode(claims, self.secret, algorithm=_ALGORITHM)

    def grant(self, token: str) -> AckGrant:
        """What the token allows; InvalidAckLink or ExpiredAckLink otherwise."""
        try:
            # Expiry is checked below against the service clock, not the wall clock.
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[_ALGORITHM],
                options={"verify_exp": False, "require": ["exp", "alert", "rcpt", "purpose"]},
            )
            if claims["purpose"] != _PURPOSE:
                raise InvalidAckLink
            grant = AckGrant(UUID(claims["alert"]), str(claims["rcpt"]))
            expires = int(claims["exp"])
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError) as exc:
            raise InvalidAckLink from exc
        if self.clock.now().timestamp() >= expires:
            raise ExpiredAckLink
        return grant
