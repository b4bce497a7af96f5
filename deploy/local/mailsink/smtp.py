"""The SMTP side of the sink: accepts every message, or fails on purpose when chaos is set."""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from .store import MailStore

log = logging.getLogger("mailsink.smtp")

# Mailpit's defaults: an omitted trigger keeps these codes at 0% probability.
DEFAULT_ERROR_CODES = {"Sender": 451, "Recipient": 451, "Authentication": 535}
# Mailpit's reply texts, so tests that match on them work against both.
_REPLY_TEXT = {
    "Sender": "Chaos sender error",
    "Recipient": "Chaos recipient error",
    "Authentication": "Chaos authentication error",
}
MAX_MESSAGE_BYTES = 32 * 1024 * 1024


@dataclass
class Trigger:
    """One chaos trigger: the SMTP code to answer and the percentage of commands it hits."""

    ErrorCode: int
    Probability: int = 0


class Chaos:
    """Mailpit's chaos triggers: MAIL FROM, RCPT TO and AUTH can be made to fail on purpose."""

    def __init__(self) -> None:
        self.triggers: dict[str, Trigger] = {}
        self.configure({})

    def configure(self, body: dict[str, Any]) -> None:
        """Replace all triggers as Mailpit's PUT /api/v1/chaos does; omitted ones are disabled."""
        unknown = set(body) - set(DEFAULT_ERROR_CODES)
        if unknown:
            raise ValueError(f"unknown key {sorted(unknown)[0]}")
        updated: dict[str, Trigger] = {}
        for stage, default_code in DEFAULT_ERROR_CODES.items():
            given = body.get(stage) or {}
            if not isinstance(given, dict):
                raise ValueError(f"{stage} must be an object")
            code = int(given.get("ErrorCode") or default_code)
            probability = int(given.get("Probability") or 0)
            if not 400 <= code <= 599:
                raise ValueError("error code must be between 400 and 599")
            if not 0 <= probability <= 100:
                raise ValueError("probability must be between 0 and 100")
            updated[stage] = Trigger(code, probability)
        # Applied only once every trigger is valid, so a bad request changes nothing.
        self.triggers = updated
        log.info("chaos triggers now %s", self.as_json())

    def as_json(self) -> dict[str, dict[str, int]]:
        """The triggers in Mailpit's JSON shape."""
        return {
            stage: {"ErrorCode": t.ErrorCode, "Probability": t.Probability}
            for stage, t in self.triggers.items()
        }

    def reply(self, stage: str) -> str | None:
        """The error reply to send for this stage now, or None to go on normally."""
        trigger = self.triggers[stage]
        if trigger.Probability and random.randrange(100) < trigger.Probability:
            return f"{trigger.ErrorCode} {_REPLY_TEXT[stage]}"
        return None


class SinkHandler:
    """aiosmtpd handler that stores every message it is given."""

    def __init__(self, store: MailStore, chaos: Chaos) -> None:
        self.store = store
        self.chaos = chaos

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        """Accept the sender unless a chaos trigger fires."""
        failure = self.chaos.reply("Sender")
        if failure:
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept the recipient unless a chaos trigger fires."""
        failure = self.chaos.reply("Recipient")
        if failure:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message exactly as received."""
        raw = envelope.original_content or b""
        login = session.login_data
        username = login.decode(errors="replace") if isinstance(login, bytes) else str(login or "")
        message = self.store.add(raw, envelope.mail_from or "", list(envelope.rcpt_tos), username)
        log.info(
            "stored %s from %s to %s: %r",
            message.id,
            envelope.mail_from,
            ", ".join(envelope.rcpt_tos),
            message.subject,
        )
        return f"250 2.0.0 Ok: queued as {message.id}"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """Accept any credentials (like Mailpit's --smtp-auth-accept-any) unless chaos fires."""
        failure = self.chaos.reply("Authentication")
        if failure:
            return AuthResult(success=False, handled=False, message=failure)
        return AuthResult(success=True, auth_data=auth_data)


async def start_smtp(store: MailStore, chaos: Chaos, host: str, port: int) -> asyncio.Server:
    """Listen for SMTP on the running event loop, so the store is only touched from one thread."""
    handler = SinkHandler(store, chaos)

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname="mailsink",
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            authenticator=handler.authenticate,
            auth_require_tls=False,
        )

    server = await asyncio.get_running_loop().create_server(protocol, host, port)
    log.info("SMTP listening on %s:%d", host, port)
    return server
